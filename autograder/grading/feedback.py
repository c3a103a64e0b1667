"""Per-student HTML feedback that shows results, never hidden tests.

nbgrader's ``GenerateFeedback`` converter renders ``autograded/`` into ``feedback/`` with its
own template (total score, a table of contents with each test's points); we give it one more
preprocessor, :class:`RedactForFeedback`, which before rendering:

- removes every ``### BEGIN HIDDEN TESTS`` region (nbgrader's ``ClearHiddenTests``): the
  autograded notebook holds the full test source, restored by ``OverwriteCells``;
- replaces every test cell's outputs with its verdict (passed, or the exception type and
  message): a hidden test's printed output could show its inputs, and a traceback quotes the
  failing line of the test;
- turns every other traceback into ``Type: message``;
- hides the outputs of code cells that ran after the first hidden test (the hidden tests ran in
  the learner's process, which can capture their source and print it later), and shows any
  output that is not plain text or an image (HTML, JavaScript, SVG, Markdown) as text;
- puts a summary table (test, result, points, message) at the top;
- last, replaces every line of a hidden test still found anywhere (a message, an output) by a
  redaction mark (:func:`~autograder.grading.notebooks.redact_lines`): it fails closed.

A hidden test's verdict names the type of the error that ended it, never its message
(:func:`~autograder.grading.isolated.hidden_test_error`).

A submission that could not be graded gets a short page with the reason instead.

Left out: releasing feedback through nbgrader's exchange (``nbgrader release_feedback``).
"""

from __future__ import annotations

import html
import json
import logging
import re
from pathlib import Path
from typing import Any

from nbformat import NotebookNode
from nbformat.v4 import new_markdown_cell, new_output
from nbgrader.preprocessors import NbGraderPreprocessor

from ..publishing.course import Course
from .atomic import write_text_atomic
from .batch import RESULTS_FILE
from .notebooks import (
    GradedCell,
    grade_cells,
    hidden_lines,
    is_hidden,
    is_test_cell,
    nbgrader_meta,
    redact_errors,
    redact_lines,
    redact_text,
    strip_hidden_tests,
)
from .verdicts import rewrite_for_learner

log = logging.getLogger("autograder.grading.feedback")


def _cell_text(text: str) -> str:
    """Text safe inside a Markdown table cell (HTML escaped, one line)."""
    flat = " ".join(text.split())
    return html.escape(flat).replace("|", "&#124;")


def summary_markdown(results: list[GradedCell], status: str, message: str) -> str:
    """A Markdown table of the tests and their results."""
    earned = sum(r.score or 0.0 for r in results)
    total = sum(r.points for r in results)
    lines = [f"## Results: {earned:g} / {total:g} points", ""]
    if status != "graded":
        lines += [f"**Status: {status}.** {_cell_text(message)}", ""]
    lines += ["| test | result | points | message |", "| --- | --- | --- | --- |"]
    for r in results:
        result = "passed" if r.passed else ("needs a human" if r.score is None else "failed")
        kind = " (hidden)" if r.hidden else ""
        score = "–" if r.score is None else f"{r.score:g}"
        lines.append(
            f"| `{r.grade_id}`{kind} | {result} | {score} / {r.points:g} | {_cell_text(r.message)} |"
        )
    return "\n".join(lines)


