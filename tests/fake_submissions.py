"""Fake students for the grading tests and the benchmark.

A submission is the released notebook with some solution cells filled in: from the source
(the reference solution), with given code (a wrong or noisy answer), or left untouched.
:func:`write_submission` puts it where ``autograder grade`` looks:
``DIR/<student>/<assignment>/<notebook>.ipynb``.

The benchmark's class of reference solutions is :func:`autograder.grading.throughput.reference_class`.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from autograder.grading import notebooks


def solution_cells(source: Path) -> dict[str, str]:
    """``{grade_id: source}`` of the solution cells of a notebook."""
    return notebooks.solution_cells(nbformat.read(source, as_version=4))


def filled(release: Path, answers: dict[str, str]):
    """The released notebook with the solution cells named in ``answers`` replaced."""
    return notebooks.fill_answers(nbformat.read(release, as_version=4), answers)


def write_submission(folder: Path, student: str, assignment: str, notebook: str, content) -> Path:
    """Write a submission (a notebook node, or raw text for broken files); return its path."""
    target = folder / student / assignment
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{notebook}.ipynb"
    if isinstance(content, str | bytes):
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    else:
        nbformat.write(content, path)
    return path
