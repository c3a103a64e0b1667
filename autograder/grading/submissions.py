"""Submissions: where they are, and getting one ready to execute.

:func:`find_submissions` lists ``DIR/<student>/ASSIGNMENT/<notebook>.ipynb`` for every notebook
the gradebook knows for the assignment (a missing one is listed too, with no path: lessons and
other notebooks in the folder are never executed). :func:`sanitize` reads a submission
(:func:`autograder.grading.notebooks.read_submission` says why an unreadable one cannot be graded) and
runs nbgrader's sanitizing preprocessors on it: ``ClearOutput``, ``DeduplicateIds``,
``OverwriteKernelspec``, ``OverwriteCells`` (locked and test cells come back from the source,
hidden tests included, and points from the gradebook) and ``CheckCellMetadata``; a notebook
whose grade cells are gone cannot be graded. :func:`copy_files` copies the files that go beside
a notebook (regular files only: a symlink could point at the course's sources). A student's
folder with a link, a special file or an unprintable name in it is listed with the reason it is
refused (:func:`autograder.grading.files.refusal`), and is never executed.

Left out: executing (:mod:`autograder.grading.execution`) and recording (:mod:`autograder.grading.batch`).
"""

from __future__ import annotations

import copy
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..publishing.course import Course
from .files import Refused, copy_regular, entries, printable, read_regular, refusal
from .notebooks import (
    NotGradable,
    is_grade_cell,
    is_manual_cell,
    is_task_cell,
    is_test_cell,
    nbgrader_meta,
    points_ids,
    read_submission,
    strip_hidden_tests,
)

# nbgrader's preprocessors warn about every restored cell (hidden tests are restored for every
# student); the grader reports what matters in the CSV instead.
nbgrader_log = logging.getLogger("autograder.nbgrader")
if nbgrader_log.level == logging.NOTSET:
    nbgrader_log.setLevel(logging.ERROR)


@dataclass
class Submission:
    """One notebook of one student's submission (``path`` is None when it is missing).

    ``refused`` says why the student's folder is not graded at all (a link, a special file, a
    name that is not printable), or is None.
    """

    student: str
    notebook: str
    folder: Path  # DIR/<student>/<assignment>
    path: Path | None
    refused: str | None = None


def find_submissions(folder: Path, assignment: str, notebooks: list[str]) -> list[Submission]:
    """Every student folder of ``folder`` and each expected notebook in it (or its absence).

    Nothing is followed: a student folder that is a symbolic link is listed, refused; files
    and other entries of ``folder`` that are not folders are ignored.
    """
    found = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        if not entry.is_dir():  # a folder, or a link to one (refused below)
            continue
        student = Path(entry.path)
        why = refusal(student, assignment, notebooks)
        for notebook in notebooks:
            path = student / assignment / f"{notebook}.ipynb"
            present = why is not None or (
                os.path.lexists(path) and not os.path.isdir(path)  # a FIFO is present, refused
            )
            found.append(
                Submission(
                    entry.name, notebook, student / assignment, path if present else None, why
                )
            )
    return found


def regular_files(folder: Path, skip: tuple[str, ...] = ()) -> list[Path]:
    """Files under ``folder`` to copy beside a notebook: regular files only (never symlinks,
    notebooks, hidden files or the names in ``skip``), as paths relative to ``folder``."""
    if not folder.is_dir() or folder.is_symlink():
        return []
    return [
        rel
        for rel in entries(folder)
        if not (folder / rel).is_symlink()
        and (folder / rel).is_file()
        and rel.suffix != ".ipynb"
        and rel.name not in skip
    ]


def read_files(
    source: Path, limit: int, skip: tuple[str, ...] = (), *, untrusted: bool = False
) -> dict[str, bytes]:
    """The bytes of :func:`regular_files` of ``source``, by relative path (``/``-separated), to
    ship to a grading slot (this machine's or another's).

    ``untrusted`` (a learner's folder): each file is opened without following links and must be
    a regular file with a single link; otherwise, or when the files hold more than ``limit``
    bytes (the working folder's size), :class:`NotGradable` says why.
    """
    found: dict[str, bytes] = {}
    total = 0
    for rel in regular_files(source, skip):
        try:
            data = read_regular(source / rel) if untrusted else (source / rel).read_bytes()
        except Refused as exc:
            raise NotGradable(f"refused: {exc}") from exc
        total += len(data)
        if total > limit:
            raise NotGradable(
                f"refused: the files beside the notebook hold more than the {limit >> 20} MiB "
                "a submission's working folder may hold"
            )
        found[rel.as_posix()] = data
    return found


