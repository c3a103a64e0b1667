"""The gradebook, through nbgrader's own ``Gradebook`` API: what grading records, and export.

The grader's parent process is the only writer (workers never open the database). A graded
submission is recorded the way nbgrader's ``SaveAutoGrades`` would, with the course's
grading rule (:func:`autograder.grading.notebooks.grade_cells`): the student and the submission rows are
created if needed (nbgrader's ``update_or_create_*``, each idempotent), then every grade cell's
score is written and committed at once, so a submission's grades change together or not at all.

A submission that could not be graded (failed or overran its time limit) keeps the scores a
previous grading gave it; its notebook is *flagged* (nbgrader's own "look at this" mark) and
cells that never had a score are marked as needing manual grading, so an honest 0 and "could
not be graded" are never confused.

:class:`LmsCsvExport` is an nbgrader ``ExportPlugin``: one row per student and assignment, a
superset of nbgrader's CSV columns plus ``status``, written with the ``csv`` module (quoted).

Left out: late-submission penalties (nbgrader's ``AssignLatePenalties``; the course has no due
dates) and manual grading (nbgrader's formgrader reads the same database).
"""

from __future__ import annotations

import csv
import datetime
import warnings
from collections.abc import Iterable
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from sqlalchemy.exc import SAWarning

from ..publishing.course import Course, CourseError
from .atomic import atomic_open
from .notebooks import GradedCell

EXPORT_COLUMNS = [
    "assignment",
    "duedate",
    "timestamp",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
    "status",
]


def open_gradebook(course: Course) -> Gradebook:
    """nbgrader's Gradebook for the course (close it, or use it as a context manager)."""
    return Gradebook(course.db_url, course.course_id)


def assignment_cells(gb: Gradebook, assignment: str) -> dict[str, dict[str, float]]:
    """``{notebook: {grade_id: max_score}}`` for a released assignment: every cell that earns
    points, the tests, the written answers and nbgrader's task cells (graded by hand)."""
    try:
        record = gb.find_assignment(assignment)
    except MissingEntry as exc:
        raise CourseError(
            f"assignment {assignment!r} is not in the gradebook: run `autograder release {assignment}` first"
        ) from exc
    return {
        nb.name: {cell.name: float(cell.max_score) for cell in [*nb.grade_cells, *nb.task_cells]}
        for nb in record.notebooks
    }


def _submission(gb: Gradebook, assignment: str, student: str, timestamp: datetime.datetime | None):
    """The submission's rows, created by nbgrader's API if needed (each call commits)."""
    extra = {} if timestamp is None else {"timestamp": timestamp}
    with warnings.catch_warnings():
        # nbgrader's add_submission builds rows while SQLAlchemy autoflushes; harmless noise
        warnings.simplefilter("ignore", SAWarning)
        gb.update_or_create_student(student)
        return gb.update_or_create_submission(assignment, student, **extra)


def record_graded(
    gb: Gradebook,
    assignment: str,
    student: str,
    notebook: str,
    results: Iterable[GradedCell],
    *,
    timestamp: datetime.datetime | None = None,
    flagged: bool = False,
) -> float:
    """Write the scores of one graded notebook in one commit; return its total."""
    _submission(gb, assignment, student, timestamp)
    submitted = gb.find_submission_notebook(notebook, assignment, student)
    grades = {grade.name: grade for grade in submitted.grades}
    total = 0.0
    for result in results:
        grade = grades.get(result.grade_id)
        if grade is None:  # a cell the gradebook does not know (the sanitizer drops those)
            continue
        grade.auto_score = result.score
        grade.needs_manual_grade = result.score is None or grade.manual_score is not None
        total += result.score or 0.0
    submitted.flagged = flagged
    gb.db.commit()
    return total


def record_failure(
    gb: Gradebook,
    assignment: str,
    student: str,
    notebook: str,
    *,
    timestamp: datetime.datetime | None = None,
) -> None:
    """Flag a notebook that could not be graded; keep any score a previous grading gave."""
    _submission(gb, assignment, student, timestamp)
    submitted = gb.find_submission_notebook(notebook, assignment, student)
    for grade in submitted.grades:
        if grade.auto_score is None and grade.manual_score is None:
            grade.needs_manual_grade = True
    submitted.flagged = True
    gb.db.commit()


def record_missing(gb: Gradebook, student: str) -> None:
    """A student folder without the notebook: the student is known, the submission is not."""
    gb.update_or_create_student(student)


def submission_status(gb: Gradebook, assignment: str, student: str) -> str:
    """``graded``, ``needs_review`` (flagged or a cell without a score) or ``missing``."""
    try:
        submission = gb.find_submission(assignment, student)
    except MissingEntry:
        return "missing"
    for nb in submission.notebooks:
        if nb.flagged or any(g.needs_manual_grade for g in nb.grades):
            return "needs_review"
    return "graded"


class LmsCsvExport(ExportPlugin):
    """nbgrader's CSV export, quoted properly and with a ``status`` column."""

    def export(self, gradebook: Gradebook) -> None:
        dest = self.to or "grades.csv"
        students = {str(s) for s in self.student}
        assignments = {str(a) for a in self.assignment}
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(dest, newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=EXPORT_COLUMNS)
            writer.writeheader()
            for assignment in gradebook.assignments:
                if assignments and assignment.name not in assignments:
                    continue
                for student in gradebook.students:
                    if students and student.id not in students:
                        continue
                    row = {
                        "assignment": assignment.name,
                        "duedate": assignment.duedate or "",
                        "student_id": student.id,
                        "last_name": student.last_name or "",
                        "first_name": student.first_name or "",
                        "email": student.email or "",
                        "max_score": assignment.max_score,
                        "status": submission_status(gradebook, assignment.name, student.id),
                    }
                    try:
                        submission = gradebook.find_submission(assignment.name, student.id)
                    except MissingEntry:
                        row.update(
                            timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0
                        )
                    else:
                        penalty = submission.late_submission_penalty or 0.0
                        row.update(
                            timestamp=submission.timestamp or "",
                            raw_score=submission.score,
                            late_submission_penalty=penalty,
                            score=max(0.0, submission.score - penalty),
                        )
                    writer.writerow(row)


def export_csv(course: Course, out: Path, assignments: Iterable[str] = ()) -> Path:
    """Write the gradebook to ``out`` for an LMS (one row per student and assignment)."""
    plugin = LmsCsvExport(config=course.config)
    plugin.to = str(out)
    plugin.assignment = list(assignments)
    with open_gradebook(course) as gb:
        plugin.export(gb)
    return out
