"""Notebooks as the grader sees them: reading submissions, test cells and their verdicts.

- :func:`read_submission` reads a submitted file and says plainly why it cannot be graded
  (invalid JSON, not a notebook, nbformat 3, schema errors) instead of raising a traceback.
- :func:`grade_cells` turns an executed notebook into one :class:`GradedCell` per nbgrader
  grade cell, with the course's grading rule: a test cell passes when it raised no error. Its
  stderr (warnings, progress bars, a library's deprecation notice) does not matter, and an
  ``execute_result`` never awards partial credit: a test earns all its points or none.
  (nbgrader's own ``determine_grade`` zeroes any cell that wrote to stderr and turns a float
  result into partial credit; it is still used for the cells it grades well, answers that
  need a human.)
- :func:`strip_hidden_tests` removes ``### BEGIN HIDDEN TESTS`` regions with nbgrader's
  ``ClearHiddenTests``; :func:`is_hidden` tells a hidden-test cell, in the source or the
  student version.
- :func:`error_message` is the one-line form of an error output (type and message, no
  traceback, so no test source is ever quoted).

Left out: executing notebooks (:mod:`autograder.grading.execution`) and rendering (:mod:`autograder.grading.feedback`).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from .files import Refused, read_regular

HIDDEN_BEGIN = "BEGIN HIDDEN TESTS"
HIDDEN_END = "END HIDDEN TESTS"
TIMEOUT_ENAME = "CellTimeoutError"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class NotGradable(Exception):
    """A submission that cannot be graded; the message says why, for the CSV and feedback."""


@dataclass
class GradedCell:
    """The verdict on one nbgrader grade cell of an executed notebook."""

    grade_id: str
    points: float  # the most the cell can earn
    score: float | None  # None: a human has to grade it (a written answer)
    passed: bool
    message: str  # why it failed ("" when it passed)
    hidden: bool  # a hidden-test cell: its source and outputs are never shown
    timed_out: bool = False
    manual: bool = False  # a written answer or a task, graded by a human (nbgrader's formgrader)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_submission(path: Path) -> NotebookNode:
    """Read a submitted notebook as nbformat 4, or raise :class:`NotGradable` saying why."""
    try:
        raw = read_regular(Path(path))  # never through a link, never blocking on a FIFO
    except Refused as exc:
        raise NotGradable(f"refused: {exc}") from exc
    except OSError as exc:
        raise NotGradable(f"cannot read the file: {exc.strerror or exc}") from exc
    if not raw.strip():
        raise NotGradable("the file is empty")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise NotGradable("not a notebook: the file is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise NotGradable(
            f"invalid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    if not isinstance(data, dict) or "nbformat" not in data:
        raise NotGradable("not a notebook: the JSON has no 'nbformat' field")
    version = data.get("nbformat")
    if version != 4:
        raise NotGradable(
            f"nbformat {version} notebook: only nbformat 4 can be graded "
            "(open it in Jupyter and save it again)"
        )
    if not isinstance(data.get("cells"), list):
        raise NotGradable("not a notebook: it has no list of cells")
    try:
        nb = nbformat.reader.reads(raw.decode("utf-8"))  # parses as v4, joins multi-line sources
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise NotGradable(f"not a valid notebook: {str(exc.message)[:300]}") from exc
    except Exception as exc:  # noqa: BLE001 - a malformed notebook can fail anywhere
        raise NotGradable(f"not a valid notebook: {type(exc).__name__}: {exc}"[:300]) from exc
    return nb


def nbgrader_meta(cell: NotebookNode) -> dict[str, Any]:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def is_grade_cell(cell: NotebookNode) -> bool:
    return bool(nbgrader_meta(cell).get("grade")) and "grade_id" in nbgrader_meta(cell)


def is_task_cell(cell: NotebookNode) -> bool:
    """An nbgrader task: a locked markdown cell worth points that a human grades."""
    return bool(nbgrader_meta(cell).get("task")) and "grade_id" in nbgrader_meta(cell)


def is_manual_cell(cell: NotebookNode) -> bool:
    """A cell worth points that no test decides: a written answer (a grade cell that is also a
    solution, or a markdown grade cell) or a task."""
    return is_task_cell(cell) or (is_grade_cell(cell) and not is_test_cell(cell))


def manual_grade(cell: NotebookNode) -> GradedCell:
    """nbgrader's own rule for a cell a human grades (``nbgrader.utils.determine_grade``): an
    answer left as released earns 0, any other answer and every task wait for a human
    (``score`` None). The checksum it compares with is the gradebook's, which nbgrader's
    ``OverwriteCells`` writes into the cell."""
    from nbgrader import utils

    meta = nbgrader_meta(cell)
    points = float(meta.get("points", 0) or 0)
    score = None if is_task_cell(cell) else utils.determine_grade(cell)[0]
    message = "no answer: the cell is as it was released" if score == 0 else ""
    return GradedCell(meta["grade_id"], points, score, False, message, False, manual=True)


def points_ids(nb: NotebookNode) -> list[str]:
    """The ``grade_id`` of every cell worth points (tests, written answers, tasks), in order."""
    return [nbgrader_meta(c)["grade_id"] for c in nb.cells if is_grade_cell(c) or is_task_cell(c)]


def is_test_cell(cell: NotebookNode) -> bool:
    """An autograded test: a code grade cell that is not also a solution (written answer)."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and is_grade_cell(cell) and not meta.get("solution")


