"""Running a notebook in a fresh kernel: the learner's self-check (``autograder check``).

:func:`execute` runs every cell of a notebook with nbgrader's ``Execute`` preprocessor
(nbclient underneath: errors recorded and execution continued, a per-cell timeout that
interrupts the kernel and records a ``CellTimeoutError``), then nbgrader's ``LimitOutput``.
The kernel is shut down at once rather than politely (nbclient's ``shutdown_kernel =
"immediate"``): a graded kernel has nothing to save, and the polite shutdown costs about a
second per notebook.

Left out: grading. The instructor's grader does not run submissions in a kernel at all: see
:mod:`autograder.grading.isolated` (a sandboxed worker process, verdicts decided by the grader).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


def skip_slow_optional_imports() -> None:
    """Make ``rfc3987_syntax`` unimportable in this process (call before importing nbformat).

    jsonschema imports it, when installed, to check the "iri" string format, which no notebook
    schema uses; building its grammar costs about 1.3 s per process here. Only for the
    processes the command line starts (the CLI), never on import.
    """
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


#: Configuration sections taken from the course's nbgrader_config.py.
EXECUTION_SECTIONS = ("Execute", "ExecutePreprocessor", "NotebookClient", "LimitOutput")


@dataclass
class ExecutionReport:
    """What happened to a notebook's execution as a whole (cell verdicts are in the notebook)."""

    ok: bool  # every cell ran (some may have raised: that is the learner's result)
    error: str = ""  # why execution stopped: the kernel died, did not start, ...
    timed_out: bool = False  # a cell hit the per-cell timeout (the kernel was interrupted)
    kernel_pid: int | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # start, run, shutdown, total

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def execute(
    nb,
    cwd: Path,
    *,
    timeout: int | None = None,
    config: dict[str, dict[str, Any]] | None = None,
    kernel_name: str | None = None,
    on_kernel: Callable[[int | None, int | None], None] | None = None,
) -> ExecutionReport:
    """Execute ``nb`` in place in a new kernel started in ``cwd``; return an ExecutionReport.

    ``config`` holds nbgrader configuration sections (``Execute``, ``LimitOutput``, ...) as
    plain dicts; ``timeout`` (seconds per cell) overrides theirs; ``kernel_name`` overrides the
    notebook's kernelspec. ``on_kernel(pid, pgid)`` is called once the kernel is up.
    """
    from nbclient.exceptions import DeadKernelError
    from nbclient.util import run_sync
    from nbgrader.preprocessors import Execute, LimitOutput
    from traitlets.config import Config

    cfg = Config({k: v for k, v in (config or {}).items() if k in EXECUTION_SECTIONS})
    stamps: dict[str, float] = {"begin": time.perf_counter()}
    report = ExecutionReport(ok=False)

    class _Execute(Execute):
        async def async_start_new_kernel(self, **kwargs: Any) -> None:
            # The kernel's own file descriptors 1 and 2 (its start-up warnings, C-level
            # output) go nowhere; what cells print reaches the notebook through the kernel
            # protocol as usual.
            kwargs.setdefault("stdout", subprocess.DEVNULL)
            kwargs.setdefault("stderr", subprocess.DEVNULL)
            await super().async_start_new_kernel(**kwargs)

        start_new_kernel = run_sync(async_start_new_kernel)

        def on_cell_executed(self, **kwargs: Any) -> None:
            super().on_cell_executed(**kwargs)
            stamps["cell"] = time.perf_counter()
            if kwargs["execute_reply"]["content"].get("ename") == "CellTimeoutError":
                report.timed_out = True

    def started(**_: Any) -> None:
        stamps["kernel"] = time.perf_counter()
        provisioner = getattr(executor.km, "provisioner", None)
        pid = getattr(provisioner, "pid", None)
        report.kernel_pid = pid
        if on_kernel is not None:
            on_kernel(pid, getattr(provisioner, "pgid", None))

    # Through the config, not attributes: ExecutePreprocessor.preprocess re-runs
    # NotebookClient.__init__, which reloads the config over attributes set by hand.
    cfg.Execute.shutdown_kernel = "immediate"
    cfg.Execute.interrupt_on_timeout = True
    if timeout is not None:
        cfg.Execute.timeout = max(1, round(timeout))
    if kernel_name:
        cfg.Execute.kernel_name = kernel_name
    executor = _Execute(config=cfg, on_notebook_start=started)
    resources = {"metadata": {"path": str(cwd)}}
    try:
        executor.preprocess(nb, resources)
        report.ok = True
    except DeadKernelError:
        report.error = "the kernel died (the notebook crashed it, exited, or ran out of memory)"
    except Exception as exc:  # noqa: BLE001 - a kernel that cannot start, a broken message ...
        report.error = f"execution failed: {type(exc).__name__}: {exc}"[:500]
    LimitOutput(config=cfg).preprocess(nb, {})
    end = time.perf_counter()
    kernel = stamps.get("kernel", end)
    last = stamps.get("cell", kernel)
    report.seconds = {
        "start": kernel - stamps["begin"],
        "run": last - kernel,
        "shutdown": end - last,
        "total": end - stamps["begin"],
    }
    return report


# --- the worker process ------------------------------------------------------------------
