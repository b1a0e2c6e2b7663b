"""Servers the tests run in their own processes: `make serve`'s runner, and moto's server.

Each listens on a port the OS picks (port 0) and prints its URL once it listens; the tests read
that URL from its output instead of guessing a free port.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path

from scripts.dynamodb_local import STOP_TIMEOUT_S, stop

REPO = Path(__file__).resolve().parents[2]
# Generous: the machine is shared, and a runner starts a pool of workers importing the handler.
STARTUP_SECONDS = 180
# Enough of a server's last words to say why it failed to start.
KEPT_OUTPUT_LINES = 200
RUNNER_BANNER = r"CreateConversation on (http://127\.0\.0\.1:\d+)"
MOTO_BANNER = r"Running on (http://127\.0\.0\.1:\d+)"


@contextlib.contextmanager
def serving(command: list[str], banner: str, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Run `command` for the block; yield the URL its output names (`banner`'s first group)."""
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    output = _Output(process, re.compile(banner))
    try:
        url = output.url(STARTUP_SECONDS)
        if url is None:
            raise RuntimeError(f"{' '.join(command)} did not start:\n{output.last_lines()}")
        yield url
    finally:
        stop(process)
        output.close()


def local_runner(
    *, inherit_except: tuple[str, ...] = (), **environ: str
) -> contextlib.AbstractContextManager[str]:
    """`make serve`'s runner (scripts/local_server.py); yields its URL.

    It gets this process's environment, less the names starting with any of `inherit_except`,
    plus `environ`.
    """
    inherited = {
        name: value for name, value in os.environ.items() if not name.startswith(inherit_except)
    }
    env = {**inherited, "PORT": "0", "PYTHONUNBUFFERED": "1", **environ}
    command = [sys.executable, str(REPO / "scripts" / "local_server.py")]
    return serving(command, RUNNER_BANNER, env)


def moto_server() -> contextlib.AbstractContextManager[str]:
    """moto's server: DynamoDB (and the other services moto mocks) at the URL it yields."""
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"]
    return serving(command, MOTO_BANNER)


class _Output:
    """A process's output, read on a thread for as long as it runs, so the process never blocks
    on a full pipe; the last lines are kept for error messages."""

    def __init__(self, process: subprocess.Popen[str], banner: re.Pattern[str]) -> None:
        self._stream = process.stdout
        self._lines: deque[str] = deque(maxlen=KEPT_OUTPUT_LINES)
        self._url: str | None = None
        self._banner_or_end = threading.Event()
        self._reader = threading.Thread(target=self._read, args=(banner,), daemon=True)
        self._reader.start()

    def url(self, timeout: float) -> str | None:
        """The banner's URL once printed; None if the process ended or `timeout` passed first."""
        self._banner_or_end.wait(timeout)
        return self._url

    def last_lines(self) -> str:
        return "".join(self._lines)

    def close(self) -> None:
        """Once the process has ended: the rest of its output read, and the pipe closed."""
        self._reader.join(STOP_TIMEOUT_S)
        if self._stream is not None and not self._reader.is_alive():
            self._stream.close()

    def _read(self, banner: re.Pattern[str]) -> None:
        assert self._stream is not None
        for line in self._stream:
            self._lines.append(line)
            found = banner.search(line) if self._url is None else None
            if found:
                self._url = found.group(1)
                self._banner_or_end.set()
        self._banner_or_end.set()
