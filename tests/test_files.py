"""Unit cases of :mod:`autograder.grading.files`: escaping names, refusing links."""

from __future__ import annotations

import os

import pytest

from autograder.grading.files import (
    Refused,
    name_problem,
    printable,
    read_regular,
    refusal,
)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("alice", "alice"),
        ("élève_名前", "élève_名前"),
        (os.fsdecode(b"bad\xff"), "bad\\xff"),
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("line\nbreak\r\t", "line\\nbreak\\r\\t"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("\ud800", "\\ud800"),
    ],
)
def test_printable_escapes_what_would_break_a_csv_or_a_terminal(raw, shown):
    assert printable(raw) == shown
    assert printable(raw).isprintable()


def test_long_names_are_cut_and_stay_distinct():
    a, b = "x" * 300 + "a", "x" * 300 + "b"
    assert len(printable(a)) <= 100 and printable(a) != printable(b)
    assert printable(a).startswith("xxxx") and "…" in printable(a)


def test_name_problem_accepts_unicode_and_refuses_controls_and_bytes():
    assert name_problem("jürgen-müller") is None
    assert "not printable" in name_problem("a\nb")
    assert "not printable" in name_problem(os.fsdecode(b"\xfe"))


def test_read_regular_refuses_links_and_fifos(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("hello")
    assert read_regular(real) == b"hello"
    (tmp_path / "soft").symlink_to(real)
    with pytest.raises(Refused, match="symbolic link"):
        read_regular(tmp_path / "soft")
    os.link(real, tmp_path / "hard")
    with pytest.raises(Refused, match="hard link"):
        read_regular(tmp_path / "hard")
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(Refused, match="not a regular file"):
        read_regular(tmp_path / "fifo")  # and returns at once: O_NONBLOCK


def test_refusal_names_the_file_and_ignores_what_is_never_copied(tmp_path):
    student = tmp_path / "alice"
    (student / "ch" / ".ipynb_checkpoints").mkdir(parents=True)
    (student / "ch" / "exercises.ipynb").write_text("{}")
    (student / "ch" / ".ipynb_checkpoints" / "x.ipynb").symlink_to("/etc/passwd")
    (student / "ch" / "lesson.ipynb").symlink_to("/etc/passwd")  # not executed nor copied
    assert refusal(student, "ch", ["exercises"]) is None
    (student / "ch" / "sub").mkdir()
    (student / "ch" / "sub" / "data.csv").symlink_to("/etc/passwd")
    assert "sub/data.csv is a symbolic link" in refusal(student, "ch", ["exercises"])
