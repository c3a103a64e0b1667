"""One built book per test session, shared by the tests that read it.

``site`` builds the book the way ``make book`` does (``python -m autograder.publishing.book build``: chapter
pages from the course, then ``jupyter-book build -W -n --keep-going``, lessons executed through
the cache) and returns ``book/_build/html``. Import it into a test module
(``from tests.book_fixture import site_fixture``; tests ask for ``site``); the build runs once per process whichever module asks
first, and the modules that use it share the ``book`` xdist group so that they run in the same
process. The build's duration is kept in ``BUILD`` for reports.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

BOOK = ROOT / "book"
HTML = BOOK / "_build" / "html"
BUILD: dict[str, object] = {}


def run_build(timeout: float) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``python -m autograder.publishing.book build`` (as ``make book`` does); its result and seconds."""
    start = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "autograder.publishing.book", "build"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return run, time.perf_counter() - start


def build_book() -> Path:
    """Build the book (once per process) and return the HTML folder; fails the test if it breaks."""
    if "returncode" not in BUILD:
        run, seconds = run_build(timeout=1800)
        BUILD.update(
            returncode=run.returncode,
            seconds=seconds,
            output=f"{run.stdout[-5000:]}\n{run.stderr[-5000:]}",
        )
    assert BUILD["returncode"] == 0, f"the book does not build:\n{BUILD['output']}"
    return HTML


@pytest.fixture(scope="session", name="site")
def site_fixture() -> Path:
    """``book/_build/html``, built once per process."""
    return build_book()
