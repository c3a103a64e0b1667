"""Does a crash while writing a result file keep the previous file whole?"""

from __future__ import annotations

import pytest

from autograder.grading.atomic import atomic_open, write_text_atomic


def test_a_write_that_fails_midway_keeps_the_previous_file(tmp_path):
    out = tmp_path / "grades.csv"
    write_text_atomic(out, "student,score\nada,10\n")
    with pytest.raises(RuntimeError), atomic_open(out, encoding="utf-8") as fh:
        fh.write("student,score\n")
        raise RuntimeError("killed mid-batch")
    assert out.read_text() == "student,score\nada,10\n"
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"], "no temporary file left"


def test_a_write_that_succeeds_replaces_the_file(tmp_path):
    out = tmp_path / "sub" / "feedback.html"
    write_text_atomic(out, "old")
    write_text_atomic(out, "new")
    assert out.read_text() == "new"
