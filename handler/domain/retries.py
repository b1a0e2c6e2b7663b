"""Optimistic writes: read, plan, write guarded by what was read; on a change, read again."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from handler.domain.errors import StoreUnavailableError
from handler.domain.ports import Store

T = TypeVar("T")
# The time budget (the store's pause raises once it is spent) ends a contended write long before
# this many plans; the cap only bounds a store whose pause never raises.
MAX_PLANS = 64


class Stale:
    """What a planned write returns when what it was planned on changed before it committed."""


STALE = Stale()


def until_committed(store: Store, attempt: Callable[[], T | Stale], *, what: str = "write") -> T:
    """Run `attempt` until it is not stale, pausing between; MAX_PLANS attempts at the most."""
    for number in range(MAX_PLANS):
        outcome = attempt()
        if not isinstance(outcome, Stale):
            return outcome
        store.pause_before_retry(number)
    raise StoreUnavailableError(f"the conversation kept changing under this {what}")
