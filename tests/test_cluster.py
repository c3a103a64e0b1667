"""Does grading on a Dask cluster give the same grades, even when a worker dies mid-batch?

Chapter 01, five submissions (two correct, two with a wrong softmax, one untouched), graded in
this process's slots and then on a ``LocalCluster`` of two worker processes reached by its
``tcp://`` address, as a cluster of several machines is. While the cluster grades, one worker
is killed (SIGKILL) in the middle of a submission: its nanny restarts it, the scheduler runs the
submission again elsewhere, and every grade arrives once, equal to the local one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import nbformat
import pytest

from tests.attacks import _dump, solved, wrong_softmax
from tests.conftest import SOURCE
from tests.test_adversarial import CHAPTER, grade_batch, make_course, read_csv, submit

distributed = pytest.importorskip("distributed")


def kill_a_busy_worker(address: str, killed: dict, stop: threading.Event) -> None:
    """SIGKILL the first worker seen grading a submission (once)."""
    with distributed.Client(address, timeout=30) as client:
        while not stop.is_set():
            busy = {w: keys for w, keys in client.processing().items() if keys}
            if busy:
                worker = sorted(busy)[0]
                pid = client.run(os.getpid, workers=[worker])[worker]
                time.sleep(0.5)  # well into the submission's run
                os.kill(pid, signal.SIGKILL)
                killed.update(worker=worker, keys=list(busy[worker]))
                return
            time.sleep(0.05)


def test_a_cluster_grades_like_this_process_even_when_a_worker_dies(tmp_path):
    course = make_course(tmp_path / "course")
    source = nbformat.read(SOURCE / CHAPTER / "exercises.ipynb", as_version=4)
    released = nbformat.read(course.root / "release" / CHAPTER / "exercises.ipynb", as_version=4)
    subs = tmp_path / "submitted"
    for i in range(2):
        submit(subs, f"correct_{i}", _dump(solved(source, released)))
        submit(subs, f"wrong_{i}", _dump(wrong_softmax(source, released)))
    submit(subs, "untouched", _dump(released))
    grade_batch(course, subs, tmp_path / "local.csv")
    local = read_csv(tmp_path / "local.csv")

    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit=0
    )
    killed: dict = {}
    stop = threading.Event()
    killer = threading.Thread(
        target=kill_a_busy_worker, args=(cluster.scheduler_address, killed, stop), daemon=True
    )
    try:
        killer.start()
        run = grade(course, subs, tmp_path / "cluster.csv", cluster.scheduler_address)
    finally:
        stop.set()
        killer.join(timeout=30)
        cluster.close()
    assert killed, "no worker was killed: the test did not test a death mid-batch"
    on_cluster = read_csv(tmp_path / "cluster.csv")
    columns = ("score", "max_score", "status", "message")
    assert {s: [r[c] for c in columns] for s, r in on_cluster.items()} == {
        s: [r[c] for c in columns] for s, r in local.items()
    }
    assert sorted(r.student for r in run.results) == sorted(local), "a grade lost or written twice"
    assert {r["status"] for r in on_cluster.values()} == {"graded"}
    assert float(on_cluster["correct_0"]["score"]) == float(on_cluster["correct_0"]["max_score"])


def grade(course, subs, out, address):
    from autograder.grading.batch import grade as grade_on

    return grade_on(course, CHAPTER, submissions=subs, out=out, cluster=address, progress=False)


def test_a_bad_cluster_address_is_a_usage_error(tmp_path):
    for spec, said in (("local:0", "expected local:N"), ("somewhere", "scheduler's address")):
        run = subprocess.run(
            [sys.executable, "-m", "autograder.cli", "grade", CHAPTER, "--cluster", spec,
             "--submissions", str(tmp_path)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert run.returncode == 2, run.stdout + run.stderr
        assert said in run.stderr, run.stderr
