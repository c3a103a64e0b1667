"""Shared fixtures: where things are, and the chapters the course has."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "course"
SOURCE = COURSE / "source"
CHAPTERS = sorted(p.name for p in SOURCE.iterdir() if p.is_dir() and p.name[:2].isdigit())

os.environ.setdefault("MPLBACKEND", "Agg")
# nbgrader runs `alembic` from PATH: put this interpreter's bin folder (the venv's) first.
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")


def exercise_chapters() -> list[str]:
    return [c for c in CHAPTERS if (SOURCE / c / "exercises.ipynb").exists()]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


# Fixture notebooks (broken submissions among them) are data, not notebooks to validate.
collect_ignore_glob = ["files/*"]


# How `make test` spreads the suite over pytest-xdist's workers (`--dist loadgroup
# --no-loadscope-reorder`): each xdist group runs whole on one worker, so that its module-scoped
# fixtures are built once. A test without a group of its own is grouped with its file (notebooks
# too); the chapters' mutants, tampering batches and nbgrader round trips are one group per
# chapter (marked in their modules), so that they spread over the workers. The longest groups
# go first, so that no long group starts last while the other worker idles. tests/test_schedule.py
# checks that xdist keeps the groups (with pytest 9.2 it ignored them all).
LONGEST_FIRST = ("book", "mutants-", "tampering-", "release-", "tests/test_adversarial.py", "lab")


def _group(item: pytest.Item) -> str | None:
    mark = item.get_closest_marker("xdist_group")
    return None if mark is None else str(mark.args[0] if mark.args else mark.kwargs["name"])


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        if _group(item) is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))

    def rank(item: pytest.Item) -> int:
        group = _group(item) or ""
        return next(
            (i for i, prefix in enumerate(LONGEST_FIRST) if group.startswith(prefix)),
            len(LONGEST_FIRST),
        )

    items.sort(key=rank)  # stable: within a rank, the collection order
