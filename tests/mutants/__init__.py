"""Wrong implementations kept to prove that each hidden test catches the mistake it names.

One module per chapter, ``tests/mutants/<chapter>.py``, with a list ``MUTANTS``. Each mutant
replaces one solution cell (by its nbgrader ``grade_id``) and names the hidden-test cells that
must fail. ``tests/test_mutants.py`` runs them all with :mod:`tests.mutants.run`.
"""

from __future__ import annotations

import importlib
import pkgutil
import textwrap
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Mutant:
    """A plausible wrong solution for one exercise.

    Attributes:
        name: short identifier, unique within the chapter.
        cell: ``grade_id`` of the solution cell it replaces.
        fails: ``grade_id``s of the test cells that must fail with it.
        code: the wrong solution cell's source.
        extra: replacements for further solution cells (``grade_id`` -> source), for mutants
            whose mistake spans two cells.
    """

    name: str
    cell: str
    fails: list[str]
    code: str
    extra: dict[str, str] = field(default_factory=dict)

    def replacements(self) -> dict[str, str]:
        return {self.cell: textwrap.dedent(self.code).strip() + "\n", **self.extra}


def reference_solutions(chapter: str) -> dict[str, str]:
    """The reference solution cells of a chapter's exercises, by ``grade_id``."""
    import nbformat

    path = Path(__file__).resolve().parents[2] / "course" / "source" / chapter / "exercises.ipynb"
    nb = nbformat.read(path, as_version=4)
    return {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in nb.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


def edited(references: dict[str, str], grade_id: str, *edits: tuple[str, str]) -> str:
    """The reference solution ``grade_id`` with each ``(old, new)`` replacement applied.

    Mutants written as edits of the reference follow it when it changes; an edit that no longer
    applies fails loudly at import, naming the mutant's cell.
    """
    code = references[grade_id]
    for old, new in edits:
        if old not in code:
            raise ValueError(f"the reference {grade_id} has no {old!r}; update this mutant")
        code = code.replace(old, new)
    return code


def chapters() -> dict[str, list[Mutant]]:
    """All chapters' mutants, by chapter folder name (``01_autograd`` ...)."""
    found: dict[str, list[Mutant]] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name == "run":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found[info.name.removeprefix("ch")] = list(module.MUTANTS)
    return found
