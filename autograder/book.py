"""Assemble the book's chapter pages from the course, then build the book with Jupyter Book 1.

``python -m autograder.book build`` (what ``make book`` runs):

1. For every chapter ``course/source/NN_topic/``, writes ``book/chapters/NN_topic/``:
   ``lesson.ipynb`` as written, and ``exercises.ipynb`` in its **student form**, made by
   nbgrader's own ``generate_assignment`` in a scratch course (so the instructor's gradebook and
   release folder are untouched). The book never sees solutions or hidden tests.
2. Runs ``jupyter-book build book/ -W -n --keep-going``: warnings are errors, lessons execute
   through the jupyter-cache (a rebuild with nothing changed executes nothing).

Files are rewritten only when their content changes, so Sphinx's own incremental build and the
execution cache both stay warm. Deliberately left out: deploying the site, and the PDF build.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "course"
SOURCE = COURSE / "source"
BOOK = ROOT / "book"
CHAPTERS = BOOK / "chapters"


def chapter_dirs(source: Path = SOURCE) -> list[Path]:
    """Chapter folders in course order (``NN_topic``)."""
    return sorted(p for p in source.iterdir() if p.is_dir() and p.name[:2].isdigit())


def venv_env() -> dict[str, str]:
    """The environment with this interpreter's bin folder first on PATH.

    nbgrader runs ``alembic`` from PATH when it opens a gradebook, so a venv that is not
    activated (``.venv/bin/nbgrader ...``) fails without this.
    """
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    # Kernels must use their inline backend so figures land in the pages; MPLBACKEND=Agg
    # (set by test runs) would make plt.show() draw nothing.
    env.pop("MPLBACKEND", None)
    return env


def _write_if_changed(path: Path, data: bytes) -> bool:
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def student_versions(chapters: list[str], source: Path = SOURCE) -> dict[str, bytes]:
    """The released (student) ``exercises.ipynb`` of each chapter, made by nbgrader.

    Runs ``nbgrader generate_assignment`` in a scratch copy of the course, with a scratch
    gradebook, using the course's own ``nbgrader_config.py`` (same stubs, same options).
    """
    out: dict[str, bytes] = {}
    if not chapters:
        return out
    with tempfile.TemporaryDirectory(prefix="book-release-") as tmp:
        scratch = Path(tmp)
        shutil.copy(COURSE / "nbgrader_config.py", scratch / "nbgrader_config.py")
        for name in chapters:
            shutil.copytree(source / name, scratch / "source" / name)
            cmd = [
                str(Path(sys.executable).with_name("nbgrader")),
                "generate_assignment",
                name,
                "--force",
                "--log-level=WARN",
                f"--CourseDirectory.root={scratch}",
                f"--CourseDirectory.db_url=sqlite:///{scratch / 'gradebook.db'}",
            ]
            run = subprocess.run(cmd, cwd=scratch, capture_output=True, text=True, env=venv_env())
            released = scratch / "release" / name / "exercises.ipynb"
            if run.returncode != 0 or not released.exists():
                raise RuntimeError(
                    f"nbgrader could not make the student version of {name}:\n{run.stdout}{run.stderr}"
                )
            out[name] = released.read_bytes()
    return out


def prepare(book_chapters: Path = CHAPTERS, source: Path = SOURCE) -> list[Path]:
    """Write the chapter pages of the book; return the files that changed."""
    changed: list[Path] = []
    chapters = chapter_dirs(source)
    stale_exercises: list[str] = []
    for chapter in chapters:
        dest = book_chapters / chapter.name
        lesson = chapter / "lesson.ipynb"
        if lesson.exists() and _write_if_changed(dest / "lesson.ipynb", lesson.read_bytes()):
            changed.append(dest / "lesson.ipynb")
        exercises = chapter / "exercises.ipynb"
        if exercises.exists():
            digest = hashlib.sha256(exercises.read_bytes()).hexdigest()
            stamp = dest / ".exercises-source.sha256"
            if (
                not (dest / "exercises.ipynb").exists()
                or not stamp.exists()
                or stamp.read_text() != digest
            ):
                stale_exercises.append(chapter.name)
    for name, data in student_versions(stale_exercises, source).items():
        dest = book_chapters / name
        if _write_if_changed(dest / "exercises.ipynb", data):
            changed.append(dest / "exercises.ipynb")
        digest = hashlib.sha256((source / name / "exercises.ipynb").read_bytes()).hexdigest()
        (dest / ".exercises-source.sha256").write_text(digest)
    # Chapters removed from the course leave the book too.
    known = {c.name for c in chapters}
    if book_chapters.exists():
        for old in book_chapters.iterdir():
            if old.is_dir() and old.name not in known:
                shutil.rmtree(old)
    return changed


def build(book: Path = BOOK, extra: list[str] | None = None) -> int:
    """Prepare the chapter pages and build the HTML site into ``book/_build/html``."""
    prepare(book / "chapters")
    cmd = [
        str(Path(sys.executable).with_name("jupyter-book")),
        "build",
        str(book),
        "-W",
        "-n",
        "--keep-going",
        *(extra or []),
    ]
    return subprocess.run(cmd, cwd=ROOT, env=venv_env()).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder.book", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prepare", help="write book/chapters from course/source")
    b = sub.add_parser("build", help="prepare, then build the HTML book")
    b.add_argument("jb_args", nargs="*", help="extra arguments for jupyter-book build")
    args = parser.parse_args(argv)
    if args.command == "prepare":
        for path in prepare():
            print(f"updated {path.relative_to(ROOT)}")
        return 0
    return build(extra=args.jb_args)


if __name__ == "__main__":
    sys.exit(main())
