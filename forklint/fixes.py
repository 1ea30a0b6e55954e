"""Fixes: the concrete change for this project that answers a finding (pre-fork table, start-up lines, memoised loader)."""

from __future__ import annotations

from forklint.commands import with_prefork_worker
from forklint.facts import CallFact, FileFacts, FunctionFact
from forklint.findings import Fix, Prefork
from forklint.world import Parent


def prefork_fix(parents: list[Parent], table: Prefork, action: str) -> Fix:
    """The concrete change for this project, in every worker parent that lacks it: lines in a
    start-up function, a worker_init handler for Celery, or [tool.forklint.prefork] entries for
    PreforkWorker (with the command line that runs it).

    `action` is what the parents must do, as a verb phrase: "import app.tasks", "call get_model()".
    """
    entries = []
    if table.imports:
        entries.append("imports = [" + ", ".join(f'"{m}"' for m in table.imports) + "]")
    if table.calls:
        entries.append("calls = [" + ", ".join(f'"{c}"' for c in table.calls) + "]")
    toml = "\n".join(["[tool.forklint.prefork]", *entries])
    parts = [_parent_fix(p, table, action, entries) for p in parents]
    if len(parts) == 1 and parents[0].startup is not None:
        summary = parts[0][0]
    else:
        summary = f"{action} in the worker parent: " + "; and ".join(part for part, _, _ in parts)
    codes = [code for _, code, _ in parts if code]
    if any(uses_table for _, _, uses_table in parts):
        codes.insert(0, toml)
    return Fix(summary, "\n\n".join(codes), prefork=table)


def _parent_fix(
    parent: Parent, table: Prefork, action: str, entries: list[str]
) -> tuple[str, str, bool]:
    """(summary part, code, whether it needs the [tool.forklint.prefork] table) for one parent."""
    lines = [f"import {m}" for m in table.imports if m not in parent.modules]
    for entry in table.calls:
        module, _, func = entry.partition(":")
        lines.append(f"from {module} import {func.split('.')[0]}")
    lines += [f"{entry.partition(':')[2]}()" for entry in table.calls]
    startup = parent.startup
    if startup is not None:
        where = (
            f"{startup.relpath}:{startup.function}()"
            if startup.function and startup.function != "__main__"
            else startup.relpath
        )
        code = f"# {where}, before {startup.work_text}:\n" + "\n".join(lines)
        if startup.work_text.startswith("Worker."):
            code += (
                f"\n# or, with the [tool.forklint.prefork] table: use forklint.rq.PreforkWorker "
                f"instead of Worker in {where}\n# from forklint.rq import PreforkWorker"
            )
        summary = f"{action} in {where} before {startup.work_text}"
        if startup.work_text.startswith("Worker."):
            summary += " (or use forklint.rq.PreforkWorker instead of Worker there)"
        return summary, code, False
    if parent.framework == "celery":
        body = "\n".join(f"    {line}" for line in lines) or "    pass"
        code = (
            "from celery.signals import worker_init\n\n\n"
            "@worker_init.connect\n"
            f"def prefork(**kwargs):\n{body}"
        )
        return (
            f"{action} in a worker_init handler, which runs in the parent before the pool forks",
            code,
            False,
        )
    if parent.prefork_table:
        return f"add {'; '.join(entries)} to [tool.forklint.prefork]", "", True
    command = parent.command
    if command is None:
        run = "rq worker -w forklint.rq.PreforkWorker"
        return (
            f"run `{run}` with [tool.forklint.prefork] {'; '.join(entries)}",
            f"# the worker command (Procfile, Dockerfile...)\n{run}",
            True,
        )
    where = f"{command.path}:{command.line}"
    if command.worker_class in (None, "rq.Worker", "rq.worker.Worker"):
        run = with_prefork_worker(command.text)
        return (
            f"run `{run}` ({where}) with [tool.forklint.prefork] {'; '.join(entries)}",
            f"# {where}\n{run}",
            True,
        )
    mixin = f"class YourWorker(forklint.rq.PreforkMixin, {command.worker_class})"
    return (
        f"make {command.worker_class} ({where}) run [tool.forklint.prefork] {'; '.join(entries)}: "
        f"{mixin}",
        f"# {where}: pass this class to --worker-class\n{mixin}: ...",
        True,
    )


def memo_fix(f: FileFacts, fn: FunctionFact, call: CallFact, text: str) -> Fix:
    """A memoised getter that makes this very call, used in place of it and warmed before the fork."""
    stored = next(
        (
            a.target
            for a in fn.assigns
            if a.loc.line == call.loc.line and a.value.startswith(call.callee)
        ),
        "",
    )
    noun = stored if stored.isidentifier() else call.callee.rpartition(".")[2].lower()
    getter = f"get_{noun.strip('_') or 'resource'}"
    use = f"{stored} = {getter}()" if stored.isidentifier() else f"{getter}()"
    code = (
        "import functools\n\n\n"
        "@functools.lru_cache(maxsize=None)\n"
        f"def {getter}():\n"
        f"    return {text}\n\n\n"
        f"# in {fn.qualname}(): {use}\n"
        f'# warm it before the fork: [tool.forklint.prefork] calls = ["{f.module}:{getter}"]'
    )
    return Fix(
        f"move `{text}` into a memoised {getter}() in {f.relpath}, call it from {fn.name}(), "
        f"and warm it before the fork",
        code,
    )


def brief(summary: str) -> str:
    """The fix for a one-line message: what to do, without every start-up it applies to (the fix
    section lists those)."""
    if len(summary) <= 120:
        return summary
    head, sep, _ = summary.partition(": ")
    return head if sep else summary
