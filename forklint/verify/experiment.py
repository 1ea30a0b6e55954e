"""The experiment: both workers warmed up, then blocks of jobs sent to each in turn until the per-job
figures are stable, a fixed count is reached or the time budget is spent.

A round is one block on each worker, the same size, back to back; which worker goes first alternates
(ABBA), so that load on a shared machine falls on both alike; only one worker is busy at a time. The
intervals resample whole rounds (stats.py): jobs of one block share their conditions. The first
`warmup` jobs of each worker (its first horses, cold caches and files) are run and discarded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from forklint.verify.runner import WorkerProcess
from forklint.verify.stats import blocks_median_ci

_CHECK_RESAMPLES = 500  # enough to decide whether to go on; the report uses the full count


@dataclass(frozen=True)
class Plan:
    warmup: int = 2  # jobs per worker run first and discarded
    jobs: int | None = None  # measured jobs per worker; None: until stable or out of budget
    budget: float = 60.0  # seconds of measuring, when `jobs` is None
    min_jobs: int = 10  # measured jobs per worker before stability is judged
    min_rounds: int = 8  # rounds before stability is judged (the intervals resample rounds)
    max_jobs: int = 400
    precision: float = 0.05  # stable: each median's 95 % interval within +-5 %
    block_seconds: float = 0.3  # the time one block should take on the slower worker

    def describe(self) -> str:
        if self.jobs is not None:
            return f"{self.jobs} jobs per worker after {self.warmup} warm-up"
        return (
            f"until each median's 95 % interval is within +-{self.precision:.0%} "
            f"(at least {self.min_jobs} jobs in {self.min_rounds} rounds) or {self.budget:g} s "
            "are spent; "
            f"{self.warmup} warm-up jobs per worker"
        )


def run(
    baseline: WorkerProcess,
    prefork: WorkerProcess,
    plan: Plan,
    progress: Callable[[str], None] | None = None,
) -> str:
    """Drive both (started) workers; returns why it stopped: "jobs", "stable", "budget", "max",
    "failed"."""

    def say(text: str) -> None:
        if progress is not None:
            progress(text)

    for worker in (baseline, prefork):
        if plan.warmup:
            say(f"{worker.shown_as}: {plan.warmup} warm-up jobs")
            worker.run(plan.warmup, measured=False)
    if _failed(baseline, prefork):
        return "failed"
    started = time.monotonic()
    measured = rounds = 0
    while True:
        block = _block_size(baseline, prefork, plan)
        if plan.jobs is not None:
            # Several rounds even for a small fixed count: the intervals resample rounds.
            block = min(block, -(-plan.jobs // plan.min_rounds), plan.jobs - measured)
        # ABBA: the worker that goes first alternates, so neither always runs right after the other.
        order = (baseline, prefork) if rounds % 2 == 0 else (prefork, baseline)
        for worker in order:
            say(_status(worker, measured, plan, started))
            worker.run(block)
        measured += block
        rounds += 1
        if _failed(baseline, prefork):
            return "failed"
        if plan.jobs is not None:
            if measured >= plan.jobs:
                return "jobs"
            continue
        if (
            measured >= plan.min_jobs
            and rounds >= plan.min_rounds
            and _stable(baseline, prefork, plan)
        ):
            return "stable"
        if time.monotonic() - started >= plan.budget:
            return "budget"
        if measured >= plan.max_jobs:
            return "max"


def _status(worker: WorkerProcess, measured: int, plan: Plan, started: float) -> str:
    if plan.jobs is not None:
        return f"{worker.shown_as}: {measured} of {plan.jobs} jobs measured"
    spent = time.monotonic() - started
    return f"{worker.shown_as}: {measured} jobs measured, {spent:.0f} of {plan.budget:g} s"


def _block_size(baseline: WorkerProcess, prefork: WorkerProcess, plan: Plan) -> int:
    slowest = max(_median_ms(baseline), _median_ms(prefork))
    if slowest <= 0:
        return 1
    return max(1, min(50, int(plan.block_seconds * 1000 / slowest)))


def _median_ms(worker: WorkerProcess) -> float:
    times = sorted(worker.job_times)
    return times[len(times) // 2] if times else 0.0


def _stable(baseline: WorkerProcess, prefork: WorkerProcess, plan: Plan) -> bool:
    for worker in (baseline, prefork):
        estimate = blocks_median_ci(worker.measured_blocks, _CHECK_RESAMPLES)
        if estimate is None or estimate.relative_half_width > plan.precision:
            return False
    return True


def _failed(*workers: WorkerProcess) -> bool:
    return any(worker.failed_count() for worker in workers)
