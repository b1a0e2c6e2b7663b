"""ConversationShortIds: time-ordered, random in their low bits, drawn per request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# Ids are milliseconds since this epoch (2025-01-01T00:00:00Z) shifted past 12 random bits:
# 41 bits of milliseconds last until 2094, and the result never exceeds 2^53 - 1.
ID_EPOCH_MS = 1_735_689_600_000
ID_RANDOM_BITS = 12
ID_MAX = 2**53 - 1


@dataclass(frozen=True)
class Entropy:
    """Sources of time and randomness; production passes the clock and OS randomness."""

    now_ms: Callable[[], int]
    random_bits: Callable[[int], int]

    def now_s(self) -> int:
        return self.now_ms() // 1000

    def short_id(self) -> int:
        return new_short_id(self.now_ms(), self.random_bits(ID_RANDOM_BITS))

    def token(self) -> str:
        return f"{self.random_bits(64):016x}"


def new_short_id(now_ms: int, random_bits: int) -> int:
    elapsed = max(now_ms - ID_EPOCH_MS, 0)
    return min((elapsed << ID_RANDOM_BITS) | random_bits, ID_MAX) or 1
