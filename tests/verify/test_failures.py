"""Every way a verify run can fail: one line, the documented exit status, nothing left running or on disk."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        (
            "unix:///nonexistent/forklint/redis.sock",
            "cannot reach Redis at unix:///nonexistent/forklint/redis.sock",
        ),
        ("redis://:secret@127.0.0.1:1/0", "cannot reach Redis at redis://:***@127.0.0.1:1/0"),
    ],
)
def test_redis_unreachable(make_project, verify, url, needle, one_line_error):
    result = verify(make_project(), "app.jobs:ok", "--redis-url", url)
    line = one_line_error(result, 2, needle)
    assert "secret" not in line
    assert verify.leftovers() == []


@pytest.mark.parametrize(
    ("job", "needle"),
    [
        ("app.nothere:ok", "cannot import app.nothere:ok: no module named 'app.nothere'"),
        ("app.jobs:missing", "module 'app.jobs' has no attribute 'missing'"),
        ("app.broken.run", "cannot import app.broken.run: RuntimeError: no database configured"),
        ("app.jobs:signal", "app.jobs:signal is not callable"),
        ("not a job", "JOB must look like pkg.module:function"),
    ],
)
def test_job_cannot_be_imported(make_project, verify, job, needle, one_line_error):
    root = make_project(app__broken="raise RuntimeError('no database configured')\n")
    result = verify(root, job)
    one_line_error(result, 2, needle)
    assert result.stdout == ""
    assert verify.leftovers() == []


def test_password_in_the_query_is_masked(make_project, verify, one_line_error):
    url = "redis://127.0.0.1:1/0?db=0&password=topsecret"
    result = verify(make_project(), "app.jobs:ok", "--redis-url", url)
    one_line_error(result, 2, "cannot reach Redis at redis://127.0.0.1:1/0?db=0&password=***")
    assert "topsecret" not in result.stderr + result.stdout


def test_password_masked_in_the_report(make_project, verify):
    from redis import Redis

    from forklint.redis_server import EmbeddedRedis

    with EmbeddedRedis() as server, Redis.from_url(server.url) as admin:
        admin.config_set("requirepass", "s3cretpw")
        plain = server.url
        url = f"{plain}?password=s3cretpw"
        result = verify(make_project(), "app.jobs:ok", "--redis-url", url, "-n", "2",
                        "--warmup", "0", "--format", "json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["redis"] == f"{plain}?password=***"
    assert "s3cretpw" not in result.stdout + result.stderr
    assert verify.leftovers() == []


def test_control_characters_from_a_job_are_escaped(make_project, verify):
    result = verify(make_project(), "app.jobs:ansi", "-n", "1", "--warmup", "0")
    assert result.returncode == 1
    assert "\x1b" not in result.stderr + result.stdout
    assert "\x07" not in result.stderr + result.stdout
    assert result.stderr.splitlines()[0].endswith(
        "first error: ValueError: \\x1b[31mred\\x1b[0m\\x07"
    )
    assert verify.leftovers() == []


def test_job_raises(make_project, verify):
    result = verify(make_project(), "app.jobs:boom", "--args", "[7]", "-n", "3")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    errors = result.stderr.strip().splitlines()
    # Failures stop the experiment after the warm-up: both workers ran their two jobs.
    assert errors == [
        "forklint verify: 2 of 2 jobs failed on rq.Worker; first error: ValueError: boom 7",
        "forklint verify: 2 of 2 jobs failed on forklint.rq.PreforkWorker; first error: ValueError: boom 7",
    ]
    assert "jobs completed / failed" in result.stdout
    assert verify.leftovers() == []


def test_horse_killed_by_signal(make_project, verify):
    result = verify(make_project(), "app.jobs:die", "-n", "2", "--format", "json")
    assert result.returncode == 1, result.stderr
    assert "work horse killed by signal 9 (SIGKILL)" in result.stderr.splitlines()[0]
    assert '"jobs_failed": 2' in result.stdout
    assert verify.leftovers() == []


def test_timeout_kills_worker_and_horse(make_project, verify, tmp_path, one_line_error):
    flag = tmp_path / "running"
    started = time.monotonic()
    result = verify(
        make_project(), "app.jobs:sleep", "--args", f'["{flag}"]', "-n", "2", "--timeout", "5"
    )
    assert time.monotonic() - started < 30
    assert flag.exists()  # the horse did start the job before it was killed
    one_line_error(result, 1, "timed out after 5s", "the worker and its horses were killed")
    assert verify.leftovers() == []


MESSAGES = {
    130: "forklint verify: interrupted; stopped everything it had started",
    143: "forklint verify: terminated; stopped everything it had started",
}


def start_sleeping(make_project, verify, tmp_path):
    """verify with a job that sleeps in its horse; returns once a horse is in the job."""
    flag = tmp_path / "running"
    process = verify.start(
        make_project(), "app.jobs:sleep", "--args", f'["{flag}"]', "-n", "2", "--warmup", "0"
    )
    deadline = time.monotonic() + 30
    while not flag.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    assert flag.exists(), process.communicate()
    return process


def assert_stopped_cleanly(process, verify, statuses=(130, 143)):
    _, err = process.communicate(timeout=30)
    assert process.returncode in statuses, err
    assert "Traceback" not in err
    assert err.strip().splitlines() == [MESSAGES[process.returncode]]
    assert verify.leftovers() == []


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_stops_everything(make_project, verify, tmp_path, signum, status):
    process = start_sleeping(make_project, verify, tmp_path)
    process.send_signal(signum)
    assert_stopped_cleanly(process, verify, (status,))


# What `timeout`, process managers and an impatient user send: two or three signals microseconds
# apart. Whichever is handled first decides the exit status; no process may survive either way
# (the marker finds them, re-parented to PID 1 or not).
BURSTS = [
    (signal.SIGINT, signal.SIGTERM),
    (signal.SIGTERM, signal.SIGINT, signal.SIGTERM),
    (signal.SIGINT, signal.SIGINT, signal.SIGINT),
]


@pytest.mark.parametrize("burst", BURSTS, ids=["int-term", "term-int-term", "int-int-int"])
def test_signals_microseconds_apart_while_a_horse_runs(make_project, verify, tmp_path, burst):
    process = start_sleeping(make_project, verify, tmp_path)
    for signum in burst:
        os.kill(process.pid, signum)
    assert_stopped_cleanly(process, verify)


@pytest.mark.parametrize("delay", [0.05, 0.3, 0.8, 1.5])
def test_signals_microseconds_apart_at_any_moment(make_project, verify, tmp_path, delay):
    # From the probe and Redis start-up, through static analysis, to the workers' start-up.
    root = make_project(
        '[tool.forklint.prefork]\nimports = ["app.slow"]\n',
        app__slow="import time\ntime.sleep(1)\n",
    )
    process = verify.start(root, "app.jobs:ok", "-n", "3", "--warmup", "0")
    time.sleep(delay)
    os.kill(process.pid, signal.SIGTERM)
    os.kill(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=30)
    # Still starting Python (the default SIGTERM action ends it, before it started anything), or
    # verify stopped what it had started; never a traceback, never a survivor.
    assert process.returncode in (-signal.SIGTERM, 130, 143), err
    if process.returncode > 0:
        assert "Traceback" not in err
        assert err.strip().splitlines() == [MESSAGES[process.returncode]]
    assert verify.leftovers() == []


def test_killed_verify_takes_its_children_with_it(make_project, verify, tmp_path):
    # SIGKILL cannot be handled: the kernel ends the workers, their horses and Redis
    # (PR_SET_PDEATHSIG). Only the temporary files stay; nothing can remove those.
    process = start_sleeping(make_project, verify, tmp_path)
    process.kill()
    process.communicate(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        running = [line for line in verify.leftovers() if line.startswith("process ")]
        if not running:
            break
        time.sleep(0.1)
    assert running == []


def test_worker_class_not_importable(make_project, verify, one_line_error):
    result = verify(make_project(), "app.jobs:ok", "--worker-class", "app.nothere.Worker")
    one_line_error(
        result,
        2,
        "the app.nothere.Worker worker did not run: cannot import worker class app.nothere.Worker",
    )
    assert verify.leftovers() == []


def test_prefork_table_fails_in_the_parent(make_project, verify, one_line_error):
    root = make_project(
        '[tool.forklint.prefork]\nimports = ["app.broken"]\n',
        app__broken="raise RuntimeError('no db')\n",
    )
    result = verify(root, "app.jobs:ok", "-n", "1")
    one_line_error(
        result,
        2,
        "forklint.rq.PreforkWorker worker did not run",
        "`imports` entry 'app.broken' in [tool.forklint.prefork]: cannot import it (RuntimeError: no db)",
    )
    assert verify.leftovers() == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--args", "{"), "not valid JSON"),
        (("--args", "{}"), "must be a JSON array"),
        (("--kwargs", "[]"), "must be a JSON object"),
    ],
)
def test_bad_arguments_are_usage_errors(make_project, verify, args, needle):
    result = verify(make_project(), "app.jobs:ok", *args)
    assert result.returncode == 2
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
