"""Execute a notebook's code cells in-process, once per variant, and report each cell's result.

Usage: ``python -m tests.mutants.run NOTEBOOK VARIANTS.json RESULTS.json``

``VARIANTS.json`` is ``{"variant name": {"grade_id": "replacement source", ...}, ...}``; the
results map each variant to ``{grade_id: {"ok": bool, "error": str, "stderr": bool}}`` for every
cell that has a ``grade_id``. Cells run in one IPython shell, reset between variants, so torch
is imported once per notebook rather than once per variant. A cell that fails does not stop the
later ones (as under nbgrader, which executes every cell).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output


def run_variant(shell: InteractiveShell, nb, replacements: dict[str, str]) -> dict[str, dict]:
    shell.reset(new_session=False)
    results: dict[str, dict] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        source = replacements.get(grade_id, cell.source)
        with capture_output() as captured:
            outcome = shell.run_cell(source, store_history=False)
        if grade_id:
            error = ""
            if not outcome.success:
                exc = outcome.error_in_exec or outcome.error_before_exec
                error = f"{type(exc).__name__}: {exc}"[:2000]
            results[grade_id] = {
                "ok": bool(outcome.success),
                "error": error,
                "stderr": bool(captured.stderr.strip()),
            }
    return results


def main(argv: list[str]) -> int:
    notebook, variants_path, results_path = argv
    nb = nbformat.read(notebook, as_version=4)
    variants = json.loads(Path(variants_path).read_text())
    shell = InteractiveShell.instance()
    results = {name: run_variant(shell, nb, repl) for name, repl in variants.items()}
    Path(results_path).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
