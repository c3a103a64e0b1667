"""Grading a class: submissions in parallel worker processes, one writer of the results.

:func:`grade` finds ``DIR/<student>/ASSIGNMENT/<notebook>.ipynb`` for every notebook of the
released assignment (the gradebook knows which: with ``notebook_id = "exercises"`` lessons are
never executed), refuses a student's folder that holds a link, a special file or an
unprintable name (:mod:`autograder.grading.files`: status ``refused``, nothing of it executed or
recorded), and for each other submission:

1. reads it and runs nbgrader's sanitizing preprocessors (:func:`autograder.grading.submissions.sanitize`:
   locked and test cells are restored from the source, hidden tests included), in a grader
   thread of this process;
2. executes it in a grading worker (:class:`autograder.grading.execution.Worker`), each submission in
   a fresh kernel in a private temporary folder; ``jobs`` workers run side by side;
3. judges every test cell of the executed notebook (:func:`autograder.grading.notebooks.grade_cells`:
   pass or fail, stderr ignored); then the main thread, the only writer, records the scores in
   the gradebook in one commit and writes ``autograded/<student>/ASSIGNMENT/`` (the executed
   notebook and ``autograder.json``, the per-test results :mod:`autograder.grading.feedback` renders).

Every submission ends with one of :data:`STATUSES` and a message; nothing one submission does
(invalid JSON, a dead kernel, a runaway loop) stops the others. The CSV has one row per student
and notebook. :class:`GradingRun` carries per-submission timings for the benchmark
(:mod:`autograder.grading.throughput` compares them with plain ``nbgrader autograde``).

Left out: the sandbox (limits on memory, network and files for the learner's code) and
verdicts computed outside the learner's kernel; both plug in at step 2.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import functools
import json
import logging
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from ..publishing.course import Course
from .atomic import atomic_open, write_text_atomic
from .cluster import connect, local_workers
from .files import printable
from .gradebook import (
    assignment_cells,
    open_gradebook,
    record_failure,
    record_graded,
    record_missing,
)
from .isolated import (
    PACKAGE,
    NotebookResult,
    Reference,
    WorkerProcess,
    cached_reference,
    grade_notebook,
    notebook_budget,
)
from .notebooks import (
    GradedCell,
    NotGradable,
    hidden_lines,
    nbgrader_meta,
    points_ids,
    redact_text,
)
from .sandbox import Limits, Sandbox, kill_group, sandbox_warning
from .submissions import (
    Submission,
    copy_files,
    find_submissions,
    read_files,
    sanitize,
    write_files,
)
from .verdicts import rewrite_for_learner
from .zygote import Slot, ZygoteError

#: ``needs manual grading``: graded, with written answers or tasks left for a human (nbgrader's
#: formgrader reads the same gradebook); its score so far counts the automatic points only.
MANUAL = "needs manual grading"
STATUSES = ("graded", MANUAL, "failed", "timeout", "refused", "missing")
CSV_COLUMNS = ["student", "assignment", "notebook", "score", "max_score", "status", "message"]
MAX_MESSAGE = 2000  # characters of a CSV message
RESULTS_FILE = "autograder.json"
SKIP = (RESULTS_FILE,)  # never copied from a submission: the grader writes it
#: Seconds a notebook may take beyond its cells' limits (kernel start, imports) before its
#: worker is killed.
STARTUP_ALLOWANCE = 60.0

log = logging.getLogger("autograder.grading.batch")


@dataclass
class SubmissionResult:
    """The outcome of grading one notebook of one student."""

    student: str
    assignment: str
    notebook: str
    status: str
    message: str
    score: float | None
    max_score: float
    tests: list[GradedCell] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    executed: Any = field(default=None, repr=False)  # the executed notebook, while recording
    workdir: Path | None = field(default=None, repr=False)

    def row(self) -> dict[str, str]:
        """This result as a row of the grades CSV."""
        return {  # learner-chosen text, escaped and cut (autograder.grading.files.printable)
            "student": printable(self.student),
            "assignment": printable(self.assignment),
            "notebook": printable(self.notebook),
            "score": "" if self.score is None else f"{self.score:g}",
            "max_score": f"{self.max_score:g}",
            "status": self.status,
            "message": printable(self.message, MAX_MESSAGE),
        }


@dataclass
class Job:
    """What a grading slot needs to run one sanitized submission, on this machine or another
    (picklable; the source notebook and its reference run travel separately, once per slot)."""

    notebook: str
    nb: Any  # the sanitized submission
    files: dict[str, bytes]  # the submission's files, then the assignment's, by relative path
    limits: Limits
    cell_timeout: float
    notebook_timeout: float
    use_sandbox: bool | None
    hide: list[str] = field(default_factory=list)  # hidden where they exist on the slot's machine
    warm: bool = True  # fork it from the slot's warm zygote (sandboxed with bubblewrap only)


def slot_readable() -> list[Path]:
    """What a submission must see read-only on this machine: Python and the autograder package."""
    return [Path(sys.prefix), Path(sys.base_prefix), PACKAGE]


def run_job(
    job: Job,
    source_nb,
    reference: Reference,
    *,
    readable: list[Path] | None = None,
    on_start=None,
    on_end=None,
    slot: Slot | None = None,
) -> NotebookResult:
    """Run one submission confined in a fresh working folder and judge its tests (what a
    grading slot does: a thread of the grader, or a Dask worker on another machine).

    ``slot`` (a :class:`autograder.grading.zygote.Slot` of this thread): fork the learner's
    process from the slot's warm zygote when the submission is sandboxed with bubblewrap;
    otherwise, and without a slot, start a fresh process.
    """
    sandbox = Sandbox(
        workdir=Path("."),
        hide=[Path(p) for p in job.hide if Path(p).exists()],
        readable=slot_readable() if readable is None else readable,
        limits=job.limits,
        use_bwrap=job.use_sandbox,
    )
    warm = slot is not None and job.warm and sandbox.confined
    work = None
    if warm:
        try:
            slot.configure(sandbox.hide, sandbox.readable, job.limits, job.use_sandbox)
            run = slot.folder()
        except ZygoteError as exc:
            log.warning("%s: grading with a fresh process per submission", exc)
            warm = False
    try:
        try:
            if not warm:
                work = Path(tempfile.mkdtemp(prefix="autograder-"))
                run = work / "run"
                run.mkdir()
            write_files(job.files, run)
        except NotGradable as exc:
            return NotebookResult(status="failed", message=str(exc))
        sandbox.workdir = run

        def launch():
            try:
                return slot.spawn(run, job.limits)
            except ZygoteError as exc:  # the submission's files are there: a fresh process
                log.warning("%s: grading this submission with a fresh process", exc)
                return WorkerProcess(sandbox)

        return grade_notebook(
            source_nb,
            job.nb,
            reference,
            sandbox,
            cell_timeout=job.cell_timeout,
            notebook_timeout=job.notebook_timeout,
            on_start=on_start,
            on_end=on_end,
            launch=launch if warm else None,
        )
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
        elif warm:
            shutil.rmtree(run, ignore_errors=True)


@dataclass
class GradingRun:
    """All results of one ``grade`` run and how long it took."""

    assignment: str
    jobs: int
    results: list[SubmissionResult]
    wall_seconds: float
    #: For the instructor: what about the assignment itself looks wrong (a test that its own
    #: reference solution fails).
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No submission failed, timed out or was refused (missing ones are the students' business)."""
        return all(r.status in ("graded", MANUAL, "missing") for r in self.results)

    def per_minute(self) -> float:
        """Executed submissions per minute of wall-clock time."""
        executed = [r for r in self.results if r.status != "missing"]
        return 60.0 * len(executed) / self.wall_seconds if self.wall_seconds else 0.0

    def scores(self) -> dict[tuple[str, str], float | None]:
        return {(r.student, r.notebook): r.score for r in self.results}


