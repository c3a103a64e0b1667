"""Does the package show its three audiences, and does every notebook's import still work?"""

from __future__ import annotations

import importlib
import subprocess
import sys

import autograder
from tests.conftest import ROOT

PARTS = {
    "checks": {"values", "tolerances", "gradients", "modules", "optim", "training", "contract"},
    "grading": {
        "atomic",
        "batch",
        "cluster",
        "execution",
        "feedback",
        "files",
        "gradebook",
        "report",
        "isolated",
        "notebooks",
        "sandbox",
        "selfcheck",
        "submissions",
        "throughput",
        "verdicts",
        "wire",
        "worker",
        "zygote",
    },
    "publishing": {"book", "colab", "course"},
}


def test_the_package_is_three_parts_and_a_thin_cli():
    top = {p.stem for p in (ROOT / "autograder").glob("*.py")}
    assert top == {"__init__", "cli"}, f"flat modules left at the top: {top - {'__init__', 'cli'}}"
    for part, modules in PARTS.items():
        found = {p.stem for p in (ROOT / "autograder" / part).glob("*.py")} - {"__init__"}
        assert found == modules, f"autograder/{part}: {sorted(found ^ modules)}"
        package = importlib.import_module(f"autograder.{part}")
        assert package.__doc__ and len(package.__doc__) > 200, (
            f"autograder.{part} needs a docstring"
        )


def test_every_name_notebooks_import_from_autograder_resolves():
    for name in autograder.__all__:
        assert getattr(autograder, name) is not None, name
        module = autograder._EXPORTS[name]
        assert module.startswith("checks."), f"{name} is a learner's import: keep it in checks/"


def test_importing_the_package_and_the_cli_needs_no_torch():
    code = (
        "import sys, autograder, autograder.cli, autograder.checks, autograder.grading, "
        "autograder.publishing\nassert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_reference_only_is_a_no_op_in_a_learners_notebook():
    ran = []
    with autograder.reference_only():
        ran.append(True)
    assert ran == [True]
