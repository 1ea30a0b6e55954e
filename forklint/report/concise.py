"""One line per finding: `path:line:col: CODE message`."""

from __future__ import annotations

from forklint.findings import Finding, Report
from forklint.report.common import SEVERITY_COLOUR, Painter, plural, printable


def render(report: Report, *, color: bool = False, quiet: bool = False) -> str:
    paint = Painter(color)
    out = "".join(headline(finding, paint) + "\n" for finding in report.findings)
    if not quiet:
        out += summary_line(report)
    return out


def headline(finding: Finding, paint: Painter) -> str:
    where = f"{printable(finding.path)}:{finding.line}:{finding.column}:"
    code = paint(finding.code, fg=SEVERITY_COLOUR.get(finding.severity), bold=True)
    return f"{paint(where, bold=True)} {code} {printable(finding.message)}"


def summary_line(report: Report) -> str:
    """`Found 2 findings.`, saying also how many files could not be analysed (they fail the run too)."""
    line = f"Found {plural(len(report.findings), 'finding')}"
    broken = len({error.path for error in report.errors})
    if broken:
        line += f"; {plural(broken, 'file')} could not be analysed"
    return line + ".\n"
