"""The class report: one HTML page that shows an instructor a graded assignment at a glance.

``autograder report ASSIGNMENT`` reads the results that ``autograder grade`` recorded for each
student (``autograded/<student>/ASSIGNMENT/autograder.json``) and writes
``grades/ASSIGNMENT-report.html``:

- the students' status counts and score statistics;
- a histogram of the scores (matplotlib, embedded in the page as a PNG: the page loads nothing
  from anywhere);
- every test with its pass rate, the least passed first: the class's common mistakes on top;
- the most common failure messages with their counts (the first line of each message);
- the submissions that could not be graded, with the reason.

Names and messages come from learners (folder names, their code's errors): every one is made
printable and HTML-escaped. The page is for the instructor: it names hidden tests and quotes
their messages.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..publishing.course import Course
from .atomic import write_text_atomic
from .batch import RESULTS_FILE, STATUSES
from .files import printable

log = logging.getLogger("autograder.grading.report")

#: Characters of a failure message kept for counting (its first line).
MESSAGE_CHARS = 160
#: Failure messages listed, the most common first.
TOP_MESSAGES = 20


@dataclass
class TestStats:
    grade_id: str
    hidden: bool
    points: float
    passed: int = 0
    total: int = 0

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


@dataclass
class ClassResults:
    """What the report shows, gathered from the students' results files."""

    assignment: str
    scores: list[float] = field(default_factory=list)
    max_score: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    tests: dict[str, TestStats] = field(default_factory=dict)
    messages: Counter = field(default_factory=Counter)  # (grade_id, first line) -> count
    not_graded: list[tuple[str, str, str]] = field(default_factory=list)  # student, status, msg
    unreadable: list[str] = field(default_factory=list)


def _first_line(message: str) -> str:
    line = next((part.strip() for part in str(message).splitlines() if part.strip()), "")
    return printable(line, MESSAGE_CHARS)


def collect(course: Course, assignment: str) -> ClassResults:
    """Read every student's recorded results of ``assignment`` (a notebook at a time)."""
    results = ClassResults(assignment)
    folder = course.folder("autograded")
    for path in sorted(folder.glob(f"*/{assignment}/{RESULTS_FILE}")):
        student = path.parent.parent.name
        try:
            data = json.loads(path.read_text())
            notebooks = data["notebooks"].items()
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            log.warning("unreadable results: %s", path)
            results.unreadable.append(printable(student))
            continue
        for notebook, entry in sorted(notebooks):
            _add(results, student, notebook, entry)
    return results


def _add(results: ClassResults, student: str, notebook: str, entry: dict[str, Any]) -> None:
    status = str(entry.get("status", "failed"))
    results.statuses[status if status in STATUSES else "failed"] += 1
    results.max_score = max(results.max_score, float(entry.get("max_score") or 0))
    if entry.get("score") is None:
        name = printable(f"{student}/{notebook}")
        results.not_graded.append((name, status, printable(entry.get("message", ""), 300)))
        return
    results.scores.append(float(entry["score"]))
    for test in entry.get("tests", []):
        gid = str(test.get("grade_id", "?"))
        stats = results.tests.setdefault(
            gid, TestStats(gid, bool(test.get("hidden")), float(test.get("points") or 0))
        )
        stats.total += 1
        if test.get("passed"):
            stats.passed += 1
        else:
            results.messages[(gid, _first_line(test.get("message", "")))] += 1


def histogram_png(scores: list[float], max_score: float) -> str:
    """The scores' histogram as a base64 PNG (empty string without scores)."""
    if not scores:
        return ""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3), dpi=100)
    ax = fig.subplots()
    top = max(max_score, max(scores), 1.0)
    bins = min(20, max(5, int(top) + 1))
    ax.hist(scores, bins=bins, range=(0, top), color="#3b6ea8", edgecolor="white")
    ax.set_xlabel("score")
    ax.set_ylabel("students")
    ax.set_title(f"{len(scores)} graded, out of {top:g} points")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode()


def render(results: ClassResults) -> str:
    """The report page."""
    e = html.escape
    title = f"{printable(results.assignment)}: class report"
    parts = [
        "<!DOCTYPE html>\n<html>\n<head><meta charset='utf-8'>",
        f"<title>{e(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}"
        "td.n{text-align:right}.bar{background:#3b6ea8;height:.8em}</style>",
        f"</head>\n<body>\n<h1>{e(title)}</h1>",
    ]
    counts = ", ".join(f"{n} {s}" for s in STATUSES if (n := results.statuses[s]))
    parts.append(f"<p>Submissions: {e(counts or 'none recorded')}.</p>")
    if results.scores:
        s = results.scores
        spread = statistics.pstdev(s) if len(s) > 1 else 0.0
        parts.append(
            f"<p>Scores of the {len(s)} graded: mean {statistics.mean(s):.2f} ± {spread:.2f}, "
            f"median {statistics.median(s):g}, lowest {min(s):g}, highest {max(s):g}, "
            f"out of {results.max_score:g}.</p>"
        )
        png = histogram_png(s, results.max_score)
        parts.append(f"<img alt='histogram of the scores' src='data:image/png;base64,{png}'>")
    parts.append("<h2>Tests, the least passed first</h2>")
    if results.tests:
        parts.append(
            "<table><tr><th>test</th><th>points</th><th>passed</th><th>rate</th><th></th></tr>"
        )
        for t in sorted(results.tests.values(), key=lambda t: (t.rate, t.grade_id)):
            name = e(printable(t.grade_id)) + (" (hidden)" if t.hidden else "")
            parts.append(
                f"<tr><td>{name}</td><td class='n'>{t.points:g}</td>"
                f"<td class='n'>{t.passed} / {t.total}</td><td class='n'>{t.rate:.0%}</td>"
                f"<td><div class='bar' style='width:{100 * t.rate:.0f}px'></div></td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>No graded test yet.</p>")
    parts.append("<h2>The most common failure messages</h2>")
    if results.messages:
        parts.append("<table><tr><th>count</th><th>test</th><th>message</th></tr>")
        for (gid, message), n in results.messages.most_common(TOP_MESSAGES):
            parts.append(
                f"<tr><td class='n'>{n}</td><td>{e(printable(gid))}</td><td>{e(message)}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>No test failed.</p>")
    if results.not_graded or results.unreadable:
        parts.append("<h2>Not graded</h2><ul>")
        for name, status, message in results.not_graded:
            parts.append(f"<li>{e(name)}: {e(status)}: {e(message)}</li>")
        for name in results.unreadable:
            parts.append(f"<li>{e(name)}: its results file could not be read</li>")
        parts.append("</ul>")
    parts.append("</body>\n</html>\n")
    return "\n".join(parts)


def write_report(course: Course, assignment: str, out: Path | None = None) -> Path:
    """Write the class report of ``assignment`` (default ``grades/ASSIGNMENT-report.html``)."""
    course.source(assignment)  # a usage error for an unknown assignment
    out = Path(out) if out else course.root / "grades" / f"{assignment}-report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, render(collect(course, assignment)))
    return out
