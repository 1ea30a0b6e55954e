"""Medians with 95 % bootstrap intervals, the speed-up with its interval, and the verdict they allow."""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

RESAMPLES = 2000
# A fixed seed: the same measurements always give the same interval.
_SEED = 20261129


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float  # 95 % bootstrap interval (percentile method)
    high: float
    n: int

    @property
    def relative_half_width(self) -> float:
        return (self.high - self.low) / 2 / self.value if self.value else float("inf")

    def overlaps(self, other: Estimate) -> bool:
        return self.low <= other.high and other.low <= self.high

    def to_json(self, digits: int = 1) -> dict[str, object]:
        return {
            "median": round(self.value, digits),
            "ci95": [round(self.low, digits), round(self.high, digits)],
        }


def median_ci(values: Sequence[float], resamples: int = RESAMPLES) -> Estimate | None:
    """The median of `values` and a 95 % percentile-bootstrap interval for it."""
    if not values:
        return None
    rng = random.Random(_SEED)
    n = len(values)
    medians = sorted(statistics.median(rng.choices(values, k=n)) for _ in range(resamples))
    return Estimate(statistics.median(values), *_percentiles(medians), n)


def ratio_ci(
    numerator: Sequence[float], denominator: Sequence[float], resamples: int = RESAMPLES
) -> Estimate | None:
    """median(numerator) / median(denominator), with a 95 % bootstrap interval: both samples are
    resampled independently, as two runs of independent jobs."""
    if not numerator or not denominator or statistics.median(denominator) <= 0:
        return None
    rng = random.Random(_SEED)
    ratios = []
    for _ in range(resamples):
        bottom = statistics.median(rng.choices(denominator, k=len(denominator)))
        top = statistics.median(rng.choices(numerator, k=len(numerator)))
        ratios.append(top / bottom if bottom > 0 else float("inf"))
    ratios.sort()
    value = statistics.median(numerator) / statistics.median(denominator)
    return Estimate(value, *_percentiles(ratios), min(len(numerator), len(denominator)))


def _percentiles(ordered: Sequence[float]) -> tuple[float, float]:
    last = len(ordered) - 1
    return ordered[round(0.025 * last)], ordered[round(0.975 * last)]


def verdict(baseline: Estimate | None, prefork: Estimate | None) -> str:
    """ "faster", "slower" or "no measurable difference" (the two medians' intervals overlap)."""
    if baseline is None or prefork is None or baseline.overlaps(prefork):
        return "no measurable difference"
    return "faster" if prefork.value < baseline.value else "slower"


# Jobs of one block run back to back under the same conditions (the load on a shared machine, a
# busy disk): they are not independent draws. With enough blocks the intervals resample whole
# blocks, and the speed-up resamples whole rounds (a baseline block and the pre-fork block sent
# right after it), so that a burst of load widens the interval instead of faking a difference.
MIN_BLOCKS = 5


def blocks_median_ci(
    blocks: Sequence[Sequence[float]], resamples: int = RESAMPLES
) -> Estimate | None:
    """The median of all values, with a 95 % interval from resampling whole blocks (with fewer than
    MIN_BLOCKS blocks, from resampling single values)."""
    pooled = [v for block in blocks for v in block]
    if len(blocks) < MIN_BLOCKS:
        return median_ci(pooled, resamples)
    rng = random.Random(_SEED)
    medians = []
    for _ in range(resamples):
        chosen = rng.choices(range(len(blocks)), k=len(blocks))
        medians.append(statistics.median([v for i in chosen for v in blocks[i]]))
    medians.sort()
    return Estimate(statistics.median(pooled), *_percentiles(medians), len(pooled))


def rounds_ratio_ci(
    numerator: Sequence[Sequence[float]],
    denominator: Sequence[Sequence[float]],
    resamples: int = RESAMPLES,
) -> Estimate | None:
    """median(numerator) / median(denominator) over paired rounds (block i of each was run one after
    the other), with a 95 % interval from resampling rounds; fewer than MIN_BLOCKS rounds, or
    unpaired blocks: from resampling single values."""
    top = [v for block in numerator for v in block]
    bottom = [v for block in denominator for v in block]
    if len(numerator) != len(denominator) or len(numerator) < MIN_BLOCKS:
        return ratio_ci(top, bottom, resamples)
    if not bottom or statistics.median(bottom) <= 0:
        return None
    rng = random.Random(_SEED)
    ratios = []
    for _ in range(resamples):
        chosen = rng.choices(range(len(numerator)), k=len(numerator))
        down = statistics.median([v for i in chosen for v in denominator[i]])
        up = statistics.median([v for i in chosen for v in numerator[i]])
        ratios.append(up / down if down > 0 else float("inf"))
    ratios.sort()
    value = statistics.median(top) / statistics.median(bottom)
    return Estimate(value, *_percentiles(ratios), min(len(top), len(bottom)))
