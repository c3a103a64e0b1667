"""Does the Colab set-up cell install the course's package on Colab, and only there?

The cell is the first cell of every notebook a learner opens (the book's pages, the student
branch). On Colab it must run exactly one pip command that installs this package from the
configured repository and never torch; anywhere else it must do nothing. The repository URL is
configured once, in ``book/_config.yml``, and nothing else may repeat it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest
import yaml
from packaging.requirements import Requirement

from autograder.publishing import colab
from tests.conftest import ROOT

CONFIG = yaml.safe_load((ROOT / "book" / "_config.yml").read_text())


def test_the_repository_comes_from_the_book_config():
    repo = colab.repository()
    assert repo.url == CONFIG["repository"]["url"].rstrip("/")
    assert repo.branch == CONFIG["repository"]["branch"]
    assert repo.path_to_book == CONFIG["repository"]["path_to_book"]
    assert repo.url.startswith("https://github.com/"), "Colab opens notebooks from GitHub"


def test_a_missing_url_is_a_clear_error(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text("title: x\n")
    with pytest.raises(colab.ConfigError, match="repository.url"):
        colab.repository(config)
    with pytest.raises(colab.ConfigError, match="not found"):
        colab.repository(tmp_path / "missing.yml")


def test_the_cell_is_valid_python_and_formatted():
    source = colab.setup_source()
    ast.parse(source)
    ruff = Path(sys.executable).with_name("ruff")
    run = subprocess.run(
        [str(ruff), "format", "--check", "--stdin-filename", "cell.py", "-"],
        input=source + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 0, f"ruff would reformat the set-up cell:\n{run.stdout}{run.stderr}"


def test_outside_colab_the_cell_does_nothing():
    """Run as a script in a fresh interpreter (as on JupyterLab): no output, no pip, no error."""
    guard = (
        "import subprocess\n"
        "def refuse(*a, **k):\n"
        "    raise SystemExit('the set-up cell started a process outside Colab')\n"
        "subprocess.run = subprocess.Popen = subprocess.call = subprocess.check_call = refuse\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", guard + colab.setup_source()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == "" and run.stderr == ""


def run_on_fake_colab(monkeypatch) -> list[list[str]]:
    """Execute the cell with a fake ``google.colab`` module; return the commands it ran."""
    calls: list[list[str]] = []

    def fake_run(cmd, *args, **kwargs):
        calls.append(list(cmd))
        assert kwargs.get("check") is True, "a failed install must stop the notebook"
        return subprocess.CompletedProcess(cmd, 0)

    google = types.ModuleType("google")
    google_colab = types.ModuleType("google.colab")
    google.colab = google_colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", google_colab)
    monkeypatch.setattr(subprocess, "run", fake_run)

    def refuse(*args, **kwargs):
        pytest.fail("the set-up cell may only call subprocess.run")

    for name in ("Popen", "call", "check_call", "check_output", "getoutput", "getstatusoutput"):
        monkeypatch.setattr(subprocess, name, refuse)

    def no_ipython():
        pytest.fail("the set-up cell must not depend on IPython magics")

    exec(compile(colab.setup_source(), "<colab-setup>", "exec"), {"get_ipython": no_ipython})
    return calls


def test_on_colab_the_cell_pip_installs_the_package_from_the_repository(monkeypatch):
    calls = run_on_fake_colab(monkeypatch)
    assert len(calls) == 1, calls
    cmd = calls[0]
    assert cmd[:4] == [sys.executable, "-m", "pip", "install"], cmd
    options = [a for a in cmd[4:] if a.startswith("-")]
    assert set(options) <= {"--quiet", "-q"}, f"unexpected pip options {options}"
    (spec,) = [a for a in cmd[4:] if not a.startswith("-")]
    req = Requirement(spec)
    repo = colab.repository()
    assert req.name == "neurons-to-llms"
    assert req.extras == {"course"}
    assert req.url == f"git+{repo.url}@{repo.branch}"


def test_on_colab_the_cell_keeps_colabs_torch(monkeypatch):
    """No torch in the command, no upgrade or reinstall, and the package asks only for a range."""
    (cmd,) = run_on_fake_colab(monkeypatch)
    text = " ".join(cmd[1:]).lower()
    assert "torch" not in text
    for option in ("-u", "--upgrade", "--force-reinstall", "--ignore-installed", "-i"):
        assert option not in cmd, option
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = [Requirement(r) for r in project["dependencies"]]
    deps += [Requirement(r) for r in project["optional-dependencies"]["course"]]
    for dep in deps:
        assert not any(s.operator in ("==", "===", "<", "<=", "~=") for s in dep.specifier), (
            f"{dep}: the package must accept the versions Colab has (a lower bound only)"
        )
    (torch,) = [d for d in deps if d.name == "torch"]
    assert torch.specifier.contains("2.6.0"), "Colab's torch must satisfy the package's range"


def test_inserting_the_cell_is_idempotent_and_first(tmp_path):
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("x = 1")]
    )
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    assert colab.add_setup_cell(path) is True
    assert colab.add_setup_cell(path) is False, "a second insertion must change nothing"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert [c.get("id") for c in nb.cells][0] == colab.CELL_ID
    assert sum(c.get("id") == colab.CELL_ID for c in nb.cells) == 1
    assert [c.source for c in nb.cells[1:]] == ["# Title", "x = 1"]
    # a changed repository replaces the old cell
    other = colab.Repository("https://github.com/someone/fork", "student")
    nb = colab.insert_setup_cell(nb, other)
    assert "someone/fork@student" in nb.cells[0].source
    assert sum(c.get("id") == colab.CELL_ID for c in nb.cells) == 1


def test_an_old_notebook_gets_cell_ids(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nb.nbformat_minor = 4
    for cell in nb.cells:
        cell.pop("id", None)
    nb = colab.insert_setup_cell(nb)
    assert nb.nbformat_minor >= 5
    nbformat.validate(nb)


def repository_text_files() -> list[str]:
    run = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    names = []
    for name in run.stdout.splitlines():
        path = ROOT / name
        if path.is_file() and path.suffix in {".py", ".md", ".yml", ".yaml", ".toml", ".txt",
                                              ".ipynb", ".cfg", ".ini", ".json", ""}:  # fmt: skip
            names.append(name)
    return names


def test_the_repository_url_is_configured_in_one_place():
    """Only book/_config.yml holds the URL; everything else reads it from there."""
    repo = colab.repository()
    owner_repo = repo.url.removeprefix("https://github.com/")
    offenders = []
    for name in repository_text_files():
        if name == "book/_config.yml":
            continue
        text = (ROOT / name).read_text(errors="replace")
        if owner_repo in text or "git+" + "https://" in text:
            offenders.append(name)
    assert not offenders, (
        f"these files repeat the repository URL ({repo.url}) instead of reading it from "
        f"book/_config.yml: {offenders}"
    )
