"""Does the whole grading cycle work on a real chapter (01_autograd), end to end?

``autograder release``, then ``autograder grade --jobs 2`` on a class of fake students
(the reference solution, a partly done notebook, the untouched student version, broken JSON,
and the reference solution wrapped so that it warns and writes to stderr), then
``autograder feedback`` and ``autograder export``, all from the command line (the console
script) in a scratch copy of the course.
"""

from __future__ import annotations

import csv
import html
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.conftest import COURSE
from tests.fake_submissions import filled, solution_cells, write_submission

CHAPTER = "01_autograd"
SOURCE = COURSE / "source" / CHAPTER / "exercises.ipynb"
AUTOGRADER = str(Path(sys.executable).with_name("autograder"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("autograder-cli"),
    pytest.mark.skipif(not SOURCE.exists(), reason=f"{SOURCE} is not written yet"),
]

NOISY_WRAPPER = """

import sys
import warnings

_softmax_reference = softmax


def softmax(x, dim=-1):
    warnings.warn("a correct answer that warns keeps its points", UserWarning, stacklevel=2)
    print("debugging output on stderr", file=sys.stderr)
    return _softmax_reference(x, dim=dim)
"""


def autograder(course: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [AUTOGRADER, "--course", str(course), *args],
        capture_output=True,
        text=True,
        timeout=1800,
    )


def hidden_lines(nb) -> set[str]:
    """Lines inside hidden-test regions that appear nowhere else in the notebook."""
    inside, outside = set(), set()
    for cell in nb.cells:
        hidden = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if "BEGIN HIDDEN TESTS" in stripped:
                hidden = True
            elif "END HIDDEN TESTS" in stripped:
                hidden = False
            elif stripped:
                (inside if hidden else outside).add(stripped)
    return {line for line in inside - outside if len(line) >= 12 and not line.startswith("#")}


@pytest.fixture(scope="module")
def cycle(tmp_path_factory) -> dict:
    course = tmp_path_factory.mktemp("ch01") / "course"
    (course / "source").mkdir(parents=True)
    shutil.copyfile(COURSE / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(COURSE / "source" / CHAPTER, course / "source" / CHAPTER)
    released = autograder(course, "release", CHAPTER)
    assert released.returncode == 0, released.stderr

    release = course / "release" / CHAPTER / "exercises.ipynb"
    answers = solution_cells(SOURCE)
    first = next(iter(answers))
    sub = course / "submitted"
    write_submission(sub, "correct", CHAPTER, "exercises", filled(release, answers))
    write_submission(sub, "partial", CHAPTER, "exercises", filled(release, {first: answers[first]}))
    write_submission(sub, "untouched", CHAPTER, "exercises", filled(release, {}))
    write_submission(sub, "broken", CHAPTER, "exercises", release.read_text()[:-40])
    noisy = {**answers, "softmax": answers["softmax"] + NOISY_WRAPPER}
    write_submission(sub, "noisy", CHAPTER, "exercises", filled(release, noisy))

    graded = autograder(course, "grade", CHAPTER, "--jobs", "2", "--quiet")
    with open(course / "grades" / f"{CHAPTER}.csv", newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    feedback = autograder(course, "feedback", CHAPTER)
    assert feedback.returncode == 0, feedback.stderr
    return {"course": course, "graded": graded, "rows": rows}


def test_release_has_the_lesson_and_no_hidden_tests(cycle):
    target = cycle["course"] / "release" / CHAPTER
    released = nbformat.read(target / "lesson.ipynb", as_version=4)
    source = nbformat.read(COURSE / "source" / CHAPTER / "lesson.ipynb", as_version=4)
    assert [c.source for c in released.cells[1:]] == [c.source for c in source.cells]
    assert "google.colab" in released.cells[0].source  # the Colab set-up cell first
    text = (target / "exercises.ipynb").read_text()
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text


def test_grade_reports_each_student(cycle):
    rows = cycle["rows"]
    assert set(rows) == {"correct", "partial", "untouched", "broken", "noisy"}
    assert cycle["graded"].returncode == 1, "a broken submission makes the exit status non-zero"
    full = rows["correct"]["max_score"]
    assert float(full) > 0
    assert (rows["correct"]["status"], rows["correct"]["score"]) == ("graded", full), rows[
        "correct"
    ]
    assert (rows["untouched"]["status"], rows["untouched"]["score"]) == ("graded", "0")
    assert rows["broken"]["status"] == "failed" and rows["broken"]["score"] == ""
    assert "invalid JSON" in rows["broken"]["message"]
    partial = rows["partial"]
    assert partial["status"] == "graded"
    assert 0 < float(partial["score"]) < float(full), partial


def test_correct_code_that_warns_keeps_its_points(cycle):
    noisy = cycle["rows"]["noisy"]
    assert (noisy["status"], noisy["score"]) == ("graded", noisy["max_score"]), noisy


def test_feedback_has_results_and_no_hidden_test_source(cycle):
    course = cycle["course"]
    secrets = hidden_lines(nbformat.read(SOURCE, as_version=4))
    assert secrets, "the chapter has hidden tests"
    pages = sorted((course / "feedback").glob(f"*/{CHAPTER}/exercises.html"))
    assert {p.parent.parent.name for p in pages} == set(cycle["rows"])
    for page in pages:
        raw = page.read_text()
        leaked = [s for s in secrets if s in raw or html.escape(s) in raw]
        assert not leaked, f"{page} shows hidden-test source: {leaked[:3]}"
        assert "BEGIN HIDDEN TESTS" not in raw
    untouched = (course / "feedback" / "untouched" / CHAPTER / "exercises.html").read_text()
    assert "NotImplementedError" in untouched
    assert "Results: 0 /" in untouched


def test_export_has_every_student(cycle, tmp_path):
    out = tmp_path / "lms.csv"
    proc = autograder(cycle["course"], "export", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    with open(out, newline="") as fh:
        exported = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert set(exported) == set(cycle["rows"])
    assert float(exported["correct"]["score"]) == float(exported["correct"]["max_score"])
    assert exported["broken"]["status"] == "needs_review"
