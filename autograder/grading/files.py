"""A submission's files are what they claim, and its names print safely.

A learner controls every name and file under their folder of ``submitted/``. A symbolic link
or a hard link there can point at the course's sources (the reference solutions and hidden
tests), at the gradebook or at another student's work, and a FIFO blocks whoever opens it.
:func:`refusal` says why a student's folder cannot be graded: the student folder, the
assignment folder, a notebook or a data file that is a symbolic link, a hard link
(``st_nlink > 1``), anything but a regular file or folder, or a name that is not printable text.
:func:`open_regular` opens a file without following links and checks what it opened (a file
swapped after the check is still refused). :func:`printable` escapes and truncates any
learner-chosen text before it is written to the CSV, a log or a message.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

#: Longest name shown in the CSV and messages (longer ones are cut, with a hash of the whole).
MAX_NAME = 100
#: A submission's folder with more entries than this is not walked (nor graded).
MAX_ENTRIES = 10_000


class Refused(Exception):
    """A file that is not what it claims to be (its message says which and why)."""


def printable(text: object, limit: int = MAX_NAME) -> str:
    """``text`` as one line of printable text of at most about ``limit`` characters.

    Bytes that were not UTF-8 (Python's surrogate escapes) become ``\\xNN``, control and other
    unprintable characters ``\\n``, ``\\xNN`` or ``\\uNNNN``; a longer text is cut and ends with
    ``…`` and 8 hex digits of its hash, so two long names stay distinct.
    """
    text = str(text)
    out = []
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as os.fsdecode left it
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch in "\n\r\t":
            out.append(repr(ch)[1:-1])
        elif ch.isprintable():
            out.append(ch)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    shown = "".join(out)
    if len(shown) <= limit:
        return shown
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{shown[: max(limit - 9, 1)]}…{digest}"


def name_problem(name: str) -> str | None:
    """Why ``name`` (a file or folder name) cannot be used as it is, or None."""
    if printable(name, limit=len(name) * 10 + 10) != name:
        return f"the name '{printable(name)}' is not printable text (undecodable bytes or control characters)"
    return None


def _kind_problem(st: os.stat_result, shown: str) -> str | None:
    if stat.S_ISLNK(st.st_mode):
        return f"{shown} is a symbolic link: hand in the real files and folders, not links to them"
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        return f"{shown} is not a regular file"
    if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
        return f"{shown} is a hard link to another file: hand in a copy of your own"
    return None


def refusal(student: Path, assignment: str, notebooks: list[str]) -> str | None:
    """Why the folder ``student`` (in ``submitted/``) cannot be graded, or None.

    Checked without following any link: the student folder itself, its name, the assignment
    folder, each expected notebook, and every file that would be copied beside them (hidden
    files, ``__pycache__`` and other notebooks are never copied and are not looked at).
    """
    if problem := name_problem(student.name):
        return f"the student folder: {problem}"
    if problem := _kind_problem(os.lstat(student), "the student folder"):
        return problem
    folder = student / assignment
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        return None  # every notebook is missing
    if stat.S_ISLNK(st.st_mode):
        return _kind_problem(st, f"the assignment folder {printable(assignment)}")
    if not stat.S_ISDIR(st.st_mode):
        return None
    expected = {f"{nb}.ipynb" for nb in notebooks}
    for seen, rel in enumerate(entries(folder), start=1):
        if seen > MAX_ENTRIES:
            return f"the assignment folder holds more than {MAX_ENTRIES} files"
        if rel.suffix == ".ipynb" and str(rel) not in expected:
            continue  # other notebooks (a lesson, a copy) are never executed nor copied
        if problem := name_problem(rel.name):
            return f"a file in the submission: {problem}"
        if problem := _kind_problem(os.lstat(folder / rel), printable(str(rel))):
            return problem
    return None


def entries(folder: Path) -> Iterator[Path]:
    """Every file and folder under ``folder`` that grading may copy, relative to it, in order.

    Links are listed, never followed; hidden entries and ``__pycache__`` are left out with
    everything under them.
    """
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        rel_dir = Path(dirpath).relative_to(folder)
        for name in [*dirnames, *sorted(filenames)]:
            if not name.startswith("."):
                yield rel_dir / name


def open_regular(path: Path) -> int:
    """A read-only descriptor of ``path``, which must be a regular file with one link.

    The last component is never followed (``O_NOFOLLOW``), a FIFO or device does not block
    (``O_NONBLOCK``), and what was opened is checked with ``fstat``: a file swapped for a link
    after :func:`refusal` looked at it is refused here.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    shown = printable(path.name)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # the last component is a symbolic link
            raise Refused(f"{shown} is a symbolic link") from exc
        raise
    st = os.fstat(fd)
    regular = stat.S_ISREG(st.st_mode)
    if problem := _kind_problem(st, shown) if regular else f"{shown} is not a regular file":
        os.close(fd)
        raise Refused(problem)
    return fd


def read_regular(path: Path) -> bytes:
    """The bytes of ``path``, opened with :func:`open_regular`."""
    with os.fdopen(open_regular(path), "rb") as fh:
        return fh.read()


def copy_regular(source: Path, dest: Path) -> None:
    """Copy ``source`` (opened with :func:`open_regular`) to ``dest``.

    Written to a new file beside ``dest`` and renamed over it: an earlier copy (a notebook of
    the same assignment recorded before, a previous grading) is replaced, never written
    through, and a crash leaves no half-written file."""
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with os.fdopen(open_regular(source), "rb") as src, open(tmp, "xb") as out:
            shutil.copyfileobj(src, out)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
