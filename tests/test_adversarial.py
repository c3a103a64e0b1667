"""Can a submission rig or crash grading?

Chapter 01, every attack in one batch: honest students (correct, a wrong softmax, untouched)
and every attack of :mod:`tests.attacks`. Each attack must earn at most what its wrong answer
earns honestly, get the status and message it deserves, and leave every other student graded
correctly. Then the gradebook's integrity: a re-grade changes nothing, a run killed with SIGKILL
leaves a usable gradebook that the next run completes, and a failed re-grade keeps the previous
grade. Last, no generated artefact (release, CSV, feedback) holds solution code or hidden-test
source.

Every chapter, the tampering attacks (:data:`tests.attacks.TAMPERING`): each is added to a
submission that answers every exercise wrongly (a mutant from ``tests/mutants``), and must not
score more than that submission scores honestly; and the chapter's release, CSV and feedback
hold no secret. The crashes, bad files and sandbox escapes do not depend on a chapter's tests;
chapter 01 covers them.
"""

from __future__ import annotations

import copy
import csv
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from autograder.grading.batch import grade
from autograder.grading.feedback import generate_feedback
from autograder.grading.notebooks import fill_answers, solution_cells, strip_hidden_tests
from autograder.grading.verdicts import rewrite_for_learner
from autograder.publishing.course import Course, release
from tests.attacks import ATTACKS, TAMPERING, _dump, solved, wrong_softmax
from tests.conftest import COURSE, ROOT, SOURCE, exercise_chapters
from tests.mutants import chapters as mutant_chapters
from tests.test_release_and_autograde import secret_lines

CHAPTER = "01_autograd"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SOURCE / CHAPTER).exists(), reason="no chapter 01"),
]
CELL_TIMEOUT = 60  # per cell; the infinite-loop attacks run into it


def make_course(root: Path, chapter: str = CHAPTER) -> Course:
    root.mkdir(parents=True)
    shutil.copy(COURSE / "nbgrader_config.py", root)
    shutil.copytree(SOURCE / chapter, root / "source" / chapter)
    course = Course(root)
    release(course, chapter)
    return course


def submit(folder: Path, student: str, data: bytes, chapter: str = CHAPTER) -> None:
    dest = folder / student / chapter
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "exercises.ipynb").write_bytes(data)


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as fh:
        return {row["student"]: row for row in csv.DictReader(fh)}


def grade_batch(
    course: Course,
    subs: Path,
    out: Path,
    *,
    chapter: str = CHAPTER,
    jobs: int = 2,
    timeout: float = CELL_TIMEOUT,
):
    """Grade the submissions in ``subs`` into the CSV ``out``, quietly."""
    return grade(
        course, chapter, submissions=subs, out=out, jobs=jobs, timeout=timeout, progress=False
    )


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("adversarial")
    course = make_course(root / "course")
    source = nbformat.read(SOURCE / CHAPTER / "exercises.ipynb", as_version=4)
    released = nbformat.read(course.root / "release" / CHAPTER / "exercises.ipynb", as_version=4)
    subs = root / "submitted"
    submit(subs, "honest_correct", _dump(solved(source, released)))
    submit(subs, "honest_wrong_softmax", _dump(wrong_softmax(source, released)))
    submit(subs, "honest_untouched", _dump(released))
    for attack in ATTACKS:
        data = attack.build(source, released)
        data = data.replace(b"@COURSE@", str(course.root).encode()).replace(
            b"@REPO@", str(ROOT).encode()
        )
        submit(subs, f"attack_{attack.name}", data)
        if attack.honest is not None:
            submit(subs, f"honest_for_{attack.name}", attack.honest(source, released))
    run = grade_batch(course, subs, root / "grades.csv")
    return {
        "course": course,
        "run": run,
        "rows": read_csv(root / "grades.csv"),
        "root": root,
        "subs": subs,
    }


def test_honest_students_get_their_honest_scores(batch):
    rows = batch["rows"]
    full = float(rows["honest_correct"]["max_score"])
    assert (rows["honest_correct"]["status"], float(rows["honest_correct"]["score"])) == (
        "graded",
        full,
    )
    assert float(rows["honest_untouched"]["score"]) == 0
    wrong = float(rows["honest_wrong_softmax"]["score"])
    assert 0 < wrong < full, "a wrong softmax must cost exactly softmax's tests"


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_attack_earns_nothing_it_did_not_earn_honestly(batch, attack):
    rows = batch["rows"]
    row = rows[f"attack_{attack.name}"]
    baseline = f"honest_for_{attack.name}" if attack.honest else "honest_wrong_softmax"
    honest = float(rows[baseline]["score"])
    assert row["status"] == attack.status, row
    score = float(row["score"]) if row["score"] else 0.0
    if attack.score == "zero":
        assert score == 0, row
    else:
        assert score <= honest, (
            f"{attack.name} scored {score}, the honest wrong answer {honest}: {row}"
        )
    if attack.message:
        assert attack.message.lower() in row["message"].lower(), row


