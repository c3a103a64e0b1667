"""Execute a notebook's code cells in-process, once per variant, and report each cell's result.

Usage: ``python -m tests.mutants.run NOTEBOOK VARIANTS.json RESULTS.json``

``VARIANTS.json`` is ``{"variant name": {"grade_id": "replacement source", ...}, ...}``; the
first variant must be the reference solution. The results map each variant to
``{grade_id: {"ok": bool, "error": str, "stderr": bool, "graded": bool, "verdict": str}}`` for
every cell that has a ``grade_id``:

- ``ok`` is the cell's outcome in the learner's kernel, as nbgrader decides it;
- ``graded`` is the verdict of ``autograder grade`` (:mod:`autograder.grading.verdicts`): the checks
  judged in the grader from the values the cell observed, against the values the reference
  variant's run recorded.

One execution gives both: each check call of a test cell goes through a recorder that keeps its
arguments (the reference run's record), its first argument (the learner's observation), and
then runs the check for real. Cells run in one IPython shell, reset between variants, so torch is
imported once per notebook rather than once per variant. A cell that fails does not stop the
later ones (as under nbgrader, which executes every cell).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import nbformat
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from autograder.grading.verdicts import CHECKS, OBSERVE, judge_cell, rewrite_for_reference
from autograder.grading.wire import encode


def _wire(value: Any) -> Any:
    """``value`` as it arrives in the grader: encoded, through JSON."""
    return json.loads(json.dumps(encode(value)))


def _recorder(records: list[dict[str, Any]]):
    def observe(site: str, payload: dict[str, Any]) -> Any:
        __tracebackhide__ = True
        args, kwargs = payload["args"], payload["kwargs"]
        if args:
            actual = args[0]
        else:
            actual = next((kwargs[k] for k in ("actual", "value") if k in kwargs), None)
        records.append({"site": site, "reference": _wire(payload), "learner": _wire(actual)})
        return CHECKS[site.split("@", 1)[0]](*args, **kwargs)

    return observe


def run_variant(
    shell: InteractiveShell,
    nb,
    replacements: dict[str, str],
    reference: dict[str, list[dict[str, Any]]] | None,
) -> tuple[dict[str, dict], dict[str, list[dict[str, Any]]]]:
    """Run one variant; its per-cell results, and its check records (the reference's, when
    ``reference`` is None)."""
    shell.reset(new_session=False)
    results: dict[str, dict] = {}
    recorded: dict[str, list[dict[str, Any]]] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id")
        source = replacements.get(grade_id, cell.source)
        is_test = bool(meta.get("grade")) and not meta.get("solution")
        records: list[dict[str, Any]] = []
        if is_test:
            source = rewrite_for_reference(source)
            shell.user_ns[OBSERVE] = _recorder(records)
        with capture_output() as captured:
            outcome = shell.run_cell(source, store_history=False)
        if not grade_id:
            continue
        error = ""
        if not outcome.success:
            exc = outcome.error_in_exec or outcome.error_before_exec
            error = f"{type(exc).__name__}: {exc}"[:2000]
        result = {
            "ok": bool(outcome.success),
            "error": error,
            "stderr": bool(captured.stderr.strip()),
        }
        if is_test:
            recorded[grade_id] = [{"site": r["site"], "value": r["reference"]} for r in records]
            expected = recorded if reference is None else reference
            verdict = judge_cell(
                expected.get(grade_id, []),
                [{"site": r["site"], "value": r["learner"]} for r in records],
                {"ename": type(exc).__name__, "evalue": str(exc)} if error else None,
            )
            result.update(graded=verdict.passed, verdict=verdict.message[:2000])
        results[grade_id] = result
    return results, recorded


def main(argv: list[str]) -> int:
    notebook, variants_path, results_path = argv
    nb = nbformat.read(notebook, as_version=4)
    variants = json.loads(Path(variants_path).read_text())
    shell = InteractiveShell.instance()
    results: dict[str, dict] = {}
    reference = None
    for name, replacements in variants.items():
        results[name], recorded = run_variant(shell, nb, replacements, reference)
        if reference is None:
            reference = recorded
    Path(results_path).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
