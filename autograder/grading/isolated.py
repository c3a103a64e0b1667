"""Grade one notebook with its code confined and its verdicts decided by the grader.

:func:`reference_observations` runs the source notebook (reference solutions) once per
assignment in a worker process and keeps, for every test cell, what its checks expect.
:func:`grade_notebook` runs a submission in a sandboxed worker (:mod:`autograder.grading.sandbox`,
:mod:`autograder.grading.worker`): the learner's own cells as they are, every locked or test cell from
the source (a submission cannot edit, delete, reorder or re-point a test), test cells rewritten
to only *observe* (:mod:`autograder.grading.verdicts`). The grader then judges each test cell in this
process and returns the executed notebook, per-cell results and a status.

Limits enforced here: a wall-clock limit per cell and per notebook (the worker's process group
is killed when one runs out; later cells then score 0 with the reason), a cap on the bytes a
worker may answer, and on the bytes of outputs kept per cell and per notebook
(:func:`cap_outputs`). The sandbox adds memory, CPU, file-size and process limits, no network and a
private file system.

Left out: the gradebook and the CSV (the caller writes them), and feedback rendering.
"""

from __future__ import annotations

import copy
import json
import os
import re
import select
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat.corpus.words import generate_corpus_id

from .notebooks import HIDDEN_BEGIN, GradedCell, is_manual_cell, manual_grade
from .sandbox import Limits, Sandbox, kill_group
from .verdicts import (
    check_calls,
    decides_in_process,
    judge_cell,
    rewrite_for_learner,
    rewrite_for_reference,
)

# The autograder package (its parent folder goes on the worker's PYTHONPATH).
PACKAGE = Path(__file__).resolve().parents[1]
MAX_REPLY = 64 << 20  # bytes one cell's answer may take
#: The grader's own files that decide what a reference run records (its cache's key).
GRADER_FILES = ("verdicts.py", "isolated.py", "worker.py")


class WorkerDied(RuntimeError):
    """The worker process ended or stopped answering (crash, os._exit, kill, garbage)."""


class CellTimeout(RuntimeError):
    """A cell ran past its wall-clock limit."""


def _meta(cell) -> dict[str, Any]:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def time_limit(cell) -> float | None:
    """A cell's own wall-clock limit in seconds, from its ``autograder.time_limit`` metadata.

    Training exercises carry their time budget here: the grader's clock enforces it, so no value
    the learner's process reports (a measured duration) decides the points. Only the source
    notebook's metadata counts (:func:`_sources_to_run` drops what a submission wrote).
    """
    value = (cell.get("metadata", {}).get("autograder") or {}).get("time_limit")
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        return None
    return float(value)


#: Seconds allowed, in all, for cells a learner added to the notebook: a fixed allowance, so
#: that extra cells cannot stretch the notebook's time budget.
LEARNER_CELLS_ALLOWANCE = 60.0


def notebook_budget(source_nb, cell_timeout: float) -> float:
    """The wall-clock budget of one notebook, from the *source* notebook's cells: each code
    cell's own limit (its ``time_limit`` or ``cell_timeout``), plus a fixed allowance for the
    learner's extra cells."""
    return (
        sum(time_limit(c) or cell_timeout for c in source_nb.cells if c.cell_type == "code")
        + LEARNER_CELLS_ALLOWANCE
    )


#: The only exception names a hidden test's verdict repeats as they are: the learner's process
#: could name an exception class after the hidden test's source.
_SAFE_ENAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,79}")


def hidden_test_error(error: dict[str, str] | None) -> dict[str, str] | None:
    """What a hidden test's verdict may say about the exception that ended it: its type, not
    its message. Hidden-test code runs in the learner's process, where it can be captured (from
    the call stack, linecache, IPython's history) and put in an exception's message."""
    if not error:
        return error
    ename = str(error.get("ename", "Error"))
    if not _SAFE_ENAME.fullmatch(ename):
        ename = "an exception"
    return {
        "ename": ename,
        "evalue": "(a hidden test shows the type of an error, not its message; run the "
        "visible tests to see messages)",
    }


