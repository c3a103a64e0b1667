"""Assemble the book's chapter pages from the course, build the book, publish the student branch.

``python -m autograder.publishing.book build`` (what ``make book`` runs):

1. For every chapter ``course/source/NN_topic/``, writes ``book/chapters/NN_topic/``:
   ``lesson.ipynb`` as written, and ``exercises.ipynb`` in its **student form**, made by
   nbgrader's own ``generate_assignment`` in a scratch course (so the instructor's gradebook and
   release folder are untouched). The book never sees solutions or hidden tests. Both get the
   Colab set-up cell (:mod:`autograder.publishing.colab`) as their first cell.
2. Runs ``jupyter-book build book/ -W -n --keep-going``: warnings are errors, lessons execute
   through the jupyter-cache (a rebuild with nothing changed executes nothing).

Files are rewritten only when their content changes, so Sphinx's own incremental build and the
execution cache both stay warm.

``python -m autograder.publishing.book publish DIR`` writes the tree of the **student branch** into
``DIR``: the repository's files without the instructor's ones (:data:`NOT_PUBLISHED`: sources
with solutions and hidden tests, the test suite), plus the generated ``book/chapters/``. The
launch buttons (Colab, Binder, JupyterHub) point to ``book/chapters/...`` on that branch
(``repository.branch`` in ``book/_config.yml``), since ``book/chapters/`` is generated and
not on the main branch. The tree also holds a Binder configuration (``.binder/``: the CPU build
of torch and the pinned versions) and a README for learners. Committing and pushing the tree is
left to git (see the instructor guide, ``book/guide/instructor.md``).

Deliberately left out: deploying the HTML site, and the PDF build.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import nbformat

from . import colab

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "course"
SOURCE = COURSE / "source"
BOOK = ROOT / "book"
CHAPTERS = BOOK / "chapters"
#: The notebooks of a chapter page, in the book and on the student branch.
PAGES = ("lesson.ipynb", "exercises.ipynb")
STAMP = ".exercises-source.sha256"
#: What the student branch leaves out: solutions and hidden tests, the test suite (its mutants
#: and fake submissions), drafts (unreleased chapters, solutions inside), the benchmark, CI
#: (which would run on the branch and fail there).
NOT_PUBLISHED = ("course/source/", "drafts/", "tests/", "bench/", ".ci/", ".github/")
#: Marks a folder written by :func:`publish`, which a later publish may empty and rewrite.
PUBLISH_MARKER = ".student-branch"


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


def notebook_bytes(nb) -> bytes:
    """A notebook serialised the way nbformat (and nbstripout) write it."""
    return (nbformat.writes(nb) + "\n").encode("utf-8")


def with_setup_cell(data: bytes, repo: colab.Repository) -> bytes:
    """The notebook ``data`` with the Colab set-up cell as its first cell."""
    nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    return notebook_bytes(colab.insert_setup_cell(nb, repo))


def prepare(
    book_chapters: Path = CHAPTERS, source: Path = SOURCE, repo: colab.Repository | None = None
) -> list[Path]:
    """Write the chapter pages of the book; return the files that changed."""
    repo = repo or colab.repository()
    changed: list[Path] = []
    chapters = chapter_dirs(source)
    stale_exercises: list[str] = []
    for chapter in chapters:
        dest = book_chapters / chapter.name
        lesson = chapter / "lesson.ipynb"
        if lesson.exists() and _write_if_changed(
            dest / "lesson.ipynb", with_setup_cell(lesson.read_bytes(), repo)
        ):
            changed.append(dest / "lesson.ipynb")
        exercises = chapter / "exercises.ipynb"
        if exercises.exists():
            digest = hashlib.sha256(exercises.read_bytes()).hexdigest()
            stamp = dest / STAMP
            if (
                not (dest / "exercises.ipynb").exists()
                or not stamp.exists()
                or stamp.read_text() != digest
            ):
                stale_exercises.append(chapter.name)
    for name, data in student_versions(stale_exercises, source).items():
        dest = book_chapters / name
        if _write_if_changed(dest / "exercises.ipynb", with_setup_cell(data, repo)):
            changed.append(dest / "exercises.ipynb")
        digest = hashlib.sha256((source / name / "exercises.ipynb").read_bytes()).hexdigest()
        (dest / STAMP).write_text(digest)
    # The set-up cell of exercises made earlier follows the configured repository.
    for chapter in chapters:
        page = book_chapters / chapter.name / "exercises.ipynb"
        if chapter.name not in stale_exercises and page.exists():
            if _write_if_changed(page, with_setup_cell(page.read_bytes(), repo)):
                changed.append(page)
    # Pages and chapters removed from the course leave the book too.
    known = {c.name for c in chapters}
    if book_chapters.exists():
        for old in book_chapters.iterdir():
            if old.is_dir() and old.name not in known:
                shutil.rmtree(old)
            elif old.is_dir():
                for name in PAGES:
                    if (old / name).exists() and not (source / old.name / name).exists():
                        (old / name).unlink()
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


def repository_files(root: Path = ROOT) -> list[str]:
    """The repository's files (tracked, or new and not ignored), relative to ``root``."""
    run = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        raise RuntimeError(f"publishing needs a git checkout of the course: {run.stderr.strip()}")
    names = sorted({n for n in run.stdout.split("\0") if n})
    return [n for n in names if (root / n).is_file() and not (root / n).is_symlink()]