def is_hidden(cell: NotebookNode) -> bool:
    """A hidden-test cell: it has a hidden region (source) or, once it is stripped, no code."""
    if not is_test_cell(cell):
        return False
    if HIDDEN_BEGIN in cell.source:
        return True
    from .verdicts import AST_LOCK  # AST work from grading threads is serialized

    try:
        with AST_LOCK:
            return not ast.parse(cell.source).body
    except SyntaxError:
        return False


def strip_hidden_tests(nb: NotebookNode) -> NotebookNode:
    """The notebook with every hidden-test region removed (nbgrader's ``ClearHiddenTests``)."""
    from nbgrader.preprocessors import ClearHiddenTests

    stripped, _ = ClearHiddenTests(enforce_metadata=False).preprocess(nb, {})
    return stripped


#: Shorter lines of a hidden test (``x = 1``) are too common to be its secret.
SECRET_LINE_MIN = 20
REDACTED = "[a line of a hidden test, redacted]"


def hidden_lines(nb: NotebookNode, rewrite: Callable[[str], str] | None = None) -> set[str]:
    """The distinctive lines of a notebook's hidden-test regions: stripped, at least
    :data:`SECRET_LINE_MIN` characters, not comments, and shown nowhere outside such a region.

    ``rewrite`` (the grader's learner-side rewrite of a test cell): the lines of each hidden
    test cell as it ran in the learner's process count too, since that is the form a learner
    can capture there."""
    inside_lines, visible = set(), set()
    for cell in nb.cells:
        source = cell.get("source", "")
        if rewrite is not None and HIDDEN_BEGIN in source:
            try:
                ran = rewrite(source)
            except (SyntaxError, ValueError):
                ran = ""
            inside_lines |= {
                line.strip()
                for line in ran.splitlines()
                if len(line.strip()) >= SECRET_LINE_MIN and not line.strip().startswith("#")
            }
        inside = False
        for line in source.splitlines():
            stripped = line.strip()
            if HIDDEN_BEGIN in stripped:
                inside = True
            elif "END HIDDEN TESTS" in stripped:
                inside = False
            elif inside:
                if len(stripped) >= SECRET_LINE_MIN and not stripped.startswith("#"):
                    inside_lines.add(stripped)
            else:
                visible.add(stripped)
    shown = "\n".join(visible)
    return {line for line in inside_lines if line not in shown}