def is_test_cell(cell) -> bool:
    meta = _meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def worker_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a learner's process: a few of the grader's variables, no more."""
    base = {
        k: v
        for k, v in os.environ.items()
        if k in ("PATH", "LANG", "LC_ALL", "HOME", "OMP_NUM_THREADS")
    }
    base.update(
        {
            "MPLBACKEND": "Agg",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
    )
    base["PYTHONPATH"] = str(PACKAGE.parent)
    # Submissions are graded side by side: one thread each, or PyTorch's threads fight
    # over the cores and a notebook takes several times longer.
    base.setdefault("OMP_NUM_THREADS", "1")
    return {**base, **(extra or {})}


class WorkerProcess:
    """One ``python -m autograder.grading.worker``: send a cell, wait for its answer (with a deadline)."""

    def __init__(self, sandbox: Sandbox, env: dict[str, str] | None = None) -> None:
        self.proc = sandbox.popen(
            [sys.executable, "-m", "autograder.grading.worker"],
            env=worker_env(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._stdin = self.proc.stdin
        self._stdout_fd = self.proc.stdout.fileno()
        self._buffer = b""
        self._started = False

    def start(self, timeout: float = 120) -> None:
        """Wait for the worker's start-up (Python, IPython, torch) to finish."""
        if not self._started:
            try:
                reply = self._read_line(timeout)
            except CellTimeout as exc:
                raise WorkerDied(
                    f"the notebook's process did not start within {timeout:g} s"
                ) from exc
            if reply.get("ready") is not True:
                raise WorkerDied("the notebook's process did not start properly")
            self._started = True

    def run(self, source: str, timeout: float) -> dict[str, Any]:
        self.start()
        try:
            self._stdin.write((json.dumps({"op": "run", "source": source}) + "\n").encode())
            self._stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerDied("the notebook's process ended") from exc
        return self._read_line(timeout)

    def _read_line(self, timeout: float) -> dict[str, Any]:
        fd = self._stdout_fd
        deadline = time.monotonic() + timeout
        # A growing buffer, searched for the newline only in what each read added: a large
        # answer costs linear time, not a rescan and a copy of everything per pipe chunk.
        buffer = bytearray(self._buffer)
        end = buffer.find(b"\n")
        while end < 0:
            left = deadline - time.monotonic()
            if left <= 0:
                self._buffer = bytes(buffer)
                raise CellTimeout
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise WorkerDied("the notebook's process ended (crash, os._exit or a limit)")
            start = len(buffer)
            buffer += chunk
            if len(buffer) > MAX_REPLY:
                raise WorkerDied("the notebook's process sent more output than the grader accepts")
            end = buffer.find(b"\n", start)
        line, self._buffer = bytes(buffer[:end]), bytes(buffer[end + 1 :])
        try:
            reply = json.loads(line)
        except json.JSONDecodeError as exc:
            raise WorkerDied(
                "the notebook's process sent something the grader cannot read"
            ) from exc
        if not isinstance(reply, dict):
            raise WorkerDied("the notebook's process sent something the grader cannot read")
        return reply

    def close(self) -> None:
        kill_group(self.proc)


@dataclass
class CellResult:
    grade_id: str
    points: float
    max_points: float
    message: str = ""


@dataclass
class NotebookResult:
    status: str  # graded | timeout | failed
    message: str = ""
    cells: list[CellResult] = field(default_factory=list)
    notebook: Any = None  # the executed notebook (outputs of the learner's run)
    #: Written answers and tasks (nbgrader's rule: 0 if left as released, else a human grades).
    manual: list[GradedCell] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(c.points for c in self.cells)

    @property
    def max_score(self) -> float:
        return sum(c.max_points for c in self.cells)


