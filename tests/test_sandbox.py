"""Does the sandbox confine a submission's process: network, files, memory, processes, time?"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.grading.sandbox import Limits, Sandbox, bwrap_path, kill_group, sandbox_warning
from tests.conftest import ROOT

needs_bwrap = pytest.mark.skipif(
    bwrap_path() is None and not os.environ.get("CI"), reason="bubblewrap is not installed here"
)


def run(sandbox: Sandbox, code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    proc = sandbox.popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        kill_group(proc)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture
def sandbox(tmp_path):
    work = tmp_path / "submission"
    work.mkdir()
    return Sandbox(
        workdir=work,
        hide=[ROOT, Path.home()],
        readable=[Path(sys.prefix), Path(sys.base_prefix)],
        limits=Limits(memory=1 << 30, processes=32, file_size=1 << 20),
    )


@needs_bwrap
def test_bubblewrap_is_used_in_ci():
    assert bwrap_path() is not None and sandbox_warning() is None


@needs_bwrap
def test_no_network(sandbox):
    r = run(
        sandbox,
        "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 80), timeout=3)\n    print('open')\nexcept OSError:\n    print('blocked')",
    )
    assert r.stdout.strip() == "blocked"


@needs_bwrap
def test_course_and_home_are_invisible_and_only_the_workdir_is_writable(sandbox):
    code = f"""
import os
print(os.path.exists({str(ROOT / "course" / "nbgrader_config.py")!r}))
print(os.path.exists({str(ROOT / "autograder" / "isolated.py")!r}))
open('mine.txt', 'w').write('ok')
try:
    open('/etc/evil', 'w').write('x')
    print('wrote')
except OSError:
    print('refused')
try:
    # Refused, or (where the repository lies under /tmp) written to the sandbox's private /tmp.
    open({str(ROOT / "evil")!r}, 'w').write('x')
except OSError:
    pass
"""
    r = run(sandbox, code)
    assert r.stdout.split() == ["False", "False", "refused"], r.stdout + r.stderr
    assert not (sandbox.workdir / "mine.txt").exists(), "its folder's writes reached the host"
    assert not (ROOT / "evil").exists(), "the submission wrote outside its folder"
    assert not Path("/etc/evil").exists()


@needs_bwrap
def test_the_working_folder_is_a_capped_tmpfs_with_the_files_copied_in(tmp_path):
    work = tmp_path / "submission"
    (work / "data").mkdir(parents=True)
    (work / "data" / "given.txt").write_text("the course's data")
    limits = Limits(memory=1 << 30, file_size=1 << 20, workdir_size=4 << 20)
    sandbox = Sandbox(
        workdir=work, readable=[Path(sys.prefix), Path(sys.base_prefix)], limits=limits
    )
    code = """
import errno, os
print(open('data/given.txt').read())
open('data/given.txt', 'w').write('changed inside')  # its own copy
written = 0
try:
    for i in range(64):  # 64 MiB, in files of 1 MiB (the file size limit)
        with open(f'fill{i}', 'wb') as f:
            f.write(b'x' * (1 << 20))
        written += 1
except OSError as e:
    print('stopped', errno.errorcode[e.errno])
print(written)
"""
    r = run(sandbox, code)
    lines = r.stdout.splitlines()
    assert lines[0] == "the course's data", r.stdout + r.stderr
    assert lines[1] == "stopped ENOSPC", r.stdout + r.stderr
    assert int(lines[2]) < 4, "wrote more than the working folder's 4 MiB"
    assert (work / "data" / "given.txt").read_text() == "the course's data"
    assert sorted(p.name for p in work.iterdir()) == ["data"], "writes reached the host folder"


def test_each_submission_has_a_cpu_group_of_its_own_where_the_machine_allows(sandbox):
    proc = sandbox.popen(
        [sys.executable, "-c", "print(open('/proc/self/cgroup').read(), flush=True)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    groups = proc._autograder_cgroups
    made = dict(zip(groups.controllers, groups.dirs, strict=True))
    try:
        out, _ = proc.communicate(timeout=60)
    finally:
        kill_group(proc)
    if "cpu" not in made:
        pytest.skip("the cpu cgroup controller is not writable here")
    line = next(x for x in out.splitlines() if "cpu" in x.split(":")[1].split(","))
    assert line.endswith("/" + made["cpu"].name), out
    assert (made["cpu"].parent / "cpu.shares").exists()
    assert not any(d.exists() for d in made.values()), "the groups were not removed"


@needs_bwrap
def test_only_what_running_needs_is_visible_and_the_user_is_unprivileged(sandbox):
    """An allow-list: the system's libraries, Python and the course's packages, the submission's
    own folder and a private /tmp; not the rest of the host (a file an instructor left in
    /var/tmp, /etc/shadow). Inside, the submission runs as nobody (uid 65534)."""
    secret = Path("/var/tmp") / f"autograder-test-secret-{os.getpid()}"
    secret.write_text("the instructor's")
    code = f"""
import os
print(os.path.exists({str(secret)!r}), os.path.exists('/etc/shadow'))
print(os.getuid(), os.getgid())
import torch, matplotlib.pyplot
"""
    try:
        r = run(sandbox, code)
    finally:
        secret.unlink()
    assert r.stdout.split() == ["False", "False", "65534", "65534"], r.stdout + r.stderr
    assert r.returncode == 0 and not r.stderr, r.stderr


def test_memory_is_capped(sandbox):
    r = run(
        sandbox,
        "try:\n    x = bytearray(3 << 30)\n    print('allocated')\nexcept MemoryError:\n    print('refused')",
    )
    assert "allocated" not in r.stdout


def test_file_size_is_capped(sandbox):
    r = run(
        sandbox,
        "try:\n    open('big', 'wb').write(b'x' * (4 << 20))\n    print('wrote')\nexcept OSError:\n    print('refused')",
    )
    assert "wrote" not in r.stdout
    assert (
        not (sandbox.workdir / "big").exists()
        or (sandbox.workdir / "big").stat().st_size <= 1 << 20
    )


def test_processes_are_capped_where_the_machine_allows(sandbox):
    code = """
import os, time
n = 0
for _ in range(200):
    try:
        if os.fork() == 0:
            time.sleep(10)
            os._exit(0)
        n += 1
    except OSError:
        break
print(n)
"""
    proc = sandbox.popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    groups = proc._autograder_cgroups
    try:
        line = proc.stdout.readline()
    finally:
        kill_group(proc)
    if "pids" not in groups.controllers and os.geteuid() == 0:
        pytest.skip("no pids cgroup and running as root: the process cap cannot be enforced here")
    assert int(line) < 32


def test_killing_the_group_kills_every_descendant(sandbox, tmp_path):
    code = "import os, time, subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\nprint(os.getpid(), flush=True)\ntime.sleep(60)"
    proc = sandbox.popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    proc.stdout.readline()
    kill_group(proc)
    assert proc.poll() is not None


def test_groups_left_by_a_killed_grader_are_removed():
    from autograder.grading import sandbox as sb

    parent = sb._own_cgroup("pids")
    if parent is None:
        pytest.skip("the pids cgroup controller is not writable here")
    stale = parent / "autograder-999999999-deadbeef"  # above any pid_max: no such process
    stale.mkdir(exist_ok=True)
    sb._sweep_stale.cache_clear()
    groups = sb.Cgroups(Limits())
    try:
        assert not stale.exists()
        assert all(folder.exists() for folder in groups.dirs)  # a live grader's are kept
    finally:
        groups.remove()
        if stale.exists():
            stale.rmdir()
