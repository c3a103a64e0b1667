"""Does every ``autograder`` command do its job on a small course?

The fixture assignment ``tests/files/00_fixture`` has two functions, a visible and a hidden
test for each (5 points), a lesson whose code would fail if it were ever executed, and no
torch, so a kernel runs it in a second. Every test works in a copy of the course in a temporary
folder; nothing here writes into ``course/``.
"""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.cli import main
from autograder.grading.batch import grade
from autograder.grading.gradebook import open_gradebook
from autograder.publishing.colab import CELL_ID, has_setup_cell
from autograder.publishing.course import Course, find_course
from tests.conftest import COURSE
from tests.fake_submissions import filled, solution_cells, write_submission

pytestmark = pytest.mark.xdist_group("autograder-cli")

FILES = Path(__file__).parent / "files"
ASSIGNMENT = "00_fixture"
HIDDEN_SOURCE = ["SECRET_PAIR", "-7, 19", "[2.5] * 1000", "add(0.25, 0.5)"]
NOISY_ADD = """import sys
import warnings


def add(a, b):
    warnings.warn("add() is about to be deprecated", DeprecationWarning, stacklevel=2)
    warnings.warn("a user warning", UserWarning, stacklevel=2)
    print("debugging output on stderr", file=sys.stderr)
    return a + b
"""


