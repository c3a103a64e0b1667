"""Do the three dependency lists agree?

pyproject.toml declares ranges (Colab keeps its own torch), requirements.txt is the pinned set
that make and CI install, environment.yml gives conda users the same pins.
"""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT


def pinned() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == "==", f"requirements.txt must pin exactly: {line}"
        pins[canonicalize_name(req.name)] = spec.version
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        reqs += [Requirement(r) for r in extra]
    return reqs


def test_every_declared_dependency_is_pinned_within_its_range():
    pins = pinned()
    for req in declared():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is in pyproject.toml but not pinned in requirements.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"requirements.txt pins {req.name}=={pins[name]}, outside pyproject's {req.specifier}"
        )


def test_environment_yml_lists_the_same_pins():
    text = (ROOT / "environment.yml").read_text()
    listed = {}
    for m in re.finditer(r"^\s+-\s+([A-Za-z0-9_.\-]+)==(\S+)\s*$", text, re.M):
        listed[canonicalize_name(m.group(1))] = m.group(2)
    assert listed == pinned()
    assert re.search(r"^\s+-\s+python=3\.11\s*$", text, re.M), (
        "environment.yml must ask for Python 3.11"
    )


def test_fixed_choices_are_kept():
    pins = pinned()
    assert pins["torch"] == "2.13.0", "torch 2.13.0's CPU wheel is what the course machines have"
    assert pins["jupyter-book"].startswith("1."), "Jupyter Book 2 cannot build offline"
    assert pins["nbgrader"].startswith("0.9."), "the grading tools are built on nbgrader 0.9"
    assert pins["jupyterlab"].startswith("4.")
