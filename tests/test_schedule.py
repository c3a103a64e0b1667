"""Does ``make test``'s schedule keep each xdist group on one worker?

``make test`` runs ``pytest -n 2 --dist loadgroup``, and ``tests/conftest.py`` gives every test
without a group its file as its group. If the groups were ignored, a group's module-scoped
fixtures would be built on both workers (the book was built twice, every chapter's mutants run
twice) and an nbval notebook's cells would run in two kernels (every cell after the first failed
with ``NameError``). pytest 9.2 did exactly that to pytest-xdist 3.8: xdist marks a test's group
by rewriting a node-id attribute that pytest 9.2 no longer reads. This runs a small suite the
same way and checks where each test ran.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import textwrap

from tests.conftest import ROOT

SUITE = {
    "test_grouped.py": """
        import os, time, pytest

        def log(name):
            with open("ran.log", "a") as f:
                f.write(f"{name} {os.environ['PYTEST_XDIST_WORKER']}\\n")
            time.sleep(0.3)

        def test_ungrouped_first():
            log("file-grouped:first")

        @pytest.mark.xdist_group("named")
        @pytest.mark.parametrize("i", range(4))
        def test_named(i):
            log(f"named:{i}")
    """,
    "test_by_file.py": """
        import pytest
        from test_grouped import log

        @pytest.mark.parametrize("i", range(6))
        def test_file(i):
            log(f"by-file:{i}")
    """,
}


def test_each_group_runs_whole_on_one_worker(tmp_path):
    for name, text in SUITE.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadgroup",
         "--no-loadscope-reorder", "-p", "tests.conftest", "-p", "no:cacheprovider", "."],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    workers = collections.defaultdict(set)
    count = 0
    for line in (tmp_path / "ran.log").read_text().splitlines():
        test, worker = line.split()
        workers[test.split(":")[0]].add(worker)
        count += 1
    assert count == 11, f"expected 11 tests to run, the log has {count}"
    split = {group: sorted(w) for group, w in workers.items() if len(w) > 1}
    assert not split, (
        f"xdist groups ran on several workers: {split}. Is pytest-xdist's loadgroup working "
        "with this pytest (see requirements.txt)?"
    )
    assert set(workers) == {"file-grouped", "named", "by-file"}, dict(workers)