def make_course(root: Path) -> Path:
    """A course folder with the real nbgrader_config.py and the fixture assignment."""
    course = root / "course"
    (course / "source").mkdir(parents=True)
    shutil.copyfile(COURSE / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(FILES / ASSIGNMENT, course / "source" / ASSIGNMENT)
    return course


def run(*argv: str) -> int:
    return main([str(a) for a in argv])


def rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as fh:
        return {r["student"]: r for r in csv.DictReader(fh)}


def visible_text(page: Path) -> str:
    """What a reader of an HTML page sees (tags dropped, entities decoded)."""
    text = page.read_text()
    text = re.sub(r"<(style|script)\b.*?</\1>", "", text, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    course = make_course(tmp_path_factory.mktemp("fixture"))
    assert run("--course", course, "release", ASSIGNMENT) == 0
    return course


@pytest.fixture(scope="module")
def graded(released: Path, tmp_path_factory) -> dict:
    """Grade a class of fake students once (two at a time); the tests read the results."""
    course = released
    release = course / "release" / ASSIGNMENT / "exercises.ipynb"
    answers = solution_cells(course / "source" / ASSIGNMENT / "exercises.ipynb")
    sub = course / "submitted"
    wrong_mean = "def mean(xs):\n    return sum(xs)\n"
    write_submission(sub, "correct", ASSIGNMENT, "exercises", filled(release, answers))
    write_submission(
        sub,
        "partial",
        ASSIGNMENT,
        "exercises",
        filled(release, {"add": answers["add"], "mean": wrong_mean}),
    )
    write_submission(sub, "untouched", ASSIGNMENT, "exercises", filled(release, {}))
    write_submission(sub, "broken", ASSIGNMENT, "exercises", release.read_text()[:300])
    write_submission(sub, "empty", ASSIGNMENT, "exercises", "")
    write_submission(
        sub, "noisy", ASSIGNMENT, "exercises", filled(release, {**answers, "add": NOISY_ADD})
    )
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": []}]}
    write_submission(sub, "old_format", ASSIGNMENT, "exercises", json.dumps(v3))
    # A learner deleted a test cell (it is put back and run), another "fixed" a test so that
    # it passes (the original is restored).
    nb = filled(release, answers)
    nb.cells = [
        c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "test_mean"
    ]
    write_submission(sub, "deleted_test", ASSIGNMENT, "exercises", nb)
    nb = filled(release, {"add": answers["add"], "mean": wrong_mean})
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_mean":
            cell.source = "pass"
    write_submission(sub, "edited_test", ASSIGNMENT, "exercises", nb)
    # A student folder without the notebook; a lesson beside a notebook is never executed.
    (sub / "absent" / ASSIGNMENT).mkdir(parents=True)
    shutil.copyfile(
        course / "release" / ASSIGNMENT / "lesson.ipynb",
        sub / "correct" / ASSIGNMENT / "lesson.ipynb",
    )
    out = tmp_path_factory.mktemp("out") / "grades.csv"
    code = run("--course", course, "grade", ASSIGNMENT, "--jobs", "2", "--out", out, "--quiet")
    return {"course": course, "code": code, "rows": rows(out), "csv": out}


def test_release_writes_the_student_version_and_the_lesson(released):
    """Solutions and hidden tests are gone; the lesson and data files come along (both
    notebooks with the Colab set-up cell first)."""
    target = released / "release" / ASSIGNMENT
    text = (target / "exercises.ipynb").read_text()
    assert "raise NotImplementedError()" in text
    assert "return a + b" not in text and "sum(xs) / len(xs)" not in text
    for secret in HIDDEN_SOURCE:
        assert secret not in text
    assert "# Hidden test: add works for negative numbers" in text
    source = released / "source" / ASSIGNMENT
    lesson = nbformat.read(target / "lesson.ipynb", as_version=4)
    assert has_setup_cell(lesson) and lesson.cells[0].id == CELL_ID, (
        "the Colab set-up cell comes first"
    )
    assert [c.source for c in lesson.cells[1:]] == [
        c.source for c in nbformat.read(source / "lesson.ipynb", as_version=4).cells
    ]
    assert nbformat.read(target / "exercises.ipynb", as_version=4).cells[0].id == CELL_ID
    assert (target / "data.txt").read_text() == (source / "data.txt").read_text()
    with open_gradebook(Course(released)) as gb:
        assert gb.find_assignment(ASSIGNMENT).max_score == 5


def test_release_of_an_unknown_assignment_is_a_usage_error(released, capsys):
    assert run("--course", released, "release", "99_nothing") == 2
    assert "no assignment '99_nothing'" in capsys.readouterr().err


def test_check_passes_on_the_source_notebook(released, capsys):
    """The instructor's source: visible tests pass, hidden ones are left to the grader."""
    assert run("check", released / "source" / ASSIGNMENT / "exercises.ipynb") == 0
    out = capsys.readouterr().out
    assert "PASS  test_add  (1/1 points)" in out
    assert "PASS  test_mean  (2/2 points)" in out
    assert "hidden_add_signs  (hidden: checked by the grader)" in out
    assert "2/2 visible tests pass (3/3 points)" in out
    for secret in HIDDEN_SOURCE:
        assert secret not in out


def test_check_fails_on_the_untouched_student_version(released, capsys):
    notebook = released / "release" / ASSIGNMENT / "exercises.ipynb"
    before = notebook.read_bytes()
    assert run("check", notebook) == 1
    out = capsys.readouterr().out
    assert "FAIL  test_add  (0/1 points)" in out
    assert "NotImplementedError" in out
    assert "Traceback" not in out
    assert "0/2 visible tests pass" in out
    assert notebook.read_bytes() == before, "check must not modify the notebook"


def test_check_shows_the_failure_message_and_passes_partly_right_work(released, tmp_path, capsys):
    release = released / "release" / ASSIGNMENT / "exercises.ipynb"
    answers = solution_cells(released / "source" / ASSIGNMENT / "exercises.ipynb")
    nb = filled(release, {"add": NOISY_ADD, "mean": "def mean(xs):\n    return sum(xs)\n"})
    path = tmp_path / "mine.ipynb"
    nbformat.write(nb, path)
    assert run("check", path) == 1
    out = capsys.readouterr().out
    assert "PASS  test_add" in out, "stderr and warnings must not fail a test"
    assert "FAIL  test_mean" in out
    assert "CheckFailed: mean([1, 2, 3]) is not close to the expected values" in out
    nbformat.write(filled(release, answers), path)
    assert run("check", path) == 0


def test_check_on_a_file_that_is_not_a_notebook(tmp_path, capsys):
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [')
    assert run("check", path) == 2
    assert "invalid JSON" in capsys.readouterr().err
    assert run("check", tmp_path / "nothing.ipynb") == 2


def test_the_grading_rule_is_pass_or_fail_and_ignores_stderr():
    """An error fails a test cell; stderr and a float result neither fail it nor scale it."""
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    from autograder.grading.notebooks import grade_cells

    def test_cell(gid, outputs):
        meta = {"grade": True, "solution": False, "locked": True, "points": 2, "grade_id": gid}
        cell = new_code_cell("check()", metadata={"nbgrader": {**meta, "schema_version": 3}})
        cell.outputs = outputs
        return cell

    warning = new_output("stream", name="stderr", text="UserWarning: careful\n")
    half = new_output("execute_result", data={"text/plain": "0.5"}, execution_count=1)
    error = new_output("error", ename="CheckFailed", evalue="softmax(x) is off", traceback=["..."])
    nb = new_notebook(
        cells=[
            test_cell("noisy", [warning]),
            test_cell("half", [half]),
            test_cell("bad", [warning, error]),
        ]
    )
    got = {c.grade_id: (c.passed, c.score, c.message) for c in grade_cells(nb)}
    assert got == {
        "noisy": (True, 2, ""),
        "half": (True, 2, ""),
        "bad": (False, 0, "CheckFailed: softmax(x) is off"),
    }


def test_grade_exits_non_zero_when_a_submission_failed(graded):
    assert graded["code"] == 1


def test_grade_writes_one_row_per_student_with_the_columns(graded):
    with open(graded["csv"], newline="") as fh:
        header = next(csv.reader(fh))
    assert header == [
        "student",
        "assignment",
        "notebook",
        "score",
        "max_score",
        "status",
        "message",
    ]
    assert set(graded["rows"]) == {
        "absent", "broken", "correct", "deleted_test", "edited_test", "empty",
        "noisy", "old_format", "partial", "untouched",
    }  # fmt: skip
    for row in graded["rows"].values():
        assert row["assignment"] == ASSIGNMENT and row["notebook"] == "exercises"
        assert row["max_score"] == "5"


@pytest.mark.parametrize(
    "student, status, score",
    [
        ("correct", "graded", "5"),
        ("partial", "graded", "2"),
        ("untouched", "graded", "0"),
        ("noisy", "graded", "5"),
        ("edited_test", "graded", "2"),
        ("absent", "missing", "0"),
        ("broken", "failed", ""),
        ("empty", "failed", ""),
        ("old_format", "failed", ""),
        ("deleted_test", "graded", "5"),
    ],
)
def test_grade_status_and_score(graded, student, status, score):
    row = graded["rows"][student]
    assert (row["status"], row["score"]) == (status, score), row


@pytest.mark.parametrize(
    "student, words",
    [
        ("correct", []),
        ("partial", ["failed: test_mean, hidden_mean_constant"]),
        ("edited_test", ["edited locked cells were restored: test_mean"]),
        ("broken", ["invalid JSON"]),
        ("empty", ["the file is empty"]),
        ("old_format", ["nbformat 3"]),
        ("deleted_test", ["missing test cells were put back: test_mean"]),
        ("absent", ["no exercises.ipynb"]),
    ],
)
def test_grade_says_why(graded, student, words):
    message = graded["rows"][student]["message"]
    for word in words:
        assert word in message
    if not words:
        assert message == ""


def test_grade_records_scores_and_flags_failures_in_the_gradebook(graded):
    with open_gradebook(Course(graded["course"])) as gb:
        assert gb.find_submission(ASSIGNMENT, "correct").score == 5
        assert gb.find_submission(ASSIGNMENT, "noisy").score == 5
        assert gb.find_submission(ASSIGNMENT, "partial").score == 2
        broken = gb.find_submission_notebook("exercises", ASSIGNMENT, "broken")
        assert broken.flagged and broken.needs_manual_grade
        assert not gb.find_submission_notebook("exercises", ASSIGNMENT, "correct").flagged
        assert "absent" in {s.id for s in gb.students}


def test_grade_writes_the_executed_notebook_to_autograded(graded):
    folder = graded["course"] / "autograded" / "correct" / ASSIGNMENT
    nb = nbformat.read(folder / "exercises.ipynb", as_version=4)
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code")
    assert not (folder / "lesson.ipynb").exists(), "lessons are never executed when grading"
    assert (folder / "data.txt").exists()
    results = json.loads((folder / "autograder.json").read_text())
    assert results["notebooks"]["exercises"]["score"] == 5


def test_feedback_shows_results_and_never_hidden_tests(graded, capsys):
    course = graded["course"]
    assert run("--course", course, "feedback", ASSIGNMENT) == 0
    rendered = len(list((course / "autograded").glob(f"*/{ASSIGNMENT}/exercises.ipynb")))
    assert f"feedback {ASSIGNMENT}: 100%" in capsys.readouterr().err  # the progress bar
    assert rendered > 3
    pages = sorted((course / "feedback").glob(f"*/{ASSIGNMENT}/exercises.html"))
    assert {p.parent.parent.name for p in pages} == set(graded["rows"]) - {"absent"}
    for page in pages:
        raw = page.read_text()
        for secret in HIDDEN_SOURCE:
            assert secret not in raw and html.escape(secret) not in raw, (page, secret)
        assert "BEGIN HIDDEN TESTS" not in raw, page
        assert "Traceback" not in visible_text(page), page
    partial = visible_text(course / "feedback" / "partial" / ASSIGNMENT / "exercises.html")
    assert "Results: 2 / 5 points" in partial
    assert "mean([1, 2, 3]) is not close to the expected values" in partial
    assert "hidden_mean_constant (hidden)" in partial
    assert "the mean of a constant list is not close" in partial  # the test's message
    broken = visible_text(course / "feedback" / "broken" / ASSIGNMENT / "exercises.html")
    assert "could not be graded" in broken and "invalid JSON" in broken
    assert not list((course / "feedback").glob("*/*/autograder.json"))


def test_report_shows_the_class_at_a_glance(graded, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert run("--course", graded["course"], "report", ASSIGNMENT, "--out", out) == 0
    raw = out.read_text()
    assert re.search(r"<img[^>]+src='data:image/png;base64,[A-Za-z0-9+/=]{100,}'", raw)
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", raw), "the page loads something"
    text = visible_text(out)
    rates = [int(r) for r in re.findall(r"\d+ / \d+ (\d+)%", text)]
    assert len(rates) >= 4 and rates == sorted(rates), "tests are listed the least passed first"
    # The wrong mean of "partial" and "edited_test" (whose edit was undone): one message, twice.
    assert re.search(r"2 test_mean mean\(\[1, 2, 3\]\) is not close to the expected values", text)
    assert "broken/exercises: failed" in text and "invalid JSON" in text
    assert "hidden_mean_constant (hidden)" in text


def test_report_escapes_what_learners_chose_and_survives_broken_results(tmp_path):
    from autograder.grading.report import write_report

    course = make_course(tmp_path)
    folder = course / "autograded"
    odd = "<b onclick=alert(1)>\x1b[31m"  # a folder name and a grade id
    test = {"grade_id": odd, "points": 1, "score": 0, "passed": False, "hidden": False,
            "message": "<img src=x onerror=alert(2)>\nsecond line"}  # fmt: skip
    entry = {"status": "graded", "message": "", "score": 0, "max_score": 1, "tests": [test]}
    (folder / odd / ASSIGNMENT).mkdir(parents=True)
    (folder / odd / ASSIGNMENT / "autograder.json").write_text(
        json.dumps({"notebooks": {"exercises": entry}})
    )
    (folder / "garbled" / ASSIGNMENT).mkdir(parents=True)
    (folder / "garbled" / ASSIGNMENT / "autograder.json").write_text("{not json")
    raw = write_report(Course(course), ASSIGNMENT).read_text()
    assert "<b onclick" not in raw and "<img src=x" not in raw and "\x1b" not in raw
    assert "&lt;img src=x onerror=alert(2)&gt;" in raw and "second line" not in raw
    assert "garbled: its results file could not be read" in raw


def test_report_of_an_unknown_assignment_is_a_usage_error(released, capsys):
    assert run("--course", released, "report", "no_such_assignment") == 2


def test_export_writes_one_row_per_student_and_assignment(graded, tmp_path):
    out = tmp_path / "lms.csv"
    assert run("--course", graded["course"], "export", "--out", out) == 0
    with open(out, newline="") as fh:
        exported = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert set(exported) == set(graded["rows"])
    assert float(exported["correct"]["score"]) == 5 and float(exported["correct"]["max_score"]) == 5
    assert exported["correct"]["status"] == "graded"
    assert exported["broken"]["status"] == "needs_review"
    assert exported["absent"]["status"] == "missing"


def test_a_runaway_or_crashing_submission_does_not_stop_the_others(released, tmp_path):
    """Per-cell timeouts, a dead kernel and a notebook over its time budget, in one batch."""
    course = released
    release = course / "release" / ASSIGNMENT / "exercises.ipynb"
    answers = solution_cells(course / "source" / ASSIGNMENT / "exercises.ipynb")
    sub = tmp_path / "submitted"
    slow = "import time\n\n\ndef mean(xs):\n    time.sleep(60)\n"
    dies = "import os\n\n\ndef mean(xs):\n    os._exit(3)\n"
    write_submission(
        sub, "slow", ASSIGNMENT, "exercises", filled(release, {**answers, "mean": slow})
    )
    write_submission(
        sub, "dies", ASSIGNMENT, "exercises", filled(release, {**answers, "mean": dies})
    )
    write_submission(sub, "correct", ASSIGNMENT, "exercises", filled(release, answers))
    result = grade(
        Course(course),
        ASSIGNMENT,
        submissions=sub,
        out=tmp_path / "g.csv",
        jobs=2,
        timeout=2,
        progress=False,
    )
    got = {r.student: r for r in result.results}
    assert (got["correct"].status, got["correct"].score) == ("graded", 5)
    assert (got["slow"].status, got["slow"].score) == ("timeout", 2)  # add's tests still count
    assert "cells over the 2 s limit: test_mean, hidden_mean_constant" in got["slow"].message
    assert (got["dies"].status, got["dies"].score) == ("failed", None)
    assert "process ended" in got["dies"].message
    assert not result.ok

    # A notebook over its whole budget: its process is killed (the tests that finished before
    # keep their points, as with a cell's limit), and the next one runs.
    sub2 = tmp_path / "submitted2"
    write_submission(
        sub2, "a_slow", ASSIGNMENT, "exercises", filled(release, {**answers, "mean": slow})
    )
    write_submission(sub2, "b_correct", ASSIGNMENT, "exercises", filled(release, answers))
    result = grade(
        Course(course), ASSIGNMENT, submissions=sub2, out=tmp_path / "g2.csv",
        jobs=1, timeout=60, notebook_timeout=6, progress=False,
    )  # fmt: skip
    got = {r.student: r for r in result.results}
    assert (got["a_slow"].status, got["a_slow"].score) == ("timeout", 2)
    assert "notebook time limit of 6 s" in got["a_slow"].message
    assert (got["b_correct"].status, got["b_correct"].score) == ("graded", 5)


def test_grade_without_a_release_is_a_usage_error(tmp_path, capsys):
    course = make_course(tmp_path)
    (course / "submitted" / "someone" / ASSIGNMENT).mkdir(parents=True)
    assert run("--course", course, "grade", ASSIGNMENT, "--quiet") == 2
    assert "autograder release" in capsys.readouterr().err


def test_the_course_is_found_from_inside_it_or_from_the_repository(released, tmp_path):
    assert find_course(released / "source" / ASSIGNMENT) == released
    repo = tmp_path / "repo"
    make_course(repo)
    (repo / "notes").mkdir()
    assert find_course(repo / "notes") == repo / "course"


def test_the_console_script_runs():
    script = Path(sys.executable).with_name("autograder")
    assert script.exists(), "pip install -e . declares the autograder console script"
    proc = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    for command in ("release", "check", "grade", "feedback", "export"):
        assert command in proc.stdout
