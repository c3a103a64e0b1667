"""The process that runs a learner's notebook cells for the grader (inside the sandbox).

``python -m autograder.grading.worker`` reads one JSON request per line on stdin and answers one JSON
line per request on the stream it was started with as stdout; the learner's code never sees
that stream as its stdout (file descriptors 1 and 2 are pointed at a capture file, and
``print`` goes to IPython's capture), so stray output cannot garble the protocol by accident.

It first imports the checks (and torch) and answers ``{"ready": true}``, so that import time
counts against the start-up allowance, not against the first cell's time limit. Requests:

- ``{"op": "run", "source": ..., "observe": bool}``: run one cell with IPython (magics work,
  as in a kernel) and answer ``{"outputs": [nbformat outputs], "observations": [...],
  "error": {"ename", "evalue"} | null}``. Observations are what ``__autograder_observe__(site,
  value)`` saw during the cell, encoded by :mod:`autograder.grading.wire`: the grader's rewritten test
  cells call it in place of the checks (see :mod:`autograder.grading.verdicts`).
- ``{"op": "exit"}``.

Nothing here decides a grade: the answers are plain data that the grader judges in its own
process, so a submission that tampers with this process (patching IPython, the checks, torch,
``sys.settrace`` ...) can at worst change the values it reports, never the verdict.

Left out: widgets and comms, stdin (``input()`` raises), and interrupting a cell (the grader
enforces time limits by killing the process group).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

MAX_TEXT = 100_000  # characters of stream output kept per cell


def _text(value: str) -> str:
    if len(value) <= MAX_TEXT:
        return value
    return value[:MAX_TEXT] + f"\n... [{len(value) - MAX_TEXT} more characters truncated]"


def main() -> int:
    # The protocol stream is a private duplicate of the original stdout; fds 1 and 2 now point
    # at a scratch file so that os.write(1, ...) from learner code cannot interleave with it.
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    scratch = os.open(os.devnull, os.O_WRONLY)
    os.dup2(scratch, 1)
    os.dup2(scratch, 2)
    devnull_in = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull_in, 0)
    sys.stdout = open(1, "w", closefd=False)
    sys.stderr = open(2, "w", closefd=False)

    os.environ.setdefault("MPLBACKEND", "Agg")
    from IPython.core.displayhook import DisplayHook
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from autograder.grading.wire import encode

    # Warm up before the first cell, outside its time limit: the course's notebooks all import
    # torch and the checks, and a slow import is not the learner's doing.
    try:
        import autograder.checks.values  # noqa: F401  (imports torch)
    except Exception:  # noqa: BLE001 - a notebook without torch can still be graded
        pass
    shell = InteractiveShell.instance()
    # A cell's last expression is its result (nbgrader's partial credit reads it), as a kernel
    # sends it: an execute_result, not an "Out[0]:" line on stdout. No output history is kept.
    results: list[dict[str, Any]] = []

    class ResultHook(DisplayHook):
        def write_output_prompt(self) -> None:
            pass

        def write_format_data(self, format_dict, md_dict=None) -> None:
            results.append(format_dict)

    shell.displayhook = ResultHook(shell=shell, cache_size=0)
    shell.display_trap.hook = shell.displayhook
    # Errors are reported as type and message only: a traceback would quote the test's source.
    shell._showtraceback = lambda etype, evalue, stb: None
    observations: list[dict[str, Any]] = []

    def observe(site: str, value: Any) -> None:
        try:
            encoded = encode(value)
        except Exception as exc:  # noqa: BLE001 - a hostile value must not stop the worker
            encoded = {"__object__": f"unencodable ({type(exc).__name__})"}
        observations.append({"site": str(site), "value": encoded})

    proto.write(json.dumps({"ready": True}) + "\n")
    proto.flush()
    for line in requests:
        try:
            request = json.loads(line)
        except json.JSONDecodeError:
            continue
        if request.get("op") == "exit":
            break
        if request.get("op") != "run":
            continue
        observations.clear()
        results.clear()
        shell.user_ns["__autograder_observe__"] = observe
        error = None
        with capture_output() as captured:
            result = shell.run_cell(request.get("source", ""), store_history=False)
        if not result.success:
            exc = result.error_in_exec or result.error_before_exec
            error = {"ename": type(exc).__name__, "evalue": _text(str(exc))[:2000]}
        outputs: list[dict[str, Any]] = []
        if captured.stdout:
            outputs.append(
                {"output_type": "stream", "name": "stdout", "text": _text(captured.stdout)}
            )
        if captured.stderr:
            outputs.append(
                {"output_type": "stream", "name": "stderr", "text": _text(captured.stderr)}
            )
        for rich in captured.outputs:
            data = {
                k: v for k, v in rich.data.items() if k in ("text/plain", "image/png", "text/html")
            }
            if data:
                outputs.append({"output_type": "display_data", "data": data, "metadata": {}})
        for data in results[-1:]:
            plain = data.get("text/plain") if isinstance(data, dict) else None
            if isinstance(plain, str):
                outputs.append(
                    {"output_type": "execute_result", "data": {"text/plain": _text(plain)}}
                )
        if error:
            outputs.append({"output_type": "error", **error, "traceback": []})
        reply = {"outputs": outputs, "observations": list(observations), "error": error}
        proto.write(json.dumps(reply) + "\n")
        proto.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
