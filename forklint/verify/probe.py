"""`python -m forklint.verify.probe JOB`: can the job be imported? Run in a throw-away process, never in verify.

Prints {"module": ..., "attribute": ...} and exits 0, or prints one line saying why not and exits 1.
"""

from __future__ import annotations

import importlib
import json
import sys


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
    job = argv[0]
    try:
        module_name, attribute = resolve(job)
    except LookupError as exc:
        print(exc, flush=True)
        return 1
    except BaseException as exc:  # noqa: BLE001 - the module's own import-time code failed: one line says how
        text = " ".join(str(exc).split())
        print(f"cannot import {job}: {type(exc).__name__}{': ' + text if text else ''}", flush=True)
        return 1
    print(json.dumps({"module": module_name, "attribute": attribute}), flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, ".")
    sys.exit(main(sys.argv[1:]))