def _timestamp(course: Course, folder: Path) -> datetime.datetime | None:
    try:
        return course.coursedir().get_existing_timestamp(str(folder))
    except Exception:  # noqa: BLE001 - an unreadable timestamp.txt is not worth a failure
        return None


def _summary(tests: list[GradedCell], notes: list[str], timeout: float) -> str:
    parts = []
    slow = [t.grade_id for t in tests if t.timed_out]
    if slow:
        parts.append(f"cells over the {timeout:g} s limit: {', '.join(slow)}")
    failed = [
        t.grade_id
        for t in tests
        if not t.passed and not t.timed_out and not t.manual and t.score is not None
    ]
    if failed:
        parts.append(f"failed: {', '.join(failed)}")
    unanswered = [t.grade_id for t in tests if t.manual and t.score == 0]
    if unanswered:
        parts.append(f"no answer: {', '.join(unanswered)}")
    manual = [t.grade_id for t in tests if t.score is None]
    if manual:
        parts.append(f"needs manual grading: {', '.join(manual)}")
    return "; ".join(parts + notes)


class _Grader:
    """Holds what the threads of one grading run share."""

    def __init__(
        self,
        course: Course,
        assignment: str,
        cells,
        timeout,
        notebook_timeout,
        jobs,
        *,
        limits: Limits | None = None,
        use_sandbox: bool | None = None,
        submissions: Path | None = None,
        warm: bool = True,
    ):
        self.course = course
        self.warm = warm
        self._local = threading.local()  # each grading thread's warm slot
        self._slots: list[Slot] = []
        self.assignment = assignment
        self.cells = cells
        self.timeout = float(timeout)
        self.notebook_timeout = notebook_timeout
        self.source = course.source(assignment)
        self.limits = limits or Limits()
        self.use_sandbox = use_sandbox
        # What a submission must never see: the course (sources, gradebook, other students'
        # work), the submissions folder, the repository around the course, the home folder.
        hide = {course.root.resolve(), Path.home().resolve()}
        if submissions is not None:
            hide.add(Path(submissions).resolve())
        for repo in (course.root.resolve().parent, PACKAGE.parent):
            # The repository around the course, and this package's own checkout (with the
            # course's sources in it); never site-packages.
            if (repo / ".git").exists() or (repo / "course" / "nbgrader_config.py").exists():
                hide.add(repo)
        self.hide = sorted(hide)
        self.readable = slot_readable()
        self.lock = threading.Lock()
        self.live: set[Any] = set()
        self.sources: dict[str, Any] = {}
        self.references: dict[str, Reference] = {}
        self.warnings: list[str] = []
        self.secrets: dict[str, set[str]] = {}
        self._order: dict[str, list[tuple[str, float]]] = {}  # cells worth points, in order
        for notebook in cells:
            path = self.source / f"{notebook}.ipynb"
            self.sources[notebook] = nbformat.read(path, as_version=4)
            self.secrets[notebook] = hidden_lines(self.sources[notebook], rewrite_for_learner)
            ids = [g for g in points_ids(self.sources[notebook]) if g in cells[notebook]]
            ids += [g for g in cells[notebook] if g not in ids]  # released, since removed
            self._order[notebook] = [(gid, cells[notebook][gid]) for gid in ids]
            with tempfile.TemporaryDirectory(prefix="autograder-reference-") as tmp:
                copy_files(self.source, Path(tmp))
                self.references[notebook] = cached_reference(
                    path, course.folder("autograded") / ".reference", Path(tmp)
                )
            for warning in self.references[notebook].warnings(notebook):
                log.warning("%s", warning)
                self.warnings.append(warning)

    def slot(self) -> Slot:
        """This thread's grading slot (its warm zygote starts with its first submission)."""
        slot = getattr(self._local, "slot", None)
        if slot is None:
            slot = self._local.slot = Slot()
            with self.lock:
                self._slots.append(slot)
        return slot

    def close(self) -> None:
        """End every slot's sandbox."""
        with self.lock:
            slots, self._slots = self._slots, []
        for slot in slots:
            slot.close()

    def kill(self) -> None:
        """Stop every submission still running (Ctrl-C, a broken gradebook)."""
        with self.lock:
            procs = list(self.live)
        for proc in procs:
            kill_group(proc)
        self.close()

    def grade_one(self, sub: Submission) -> SubmissionResult:
        """Sanitize, run confined and judge one submission (no gradebook writes here)."""
        job, result, notes = self.prepare(sub)
        if job is None:
            return self.redact(sub, result)
        begin = time.perf_counter()
        outcome = run_job(
            job,
            self.sources[sub.notebook],
            self.references[sub.notebook],
            readable=self.readable,
            on_start=self._started,
            on_end=self._ended,
            slot=self.slot() if self.warm else None,
        )
        return self.finish(sub, result, notes, outcome, time.perf_counter() - begin)

    def prepare(self, sub: Submission) -> tuple[Job | None, SubmissionResult, list[str]]:
        """Sanitize a submission (nbgrader's preprocessors, which read the gradebook: here, in
        the grader) and gather its files: the :class:`Job` a grading slot runs, or None and a
        failed result that says why."""
        expected = self.cells[sub.notebook]
        result = SubmissionResult(
            sub.student, self.assignment, sub.notebook, "failed", "", None, sum(expected.values())
        )
        begin = time.perf_counter()
        try:
            nb, notes = sanitize(self.course, self.assignment, sub, expected)
            files = read_files(sub.folder, self.limits.workdir_size, SKIP, untrusted=True)
            # The assignment's own data last: a learner's file of the same name never replaces it.
            files.update(read_files(self.source, self.limits.workdir_size, SKIP))
        except NotGradable as exc:
            result.message = str(exc)
            result.seconds = {"sanitize": time.perf_counter() - begin}
            return None, result, []
        result.seconds = {"sanitize": time.perf_counter() - begin}
        # From the source's cells, never the submission's: extra cells cannot stretch it.
        budget = self.notebook_timeout or (
            notebook_budget(self.sources[sub.notebook], self.timeout) + STARTUP_ALLOWANCE
        )
        job = Job(
            notebook=sub.notebook,
            nb=nb,
            files=files,
            limits=self.limits,
            cell_timeout=self.timeout,
            notebook_timeout=budget,
            use_sandbox=self.use_sandbox,
            hide=[str(p) for p in self.hide],
            warm=self.warm,
        )
        return job, result, notes

    def finish(
        self,
        sub: Submission,
        result: SubmissionResult,
        notes: list[str],
        outcome: NotebookResult,
        seconds: float,
    ) -> SubmissionResult:
        """Turn a slot's :class:`~autograder.grading.isolated.NotebookResult` into the result."""
        result.seconds["run"] = seconds
        hidden = {
            nbgrader_meta(c).get("grade_id")
            for c in self.sources[sub.notebook].cells
            if "### BEGIN HIDDEN TESTS" in c.source
        }
        tests = {
            c.grade_id: GradedCell(
                grade_id=c.grade_id,
                points=c.max_points,
                score=c.points,
                passed=c.points == c.max_points,
                message=c.message,
                hidden=c.grade_id in hidden,
                timed_out=outcome.status == "timeout" and c.message.startswith("not run"),
            )
            for c in outcome.cells
        }
        tests.update((m.grade_id, m) for m in outcome.manual)
        # In the source's order; an answer cell the submission lost earns nothing.
        result.tests = [
            tests.get(gid)
            or GradedCell(gid, points, 0.0, False, "the answer cell is missing", False, manual=True)
            for gid, points in self._order[sub.notebook]
        ]
        result.status = outcome.status
        if outcome.status == "graded" and any(t.score is None for t in result.tests):
            result.status = MANUAL
        if outcome.status == "failed":
            # The notebook's process died (a crash, os._exit, a limit): not an honest score.
            # Nothing is recorded as a grade, so a previous grade of this student stays.
            result.message = outcome.message
            return self.redact(sub, result)
        result.score = sum(t.score or 0.0 for t in result.tests)
        result.message = "; ".join(
            m for m in (outcome.message, _summary(result.tests, notes, self.timeout)) if m
        )
        result.executed = outcome.notebook
        return self.redact(sub, result)

    def redact(self, sub: Submission, result: SubmissionResult) -> SubmissionResult:
        """Its messages leave the grader (the CSV, the results file, feedback): a hidden test's
        line that the learner's process captured and put in one is redacted, last."""
        secrets = self.secrets.get(sub.notebook, set())
        result.message = redact_text(result.message, secrets)
        for test in result.tests:
            test.message = redact_text(test.message, secrets)
        return result

    def _started(self, proc) -> None:
        with self.lock:
            self.live.add(proc)

    def _ended(self, proc) -> None:
        with self.lock:
            self.live.discard(proc)

    def record(self, gb, sub: Submission, result: SubmissionResult) -> None:
        """The single writer: gradebook, ``autograded/`` and the results file."""
        begin = time.perf_counter()
        dest = self.course.folder("autograded") / sub.student / self.assignment
        timestamp = _timestamp(self.course, sub.folder)
        if result.status == "missing":
            record_missing(gb, sub.student)
        elif result.executed is not None:
            record_graded(
                gb, self.assignment, sub.student, sub.notebook, result.tests,
                timestamp=timestamp, flagged=result.status not in ("graded", MANUAL),
            )  # fmt: skip
            dest.mkdir(parents=True, exist_ok=True)
            copy_files(sub.folder, dest, SKIP, untrusted=True)
            copy_files(self.source, dest, SKIP)
            nbformat.write(result.executed, dest / f"{sub.notebook}.ipynb")
        else:
            record_failure(gb, self.assignment, sub.student, sub.notebook, timestamp=timestamp)
        if result.status != "missing":
            _update_results_file(dest, result)
        if result.workdir is not None:
            shutil.rmtree(result.workdir, ignore_errors=True)
        result.executed = result.workdir = None
        result.seconds["record"] = time.perf_counter() - begin