def redact_text(text: str, secrets: set[str] | list[str]) -> str:
    """``text`` with every secret line replaced (see :func:`redact_lines`)."""
    return _redact(text, sorted(secrets, key=len, reverse=True))


def _redact(text: str, secrets: list[str]) -> str:
    flat = " ".join(text.split())
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
        elif " ".join(secret.split()) in flat:  # the line survived with its spaces changed
            text = REDACTED
    return text


def redact_lines(nb: NotebookNode, secrets: set[str]) -> NotebookNode:
    """The last pass before a notebook leaves the grader: every hidden-test line, wherever it
    appears (a cell, an output, an error), is replaced by :data:`REDACTED`. Fails closed: a
    string that holds a secret line with other spacing is replaced whole."""
    if not secrets:
        return nb
    ordered = sorted(secrets, key=len, reverse=True)

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return _redact(value, ordered)
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return type(value)({k: clean(v) for k, v in value.items()})
        return value

    for cell in nb.cells:
        cell["source"] = clean(cell.get("source", ""))
        if "outputs" in cell:
            cell["outputs"] = [clean(o) for o in cell["outputs"]]
    return nb


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def error_message(output: NotebookNode) -> str:
    """``Type: message`` of an error output: never the traceback, which quotes test source."""
    ename = strip_ansi(str(output.get("ename", "Error")))
    evalue = strip_ansi(str(output.get("evalue", ""))).strip()
    if ename == TIMEOUT_ENAME:
        return f"{ename}: the cell did not finish within the time limit"
    if ename == "NotImplementedError" and not evalue:
        return "NotImplementedError: the function this test calls is not written yet"
    return f"{ename}: {evalue}" if evalue else ename


def grade_cells(nb: NotebookNode) -> list[GradedCell]:
    """One verdict per cell worth points of an executed notebook, in notebook order."""
    results = []
    for cell in nb.cells:
        if is_manual_cell(cell):  # nbgrader's rule: 0 if untouched, else a human
            results.append(manual_grade(cell))
            continue
        if not is_grade_cell(cell):
            continue
        meta = nbgrader_meta(cell)
        points = float(meta.get("points", 0) or 0)
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        passed = not errors
        timed_out = any(o.get("ename") == TIMEOUT_ENAME for o in errors)
        results.append(
            GradedCell(
                grade_id=meta["grade_id"],
                points=points,
                score=points if passed else 0.0,
                passed=passed,
                message="" if passed else error_message(errors[0]),
                hidden=is_hidden(cell),
                timed_out=timed_out,
            )
        )
    return results


def solution_cells(nb: NotebookNode) -> dict[str, str]:
    """``{grade_id: source}`` of a notebook's solution cells (the reference answers of a source)."""
    return {
        nbgrader_meta(c)["grade_id"]: c.source for c in nb.cells if nbgrader_meta(c).get("solution")
    }


def fill_answers(
    nb: NotebookNode, answers: dict[str, str], *, strip_markers: bool = False
) -> NotebookNode:
    """``nb`` (changed in place) with the solution cells named in ``answers`` replaced.

    ``strip_markers`` drops the ``### BEGIN/END SOLUTION`` lines, as a learner's notebook
    would not have them.
    """
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if gid in answers:
            source = answers[gid]
            if strip_markers:
                source = "\n".join(
                    line
                    for line in source.splitlines()
                    if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line
                )
            cell.source = source
    return nb


def grade_ids(nb: NotebookNode) -> list[str]:
    """The ``grade_id`` of every grade cell, in order."""
    return [nbgrader_meta(c)["grade_id"] for c in nb.cells if is_grade_cell(c)]


def redact_errors(nb: NotebookNode) -> NotebookNode:
    """Replace every traceback by ``Type: message`` (tracebacks quote the failing source)."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [error_message(output)]
    return nb
