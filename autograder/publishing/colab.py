"""The Colab set-up cell: the first cell of every notebook a learner opens.

On Google Colab (``"google.colab" in sys.modules``) the cell installs this course's package,
``neurons-to-llms[course]``, with pip from the course's repository; everywhere else (JupyterLab,
a laptop, the grader) it does nothing. It never names torch: the package asks for
``torch>=2.1``, which Colab's own build satisfies, so pip keeps it (pip's default upgrade
strategy only installs what is missing or too old) and never downloads a second, multi-GB torch.

The repository URL and the branch learners install from are configured in one place,
``repository:`` of ``book/_config.yml`` (the launch buttons read the same keys), and read by
:func:`repository`. The branch is the published student branch (see ``python -m autograder.publishing.book
publish``), so a learner installs the package that matches the notebooks they opened.

Used by ``python -m autograder.publishing.book`` for the book's lesson and exercise pages, and meant for
the ``autograder release`` command: :func:`insert_setup_cell` (on a notebook) or
:func:`add_setup_cell` (on a file). Inserting is idempotent: an existing set-up cell (found by
its id, :data:`CELL_ID`) is replaced, so a changed URL reaches every notebook.

Left out: anything GPU-specific (each notebook's own first code cell chooses ``device``) and
other hosted services (Binder and JupyterHub install the course's environment up front).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "book" / "_config.yml"
#: The cell's id in every notebook (nbformat 4.5 cell ids); how the cell is found again.
CELL_ID = "colab-setup"
#: Jupyter Book hides the cell on the web pages (it still runs, and doing nothing there).
CELL_TAGS = ["remove-cell"]
PACKAGE = "neurons-to-llms"
EXTRAS = "course"

SOURCE_TEMPLATE = """\
# Set-up for Google Colab: installs this course's package (and nothing else: Colab's own torch
# is kept). On JupyterLab or your own machine this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import importlib
    import subprocess

    requirement = {requirement}
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", requirement], check=True)
    importlib.invalidate_caches()
"""


class ConfigError(Exception):
    """``book/_config.yml`` does not say where the repository is."""


@dataclass(frozen=True)
class Repository:
    """Where learners get the course: ``repository:`` of ``book/_config.yml``."""

    url: str
    branch: str
    path_to_book: str = "book"

    @property
    def requirement(self) -> str:
        """The pip requirement the set-up cell installs (a PEP 508 direct reference)."""
        return f"{PACKAGE}[{EXTRAS}] @ git+{self.url}@{self.branch}"


def repository(config: Path = CONFIG) -> Repository:
    """The repository configured in ``book/_config.yml`` (``url``, ``branch``, ``path_to_book``)."""
    import yaml

    try:
        data = yaml.safe_load(Path(config).read_text()) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"{config} not found: the repository URL is configured there") from exc
    repo = data.get("repository") or {}
    url = str(repo.get("url") or "").rstrip("/")
    branch = str(repo.get("branch") or "")
    if not url.startswith("https://") or not branch:
        raise ConfigError(f"{config}: set repository.url (https://...) and repository.branch")
    return Repository(url=url, branch=branch, path_to_book=str(repo.get("path_to_book") or ""))


def setup_source(repo: Repository | None = None) -> str:
    """The Python source of the set-up cell."""
    repo = repo or repository()
    return SOURCE_TEMPLATE.format(requirement=json.dumps(repo.requirement)).rstrip("\n")


def setup_cell(repo: Repository | None = None) -> NotebookNode:
    """The set-up cell, ready to insert (id :data:`CELL_ID`, no outputs)."""
    cell = nbformat.v4.new_code_cell(setup_source(repo), metadata={"tags": list(CELL_TAGS)})
    cell["id"] = CELL_ID
    return cell


def has_setup_cell(nb: NotebookNode) -> bool:
    return any(cell.get("id") == CELL_ID for cell in nb.cells)


def insert_setup_cell(nb: NotebookNode, repo: Repository | None = None) -> NotebookNode:
    """Make the set-up cell the first cell of ``nb`` (replacing an older one); returns ``nb``.

    The notebook is upgraded to nbformat 4.5 when needed, since the cell is found by its id.
    """
    if (nb.nbformat, nb.nbformat_minor) < (4, 5):
        nb = nbformat.v4.upgrade(nb, from_version=nb.nbformat, from_minor=nb.nbformat_minor)
        nb.nbformat_minor = 5
    nb.cells = [setup_cell(repo)] + [c for c in nb.cells if c.get("id") != CELL_ID]
    return nb


def add_setup_cell(path: Path, repo: Repository | None = None) -> bool:
    """Insert the set-up cell into the notebook file at ``path``; True if the file changed."""
    path = Path(path)
    before = path.read_text(encoding="utf-8")
    nb = insert_setup_cell(nbformat.reads(before, as_version=4), repo)
    after = nbformat.writes(nb) + "\n"
    if after == before:
        return False
    path.write_text(after, encoding="utf-8")
    return True


__all__ = [
    "CELL_ID",
    "ConfigError",
    "Repository",
    "add_setup_cell",
    "has_setup_cell",
    "insert_setup_cell",
    "repository",
    "setup_cell",
    "setup_source",
]