def _update_results_file(dest: Path, result: SubmissionResult) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / RESULTS_FILE
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    data.setdefault("notebooks", {})[result.notebook] = {
        "status": result.status,
        "message": result.message,
        "score": result.score,
        "max_score": result.max_score,
        "tests": [t.to_dict() for t in result.tests],
        "graded_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    data.update(student=result.student, assignment=result.assignment)
    write_text_atomic(path, json.dumps(data, indent=1))


def write_csv(results: list[SubmissionResult], out: Path) -> Path:
    """One row per student and notebook, columns :data:`CSV_COLUMNS`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(out, newline="", encoding="utf-8") as fh:  # a crash keeps the old CSV
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for result in sorted(results, key=lambda r: (r.student, r.notebook)):
            writer.writerow(result.row())
    return out


def grade(
    course: Course,
    assignment: str,
    *,
    submissions: Path | None = None,
    out: Path | None = None,
    jobs: int = 1,
    timeout: float | None = None,
    notebook_timeout: float | None = None,
    progress: bool = True,
    memory: int | None = None,
    sandbox: bool | None = None,
    cluster: str | None = None,
    zygote: bool = True,
) -> GradingRun:
    """Grade every submission of ``assignment``; record them, write the CSV, return the run.

    ``submissions`` defaults to the course's ``submitted/`` folder and ``out`` to
    ``grades/ASSIGNMENT.csv``. ``timeout`` is the limit per cell in seconds (default: the
    course's ``Execute.timeout``); a notebook's worker is killed after ``notebook_timeout``
    seconds (default: the per-cell limit times the number of code cells, plus a minute).
    ``memory`` caps each submission's memory in bytes (default 2 GiB); ``sandbox=False``
    runs without bubblewrap (limits only), ``None`` uses it where the machine has it.
    ``cluster`` grades on Dask workers (:mod:`autograder.grading.cluster`: ``local:N`` or a
    scheduler's address) instead of ``jobs`` slots of this process. ``zygote`` (sandboxed
    slots): fork each submission's process from the slot's warm zygote
    (:mod:`autograder.grading.zygote`); ``False`` starts a fresh Python for each.
    """
    from tqdm import tqdm

    start = time.perf_counter()
    if cluster:
        local_workers(cluster)  # a malformed address fails now, before any work
    folder = Path(submissions) if submissions else course.folder("submitted")
    if not folder.is_dir():
        raise FileNotFoundError(f"no submissions folder {folder}")
    out = Path(out) if out else course.root / "grades" / f"{assignment}.csv"
    if timeout is None:
        timeout = float(course.config.Execute.get("timeout", 30) or 30)
    with open_gradebook(course) as gb:
        cells = assignment_cells(gb, assignment)
    subs = find_submissions(folder, assignment, sorted(cells))
    jobs = max(1, int(jobs))
    todo = [s for s in subs if s.path is not None and s.refused is None]
    results: list[SubmissionResult] = []
    bar = tqdm(
        total=len(subs),
        desc=f"grading {assignment}",
        unit="nb",
        file=sys.stderr,
        disable=not progress,
    )
    if sandbox is not False and (warning := sandbox_warning()):
        log.warning(warning)
    limits = Limits(memory=memory) if memory else Limits()
    grader = _Grader(
        course, assignment, cells, timeout, notebook_timeout, min(jobs, len(todo)),
        limits=limits, use_sandbox=sandbox, submissions=folder, warm=zygote,
    )  # fmt: skip
    pool = ThreadPoolExecutor(max_workers=jobs)
    stack = contextlib.ExitStack()
    try:
        with stack, open_gradebook(course) as gb:
            for sub in subs:
                if sub.refused is not None:
                    # Nothing of it is trusted: not run, not in the gradebook nor autograded/.
                    log.warning(
                        "refused %s/%s: %s", printable(sub.student), sub.notebook, sub.refused
                    )
                    results.append(
                        SubmissionResult(
                            sub.student,
                            assignment,
                            sub.notebook,
                            "refused",
                            f"refused: {sub.refused}",
                            None,
                            sum(cells[sub.notebook].values()),
                        )
                    )
                    bar.update()
                elif sub.path is None:
                    result = SubmissionResult(
                        sub.student, assignment, sub.notebook, "missing",
                        f"no {sub.notebook}.ipynb in {sub.folder}", 0.0, sum(cells[sub.notebook].values()),
                    )  # fmt: skip
                    results.append(_record(grader, gb, sub, result))
                    bar.update()
            if cluster:
                client = stack.enter_context(connect(cluster))
                graded = _on_cluster(grader, pool, client, todo)
            else:
                graded = _in_threads(grader, pool, todo)
            for sub, get in graded:
                try:
                    result = get()
                except Exception as exc:  # noqa: BLE001 - a bug of ours: report it, go on
                    log.exception("grading %s failed", printable(str(sub.path), 300))
                    result = SubmissionResult(
                        sub.student, assignment, sub.notebook, "failed",
                        f"internal error: {type(exc).__name__}: {exc}", None, sum(cells[sub.notebook].values()),
                    )  # fmt: skip
                results.append(_record(grader, gb, sub, result))
                bad = sum(r.status in ("failed", "timeout") for r in results)
                bar.set_postfix_str(f"{bad} failed" if bad else "", refresh=False)
                bar.update()
    except BaseException:  # Ctrl-C or a broken gradebook: stop every worker and kernel now
        grader.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        bar.close()
    pool.shutdown()
    grader.close()
    results.sort(key=lambda r: (r.student, r.notebook))
    write_csv(results, out)
    return GradingRun(assignment, jobs, results, time.perf_counter() - start, grader.warnings)


def _in_threads(grader: _Grader, pool: ThreadPoolExecutor, todo: list[Submission]):
    """``(submission, result getter)`` as each finishes in one of this process's slots."""
    futures = {pool.submit(grader.grade_one, sub): sub for sub in todo}
    for future in as_completed(futures):
        yield futures[future], future.result


def _on_cluster(grader: _Grader, pool: ThreadPoolExecutor, client, todo: list[Submission]):
    """``(submission, result getter)`` as each finishes on a Dask worker. Sanitizing stays here
    (in ``pool``'s threads); each submission is sent as soon as it is ready."""
    from distributed import as_completed as completed

    from .cluster import run_remote, share

    shared = {nb: share(client, grader.sources[nb], grader.references[nb]) for nb in grader.cells}

    def prepare(sub: Submission):
        try:
            return grader.prepare(sub)
        except Exception as exc:  # noqa: BLE001 - reported for this submission only
            return exc

    sent: dict[str, tuple[Submission, SubmissionResult, list[str]]] = {}
    futures = []
    for sub, prepared in zip(todo, pool.map(prepare, todo), strict=True):
        if isinstance(prepared, Exception):
            yield sub, functools.partial(_raise, prepared)
            continue
        job, result, notes = prepared
        if job is None:
            yield sub, functools.partial(grader.redact, sub, result)
            continue
        future = client.submit(run_remote, job, shared[sub.notebook], pure=False)
        sent[future.key] = (sub, result, notes)
        futures.append(future)
    for future in completed(futures):
        sub, result, notes = sent.pop(future.key)

        def finish(future=future, sub=sub, result=result, notes=notes) -> SubmissionResult:
            outcome, seconds = future.result()
            return grader.finish(sub, result, notes, outcome, seconds)

        yield sub, finish


def _raise(exc: Exception):
    raise exc


def _record(grader: _Grader, gb, sub: Submission, result: SubmissionResult) -> SubmissionResult:
    """Record one result; a failure to record fails that submission only."""
    try:
        grader.record(gb, sub, result)
    except Exception as exc:  # noqa: BLE001 - e.g. a file that cannot be written
        log.exception("recording %s/%s failed", printable(sub.student), sub.notebook)
        gb.db.rollback()
        result.status, result.score = "failed", None
        result.message = f"the result could not be recorded: {type(exc).__name__}: {exc}"
    return result
