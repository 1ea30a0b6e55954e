"""FRK103 heavy-call-per-job: a catalog heavy call runs unconditionally on every run of a job."""

from __future__ import annotations

import re

from forklint.evidence import Evidence, JobPath, callee_name
from forklint.facts import CallFact, FileFacts, FunctionFact
from forklint.fixes import memo_fix
from forklint.jobs import Job
from forklint.world import PER_JOB, call_text, source_line

CODE = "FRK103"
LOADS = "loads a model or data file"


def check(ev: Evidence) -> None:
    for job in ev.jobs:
        writes = _writes_files(ev, job)
        per_job = ev.world.job_models.get(job.fq, "rq") in PER_JOB
        parents = ev.world.job_parents.get(job.fq, [])
        for fq, f, fn, path in ev.walk(job, unconditional=True, into_memo=False):
            for call, target in ev.index.callees(fq):
                if call.conditional:
                    continue
                what = ev.catalog.heavy_call(target)
                if what is None:
                    continue
                if ev.catalog.once_per_process(target) and not _imported_anew(
                    ev, f, fn, call, target, per_job, parents
                ):
                    continue
                if ev.catalog.settled_in_parent(target) and (
                    not per_job or (parents and all(target in p.warmed for p in parents))
                ):
                    continue  # `django.setup()`: done once per process, or in the parent already
                callee = ev.index.call_target(target)
                if callee is not None and ev.reaches_heavy_call(callee):
                    continue  # `create_app()`: reported once, at the heavy call inside it
                # Only waste that can be hoisted: the same work on every run. What the job is
                # given (a parameter, something made of one) may differ per run, and a job that
                # writes files may be loading what it just wrote.
                if ev.varies(f, fn, call, path=path) or (what == LOADS and writes):
                    continue
                name = callee_name(call, target)
                loop = _in_loop(ev, f, fn, call, path)
                if loop is None:
                    message = (
                        f"{name}() {what} on every run of {{jobs}}; do it once: at module level, "
                        f"or in a memoised loader warmed in the worker parent"
                    )
                else:  # once per item: every run that has items, never one that has none
                    message = (
                        f"{name}() {what} once per item of `{loop}` in each run of {{jobs}}; "
                        f"do it once: before the loop, at module level, or in a memoised loader"
                    )
                text = call_text(f, call)
                trace = path.trace() + (ev.step(f, call.loc, text),)
                fix = memo_fix(ev, job, path, f, fn, call)
                hit = ev.hits.get((CODE, f.relpath, call.loc.line, call.loc.column))
                if hit is not None and loop is None:
                    hit.message = message  # some job makes it on every run: that is the claim
                ev.add(CODE, f, call.loc, fn.qualname, job.fq, trace, message, fix)


def _imported_anew(
    ev: Evidence,
    f: FileFacts,
    fn: FunctionFact,
    call: CallFact,
    target: str,
    per_job: bool,
    parents: list,
) -> bool:
    """Whether a dynamic import (`import_module(name)`) imports anew on every run: only where
    each run is a new process, of a module forklint can name (a literal or a constant), that the
    parent has not imported. A name it cannot tell (`getattr(settings, "GATEWAY_MODULE", ...)`,
    often the calling module itself) may already be in sys.modules (held-out myfxtracker)."""
    if not per_job or not call.args:
        return False  # a long-lived child pays once, then finds it in sys.modules
    written = call.args[0]
    if not written.startswith('"'):
        constant = ev.index.string_constant(f.module, fn, written)
        owner, _, attr = written.rpartition(".")
        if constant is None and owner:  # `settings.BACKEND`: a constant of a project module
            module = ev.index.resolve(f.module, fn, owner)
            if module in ev.index.modules:
                constant = ev.index.string_constant(module, None, attr)
        written = constant or ""
    name = written.strip('"')
    if not name:
        return False
    if target.endswith("import_attribute"):
        name = name.rpartition(".")[0]
    return not (parents and all(name in p.modules for p in parents))


def _in_loop(
    ev: Evidence, f: FileFacts, fn: FunctionFact, call: CallFact, path: JobPath
) -> str | None:
    """The `for` header (as written) whose body makes the call, here or in a caller on the job's
    path, when it iterates over data the run fetches or is given (not a literal with items)."""
    hops = [(f, fn, call), *reversed(path.hops())]  # innermost first
    for hf, hfn, hcall in hops:
        if hfn is None:
            continue
        after = source_line(hf.module, hcall.loc.line)[hcall.loc.column :]
        comprehension = _COMPREHENSION.search(after)  # `[archive(k) for k in keys]`
        if comprehension is not None and not _LITERAL_ITEMS.match(comprehension["iter"]):
            text = comprehension[0].strip()
            if text[-1] in "]}" or text.count(")") > text.count("("):
                text = text[:-1].rstrip()  # the comprehension's closing bracket
            return text
        header = _loop_header(hf.module, hfn.loc.line, hcall.loc.line)
        if header is not None:
            return header
    return None


_FOR = re.compile(r"(?:async\s+)?for\s+.+?\s+in\s+(?P<iter>.+):\s*(?:#.*)?$")
_COMPREHENSION = re.compile(
    r"\bfor\s+[\w, ()]+?\s+in\s+(?P<iter>[^\]\)\}]+?)\s*(?:\bif\b|[\]\)\}])"
)
_LITERAL_ITEMS = re.compile(r"""(?:\[[^\]\s]|\([^)\s]|["'][^"']|range\(\s*[1-9]\d*\s*\))""")


def _loop_header(module: str, def_line: int, line: int) -> str | None:
    """The innermost enclosing `for` line of `line` within the function defined at `def_line`,
    read from the indentation of the source (a loop over a literal with items runs every time)."""
    text = source_line(module, line)
    indent = len(text) - len(text.lstrip())
    for number in range(line - 1, def_line, -1):
        above = source_line(module, number)
        stripped = above.strip()
        if not stripped or stripped.startswith("#"):
            continue
        depth = len(above) - len(above.lstrip())
        if depth >= indent:
            continue
        indent = depth
        match = _FOR.match(stripped)
        if match is not None:
            if _LITERAL_ITEMS.match(match["iter"].strip()):
                continue
            header = stripped.split("#")[0].rstrip().rstrip(":")
            return header if len(header) <= 80 else header[:77] + "..."
        if stripped.startswith(("def ", "async def ", "class ")):
            return None
    return None


def _writes_files(ev: Evidence, job: Job) -> bool:
    for fq, _f, _fn, _path in ev.walk(job, unconditional=False, into_memo=True):
        for _call, target in ev.index.callees(fq):
            if ev.catalog.writes(target):
                return True
    return False
