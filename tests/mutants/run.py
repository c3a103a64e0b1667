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
then runs the check for real. A cell that fails does not stop the later ones (as under
nbgrader, which executes every cell).

The notebook runs once, as the reference, in one IPython shell (torch is imported once). A
variant differs from the reference from the first cell it replaces on: just before that cell
the process forks, and the child runs the rest of the notebook with the variant's cells, so
that the cells before it are not run again. Children run one at a time, single-threaded
(``OMP_NUM_THREADS=1``, set before torch is imported: an OpenMP pool does not survive a fork).
A variant's results for the cells before its first replaced one are the reference's.
"""

from __future__ import annotations

import os

os.environ["OMP_NUM_THREADS"] = "1"  # before anything imports torch

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import nbformat  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402
from traitlets.config import Config  # noqa: E402

from autograder.grading.verdicts import CHECKS, OBSERVE, judge_cell, rewrite_for_reference  # noqa: E402
from autograder.grading.wire import encode  # noqa: E402


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


def run_cell(shell: InteractiveShell, cell, replacements: dict[str, str]) -> dict | None:
    """Run one code cell (or its replacement); its raw outcome, None for a cell without a
    ``grade_id`` (it runs, nothing is reported)."""
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
        return None
    exc = None
    if not outcome.success:
        err = outcome.error_in_exec or outcome.error_before_exec
        exc = {"ename": type(err).__name__, "evalue": str(err)}
    return {
        "grade_id": grade_id,
        "ok": bool(outcome.success),
        "error": f"{exc['ename']}: {exc['evalue']}"[:2000] if exc else "",
        "stderr": bool(captured.stderr.strip()),
        "is_test": is_test,
        "records": records,
        "exc": exc,
    }


def run_forked(shell: InteractiveShell, cells: list, replacements: dict[str, str]) -> list:
    """Run ``cells`` with ``replacements`` in a forked child of this process (which continues
    unchanged); the children's raw outcomes."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, report through the pipe, and leave without cleanup
        os.close(read_fd)
        status = 1
        try:
            out = [run_cell(shell, cell, replacements) for cell in cells]
            with os.fdopen(write_fd, "wb") as fh:
                fh.write(json.dumps(out).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as fh:
        data = fh.read()
    _, status = os.waitpid(pid, 0)
    if status == 0 and data:
        return json.loads(data)
    died = f"the variant's process ended with status {status}"
    return [
        {"grade_id": gid, "ok": False, "error": died, "stderr": False, "is_test": True,
         "records": [], "exc": {"ename": "ChildProcessError", "evalue": died}}
        if (gid := cell.metadata.get("nbgrader", {}).get("grade_id")) else None
        for cell in cells
    ]  # fmt: skip


def judged(raw: list, reference: dict[str, list[dict[str, Any]]] | None) -> dict[str, dict]:
    """Per-cell results of one variant, its test cells judged against ``reference``'s records
    (its own, when None)."""
    results: dict[str, dict] = {}
    for cell in raw:
        if cell is None:
            continue
        result = {k: cell[k] for k in ("ok", "error", "stderr")}
        if cell["is_test"]:
            expected = (
                reference.get(cell["grade_id"], [])
                if reference is not None
                else [{"site": r["site"], "value": r["reference"]} for r in cell["records"]]
            )
            verdict = judge_cell(
                expected,
                [{"site": r["site"], "value": r["learner"]} for r in cell["records"]],
                cell["exc"],
            )
            result.update(graded=verdict.passed, verdict=verdict.message[:2000])
        results[cell["grade_id"]] = result
    return results


def main(argv: list[str]) -> int:
    notebook, variants_path, results_path = argv
    nb = nbformat.read(notebook, as_version=4)
    variants = json.loads(Path(variants_path).read_text())
    reference_name, *mutants = variants
    config = Config()
    config.HistoryManager.enabled = False  # no history thread in a process that forks
    shell = InteractiveShell.instance(config=config)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    position = {
        gid: i
        for i, c in enumerate(cells)
        if (gid := c.metadata.get("nbgrader", {}).get("grade_id"))
    }
    first = {
        name: min((position[g] for g in variants[name] if g in position), default=len(cells))
        for name in mutants
    }
    raw: dict[str, list] = {reference_name: []}
    for i in range(len(cells) + 1):
        for name in mutants:
            if first[name] == i:
                raw[name] = raw[reference_name][:i] + run_forked(shell, cells[i:], variants[name])
        if i < len(cells):
            raw[reference_name].append(run_cell(shell, cells[i], variants[reference_name]))
    reference = {
        cell["grade_id"]: [{"site": r["site"], "value": r["reference"]} for r in cell["records"]]
        for cell in raw[reference_name]
        if cell is not None and cell["is_test"]
    }
    results = {reference_name: judged(raw[reference_name], None)}
    results.update({name: judged(raw[name], reference) for name in mutants})
    Path(results_path).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
