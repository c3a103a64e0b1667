"""Are submissions the files they claim to be? (issue 10, item 1)

One batch of chapter 01: two honest students and every :data:`tests.attacks.FILE_ATTACKS`
(symbolic and hard links to the course's sources or gradebook, a FIFO that blocks whoever reads
it, student folders whose names are not printable text or are very long, a grade id made of
terminal escapes). Each link or special file is refused with a message that names it, odd names
reach the CSV escaped and truncated, the honest students are graded as usual, no refused student
reaches the gradebook, and nothing secret leaves.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import unicodedata

import nbformat
import pytest

from tests.attacks import FILE_ATTACKS, _dump, solved, wrong_softmax
from tests.test_adversarial import (
    CHAPTER,
    assert_nothing_secret_leaves,
    grade_batch,
    make_course,
    read_csv,
    submit,
)

pytestmark = pytest.mark.slow
WATCHDOG = 300  # seconds: a grader that blocks on the FIFO is released (and fails the test)


def _release_fifos(folder) -> None:
    for dirpath, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(dirpath, name)
            if stat.S_ISFIFO(os.lstat(path).st_mode):
                try:
                    os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
                except OSError:
                    pass


@pytest.fixture(scope="module")
def file_batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("files")
    course = make_course(root / "course")
    source = nbformat.read(course.root / "source" / CHAPTER / "exercises.ipynb", as_version=4)
    released = nbformat.read(course.root / "release" / CHAPTER / "exercises.ipynb", as_version=4)
    subs = root / "submitted"
    wrong = _dump(wrong_softmax(source, released))
    submit(subs, "honest_correct", _dump(solved(source, released)))
    submit(subs, "honest_wrong_softmax", wrong)
    (course.root / "gradebook.db").stat()  # the links below point at it
    for attack in FILE_ATTACKS:
        attack.plant(subs, f"file_{attack.name}", CHAPTER, course.root, wrong)
    watchdog = threading.Timer(WATCHDOG, _release_fifos, (subs,))
    watchdog.start()
    try:
        grade_batch(course, subs, root / "grades.csv")
    finally:
        watchdog.cancel()
    return {"course": course, "rows": read_csv(root / "grades.csv"), "root": root}


def _row(rows, prefix: str):
    found = [row for student, row in rows.items() if student.startswith(prefix)]
    assert len(found) == 1, (prefix, sorted(rows))
    return found[0]


def test_honest_students_are_graded_beside_the_attacks(file_batch):
    rows = file_batch["rows"]
    correct, wrong = rows["honest_correct"], rows["honest_wrong_softmax"]
    assert correct["status"] == "graded" and correct["score"] == correct["max_score"]
    assert wrong["status"] == "graded" and 0 < float(wrong["score"]) < float(wrong["max_score"])


@pytest.mark.parametrize("attack", FILE_ATTACKS, ids=lambda a: a.name)
def test_a_submission_is_what_it_claims_or_is_refused(file_batch, attack):
    rows = file_batch["rows"]
    row = _row(rows, attack.shown or f"file_{attack.name}")
    assert row["status"] == attack.status, row
    assert attack.message.lower() in row["message"].lower(), row
    honest = float(rows["honest_wrong_softmax"]["score"])
    assert (float(row["score"]) if row["score"] else 0.0) <= honest, row


def test_every_name_in_the_csv_is_printable_and_bounded(file_batch):
    for row in file_batch["rows"].values():
        for key, value in row.items():
            assert value.isprintable() or key == "message" and "\n" not in value, (key, value)
            assert not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value), (key, value)
        assert len(row["student"]) <= 120, row["student"]
        assert len(row["message"]) <= 4000, row["message"][:200]


def test_refused_students_never_reach_the_gradebook(file_batch):
    course = file_batch["course"]
    with sqlite3.connect(course.root / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        students = {s for (s,) in db.execute("SELECT id FROM student")}
    refused = {a.name for a in FILE_ATTACKS if a.status == "refused"}
    assert not {s for s in students if s.removeprefix("file_") in refused}, students
    assert {"honest_correct", "honest_wrong_softmax"} <= students


def test_nothing_secret_leaves_with_links_in_the_batch(file_batch):
    assert_nothing_secret_leaves(file_batch["course"], CHAPTER, file_batch["root"] / "grades.csv")
