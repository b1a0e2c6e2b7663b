"""Medians and 95th percentiles of samples."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def p50(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def p95(samples: Sequence[float]) -> float:
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[94]


def summary(samples: Sequence[float], digits: int = 3) -> dict[str, float | int]:
    return {
        "p50": round(p50(samples), digits),
        "p95": round(p95(samples), digits),
        "n": len(samples),
    }
