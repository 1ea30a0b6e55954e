"""Per-run figures and finding statuses, from horse measurements shaped like the real ones."""

from __future__ import annotations

from dataclasses import replace

import pytest

from forklint.findings import Finding, TraceStep
from forklint.verify.aggregate import (
    figures,
    finding_statuses,
    inconclusive,
    side_by_side,
    speedup,
    verdict_of,
)
from forklint.verify.stats import median_ci
from forklint.verify.targets import Target
from forklint.verify.horse import Measurement
from forklint.verify.runner import Failure, ParentRecord, RunResult


def horse(
    wall: float, modules: tuple[str, ...] = (), mappers: int = 0, **heavy: int
) -> Measurement:
    return Measurement(
        job_id=f"j{wall}", pid=1, wall_ms=wall, cpu_ms=wall / 2, imports_after_fork=len(modules),
        import_ms=wall / 4, modules=modules, mappers_configured=mappers, mapper_ms=mappers * 5.0,
        heavy_calls={name.replace("__", "."): n for name, n in heavy.items()},
    )  # fmt: skip


def run(
    *horses: Measurement, failures: tuple[Failure, ...] = (), seconds: float = 2.0
) -> RunResult:
    return RunResult(
        worker="rq.Worker", prefork=None, jobs=len(horses) + len(failures), seconds=seconds,
        prefork_seconds=None, measurements=horses, failures=failures,
    )  # fmt: skip


def finding(code: str, line: str = "", trace: tuple[str, ...] = ()) -> Finding:
    return Finding(
        code=code, name="x", severity="warning", path="app/tasks.py", line=3, column=5, end_line=3,
        end_column=9, message="m", jobs=("app.tasks.job",), source_line=line,
        trace=tuple(TraceStep("app/tasks.py", 4, 5, text) for text in trace),
    )  # fmt: skip


def test_figures_medians_p95_and_totals():
    walls = [float(w) for w in range(1, 21)]  # 1..20 ms
    result = figures(run(*(horse(w, ("a", "b"), 1, pickle__load=2) for w in walls), seconds=4.0))
    assert result.wall_median == 10.5
    assert result.wall_p95 == 19.0  # nearest rank: the 19th of 20
    assert result.imports_median == 2
    assert result.imports_max == 2
    assert result.mappers_configured == 20
    assert result.heavy_calls == {"pickle.load": 40}
    assert result.jobs_per_second == 5.0


def test_failed_jobs_are_counted_not_measured():
    result = figures(run(horse(10.0), failures=(Failure("x", "ValueError: boom"),)))
    assert (result.jobs_completed, result.jobs_failed, result.first_error) == (
        1,
        1,
        "ValueError: boom",
    )
    empty = figures(run(failures=(Failure("x", "work horse killed by signal 9 (SIGKILL)"),)))
    assert empty.wall_median is None and empty.imports_max is None


def timed(*job_ms: float) -> RunResult:
    """A run whose parent saw these job times."""
    parents = tuple(ParentRecord(f"j{i}", ms, 1.0) for i, ms in enumerate(job_ms))
    return replace(run(*(horse(ms) for ms in job_ms)), parents=parents)


def test_speedup_is_the_ratio_of_median_job_times_with_an_interval():
    slow = timed(*(100.0 + i for i in range(-10, 11)))  # median 100
    fast = timed(*(25.0 + i / 4 for i in range(-10, 11)))  # median 25
    ratio = speedup(slow, fast)
    assert ratio is not None
    assert ratio.value == 4.0
    assert ratio.low < 4.0 < ratio.high
    assert 3.5 < ratio.low and ratio.high < 4.6
    a, b = figures(slow), figures(fast)
    assert verdict_of(a, b) == "faster"
    assert verdict_of(b, a) == "slower"


def test_overlapping_intervals_are_no_measurable_difference():
    one = timed(10.0, 12.0, 11.0, 30.0, 10.5, 11.5, 9.0, 13.0)
    other = timed(10.2, 11.8, 11.1, 9.5, 10.9, 12.5, 25.0, 10.0)
    assert verdict_of(figures(one), figures(other)) == "no measurable difference"


