"""The course folder: find it, load its nbgrader configuration, release an assignment.

A course is an nbgrader course root: a folder holding ``nbgrader_config.py`` and ``source/``.
:func:`find_course` locates it from the current directory (the folder itself, or the
``course/`` folder of the repository we are in); :class:`Course` loads the configuration from
that one file (the course's settings live there and nowhere else) and hands out nbgrader's
:class:`~nbgrader.coursedir.CourseDirectory` and the paths the other modules need.

:func:`release` runs nbgrader's own ``GenerateAssignment`` converter (which also records the
assignment's cells in the gradebook) and copies the chapter's lesson beside the student
version, unchanged.

Left out: nbgrader's exchange (release to / collect from a shared folder) — instructors who
use it keep using ``nbgrader release_assignment`` and ``nbgrader collect``.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

CONFIG_FILE = "nbgrader_config.py"
#: Notebooks of a chapter that are copied to the release folder as they are (never graded).
LESSON_NOTEBOOKS = ("lesson.ipynb",)

log = logging.getLogger("autograder")


class CourseError(Exception):
    """The course, an assignment or a path is not where the command expects it."""


def find_course(start: Path | None = None) -> Path:
    """The course root for a command started in ``start`` (default: the current directory).

    Looks in ``start`` and each parent for ``nbgrader_config.py`` (we are inside the course) or
    ``course/nbgrader_config.py`` (we are inside the repository); falls back to the course of
    the repository this package was installed from (an editable install).
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
        if (folder / "course" / CONFIG_FILE).is_file():
            return folder / "course"
    fallback = Path(__file__).resolve().parents[2] / "course"
    if (fallback / CONFIG_FILE).is_file():
        return fallback
    raise CourseError(
        f"no course found from {here}: run the command inside the course's repository "
        f"or pass --course DIR (a folder holding {CONFIG_FILE})"
    )


def _tools_on_path() -> None:
    """Put this interpreter's scripts on PATH: nbgrader runs ``alembic`` when it creates a
    gradebook, and ``autograder`` may be started as ``.venv/bin/autograder`` without activating
    the virtualenv."""
    scripts = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if scripts not in path.split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + path


@dataclass
class Course:
    """A course root and its nbgrader configuration, loaded once."""

    root: Path
    config: Config = field(init=False)

    def __post_init__(self) -> None:
        _tools_on_path()
        self.root = Path(self.root).resolve()
        if not (self.root / CONFIG_FILE).is_file():
            raise CourseError(f"{self.root} is not a course: it has no {CONFIG_FILE}")
        config = PyFileConfigLoader(CONFIG_FILE, path=str(self.root)).load_config()
        if "root" not in config.CourseDirectory:
            config.CourseDirectory.root = str(self.root)
        if "db_url" not in config.CourseDirectory:
            config.CourseDirectory.db_url = f"sqlite:///{self.root / 'gradebook.db'}"
        self.config = config

    @classmethod
    def find(cls, course: Path | str | None = None) -> Course:
        """The course at ``course``, or the one :func:`find_course` finds."""
        return cls(Path(course) if course else find_course())

    def coursedir(self, assignment_id: str = "", student_id: str = "*"):
        """A fresh nbgrader ``CourseDirectory`` configured for this course."""
        from nbgrader.coursedir import CourseDirectory

        coursedir = CourseDirectory(config=self.config)
        coursedir.assignment_id = assignment_id
        coursedir.student_id = student_id
        return coursedir

    @property
    def db_url(self) -> str:
        return str(self.config.CourseDirectory.db_url)

    @property
    def course_id(self) -> str:
        return str(self.config.CourseDirectory.get("course_id", ""))

    @property
    def notebook_id(self) -> str:
        """The glob (without ``.ipynb``) naming the graded notebooks of an assignment."""
        return str(self.config.CourseDirectory.get("notebook_id", "*"))

    def folder(self, kind: str) -> Path:
        """``source``, ``release``, ``submitted``, ``autograded`` or ``feedback``."""
        name = self.config.CourseDirectory.get(f"{kind}_directory", kind)
        return self.root / str(name)

    def source(self, assignment: str) -> Path:
        path = self.folder("source") / assignment
        if not path.is_dir():
            known = sorted(p.name for p in self.folder("source").glob("*") if p.is_dir())
            raise CourseError(
                f"no assignment {assignment!r} in {self.folder('source')} (known: {', '.join(known) or 'none'})"
            )
        return path


def release(course: Course, assignment: str) -> Path:
    """Write the student version of ``assignment`` to ``release/ASSIGNMENT`` and return it.

    nbgrader's ``GenerateAssignment`` converter clears solutions and hidden tests, locks cells,
    computes checksums and records the assignment in the gradebook; the chapter's lesson is
    copied beside it (it has no solutions to hide). Both get the Colab set-up cell first
    (:mod:`autograder.publishing.colab`).
    """
    from nbgrader.converters import GenerateAssignment

    source = course.source(assignment)
    converter = GenerateAssignment(
        coursedir=course.coursedir(assignment, "."), config=course.config
    )
    converter.force = True
    converter.create_assignment = True
    converter.log = log
    try:
        converter.start()
    except Exception as exc:  # nbgrader's NbGraderException, ValidationError, ...
        raise CourseError(f"nbgrader could not release {assignment}: {exc}") from exc
    target = course.folder("release") / assignment
    for name in LESSON_NOTEBOOKS:
        if (source / name).is_file():
            shutil.copyfile(source / name, target / name)
    # Every released notebook starts with the Colab set-up cell (a no-op outside Colab).
    from .colab import ConfigError, add_setup_cell

    try:
        for notebook in sorted(target.glob("*.ipynb")):
            add_setup_cell(notebook)
    except ConfigError as exc:
        log.warning("released without the Colab set-up cell: %s", exc)
    return target
