"""Worker classes for prefork_bench.py: RQ's stock, pre-fork and simple workers, each timing its forks
and jobs in the parent and reading every horse's page faults and private memory at the job's end.

    rq worker -w fork_meter.Stock default      # PYTHONPATH=bench; also Prefork, Simple

Each job leaves one JSON record on the Redis list `fork_meter:jobs`: job_ms (the parent's
execute_job: fork, the horse's whole life, reaping it, RQ's bookkeeping), fork_ms (the fork as the
parent sees it; null without a fork), minor_faults (since the fork), private_kb and
private_dirty_kb (/proc/self/smaps_rollup at the job's end). Reading smaps costs every run the same
small amount; it happens after the job, inside job_ms.
"""

from __future__ import annotations

import json
import os
import resource
import time
from typing import Any

from rq.worker import SimpleWorker, Worker

from forklint.rq import PreforkWorker
from forklint.verify.horse import private_memory_kb

KEY = "fork_meter:jobs"


class MeterMixin:
    _fork_ms: float | None = None
    _horse: dict[str, Any] | None = None
    connection: Any

    def execute_job(self, job: Any, queue: Any) -> None:
        self._fork_ms = None
        started = time.perf_counter()
        super().execute_job(job, queue)  # type: ignore[misc]
        record = {"job_ms": (time.perf_counter() - started) * 1000, "fork_ms": self._fork_ms}
        horse = self.connection.hget(f"{KEY}:{job.id}", "horse")
        record.update(json.loads(horse) if horse else {})
        self.connection.delete(f"{KEY}:{job.id}")
        self.connection.rpush(KEY, json.dumps(record))

    def fork_work_horse(self, job: Any, queue: Any) -> None:
        started = time.perf_counter()
        super().fork_work_horse(job, queue)  # type: ignore[misc]
        self._fork_ms = (time.perf_counter() - started) * 1000  # the parent only: a horse never returns

    def perform_job(self, job: Any, queue: Any, execution: Any) -> bool:
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        forked = os.getpid() != getattr(self, "_meter_parent", os.getpid())
        done = super().perform_job(job, queue, execution)  # type: ignore[misc]
        private, dirty = private_memory_kb()
        now = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        horse = {
            # In a horse the counter began at zero with the fork; in SimpleWorker, this job only.
            "minor_faults": now if forked else now - faults,
            "private_kb": private,
            "private_dirty_kb": dirty,
        }
        self.connection.hset(f"{KEY}:{job.id}", "horse", json.dumps(horse))
        return done

    def bootstrap(self, *args: Any, **kwargs: Any) -> None:
        self._meter_parent = os.getpid()
        super().bootstrap(*args, **kwargs)  # type: ignore[misc]


class Stock(MeterMixin, Worker):
    """rq.Worker, what `rq worker` runs."""


class Prefork(MeterMixin, PreforkWorker):
    """forklint.rq.PreforkWorker (the table from FORKLINT_PREFORK)."""


class Simple(MeterMixin, SimpleWorker):
    """rq.SimpleWorker: no fork."""
