"""Cursors shared by the two listings: 0 or 1 start, -1 ends, anything else resumes."""

from __future__ import annotations

END_CURSOR = -1
_START_CURSORS = (0, 1)


def start_after(cursor: int) -> int | None:
    """The bound a page resumes from, or None to start at the beginning (or past the end)."""
    if cursor in _START_CURSORS or cursor < 0:
        return None
    return cursor
