"""Requests per second per caller and action, counted in shared storage so every Lambda instance
agrees.

Pure policy: the counter that stores the counts comes in as an argument (store.py has the
DynamoDB one). Windows are whole epoch seconds: a caller gets `limit` requests in each one, so
a burst straddling a second boundary can see up to twice the limit within one second of wall
time, never more than `limit` within any one window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from handler.errors import ApiError, ErrorCode

WINDOW_SECONDS = 1
# Counter items outlive their window long enough for any clock skew between instances, then
# DynamoDB's TTL deletes them (within days; expired items are not read again anyway).
COUNTER_TTL_SECONDS = 60


class RateCounter(Protocol):
    def try_take(self, caller: str, action: str, window: int, limit: int, expires_at: int) -> bool:
        """Count one `action` request of `caller` in `window` unless `limit` were counted."""
        ...


@dataclass(frozen=True)
class RateLimitPolicy:
    write_per_second: int
    read_per_second: int

    def limit(self, kind: str) -> int:
        return self.write_per_second if kind == "write" else self.read_per_second


class RateLimiter:
    def __init__(
        self, policy: RateLimitPolicy, counter: RateCounter, clock: Callable[[], float]
    ) -> None:
        self._policy = policy
        self._counter = counter
        self._clock = clock
        # (caller, action) pairs this instance saw refused in the current window: their count
        # only grows until the window ends, so refusing them again needs no storage call.
        self._exhausted: dict[tuple[str, str], int] = {}

    def admit(self, caller: str, action: str, kind: str) -> None:
        window = int(self._clock()) // WINDOW_SECONDS * WINDOW_SECONDS
        limit = self._policy.limit(kind)
        if self._exhausted.get((caller, action)) == window or not self._counter.try_take(
            caller,
            action,
            window,
            limit,
            expires_at=window + WINDOW_SECONDS + COUNTER_TTL_SECONDS,
        ):
            self._remember_exhausted((caller, action), window)
            raise ApiError(
                ErrorCode.FlowLimitExceeded,
                f"Rate limit of {limit} {action} requests per second for this caller exceeded; "
                "retry in a second",
            )

    def _remember_exhausted(self, key: tuple[str, str], window: int) -> None:
        if any(seen != window for seen in self._exhausted.values()):
            self._exhausted = {}
        self._exhausted[key] = window
