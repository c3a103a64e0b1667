"""Grading slots on a Dask cluster: many machines, one writer of the gradebook.

``autograder grade ASSIGNMENT --cluster tcp://HOST:8786`` sends each submission to a worker of
an existing Dask cluster; ``--cluster local:N`` starts a ``LocalCluster`` of ``N`` worker
processes on this machine. What stays in the grader's process, as without a cluster: reading and
sanitizing each submission (nbgrader's preprocessors read the gradebook), the reference run
(made once, cached), and the single writer that records every result. What a worker does: write
the submission's files into a fresh folder, run it in its own sandbox
(:mod:`autograder.grading.sandbox`, on that machine) and judge its tests
(:func:`autograder.grading.batch.run_job`), then send the verdicts and the executed notebook back.

The source notebook and its reference run travel to every worker once (``scatter``), not with
each submission. When a worker dies mid-batch, the scheduler runs its submissions again on
another worker (up to ``distributed.scheduler.allowed-failures`` times, 3 by default, then the
submission is reported failed); the grader records each submission's result once, when it
arrives, so no grade is lost or written twice.

Each worker needs this package, the course's Python dependencies and bubblewrap installed; it
needs neither the course folder nor the gradebook. Start workers with one thread each
(``dask worker tcp://HOST:8786 --nthreads 1 --nworkers N``): a worker thread grades one
submission at a time.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from .isolated import NotebookResult, Reference

log = logging.getLogger("autograder.grading.cluster")


class ClusterError(RuntimeError):
    """The cluster cannot be reached or started (the message says how to fix it)."""


def local_workers(spec: str) -> int | None:
    """N of ``local:N``; None for a scheduler's address; :class:`ClusterError` if malformed."""
    if not spec.startswith("local:"):
        if "://" not in spec:
            raise ClusterError(
                f"--cluster {spec!r}: expected local:N or a scheduler's address (tcp://HOST:8786)"
            )
        return None
    try:
        workers = int(spec.split(":", 1)[1])
    except ValueError:
        workers = 0
    if workers < 1:
        raise ClusterError(f"--cluster {spec!r}: expected local:N with N >= 1, e.g. local:4")
    return workers


@contextlib.contextmanager
def connect(spec: str, *, timeout: float = 30) -> Iterator[Any]:
    """A ``distributed.Client`` for ``spec``: ``local:N`` (a ``LocalCluster`` of N processes
    with one thread each, closed afterwards) or a scheduler's address (``tcp://HOST:8786``)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - the pinned set has it
        raise ClusterError(
            "--cluster needs Dask: pip install 'dask[distributed]' (the course's pinned set has it)"
        ) from exc
    # The scheduler's and nannies' routine messages (started, closed) are not the instructor's.
    quiet = logging.getLogger("distributed")
    quiet.setLevel(max(quiet.getEffectiveLevel(), logging.WARNING))
    workers = local_workers(spec)
    if workers is not None:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            memory_limit=0,  # each submission has the sandbox's own limits
            silence_logs=logging.ERROR,
        )
        try:
            with Client(cluster, timeout=timeout) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = Client(spec, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(
            f"cannot reach the Dask scheduler at {spec!r} ({exc}); start one with "
            "`dask scheduler` and workers with `dask worker ADDRESS --nthreads 1`"
        ) from exc
    with client:
        yield client


def share(client, source_nb, reference: Reference):
    """The source notebook and its reference run on every worker, once: a future to pass."""
    return client.scatter([(source_nb, reference)], broadcast=True)[0]


_worker_slot = threading.local()


def _slot():
    """This Dask worker thread's warm grading slot (its sandbox ends with the worker)."""
    from .zygote import Slot

    slot = getattr(_worker_slot, "slot", None)
    if slot is None:
        slot = _worker_slot.slot = Slot()
        atexit.register(slot.close)
    return slot


def run_remote(job, shared) -> tuple[NotebookResult, float]:
    """What a worker runs for one submission: its outcome and the seconds it took (with a warm
    zygote per worker thread, as the grader's own slots have)."""
    from .batch import run_job

    source_nb, reference = shared
    begin = time.perf_counter()
    outcome = run_job(job, source_nb, reference, slot=_slot() if job.warm else None)
    return outcome, time.perf_counter() - begin


__all__ = ["ClusterError", "connect", "local_workers", "run_remote", "share"]