def test_the_interval_is_reproducible_and_narrows_with_more_jobs():
    few = median_ci([float(v) for v in (3, 9, 4, 12, 5, 7, 6, 8)])
    many = median_ci([float(v) for v in (3, 9, 4, 12, 5, 7, 6, 8)] * 8)
    assert few == median_ci([float(v) for v in (3, 9, 4, 12, 5, 7, 6, 8)])  # a fixed seed
    assert few is not None and many is not None
    assert few.low <= few.value <= few.high
    assert (many.high - many.low) < (few.high - few.low)


@pytest.mark.parametrize(
    ("found", "stock", "status"),
    [
        (finding("FRK101"), [horse(1, ("app", "app.tasks"))], "confirmed"),
        (finding("FRK101"), [horse(1, ("app.other",))], "not observed"),
        (finding("FRK102"), [horse(1, mappers=1), horse(1)], "confirmed"),
        (finding("FRK102"), [horse(1), horse(1)], "not observed"),
        (
            finding("FRK104", "    import pandas as pd"),
            [horse(1, ("pandas", "numpy"))],
            "confirmed",
        ),
        (
            finding("FRK104", "    from sklearn import svm"),
            [horse(1, ("sklearn.svm",))],
            "confirmed",
        ),
        (finding("FRK104", "    import pandas"), [horse(1, ("numpy",))], "not observed"),
        (
            finding("FRK103", "    model = joblib.load(path)"),
            [horse(1, joblib__load=1)],
            "confirmed",
        ),
        (
            finding("FRK103", "    model = joblib.load(path)"),
            [horse(1, joblib__load=0, pickle__load=3)],
            "not observed",
        ),
        (
            finding("FRK105", "    get_model()", ("return pickle.load(f)",)),
            [horse(1, pickle__load=1)],
            "confirmed",
        ),
    ],
)
def test_finding_statuses(found, stock, status):
    (result,) = finding_statuses([found], run(*stock), "app.tasks")
    assert result.status == status, result.evidence


def test_unobservable_rules_get_no_status():
    assert (
        finding_statuses([finding("FRK301"), finding("FRK201")], run(horse(1)), "app.tasks") == ()
    )


def test_heavy_call_counted_under_another_name_of_the_same_function():
    found = finding("FRK103", "    engine = sqlalchemy.create_engine(url)")
    (result,) = finding_statuses(
        [found], run(horse(1, sqlalchemy__engine__create_engine=1)), "app.tasks"
    )
    assert result.status == "confirmed"


def watched(wall: float, calls: int, **inside: int) -> Measurement:
    """A horse that called the finding's loader `calls` times, making `inside` heavy calls in it."""
    name = "app.loaders:templates"
    return Measurement(
        job_id="j", pid=1, wall_ms=wall, cpu_ms=1.0, imports_after_fork=0, import_ms=0.0,
        modules=(), mappers_configured=0, mapper_ms=0.0,
        heavy_calls={k.replace("__", "."): v for k, v in inside.items()},
        watched_calls={name: calls}, watched_heavy={name: {k.replace("__", "."): v for k, v in inside.items()}},
    )  # fmt: skip


def memoised() -> tuple[Finding, Target]:
    found = finding("FRK105", "    templates()", ("render(x)", "templates()"))
    return found, Target("app.loaders.templates", "app.loaders:templates")


def test_frk105_confirmed_by_the_loaders_own_heavy_calls():
    found, target = memoised()
    stock = run(watched(1, 2, yaml__safe_load=1), watched(1, 1, yaml__safe_load=1))
    (result,) = finding_statuses([found], stock, "app.tasks", {found: target})
    assert result.status == "confirmed"
    assert result.evidence == (
        "app.loaders:templates called in 2 of 2 horses, making catalog heavy calls in 2 of them "
        "(yaml.safe_load x2)"
    )


def test_frk105_not_observed_when_the_loader_makes_no_heavy_call():
    found, target = memoised()
    (result,) = finding_statuses([found], run(watched(1, 1)), "app.tasks", {found: target})
    assert result.status == "not observed"
    assert result.evidence == (
        "app.loaders:templates called in 1 of 1 horses, making no catalog heavy call"
    )


