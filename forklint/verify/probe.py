"""Can the job be imported? Run in a throw-away process, never in verify:
`python -c "import sys; del sys.path[0]; from forklint.verify.probe import main; ..." JOB ROOT...`.

The project's roots go on sys.path after the standard library, so that a json.py or re.py in the
project cannot break the probe (or this module's own imports); each such module is named in a note.
Prints {"module": ..., "attribute": ..., "shadows": [notes]} and exits 0, or prints one line saying
why not and exits 1.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path


def resolve(job: str) -> tuple[str, str]:
    """Import the job's module and find the callable: "pkg.mod:func", or "pkg.mod.func" as RQ resolves it."""
    if ":" in job:
        module_name, _, attribute = job.partition(":")
        candidates = [(module_name, attribute)]
    else:
        parts = job.split(".")
        candidates = [
            (".".join(parts[:i]), ".".join(parts[i:])) for i in range(len(parts) - 1, 0, -1)
        ]
    failure = f"cannot import {job}"
    for module_name, attribute in candidates:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # Only "this candidate is not a module" tries a shorter one; an error raised while
            # importing a module that exists is the answer.
            if exc.name is not None and (
                module_name == exc.name or module_name.startswith(exc.name + ".")
            ):
                failure = f"cannot import {job}: no module named {exc.name!r}"
                continue
            raise
        target: object = module
        for part in attribute.split("."):
            if not hasattr(target, part):
                raise LookupError(
                    f"cannot import {job}: module {module_name!r} has no attribute {attribute!r}"
                )
            target = getattr(target, part)
        if not callable(target):
            raise LookupError(f"{job} is not callable")  # noqa: TRY004 - reported as one line, like the others
        return module_name, attribute
    raise LookupError(failure)


def main(argv: list[str]) -> int:
    job, roots = argv[0], argv[1:]
    sys.path.extend(roots)
    try:
        module_name, attribute = resolve(job)
    except LookupError as exc:
        print(exc, flush=True)
        return 1
    except BaseException as exc:  # noqa: BLE001 - the module's own import-time code failed: one line says how
        text = " ".join(str(exc).split())
        print(f"cannot import {job}: {type(exc).__name__}{': ' + text if text else ''}", flush=True)
        return 1
    result = {"module": module_name, "attribute": attribute, "shadows": shadows(roots)}
    print(json.dumps(result), flush=True)
    return 0


def shadows(roots: list[str]) -> list[str]:
    """Notes for the project's top-level modules named like a standard-library module."""
    notes = []
    for root in roots:
        directory = Path(root)
        for name in sorted(getattr(sys, "stdlib_module_names", ())):
            for candidate in (directory / f"{name}.py", directory / name / "__init__.py"):
                if candidate.is_file():
                    shown = candidate.relative_to(directory).as_posix()
                    notes.append(
                        f"{shown} in {directory.name or root} has the name of the standard "
                        f"library's {name}: the import probe put the project after the standard "
                        f"library, but a worker started in the project (project first on sys.path) "
                        f"imports {shown} wherever {name} is not loaded yet; rename it"
                    )
    return notes