class RedactForFeedback(NbGraderPreprocessor):
    """Hide what the learner must not see; show each test's verdict (see the module doc)."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]):
        notebook = resources["nbgrader"]["notebook"]
        folder = Path(resources.get("metadata", {}).get("path", "."))
        hidden = {nbgrader_meta(c).get("grade_id") for c in nb.cells if is_hidden(c)}
        secrets = hidden_lines(nb, rewrite_for_learner)
        recorded = _recorded(folder, notebook)
        results = [GradedCell(**t) for t in recorded.get("tests", [])] or grade_cells(nb)
        by_id = {r.grade_id: r for r in results}
        nb = strip_hidden_tests(nb)
        after_hidden = False
        for cell in nb.cells:
            gid = nbgrader_meta(cell).get("grade_id")
            if is_test_cell(cell) and gid in by_id:
                cell.outputs = [_verdict_output(by_id[gid])]
                if gid in hidden:
                    by_id[gid].hidden = True
                    after_hidden = True
            elif cell.cell_type == "code" and after_hidden and cell.get("outputs"):
                # Hidden tests ran in the learner's process before this cell: what it prints
                # could be what it captured of them.
                cell.outputs = [new_output("stream", name="stdout", text=AFTER_HIDDEN)]
            elif cell.cell_type == "code":
                cell.outputs = [_as_text(o) for o in cell.get("outputs", [])]
            elif cell.cell_type == "markdown" and _RAW_HTML.search(cell.source):
                cell.source = _fenced(cell.source)
        redact_errors(nb)
        status = recorded.get("status", "graded")
        for r in results:  # before the summary escapes them for HTML
            r.message = redact_text(r.message, secrets)
        message = redact_text(recorded.get("message", ""), secrets)
        summary = summary_markdown(results, status, message)
        nb.cells.insert(0, new_markdown_cell(summary))
        redact_lines(nb, secrets)
        return nb, resources


#: What a code cell after the first hidden test shows in feedback instead of its outputs.
AFTER_HIDDEN = "(outputs of cells that ran after the first hidden test are not shown in feedback)\n"

#: Output types shown as they are; any other (HTML, JavaScript, SVG, Markdown, widgets) is shown
#: as its text, so a learner's output never renders as live HTML in the feedback page.
SAFE_MIME = ("text/plain", "image/png", "image/jpeg")


#: A tag in a Markdown cell (a learner's, since the course's own have none): Markdown passes raw
#: HTML through, so such a cell is shown as text, in a code block.
_RAW_HTML = re.compile(r"<[A-Za-z!/?]")


def _fenced(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _as_text(output: NotebookNode) -> NotebookNode:
    data = output.get("data")
    if not isinstance(data, dict) or set(data) <= set(SAFE_MIME):
        return output
    kept = {k: v for k, v in data.items() if k in SAFE_MIME}
    if "text/plain" not in kept:
        rich = next((v for k, v in data.items() if isinstance(v, str | list)), "")
        kept["text/plain"] = "".join(rich) if isinstance(rich, list) else rich
    output["data"] = kept
    return output


def _verdict_output(result: GradedCell) -> NotebookNode:
    if result.passed:
        return new_output(
            "stream", name="stdout", text=f"passed ({result.score:g} / {result.points:g} points)\n"
        )
    ename, _, evalue = result.message.partition(": ")
    return new_output("error", ename=ename or "Error", evalue=evalue, traceback=[result.message])


def _recorded(folder: Path, notebook: str) -> dict[str, Any]:
    try:
        data = json.loads((folder / RESULTS_FILE).read_text())
        return data["notebooks"][notebook]
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _failure_page(student: str, assignment: str, notebook: str, status: str, message: str) -> str:
    title = html.escape(f"{assignment} / {notebook}")
    return (
        "<!DOCTYPE html>\n<html>\n<head><meta charset='utf-8'><title>"
        f"{title}</title></head>\n<body>\n<h1>{title}</h1>\n"
        f"<p>Student: {html.escape(student)}</p>\n"
        f"<p><strong>Your notebook could not be graded ({html.escape(status)}).</strong></p>\n"
        f"<p>{html.escape(message)}</p>\n"
        "<p>Fix the problem and submit again; your instructor has been told.</p>\n"
        "</body>\n</html>\n"
    )


def generate_feedback(
    course: Course, assignment: str, student: str = "*", *, progress: bool = False
) -> list[Path]:
    """Write ``feedback/<student>/ASSIGNMENT/<notebook>.html`` for every graded student
    (``progress``: a progress bar on stderr, one step per notebook)."""
    import sys

    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.converters import GenerateFeedback
    from nbgrader.preprocessors import GetGrades
    from tqdm import tqdm

    autograded = course.folder("autograded")
    feedback = course.folder("feedback")
    notebooks = list(autograded.glob(f"{student}/{assignment}/{course.notebook_id}.ipynb"))
    records = {}
    for path in sorted(autograded.glob(f"{student}/{assignment}/{RESULTS_FILE}")):
        try:
            records[path.parent.parent.name] = json.loads(path.read_text())
        except (OSError, ValueError):
            log.warning("unreadable %s", path)
    if notebooks:
        bar = tqdm(
            total=len(notebooks),
            desc=f"feedback {assignment}",
            unit="nb",
            file=sys.stderr,
            disable=not progress,
        )

        class Feedback(GenerateFeedback):
            def convert_single_notebook(self, notebook_filename: str) -> None:
                try:
                    super().convert_single_notebook(notebook_filename)
                finally:
                    bar.update()

        coursedir = course.coursedir(assignment, student)
        coursedir.ignore = [*coursedir.ignore, RESULTS_FILE]  # not copied beside the pages
        converter = Feedback(
            coursedir=coursedir,
            config=course.config,
            preprocessors=[GetGrades, RedactForFeedback, CSSHTMLHeaderPreprocessor],
        )
        converter.force = True
        converter.log = logging.getLogger("autograder.nbgrader")
        try:
            converter.start()
        except Exception as exc:  # noqa: BLE001 - nbgrader lists the students it could not render
            log.error("nbgrader could not render some feedback: %s", exc)
        finally:
            bar.close()
    for name, data in records.items():
        for nb, entry in data.get("notebooks", {}).items():
            page = feedback / name / assignment / f"{nb}.html"
            if entry.get("score") is None or not page.exists():  # not graded this time
                page.parent.mkdir(parents=True, exist_ok=True)
                write_text_atomic(
                    page,
                    _failure_page(
                        name,
                        assignment,
                        nb,
                        entry.get("status", "failed"),
                        entry.get("message", ""),
                    ),
                )
    return sorted(feedback.glob(f"{student}/{assignment}/*.html"))