def _sources_to_run(source_nb, submission_nb) -> list[tuple[Any, str | None]]:
    """The cells the learner's run executes: (cell, grade_id of a test cell or None).

    The submission's own cells keep their order; locked and test cells always come from the
    source (matched by grade_id, first occurrence only); a source test cell the submission lost
    is put back right after the cell that precedes it in the source.
    """
    source_cells = {
        (_meta(c).get("grade_id")): c for c in source_nb.cells if _meta(c).get("grade_id")
    }
    locked_ids = {
        gid for gid, c in source_cells.items() if _meta(c).get("locked") or is_test_cell(c)
    }
    solution_ids = {gid for gid, c in source_cells.items() if _meta(c).get("solution")}
    out: list[Any] = []
    seen: set[str] = set()
    for cell in submission_nb.cells:
        gid = _meta(cell).get("grade_id")
        if gid in seen:
            continue  # a duplicated graded/locked cell counts once
        if gid in locked_ids:
            seen.add(gid)
            out.append(copy.deepcopy(source_cells[gid]))
        elif gid in solution_ids:
            seen.add(gid)
            learner = copy.deepcopy(cell)
            meta = copy.deepcopy(source_cells[gid].metadata["nbgrader"])
            if "checksum" in _meta(cell):
                # The released cell's checksum, which nbgrader's OverwriteCells wrote from the
                # gradebook: how nbgrader tells an untouched written answer (0 points).
                meta["checksum"] = _meta(cell)["checksum"]
            learner.metadata["nbgrader"] = meta
            learner.metadata.pop("autograder", None)  # time limits: the source's, not the learner's
            if "autograder" in source_cells[gid].metadata:
                learner.metadata["autograder"] = copy.deepcopy(
                    source_cells[gid].metadata["autograder"]
                )
            out.append(learner)
        elif cell.get("cell_type") in ("code", "markdown", "raw"):
            learner = copy.deepcopy(cell)
            learner.metadata.pop("nbgrader", None)  # an unknown or edited grade id grades nothing
            learner.metadata.pop("autograder", None)  # nor can it give itself a time limit
            out.append(learner)
    # Put back locked/test cells the submission dropped, after their source predecessor.
    order = [_meta(c).get("grade_id") for c in source_nb.cells]
    for i, gid in enumerate(order):
        if gid in locked_ids and gid not in seen:
            prev = next((order[j] for j in range(i - 1, -1, -1) if order[j] in seen), None)
            pos = next(
                (k + 1 for k, c in enumerate(out) if prev and _meta(c).get("grade_id") == prev), 0
            )
            out.insert(pos, copy.deepcopy(source_cells[gid]))
            seen.add(gid)
    return [(c, _meta(c).get("grade_id") if is_test_cell(c) else None) for c in out]


@dataclass
class Reference:
    """What the source notebook's reference run gave: each test cell's check arguments, and the
    test cells the reference solution itself fails (``grade_id``: ``Type: message``).

    A test the reference fails (an instructor's nbgrader assignment may have one) is graded as
    nbgrader grades it, by whether the cell runs without an error in the submission, with
    whatever checks the reference run reached; the instructor is warned (:meth:`warnings`).
    """

    observations: dict[str, list] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    def warnings(self, notebook: str) -> list[str]:
        return [
            f"{notebook}: the reference solution fails its own test {gid} ({why}); the test is "
            "graded as nbgrader grades it, by whether it runs without an error"
            for gid, why in self.failed.items()
        ]

    def to_json(self) -> str:
        return json.dumps({"observations": self.observations, "failed": self.failed})

    @classmethod
    def from_json(cls, text: str) -> Reference:
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("observations"), dict):
            raise ValueError("not a reference")
        return cls(data["observations"], dict(data.get("failed") or {}))


def reference_observations(source_nb, workdir: Path, *, cell_timeout: float = 600) -> Reference:
    """Run the source notebook's reference solutions once; each test cell's check arguments."""
    worker = WorkerProcess(Sandbox(workdir=workdir, use_bwrap=False, limits=Limits(memory=1 << 40)))
    found = Reference()
    try:
        for cell in source_nb.cells:
            if cell.cell_type != "code":
                continue
            test = is_test_cell(cell)
            code = rewrite_for_reference(cell.source) if test else cell.source
            reply = worker.run(code, cell_timeout)
            if test:
                gid = _meta(cell)["grade_id"]
                found.observations[gid] = reply.get("observations", [])
                if err := reply.get("error"):
                    found.failed[gid] = f"{err.get('ename', 'Error')}: {err.get('evalue', '')}"
    finally:
        worker.close()
    return found


def cached_reference(source_path: Path, cache_dir: Path, workdir: Path) -> Reference:
    """:func:`reference_observations` of a source notebook, cached by the notebook's content.

    The cache lives in a folder that submissions cannot see (the course's ``autograded/``);
    a changed source notebook (a fixed test, a new exercise) gets a fresh reference run.
    """
    import hashlib

    data = Path(source_path).read_bytes()
    code = b"".join(PACKAGE.joinpath("grading", f).read_bytes() for f in GRADER_FILES)
    digest = hashlib.sha256(data + code).hexdigest()[:16]
    cache = (
        Path(cache_dir) / f"{Path(source_path).parent.name}-{Path(source_path).stem}-{digest}.json"
    )
    if cache.exists():
        try:
            return Reference.from_json(cache.read_text())
        except ValueError:
            pass
    found = reference_observations(nbformat.reads(data.decode(), as_version=4), workdir)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(found.to_json())
    os.replace(tmp, cache)  # atomic: a killed run never leaves half a cache
    return found


