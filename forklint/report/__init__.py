"""One renderer per output format, chosen by name."""

from __future__ import annotations

from collections.abc import Callable

from forklint.findings import Report
from forklint.report import concise, github, gitlab, json_output, sarif, text

RENDERERS: dict[str, Callable[..., str]] = {
    "text": text.render,
    "concise": concise.render,
    "json": json_output.render,
    "sarif": sarif.render,
    "github": github.render,
    "gitlab": gitlab.render,
}


def render(
    report: Report, fmt: str, *, color: bool = False, quiet: bool = False, show_trace: bool = False
) -> str:
    """The whole output of `report` in format `fmt` (one of config.FORMATS), ending with a newline."""
    if fmt == "text":
        return text.render(report, color=color, quiet=quiet, show_trace=show_trace)
    return RENDERERS[fmt](report, color=color, quiet=quiet)
