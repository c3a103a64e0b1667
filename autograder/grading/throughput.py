"""Grading throughput: ``autograder grade`` against plain ``nbgrader autograde``, side by side.

For the benchmark (``bench/run.py``)::

    from autograder.grading.throughput import compare_with_nbgrader

    c = compare_with_nbgrader(Path("course"), "01_autograd", Path("/tmp/bench"), students=20, jobs=2)
    c.ours_per_minute, c.nbgrader_per_minute, c.ratio, c.same_scores, c.ours.results[0].seconds

:func:`compare_with_nbgrader` builds two scratch courses under ``workdir`` (the course's
``nbgrader_config.py`` and the assignment's source), releases the assignment in both, puts the
same submissions in both ``submitted/`` folders (by default ``students`` copies of the
reference solution, the released notebook with the source's solution cells), then times
``grade(jobs=...)`` in this process and ``nbgrader autograde ASSIGNMENT`` from the command line
(one call for the whole class, as an instructor runs it), and compares the scores each
recorded in its own gradebook. Timings per submission (sanitize, kernel start, run, shutdown,
record) are in ``ours.results[i].seconds``.

nbgrader zeroes test cells that write to stderr and ours does not, so scores agree only on
submissions that stay quiet (the reference solutions do: the mutant tests check it).

Left out: medians over repeated runs and the table (the benchmark script's job), and release
time (the same nbgrader converter for both).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..publishing.course import Course, release
from .batch import GradingRun, grade
from .gradebook import open_gradebook
from .notebooks import fill_answers, solution_cells


@dataclass
class BaselineRun:
    """A plain ``nbgrader autograde`` run: wall time and the scores it recorded."""

    wall_seconds: float
    returncode: int
    scores: dict[str, float]
    stderr: str = ""


@dataclass
class Comparison:
    """The two runs on the same submissions."""

    students: int
    ours: GradingRun
    nbgrader: BaselineRun
    ours_scores: dict[str, float]

    @property
    def ours_per_minute(self) -> float:
        return 60.0 * self.students / self.ours.wall_seconds

    @property
    def nbgrader_per_minute(self) -> float:
        return 60.0 * self.students / self.nbgrader.wall_seconds

    @property
    def ratio(self) -> float:
        """How many times faster ``autograder grade`` was (above 1: faster)."""
        return self.nbgrader.wall_seconds / self.ours.wall_seconds

    @property
    def same_scores(self) -> bool:
        return self.ours_scores == self.nbgrader.scores


def gradebook_scores(course: Course, assignment: str) -> dict[str, float]:
    """``{student: total score}`` of every submission of ``assignment`` in the gradebook."""
    with open_gradebook(course) as gb:
        return {s.student.id: float(s.score) for s in gb.find_assignment(assignment).submissions}


def nbgrader_autograde(course: Course, assignment: str, *, force: bool = True) -> BaselineRun:
    """Run ``nbgrader autograde ASSIGNMENT`` in the course from the command line, timed."""
    nbgrader = Path(sys.executable).with_name("nbgrader")
    command = [str(nbgrader), "autograde", assignment, "--log-level=WARN"]
    command += ["--force"] if force else []
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "PATH": f"{nbgrader.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    begin = time.perf_counter()
    proc = subprocess.run(command, cwd=course.root, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - begin
    return BaselineRun(wall, proc.returncode, gradebook_scores(course, assignment), proc.stderr)


def scratch_course(source: Path, dest: Path, assignment: str) -> Course:
    """A new course at ``dest`` with ``source``'s config and one assignment's source, released."""
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "source").mkdir(parents=True)
    shutil.copyfile(source / "nbgrader_config.py", dest / "nbgrader_config.py")
    shutil.copytree(source / "source" / assignment, dest / "source" / assignment)
    course = Course(dest)
    release(course, assignment)
    return course


def reference_class(course: Course, assignment: str, folder: Path, students: int) -> None:
    """``students`` submissions of the reference solution in ``folder/<student>/ASSIGNMENT/``."""
    for notebook in sorted(
        (course.folder("release") / assignment).glob(f"{course.notebook_id}.ipynb")
    ):
        source = nbformat.read(course.source(assignment) / notebook.name, as_version=4)
        submission = fill_answers(nbformat.read(notebook, as_version=4), solution_cells(source))
        for i in range(students):
            target = folder / f"student{i:03d}" / assignment
            target.mkdir(parents=True, exist_ok=True)
            nbformat.write(submission, target / notebook.name)


def compare_with_nbgrader(
    course: Path,
    assignment: str,
    workdir: Path,
    *,
    students: int = 20,
    submissions: Path | None = None,
    jobs: int = 2,
) -> Comparison:
    """Time both graders on the same submissions (see the module docstring)."""
    ours = scratch_course(Path(course), Path(workdir) / "autograder", assignment)
    theirs = scratch_course(Path(course), Path(workdir) / "nbgrader", assignment)
    if submissions is None:
        reference_class(ours, assignment, ours.folder("submitted"), students)
    else:
        shutil.copytree(submissions, ours.folder("submitted"))
    shutil.copytree(ours.folder("submitted"), theirs.folder("submitted"))
    count = sum(1 for p in ours.folder("submitted").iterdir() if p.is_dir())
    run = grade(ours, assignment, jobs=jobs, progress=False)
    baseline = nbgrader_autograde(theirs, assignment)
    return Comparison(count, run, baseline, gradebook_scores(ours, assignment))


def cells_seconds(course: Course, assignment: str, *, repeats: int = 3) -> float:
    """The floor of grading one submission: the seconds the reference solution's cells take
    (test cells as the grader rewrites them) in a worker process that has already started,
    without a sandbox; the median of ``repeats`` runs of the assignment's notebook."""
    import tempfile

    from .isolated import WorkerProcess, is_test_cell
    from .sandbox import Limits, Sandbox
    from .submissions import copy_files
    from .verdicts import rewrite_for_learner

    nb = nbformat.read(
        next(course.source(assignment).glob(f"{course.notebook_id}.ipynb")), as_version=4
    )
    cells = [
        rewrite_for_learner(c.source) if is_test_cell(c) else c.source
        for c in nb.cells
        if c.cell_type == "code"
    ]
    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            copy_files(course.source(assignment), Path(tmp))
            worker = WorkerProcess(Sandbox(workdir=Path(tmp), use_bwrap=False, limits=Limits()))
            try:
                worker.start()
                begin = time.perf_counter()
                for code in cells:
                    worker.run(code, 600)
                times.append(time.perf_counter() - begin)
            finally:
                worker.close()
    return sorted(times)[len(times) // 2]