def published(name: str) -> bool:
    """Whether the repository file ``name`` belongs on the student branch."""
    return not name.startswith(NOT_PUBLISHED) and not name.startswith("book/chapters/")


def binder_requirements(root: Path = ROOT) -> str:
    """``.binder/requirements.txt``: the pins of requirements.txt that a learner needs (the
    package's dependencies and its ``course`` and ``grading`` extras), torch from its CPU index."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    wanted = [*project["dependencies"], *extras.get("course", []), *extras.get("grading", [])]
    names = {canonicalize_name(Requirement(r).name) for r in wanted}
    pins = []
    for line in (root / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and canonicalize_name(Requirement(line).name) in names:
            pins.append(line)
    return (
        "# Binder (repo2docker) for the student branch; written by `python -m autograder.publishing.book\n"
        "# publish` from requirements.txt. torch comes from its CPU index: the default wheel\n"
        "# pulls several GB of CUDA libraries.\n"
        "--extra-index-url https://download.pytorch.org/whl/cpu\n" + "\n".join(pins) + "\n"
    )


BINDER_POSTBUILD = """#!/bin/bash
# Binder: install the course's package (its dependencies come from requirements.txt).
set -euo pipefail
python -m pip install --no-deps .
"""

STUDENT_README = """# From Neurons to Large Models: the notebooks for learners

This branch is **generated** from the course's main branch by `python -m autograder.publishing.book publish`
(do not edit it: the next publish replaces it). It holds what learners open:

- `book/chapters/NN_topic/lesson.ipynb`: each chapter's lesson;
- `book/chapters/NN_topic/exercises.ipynb`: its exercises, in the student version (the solutions
  and hidden tests are not here);
- the `autograder` package, with the checks the notebooks use.

Open a notebook with the launch buttons (Colab, Binder, JupyterHub) at the top of each page of
the course's book, or on your own machine (Python 3.11):

```bash
python -m pip install -e ".[course,grading]"
jupyter lab book/chapters
autograder check book/chapters/01_autograd/exercises.ipynb   # the visible tests of a notebook
```

The first cell of every notebook sets up Google Colab (it installs this package there) and does
nothing anywhere else.
"""


def publish(dest: Path, root: Path = ROOT) -> list[Path]:
    """Write the student branch's tree into ``dest``; return the files written.

    ``dest`` must be missing, empty, a previous publish, or a git checkout (its ``.git`` is
    kept, everything else replaced).
    """
    dest = Path(dest).resolve()
    if dest == root.resolve() or root.resolve().is_relative_to(dest):
        raise ValueError(f"cannot publish into {dest}: it holds the repository")
    if dest.exists() and any(dest.iterdir()):
        if not ((dest / PUBLISH_MARKER).exists() or (dest / ".git").exists()):
            raise ValueError(
                f"{dest} is not empty, not a git checkout and not a previous publish: refusing to "
                "replace its files"
            )
        for old in dest.iterdir():
            if old.name == ".git":
                continue
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old)
            else:
                old.unlink()
    dest.mkdir(parents=True, exist_ok=True)
    prepare(
        root / "book" / "chapters",
        root / "course" / "source",
        colab.repository(root / "book" / "_config.yml"),
    )

    written: list[Path] = []

    def put(rel: str, data: bytes, mode: int = 0o644) -> None:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(mode)
        written.append(target)

    for name in repository_files(root):
        if published(name):
            mode = 0o755 if os.access(root / name, os.X_OK) else 0o644
            put(name, (root / name).read_bytes(), mode)
    for chapter in chapter_dirs(root / "course" / "source"):
        for page in PAGES:
            path = root / "book" / "chapters" / chapter.name / page
            if path.exists():
                put(f"book/chapters/{chapter.name}/{page}", path.read_bytes())
    # On this branch book/chapters/ is content, not a build product.
    ignore = (root / ".gitignore").read_text() if (root / ".gitignore").exists() else ""
    kept = [line for line in ignore.splitlines() if line.strip().rstrip("/") != "book/chapters"]
    put(".gitignore", ("\n".join(kept) + "\n").encode())
    put("README.md", STUDENT_README.encode())
    put(".binder/requirements.txt", binder_requirements(root).encode())
    put(".binder/runtime.txt", b"python-3.11\n")
    put(".binder/postBuild", BINDER_POSTBUILD.encode(), 0o755)
    put(PUBLISH_MARKER, b"written by python -m autograder.publishing.book publish\n")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder.publishing.book", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prepare", help="write book/chapters from course/source")
    b = sub.add_parser("build", help="prepare, then build the HTML book")
    b.add_argument("jb_args", nargs="*", help="extra arguments for jupyter-book build")
    p = sub.add_parser("publish", help="write the student branch's tree into DIR")
    p.add_argument("dir", type=Path, help="an empty folder, a previous publish or a git checkout")
    args = parser.parse_args(argv)
    if args.command == "prepare":
        for path in prepare():
            print(f"updated {path.relative_to(ROOT)}")
        return 0
    if args.command == "publish":
        try:
            written = publish(args.dir)
        except (ValueError, RuntimeError, colab.ConfigError) as exc:
            print(f"publish: {exc}", file=sys.stderr)
            return 2
        repo = colab.repository()
        print(f"wrote {len(written)} files to {args.dir}: the tree of branch {repo.branch!r}")
        return 0
    return build(extra=args.jb_args)


if __name__ == "__main__":
    sys.exit(main())