def test_frk103_evidence_names_the_call_it_looked_for():
    found = finding("FRK103", "    model = joblib.load(path)")
    (result,) = finding_statuses([found], run(horse(1, pickle__load=3)), "app.tasks")
    assert (result.status, result.evidence) == (
        "not observed",
        "no catalog heavy call matching joblib.load() counted in the 1 horses",
    )
    (result,) = finding_statuses(
        [found], run(horse(1, joblib__load=1), horse(1, joblib__load=0)), "app.tasks"
    )
    assert result.evidence == "joblib.load called once, in 1 of 2 horses"


def test_heavy_call_names_line_up_across_the_runs():
    stock = run(horse(1, yaml__safe_load=1, pickle__load=0))
    prefork = run(horse(1, jinja2__Environment=0))
    a, b = side_by_side(stock, prefork)
    assert (
        list(a.heavy_calls)
        == list(b.heavy_calls)
        == ["jinja2.Environment", "pickle.load", "yaml.safe_load"]
    )
    assert b.heavy_calls["yaml.safe_load"] == 0


def test_failed_jobs_make_the_run_inconclusive():
    failures = tuple(Failure(f"x{i}", "KeyError: 'action'") for i in range(3))
    stock = run(failures=failures)
    statuses = finding_statuses([finding("FRK101"), finding("FRK102")], stock, "app.tasks")
    assert {(s.status, s.evidence) for s in statuses} == {
        ("inconclusive", "3 of 3 jobs failed on rq.Worker; first error: KeyError: 'action'")
    }
    assert speedup(stock, run(horse(1.0))) is None
    assert inconclusive([run(horse(1.0)), stock]) == statuses[0].evidence


def test_a_worker_that_does_not_fork_cannot_confirm_per_fork_rules():
    stock = replace(run(horse(1, ("app", "app.tasks"), 1, pickle__load=1)), forks=False)
    statuses = finding_statuses(
        [finding("FRK101"), finding("FRK102"), finding("FRK103", "    pickle.load(f)")],
        stock,
        "app.tasks",
    )
    assert [(s.finding.code, s.status) for s in statuses] == [
        ("FRK101", "not applicable"),
        ("FRK102", "not applicable"),
        ("FRK103", "confirmed"),
    ]
    assert statuses[0].evidence == "rq.Worker runs every job in the worker itself, without a fork"
    assert statuses[2].evidence == "pickle.load called once, in 1 of 1 jobs"


def test_rounds_that_differ_widen_the_interval_instead_of_faking_a_difference():
    # The machine's load changes from round to round; within a round both workers see the same.
    # The pre-fork worker is 4 % faster in every round: job by job (the rounds ignored) that
    # looks measurable, by rounds it is not (the median's interval covers the load's swings).
    levels = [40.0, 62.0, 45.0, 70.0, 50.0, 66.0, 42.0, 58.0, 48.0, 67.0]
    baseline = [tuple(level + j / 10 for j in range(6)) for level in levels]
    prefork = [tuple(level * 0.96 + j / 10 for j in range(6)) for level in levels]
    a = replace(timed(*[v for b in baseline for v in b]), blocks=tuple(baseline))
    b = replace(timed(*[v for b in prefork for v in b]), blocks=tuple(prefork))
    by_rounds, by_jobs = figures(a).job_ms, median_ci([v for block in baseline for v in block])
    assert by_rounds is not None and by_jobs is not None
    assert by_rounds.value == by_jobs.value
    assert (by_rounds.high - by_rounds.low) > (by_jobs.high - by_jobs.low)
    assert verdict_of(figures(a), figures(b)) == "no measurable difference"
    # The rounds are paired, so the speed-up itself is pinned down well: 4 % in every round.
    ratio = speedup(a, b)
    assert ratio is not None and 1.0 < ratio.low <= ratio.high < 1.1


def test_rounds_show_a_real_difference():
    baseline = [tuple(100.0 + i + j for j in range(4)) for i in range(8)]
    prefork = [tuple(60.0 + i + j for j in range(4)) for i in range(8)]
    a = replace(timed(*[v for b in baseline for v in b]), blocks=tuple(baseline))
    b = replace(timed(*[v for b in prefork for v in b]), blocks=tuple(prefork))
    assert verdict_of(figures(a), figures(b)) == "faster"
    ratio = speedup(a, b)
    assert ratio is not None and 1.4 < ratio.low < ratio.value < ratio.high < 1.9
