"""The default human output, ruff-like: location, source line with carets, trace, fix, summary."""

from __future__ import annotations

from forklint.findings import Finding, Report, TraceStep
from forklint.report.common import SEVERITY_COLOUR, Painter, printable
from forklint.report.concise import headline, summary_line


def render(report: Report, *, color: bool = False, quiet: bool = False) -> str:
    paint = Painter(color)
    blocks = [_finding(finding, paint) for finding in report.findings]
    out = "\n".join(blocks)
    if not quiet:
        notes = "".join(f"{paint('note', bold=True)}: {printable(a)}\n" for a in report.assumptions)
        notes += "".join(
            f"{paint('note', bold=True)}: unresolved start-up {printable(str(u))}\n"
            for u in report.unresolved
        )
        if notes:
            out += ("\n" if out else "") + notes
        out += summary_line(report)
    return out


def _finding(finding: Finding, paint: Painter) -> str:
    lines = [headline(finding, paint)]
    number = str(finding.line)
    gutter = " " * len(number)
    bar = paint("|", fg="blue", bold=True)
    if finding.source_line:
        source = printable(finding.source_line)
        start = min(finding.column - 1, len(source))
        end = finding.end_column - 1 if finding.end_line == finding.line else len(source)
        # Keep tabs in the caret line so the carets sit under the same characters.
        pad = "".join(c if c == "\t" else " " for c in source[:start])
        carets = "^" * max(end - start, 1)
        colour = SEVERITY_COLOUR.get(finding.severity)
        lines += [
            f"{gutter} {bar}",
            f"{paint(number, fg='blue', bold=True)} {bar} {source}",
            f"{gutter} {bar} {pad}{paint(carets + ' ' + finding.name, fg=colour, bold=True)}",
            f"{gutter} {bar}",
        ]
    eq = paint("=", fg="blue", bold=True)
    if finding.jobs:
        lines.append(f"{gutter} {eq} jobs: {printable(', '.join(finding.jobs))}")
    if finding.trace:
        lines.append(f"{gutter} {eq} trace:")
        width = max(len(_step_where(step)) for step in finding.trace)
        for step in finding.trace:
            lines.append(f"{gutter}     {_step_where(step):<{width}}  {printable(step.text)}")
    if finding.fix is not None:
        lines.append(
            f"{gutter} {eq} {paint('fix', fg='green', bold=True)}: {printable(finding.fix.summary)}"
        )
        for code_line in finding.fix.code.splitlines():
            lines.append(f"{gutter}     {printable(code_line)}".rstrip())
    return "\n".join(lines) + "\n"


def _step_where(step: TraceStep) -> str:
    return f"{printable(step.path)}:{step.line}:{step.column}"
