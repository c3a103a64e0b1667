"""Shared fixtures: where things are, and the chapters the course has."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "course"
SOURCE = COURSE / "source"
CHAPTERS = sorted(p.name for p in SOURCE.iterdir() if p.is_dir() and p.name[:2].isdigit())

os.environ.setdefault("MPLBACKEND", "Agg")


def exercise_chapters() -> list[str]:
    return [c for c in CHAPTERS if (SOURCE / c / "exercises.ipynb").exists()]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