def write_files(files: dict[str, bytes], dest: Path) -> None:
    """Write :func:`read_files`' answer under ``dest`` (a path that leaves ``dest`` is an error)."""
    root = dest.resolve()
    for rel, data in files.items():
        target = (root / rel).resolve()
        if not target.is_relative_to(root) or target == root:
            raise NotGradable(
                f"refused: a file name leaves the working folder: {printable(rel, 80)}"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as out:
            out.write(data)


def copy_files(
    source: Path, dest: Path, skip: tuple[str, ...] = (), *, untrusted: bool = False
) -> None:
    """Copy :func:`regular_files` of ``source`` into ``dest``.

    ``untrusted`` (a learner's folder): each file is opened without following links and must
    be a regular file with a single link (:func:`autograder.grading.files.open_regular`);
    otherwise :class:`NotGradable` says which.
    """
    for rel in regular_files(source, skip):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        if not untrusted:
            shutil.copyfile(source / rel, dest / rel)
            continue
        try:
            copy_regular(source / rel, dest / rel)
        except Refused as exc:
            raise NotGradable(f"refused: {exc}") from exc


def sanitize(course: Course, assignment: str, sub: Submission, expected: dict[str, float]):
    """The submitted notebook, read and sanitized by nbgrader's preprocessors, and notes.

    Raises :class:`NotGradable` with the reason when it cannot be graded.
    """
    from nbgrader.nbgraderformat import ValidationError
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearOutput,
        DeduplicateIds,
        OverwriteCells,
        OverwriteKernelspec,
    )

    assert sub.path is not None
    nb = read_submission(sub.path)
    notes = []
    source = nbformat.read(course.source(assignment) / f"{sub.notebook}.ipynb", as_version=4)
    ours = {nbgrader_meta(c).get("grade_id") for c in source.cells} - {None}
    graded = {
        nbgrader_meta(c)["grade_id"]
        for c in source.cells
        if nbgrader_meta(c).get("grade") or nbgrader_meta(c).get("solution")
    }
    theirs = [nbgrader_meta(c).get("grade_id") for c in nb.cells]
    if not graded & set(theirs):
        raise NotGradable(
            f"none of {assignment}'s exercise cells are in this notebook: is it another "
            "assignment's notebook? Submit the notebook released for this assignment."
        )
    # A grade id twice: the first cell counts, later copies are dropped (never run).
    seen: set[str] = set()
    kept, dropped = [], []
    for cell, gid in zip(nb.cells, theirs, strict=True):
        if gid in ours and gid in seen:
            dropped.append(gid)
            continue
        seen.add(gid)
        kept.append(cell)
    if dropped:
        nb.cells = kept
        notes.append(f"duplicated cells were ignored: {', '.join(sorted(set(dropped)))}")
    # A grade id the assignment does not have (renamed, invented): the cell is the learner's own
    # code, graded as nothing.
    unknown = []
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if "nbgrader" in cell.get("metadata", {}) and gid not in ours:
            del cell.metadata["nbgrader"]
            unknown.append(printable(gid, 40))
    if unknown:
        notes.append(
            f"cells with unknown grade ids count as your own code: {', '.join(unknown[:5])}"
        )
    submitted = {
        nbgrader_meta(c)["grade_id"]: (c.source, nbgrader_meta(c).get("points"))
        for c in nb.cells
        if is_grade_cell(c) or nbgrader_meta(c).get("locked")
        if "grade_id" in nbgrader_meta(c)
    }
    # A locked or test cell stays what the source says it is: a learner who marks one as a
    # solution (a written answer, left to a human) or unlocks it changes nothing, and nbgrader's
    # OverwriteCells, which would then keep the learner's source and fail on its checksum, puts
    # the source back.
    kinds = {
        nbgrader_meta(c)["grade_id"]: c
        for c in source.cells
        if "grade_id" in nbgrader_meta(c)
        and (nbgrader_meta(c).get("locked") or is_test_cell(c) or is_task_cell(c))
    }
    for cell in nb.cells:
        original = kinds.get(nbgrader_meta(cell).get("grade_id"))
        if original is not None:
            keep = {k: v for k, v in nbgrader_meta(cell).items() if k == "checksum"}
            cell.metadata["nbgrader"] = {**copy.deepcopy(original.metadata["nbgrader"]), **keep}
            if cell.cell_type != original.cell_type:
                cell.cell_type = original.cell_type
    resources = {
        "nbgrader": {
            "notebook": sub.notebook,
            "assignment": assignment,
            "student": sub.student,
            "db_url": course.db_url,
        }
    }
    try:
        for step in (
            ClearOutput,
            DeduplicateIds,
            OverwriteKernelspec,
            OverwriteCells,
            CheckCellMetadata,
        ):
            nb, resources = step(config=course.config, log=nbgrader_log).preprocess(nb, resources)
    except ValidationError as exc:
        raise NotGradable(f"the nbgrader metadata of the notebook is corrupted: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - any other reason the sanitizer gives up
        raise NotGradable(
            f"could not be prepared for grading: {type(exc).__name__}: {exc}"
        ) from exc
    missing = set(expected) - set(points_ids(nb))
    # The grader runs every test and task of the source anyway (autograder.grading.isolated puts
    # them back); a written answer the learner deleted cannot be put back and earns nothing.
    answers = {nbgrader_meta(c)["grade_id"] for c in source.cells if is_manual_cell(c)}
    answers -= {nbgrader_meta(c)["grade_id"] for c in source.cells if is_task_cell(c)}
    if put_back := sorted(missing - answers):
        notes.append(f"missing test cells were put back: {', '.join(put_back)}")
    if lost := sorted(missing & answers):
        notes.append(f"missing answer cells (no points): {', '.join(lost)}")
    # What the sanitizer put back (restoring a hidden test is routine, not an edit).
    visible = strip_hidden_tests(nbformat.from_dict(nb))
    edited = []
    for cell in visible.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if gid in submitted:
            source, points = submitted[gid]
            if nbgrader_meta(cell).get("locked") and source.strip() != cell.source.strip():
                edited.append(gid)
            elif points is not None and _number(points) != expected.get(gid):
                edited.append(gid)
    if edited:
        notes.append(f"edited locked cells were restored: {', '.join(edited)}")
    return nb, notes


def _number(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
