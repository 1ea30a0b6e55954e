"""`--format github`: workflow commands that annotate the pull request, plus a job-summary table."""

from __future__ import annotations

from forklint.findings import FileError, Finding, Report
from forklint.report.common import encode_output, importance, plural, printable, repo_path

_COMMAND = {"error": "error", "warning": "warning", "info": "notice"}
# GitHub refuses a step summary above 1 MiB; keep room for the heading and the notes.
_SUMMARY_LIMIT = 1024 * 1024 - 16 * 1024


def render(report: Report, *, color: bool = False, quiet: bool = False) -> str:
    # GitHub shows only the first 10 annotations of each kind per step: most important first.
    findings = sorted(report.findings, key=importance)
    return "".join(annotation(report.root, finding) + "\n" for finding in findings)


def annotation(root: str, finding: Finding) -> str:
    properties = [("file", repo_path(root, finding.path)), ("line", str(finding.line))]
    if finding.end_line == finding.line:
        properties += [("col", str(finding.column)), ("endLine", str(finding.end_line))]
        properties += [("endColumn", str(finding.end_column))]
    else:
        properties += [("endLine", str(finding.end_line))]
    properties.append(("title", f"{finding.code} {finding.name}"))
    message = finding.message
    if finding.jobs:
        message += "\nJobs: " + ", ".join(finding.jobs)
    if finding.fix is not None and finding.fix.summary not in finding.message:
        message += "\nFix: " + finding.fix.summary
    return _command(_COMMAND.get(finding.severity, "warning"), properties, message)


def error_annotation(root: str, error: FileError) -> str:
    """A file forklint could not analyse, as an `::error` command (one line whatever the path holds)."""
    properties = [("file", repo_path(root, error.path))]
    if error.line is not None:
        properties.append(("line", str(error.line)))
        if error.column is not None:
            properties.append(("col", str(error.column)))
    properties.append(("title", "forklint could not analyse this file"))
    return _command("error", properties, error.message)


def step_summary(report: Report) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY: every finding, where annotations stop after ten."""
    lines = ["## forklint", ""]
    if not report.findings:
        lines.append("No findings.")
    else:
        lines += ["| | Code | Location | Message |", "|---|---|---|---|"]
        size = 0
        for shown, finding in enumerate(report.findings):
            row = _row(report.root, finding)
            size += len(encode_output(row)) + 1
            if size > _SUMMARY_LIMIT:
                hidden = len(report.findings) - shown
                lines += [
                    "",
                    f"{plural(hidden, 'more finding')} not shown: a step summary holds 1 MiB.",
                ]
                break
            lines.append(row)
        lines += ["", f"{plural(len(report.findings), 'finding')}."]
    for assumption in report.assumptions:
        lines += ["", f"> {_cell(assumption)}"]
    return "\n".join(lines) + "\n"


def _row(root: str, finding: Finding) -> str:
    icon = {"error": ":x:", "warning": ":warning:"}.get(finding.severity, ":information_source:")
    where = f"{repo_path(root, finding.path)}:{finding.line}:{finding.column}"
    cells = (icon, f"{finding.code} {finding.name}", _cell(where), _cell(finding.message))
    return "| " + " | ".join(cells) + " |"


def _command(name: str, properties: list[tuple[str, str]], message: str) -> str:
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{name} {props}::{escape_data(message)}"


def escape_data(text: str) -> str:
    """As @actions/core's escapeData."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """As @actions/core's escapeProperty."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _cell(text: str) -> str:
    """Text that stays inside one Markdown table cell and renders as written (line breaks, other
    control characters and the bytes of a non-UTF-8 file name shown escaped, as in text output)."""
    for old, new in (
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ("|", "\\|"),
    ):
        text = text.replace(old, new)
    return printable(text)
