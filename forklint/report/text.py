"""The default human output, ruff-like: each finding briefly (location, source line with carets,
the fix in a line), then one fix plan for the whole run, then notes and the summary."""

from __future__ import annotations

from forklint.findings import TABLE_TITLE, Finding, Fix, FixPlan, PlanStep, Report, TraceStep
from forklint.fixes import brief
from forklint.report.common import SEVERITY_COLOUR, Painter, printable
from forklint.report.concise import headline, summary_line


def render(
    report: Report, *, color: bool = False, quiet: bool = False, show_trace: bool = False
) -> str:
    paint = Painter(color)
    steps = report.plan.steps
    blocks = [_finding(finding, paint, steps, show_trace) for finding in report.findings]
    out = "\n".join(blocks)
    if not quiet:
        plan = render_plan(report.plan, paint)
        if plan:
            out += ("\n" if out else "") + plan
        notes = "".join(f"{paint('note', bold=True)}: {printable(a)}\n" for a in report.assumptions)
        notes += "".join(
            f"{paint('note', bold=True)}: unresolved start-up {printable(str(u))}\n"
            for u in report.unresolved
        )
        if notes:
            out += ("\n" if out else "") + notes
        out += summary_line(report)
    return out


def render_plan(plan: FixPlan, paint: Painter, table_diff: bool = True) -> str:
    """The fix plan: numbered steps with their diffs, then what no edit can do (`table_diff`
    False leaves out the table's diff, for `forklint prefork`, which prints the table itself)."""
    if not plan:
        return ""
    lines = []
    if plan.steps:
        unsafe = sum(1 for s in plan.steps if s.applicability == "unsafe")
        how = "`forklint check --fix` applies the safe steps"
        if unsafe:
            how += ", `--fix --unsafe-fixes` also the unsafe ones"
        lines.append(f"{paint('Fix plan', bold=True)} ({how}):")
        for number, step in enumerate(plan.steps, 1):
            kind = paint(
                step.applicability, fg="green" if step.applicability == "safe" else "yellow"
            )
            lines.append(f" {number}. {printable(step.title)} [{kind}]")
            if not table_diff and step.title == TABLE_TITLE:
                continue
            for diff_line in step.diff.splitlines():
                lines.append("      " + _diff_line(diff_line, paint))
    for note in plan.notes:
        lines.append(f"{paint('not fixed automatically', bold=True)}: {printable(note)}")
    return "\n".join(lines) + "\n"


def _diff_line(line: str, paint: Painter) -> str:
    text = printable(line)
    if line.startswith("+"):
        return paint(text, fg="green")
    if line.startswith("-"):
        return paint(text, fg="red")
    if line.startswith("@@"):
        return paint(text, fg="cyan")
    return text


def _finding(
    finding: Finding, paint: Painter, steps: tuple[PlanStep, ...], show_trace: bool
) -> str:
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
    if show_trace:
        if finding.jobs:
            lines.append(f"{gutter} {eq} jobs: {printable(', '.join(finding.jobs))}")
        if finding.trace:
            lines.append(f"{gutter} {eq} trace:")
            width = max(len(_step_where(step)) for step in finding.trace)
            for step in finding.trace:
                lines.append(f"{gutter}     {_step_where(step):<{width}}  {printable(step.text)}")
    if finding.fix is not None:
        label = paint("fix", fg="green", bold=True)
        lines.append(
            f"{gutter} {eq} {label} ({finding.fix.applicability}): "
            + printable(fix_line(finding, steps))
        )
        if finding.fix.advice:
            lines.append(f"{gutter}     {printable(finding.fix.advice)}")
    return "\n".join(lines) + "\n"


def fix_line(finding: Finding, steps: tuple[PlanStep, ...]) -> str:
    """The fix in one line: its sentence (unless the message says it already) and the plan steps
    that carry it out."""
    fix = finding.fix
    assert fix is not None
    said = brief(fix.summary) in finding.message
    numbers = answering_steps(fix, steps)
    if not numbers:
        return fix.summary
    where = "plan step " if len(numbers) == 1 else "plan steps "
    where += ", ".join(str(n) for n in numbers)
    return where if said else f"{fix.summary}; {where}"


def answering_steps(fix: Fix, steps: tuple[PlanStep, ...]) -> list[int]:
    """The numbers of the plan steps that carry out `fix`."""
    return [number for number, step in enumerate(steps, 1) if step.title in fix.steps]


def _step_where(step: TraceStep) -> str:
    return f"{printable(step.path)}:{step.line}:{step.column}"