def grade_notebook(
    source_nb,
    submission_nb,
    reference: Reference,
    sandbox: Sandbox,
    *,
    cell_timeout: float = 120,
    notebook_timeout: float = 600,
    on_start=None,
    on_end=None,
    launch=None,
) -> NotebookResult:
    """Run a submission confined and judge every test cell of the source notebook.

    ``launch()`` starts the learner's process (default: a fresh :class:`WorkerProcess` in
    ``sandbox``; a warm zygote's child: :meth:`autograder.grading.zygote.Slot.spawn`).
    """
    plan = _sources_to_run(source_nb, submission_nb)
    executed = nbformat.v4.new_notebook(metadata=copy.deepcopy(source_nb.metadata))
    results: dict[str, CellResult] = {}
    status, reason = "graded", ""
    worker = launch() if launch is not None else WorkerProcess(sandbox)
    if on_start:
        on_start(worker.proc)
    count = 0
    kept_bytes = 0  # of outputs, so far in this notebook
    try:
        try:
            worker.start()
        except WorkerDied as exc:
            status, reason = "failed", str(exc)
        deadline = time.monotonic() + notebook_timeout
        for cell, test_id in plan:
            out_cell = copy.deepcopy(cell)
            if "id" not in out_cell:  # a cell of an nbformat < 4.5 notebook
                out_cell["id"] = generate_corpus_id()
            if out_cell.get("cell_type") == "code":
                out_cell["outputs"], out_cell["execution_count"] = [], None
            executed.cells.append(out_cell)
            if cell.get("cell_type") != "code" or status != "graded":
                if test_id:
                    results[test_id] = _fail(cell, reason)
                continue
            code = rewrite_for_learner(cell.source) if test_id else cell.source
            own = time_limit(cell)
            limit = own or cell_timeout
            try:
                left = deadline - time.monotonic()
                reply = worker.run(code, min(limit, max(left, 0.1)))
            except CellTimeout:
                status = "timeout"
                if deadline - time.monotonic() <= 0:
                    reason = f"a cell ran past the notebook time limit of {notebook_timeout:g} s"
                elif own:
                    which = f"test {test_id}" if test_id else "a cell"
                    reason = f"{which} ran past its time budget of {own:g} s (the grader's clock)"
                else:
                    reason = f"a cell ran past the cell time limit of {cell_timeout:g} s"
            except WorkerDied as exc:
                status, reason = "failed", str(exc)
            if status != "graded":
                out_cell["outputs"] = [
                    nbformat.v4.new_output("error", ename=status, evalue=reason, traceback=[])
                ]
                if test_id:
                    results[test_id] = _fail(cell, reason)
                continue
            count += 1
            out_cell["execution_count"] = count
            outputs = [_output(o) for o in reply.get("outputs", []) if isinstance(o, dict)]
            out_cell["outputs"], kept = cap_outputs(
                [o for o in outputs if o is not None], MAX_NOTEBOOK_OUTPUT - kept_bytes
            )
            kept_bytes += kept
            if test_id:
                error = reply.get("error")
                if HIDDEN_BEGIN in cell.source:
                    error = hidden_test_error(error)
                verdict = judge_cell(
                    reference.observations.get(test_id, []),
                    reply.get("observations") or [],
                    error,
                    require_no_error=decides_in_process(cell.source) or test_id in reference.failed,
                )
                pts = float(_meta(cell).get("points", 0))
                earned, message = (pts, "") if verdict.passed else (0.0, verdict.message)
                if verdict.passed and not check_calls(cell.source):
                    # A plain nbgrader test (asserts only): nbgrader's partial credit, a
                    # number the cell's last expression gives.
                    earned, message = partial_credit(out_cell["outputs"], pts)
                results[test_id] = CellResult(test_id, earned, pts, message)
                # What the learner sees for a test cell is the grader's verdict, not what the
                # rewritten cell printed in the learner's process.
                out_cell["outputs"] = [
                    nbformat.v4.new_output(
                        "stream", name="stdout", text=f"passed ({earned:g} of {pts:g} points)\n"
                    )
                    if earned == pts
                    else nbformat.v4.new_output(
                        "error", ename="CheckFailed", evalue=message, traceback=[]
                    )
                ]
    finally:
        worker.close()
        if on_end:
            on_end(worker.proc)
    cells = [results[gid] for _, gid in plan if gid in results]
    manual = [manual_grade(c) for c in executed.cells if is_manual_cell(c)]
    return NotebookResult(
        status=status, message=reason, cells=cells, notebook=executed, manual=manual
    )


