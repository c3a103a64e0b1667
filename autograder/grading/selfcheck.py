"""The learner's self-check: run a notebook's visible tests and say what passed.

:func:`check_notebook` executes a copy of the notebook (the file is not modified) in a fresh
kernel started in the notebook's folder, with every hidden-test region removed, so it behaves
the same on the student version and on the instructor's source. Hidden-test cells are listed
as "checked by the grader" and count neither way. The verdicts follow the grading rule of
:func:`autograder.grading.notebooks.grade_cells` (an error fails a test; stderr does not).

Left out: grading itself (no gradebook, no hidden tests): see :mod:`autograder.grading.batch`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .execution import ExecutionReport, execute
from .notebooks import (
    GradedCell,
    NotGradable,
    grade_cells,
    is_hidden,
    read_submission,
    strip_hidden_tests,
)


@dataclass
class CheckResult:
    """The visible tests of one notebook and how they went."""

    path: Path
    tests: list[GradedCell]  # the visible tests
    hidden: list[str] = field(default_factory=list)  # grade ids the grader checks
    report: ExecutionReport | None = None

    @property
    def passed(self) -> bool:
        return bool(self.report and self.report.ok) and all(t.passed for t in self.tests)


def check_notebook(path: Path, *, timeout: int | None = 300) -> CheckResult:
    """Execute the visible tests of the notebook at ``path``; raises NotGradable if unreadable."""
    path = Path(path).resolve()
    nb = read_submission(path)
    hidden = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if is_hidden(c)]
    nb = strip_hidden_tests(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    # The course's kernel, whatever kernelspec the notebook was saved with (Colab, a conda env).
    report = execute(nb, path.parent, timeout=timeout, kernel_name="python3")
    # Visible tests only: written answers and tasks are for a human, not for a self-check.
    tests = [t for t in grade_cells(nb) if t.grade_id not in hidden and not t.manual]
    return CheckResult(path, tests, hidden, report)


def format_check(result: CheckResult) -> str:
    """A readable summary: one line per test, then the total."""
    lines = [f"{result.path.name}:"]
    for t in result.tests:
        mark = "PASS" if t.passed else "FAIL"
        lines.append(f"  {mark}  {t.grade_id}  ({(t.score or 0):g}/{t.points:g} points)")
        if not t.passed and t.message:
            lines += [f"        {line}" for line in t.message.splitlines()]
    for gid in result.hidden:
        lines.append(f"  ....  {gid}  (hidden: checked by the grader)")
    if result.report is not None and not result.report.ok:
        lines.append(f"  the notebook did not run to the end: {result.report.error}")
    passed = sum(t.passed for t in result.tests)
    earned = sum(t.score or 0.0 for t in result.tests)
    total = sum(t.points for t in result.tests)
    if not result.tests:
        lines.append("no visible tests in this notebook")
    else:
        verdict = "all visible tests pass" if result.passed else "some visible tests fail"
        lines.append(
            f"{passed}/{len(result.tests)} visible tests pass ({earned:g}/{total:g} points): {verdict}"
        )
    return "\n".join(lines)


__all__ = ["CheckResult", "NotGradable", "check_notebook", "format_check"]