def test_no_attack_reached_the_network_or_the_sources(batch):
    graded = batch["course"].root / "autograded"

    def outputs(student: str) -> str:
        nb = nbformat.read(graded / student / CHAPTER / "exercises.ipynb", as_version=4)
        return "\n".join(
            str(o.get("text", ""))
            for c in nb.cells
            if c.cell_type == "code"
            for o in c.get("outputs", [])
        )

    text = outputs("attack_network")
    assert "NETWORK REACHABLE" not in text and "no network" in text
    assert "[]" in outputs("attack_read_source_notebook"), (
        "the submission saw files outside its folder"
    )
    assert (batch["course"].root / "gradebook.db").read_bytes()[:16] == b"SQLite format 3\x00"


def gradebook_scores(course: Course) -> dict[str, float]:
    with sqlite3.connect(course.root / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = db.execute(
            "SELECT student.id, SUM(COALESCE(grade.manual_score, grade.auto_score, 0)) "
            "FROM grade JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
            "JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id "
            "JOIN student ON submitted_assignment.student_id = student.id GROUP BY student.id"
        ).fetchall()
    return dict(rows)


def test_regrading_is_idempotent(batch, tmp_path):
    course = batch["course"]
    honest = batch["root"] / "honest"
    for student in ("honest_correct", "honest_wrong_softmax"):
        shutil.copytree(batch["subs"] / student, honest / student)
    before = gradebook_scores(course)
    grade_batch(course, honest, tmp_path / "again.csv")
    after = gradebook_scores(course)
    assert before == after


def test_a_failed_regrade_keeps_the_previous_grade(batch, tmp_path):
    course = batch["course"]
    before = gradebook_scores(course)["honest_correct"]
    broken = tmp_path / "broken"
    submit(broken, "honest_correct", b"{ not json")
    grade_batch(course, broken, tmp_path / "broken.csv", jobs=1)
    row = read_csv(tmp_path / "broken.csv")["honest_correct"]
    assert row["status"] == "failed" and "JSON" in row["message"]
    assert gradebook_scores(course)["honest_correct"] == before


def test_a_run_killed_mid_batch_leaves_a_consistent_gradebook_and_the_next_run_finishes(tmp_path):
    course = make_course(tmp_path / "course")
    source = nbformat.read(SOURCE / CHAPTER / "exercises.ipynb", as_version=4)
    released = nbformat.read(course.root / "release" / CHAPTER / "exercises.ipynb", as_version=4)
    subs = tmp_path / "submitted"
    for i in range(6):
        submit(subs, f"s{i}", _dump(solved(source, released)))
    cmd = [str(Path(sys.executable).with_name("autograder")), "--course", str(course.root), "grade", CHAPTER,
           "--submissions", str(subs), "--jobs", "2", "--quiet"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 240
    db = course.root / "gradebook.db"
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.5)
        if db.exists() and len(gradebook_scores(course)) >= 1:
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = gradebook_scores(course)
    assert len(partial) < 6, "the run finished before it could be killed: make the batch larger"
    # A generous timeout: this test is about the gradebook, not about speed under load.
    run = grade_batch(course, subs, tmp_path / "g.csv", timeout=300)
    assert all(r.status == "graded" for r in run.results), [
        (r.student, r.status, r.message) for r in run.results
    ]
    scores = gradebook_scores(course)
    assert len(scores) == 6 and len(set(scores.values())) == 1


def ran_hidden_lines(source, *public) -> set[str]:
    """The hidden tests' lines as they ran in the learner's process (the grader's learner-side
    rewrite): the form of them a submission can capture there."""
    visible = strip_hidden_tests(copy.deepcopy(source))  # nbgrader strips in place
    shown = "\n".join(c.source for nb in (visible, *public) for c in nb.cells)
    return {
        line.strip()
        for cell in source.cells
        if "### BEGIN HIDDEN TESTS" in cell.source
        for line in rewrite_for_learner(cell.source).splitlines()
        if len(line.strip()) >= 25 and line.strip() not in shown
    }


def assert_nothing_secret_leaves(course: Course, chapter: str, csv_path: Path) -> None:
    """Release and CSV: no solution, no hidden test. Feedback: no hidden test (it shows each
    learner's own code, which for the honest students is the reference solution)."""
    generate_feedback(course, chapter)
    source = nbformat.read(SOURCE / chapter / "exercises.ipynb", as_version=4)
    lesson = nbformat.read(SOURCE / chapter / "lesson.ipynb", as_version=4)
    everything = secret_lines(source, lesson)
    hidden = secret_lines(source, lesson, hidden_only=True) | ran_hidden_lines(source, lesson)
    markers = ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS")
    artefacts = [
        *((p, everything, markers) for p in (course.root / "release").rglob("*")),
        (csv_path, everything, markers),
        *((p, hidden, markers[1:]) for p in (course.root / "feedback").rglob("*")),
    ]
    checked = 0
    for path, secrets, forbidden in artefacts:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace").replace("&quot;", '"').replace("&#39;", "'")
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        for marker in forbidden:
            assert marker not in text, f"{path} contains {marker}"
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{path} contains solution or hidden-test code: {leaked[:2]}"
        checked += 1
    feedback = list((course.root / "feedback").rglob("*.html"))
    assert feedback and checked > len(feedback), "feedback pages were not generated"


def test_a_flood_of_outputs_does_not_inflate_the_autograded_notebook_or_the_feedback(batch):
    course = batch["course"]
    student = "attack_display_flood"
    executed = course.root / "autograded" / student / CHAPTER / "exercises.ipynb"
    assert executed.stat().st_size < 3 << 20, f"{executed}: {executed.stat().st_size} bytes"
    assert "not kept: the grader keeps at most 1 MB of outputs per cell" in executed.read_text()
    generate_feedback(course, CHAPTER, student)
    page = course.root / "feedback" / student / CHAPTER / "exercises.html"
    assert page.stat().st_size < 4 << 20, f"{page}: {page.stat().st_size} bytes"


def test_learner_html_never_renders_live_in_feedback(batch):
    """Scripts and event handlers a submission displays (an output, a markdown cell) arrive in
    its feedback page as text, never as live HTML."""
    course = batch["course"]
    generate_feedback(course, CHAPTER, "attack_leak_hidden_tests")
    page = course.root / "feedback" / "attack_leak_hidden_tests" / CHAPTER / "exercises.html"
    live = _LiveHTML()
    live.feed(page.read_text())
    assert not live.found, f"{page} renders the learner's HTML live: {live.found}"


class _LiveHTML(HTMLParser):
    """Scripts that call alert() and event-handler attributes: what the attack displayed."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._script = False

    def handle_starttag(self, tag, attrs):
        self._script = tag == "script"
        self.found += [f"<{tag} {k}=...>" for k, _ in attrs if k.startswith("on")]

    def handle_endtag(self, tag):
        self._script = False

    def handle_data(self, data):
        if self._script and "alert(" in data:
            self.found.append(f"<script>{data[:60]}")


def test_nothing_secret_leaves(batch):
    assert_nothing_secret_leaves(batch["course"], CHAPTER, batch["root"] / "grades.csv")
    assert len(list((batch["course"].root / "feedback").rglob("*.html"))) > len(ATTACKS) // 2


# --- every chapter: tampering on top of wrong answers -----------------------------------------


def all_wrong(chapter: str, source, released):
    """The release with every exercise answered by its first wrong implementation in
    ``tests/mutants`` (one that replaces a single cell), the others left as in the reference."""
    answers = solution_cells(source)
    wrong: dict[str, str] = {}
    for mutant in mutant_chapters()[chapter]:
        if mutant.cell in answers and not mutant.extra:
            wrong.setdefault(mutant.cell, mutant.replacements()[mutant.cell])
    return fill_answers(copy.deepcopy(released), {**answers, **wrong}, strip_markers=True)


def with_code(nb, code: str):
    nb = copy.deepcopy(nb)
    nb.cells.insert(1, nbformat.v4.new_code_cell(code))  # after the set-up cell
    return nb


# One xdist group per chapter: the chapters' batches grade on both workers.
@pytest.fixture(
    scope="module",
    params=[
        pytest.param(c, id=c, marks=pytest.mark.xdist_group(f"tampering-{c}"))
        for c in exercise_chapters()
    ],
)
def tampering_batch(request, tmp_path_factory):
    chapter = request.param
    root = tmp_path_factory.mktemp(f"tampering_{chapter}")
    course = make_course(root / "course", chapter)
    source = nbformat.read(SOURCE / chapter / "exercises.ipynb", as_version=4)
    released = nbformat.read(course.root / "release" / chapter / "exercises.ipynb", as_version=4)
    subs = root / "submitted"
    wrong = all_wrong(chapter, source, released)
    submit(subs, "honest_correct", _dump(solved(source, released)), chapter)
    submit(subs, "honest_all_wrong", _dump(wrong), chapter)
    for name, code in TAMPERING.items():
        submit(subs, f"tamper_{name}", _dump(with_code(wrong, code)), chapter)
    grade_batch(course, subs, root / "grades.csv", chapter=chapter)
    return {"chapter": chapter, "course": course, "csv": root / "grades.csv"}


def test_tampering_earns_nothing_in_any_chapter(tampering_batch):
    chapter, rows = tampering_batch["chapter"], read_csv(tampering_batch["csv"])
    correct = rows["honest_correct"]
    assert correct["status"] == "graded" and correct["score"] == correct["max_score"], correct
    honest = float(rows["honest_all_wrong"]["score"])
    assert honest < float(correct["max_score"]), "the wrong answers should lose points"
    gained = {
        name: (row["status"], row["score"], row["message"][:200])
        for name in TAMPERING
        if (row := rows[f"tamper_{name}"])["status"] != "graded"
        or float(row["score"] or 0) > honest
    }
    assert not gained, f"{chapter}: honest wrong answers score {honest}; tampering: {gained}"


def test_nothing_secret_leaves_in_any_chapter(tampering_batch):
    assert_nothing_secret_leaves(
        tampering_batch["course"], tampering_batch["chapter"], tampering_batch["csv"]
    )
