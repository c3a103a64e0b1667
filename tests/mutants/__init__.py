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


def chapters() -> dict[str, list[Mutant]]:
    """All chapters' mutants, by chapter folder name (``01_autograd`` ...)."""
    found: dict[str, list[Mutant]] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name == "run":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found[info.name.removeprefix("ch")] = list(module.MUTANTS)
    return found
