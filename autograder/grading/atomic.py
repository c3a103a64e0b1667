"""Write a result file so that readers see the old file or the new one, never half of either.

The CSV, the gradebook export, the per-submission ``autograder.json`` and feedback pages are
written to a temporary file in the same folder, flushed to disk and renamed into place
(``os.replace`` is atomic on POSIX): a grading run killed mid-write leaves the previous file
intact. Left out: the gradebook itself (SQLite has its own transactions).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["atomic_open", "write_text_atomic"]


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, **kwargs) -> Iterator[IO[str]]:
    """``open(path, "w", **kwargs)`` that renames into place only when the block succeeds."""
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "w", **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_open(path, encoding="utf-8") as fh:
        fh.write(text)