def partial_credit(outputs: list, points: float) -> tuple[float, str]:
    """nbgrader's partial credit (``nbgrader.utils.get_partial_grade``) and a message: a test
    cell whose result is a number from 0 to its points earns that number, any other result all
    its points. A number above its points (nbgrader stops grading there) earns nothing."""
    from nbgrader.utils import get_partial_grade

    for output in outputs:
        if output.get("output_type") != "execute_result":
            continue
        try:
            earned = float(get_partial_grade(output, points))
        except KeyError:  # no text/plain: nbgrader's "something else", all the points
            return points, ""
        except ValueError:
            return 0.0, f"the test's result is more than its {points:g} points"
        if earned < points:
            return earned, f"partial credit: {earned:g} of {points:g} points"
        return earned, ""
    return points, ""


#: Bytes of outputs the grader keeps of one cell and of one notebook (in the autograded notebook
#: and so in the feedback page); a flood of display outputs is cut, with a note saying so.
MAX_CELL_OUTPUT = 1 << 20
MAX_NOTEBOOK_OUTPUT = 10 << 20


def _size(output) -> int:
    return len(json.dumps(output, ensure_ascii=False).encode())


def cap_outputs(outputs: list, notebook_left: int) -> tuple[list, int]:
    """The outputs of a cell that fit in :data:`MAX_CELL_OUTPUT` and in what is left of the
    notebook's :data:`MAX_NOTEBOOK_OUTPUT`, in order, then a note for the rest; and their bytes."""
    budget = max(0, min(MAX_CELL_OUTPUT, notebook_left))
    kept, used = [], 0
    for i, output in enumerate(outputs):
        size = _size(output)
        if used + size > budget:
            dropped = outputs[i:]
            mb = sum(_size(o) for o in dropped) / (1 << 20)
            note = (
                f"[{len(dropped)} more outputs ({mb:.1f} MB) not kept: the grader keeps at "
                f"most {MAX_CELL_OUTPUT >> 20} MB of outputs per cell and "
                f"{MAX_NOTEBOOK_OUTPUT >> 20} MB per notebook]\n"
            )
            kept.append(nbformat.v4.new_output("stream", name="stdout", text=note))
            break
        kept.append(output)
        used += size
    return kept, used


def _fail(cell, reason: str) -> CellResult:
    pts = float(_meta(cell).get("points", 0))
    return CellResult(
        _meta(cell)["grade_id"], 0.0, pts, f"not run: {reason}" if reason else "not run"
    )


def _output(raw: dict[str, Any]):
    """An nbformat output from a worker's answer (only the fields and types we expect)."""
    kind = raw.get("output_type")
    if kind == "stream" and raw.get("name") in ("stdout", "stderr"):
        return nbformat.v4.new_output(
            "stream", name=raw["name"], text=str(raw.get("text", ""))[:100_000]
        )
    if kind == "display_data" and isinstance(raw.get("data"), dict):
        data = {
            k: str(v)
            for k, v in raw["data"].items()
            if k in ("text/plain", "image/png", "text/html")
        }
        return nbformat.v4.new_output("display_data", data=data)
    if kind == "execute_result" and isinstance(raw.get("data"), dict):
        plain = raw["data"].get("text/plain")
        if isinstance(plain, str):
            return nbformat.v4.new_output("execute_result", data={"text/plain": plain[:100_000]})
    if kind == "error":
        return nbformat.v4.new_output(
            "error",
            ename=str(raw.get("ename", ""))[:200],
            evalue=str(raw.get("evalue", ""))[:2000],
            traceback=[],
        )
    return None
