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
