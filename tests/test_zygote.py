"""The warm zygote (issue 11, item 2): one sandbox per slot forks a child per submission. Can a
child reach its zygote, or leave anything behind for the next student? Do scores stay the same?

Each test drives a :class:`autograder.grading.zygote.Slot` directly: one child's cells (the
attack), then the next child's (what the next student would find). The grading-level attacks
(``ptrace_the_zygote``, ``daemon_for_the_next_student``, ... in :mod:`tests.attacks`) run in the
adversarial batch, where every submission of chapter 01 goes through the slots' zygotes.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from autograder.grading.batch import grade, slot_readable
from autograder.grading.isolated import WorkerDied
from autograder.grading.sandbox import Limits, bwrap_path
from autograder.grading.zygote import Slot
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(
    bwrap_path() is None and not os.environ.get("CI"), reason="bubblewrap is not installed here"
)

LIMITS = Limits(memory=2 << 30, processes=64)


@pytest.fixture
def shown_under_tmp():
    """A folder under /tmp that the sandbox shows read-only (as CI's fresh clone, whose
    virtualenv lies under /tmp: bubblewrap makes its mount point in the private /tmp)."""
    folder = Path(tempfile.mkdtemp(prefix="autograder-test-", dir="/tmp")) / "shown"
    folder.mkdir()
    (folder / "data").write_text("read-only")
    yield folder
    shutil.rmtree(folder.parent)


@pytest.fixture
def slot(shown_under_tmp):
    s = Slot()
    s.configure([ROOT, Path.home()], [*slot_readable(), shown_under_tmp], LIMITS)
    s.answer_timeout = 5.0
    yield s
    s.close()


def child(slot: Slot, *cells: str, files: dict[str, bytes] | None = None) -> list[dict]:
    """Run ``cells`` in a new child of ``slot`` (with ``files`` in its folder); their replies."""
    folder = slot.folder()
    for name, data in (files or {}).items():
        (folder / name).write_bytes(data)
    worker = slot.spawn(folder, LIMITS)
    try:
        worker.start(60)
        return [worker.run(cell, 30) for cell in cells]
    finally:
        worker.close()


def printed(reply: dict) -> str:
    assert reply["error"] is None, reply["error"]
    return "".join(o.get("text", "") for o in reply["outputs"] if o["output_type"] == "stream")


def shown(reply: dict):
    """What a cell printed as one JSON line."""
    return json.loads(printed(reply).strip().splitlines()[-1])


LOOK_AROUND = """
import json, os
me, parent = os.getpid(), os.getppid()
fds = {}
for fd in os.listdir("/proc/self/fd"):
    try:
        fds[fd] = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # the listing's own descriptor, closed by now
        pass
print(json.dumps({
    "others": sorted(int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, me, parent)),
    "tmp": sorted(os.listdir("/tmp")),
    "shm": sorted(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else [],
    "work": sorted(os.listdir(".")),
    "ipc": [l for l in open("/proc/sysvipc/shm").read().splitlines()[1:] if l.strip()],
    "fds": fds,
}))
"""


def test_the_zygote_is_protected_and_single_threaded(slot):
    slot.folder()
    assert slot.info["dumpable"] is False and slot.info["threads"] == 1
    assert slot.info["problems"] == []  # a mount point under /tmp is not left-over work


def test_a_child_cannot_trace_or_read_its_zygote(slot):
    # With the zygote dumpable (PR_SET_DUMPABLE left at 1), both succeeded: PTRACE_ATTACH
    # returned 0 and /proc/<zygote>/mem opened (the zygote's memory, and the code it runs for
    # the next student, were the child's to change).
    (reply,) = child(
        slot,
        """
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
zygote = os.getppid()
attached = libc.ptrace(16, zygote, 0, 0)  # PTRACE_ATTACH
errno = ctypes.get_errno()
try:
    open(f"/proc/{zygote}/mem", "rb").close()
    mem = "opened"
except OSError as exc:
    mem = type(exc).__name__
try:
    environ = open(f"/proc/{zygote}/environ").read()
except OSError as exc:
    environ = type(exc).__name__
print(json.dumps({"attach": attached, "errno": errno, "mem": mem, "environ": environ,
                  "cmdline": open(f"/proc/{zygote}/cmdline").read()}))
""",
    )
    seen = shown(reply)
    assert "autograder.grading.zygote" in seen["cmdline"]  # it is the zygote we aimed at
    assert seen["attach"] == -1 and seen["errno"] == 1  # EPERM
    assert seen["mem"] == "PermissionError" and seen["environ"] == "PermissionError"


def test_no_daemon_file_or_descriptor_survives_for_the_next_child(slot, shown_under_tmp):
    (before,) = child(slot, LOOK_AROUND)  # what bubblewrap made: mount points under /tmp
    baseline = shown(before)
    mount_parent = str(shown_under_tmp.parent)
    first = child(
        slot,
        f"""
import os, time
open("{mount_parent}/planted", "w").write("x")  # beside a mount point, in the private /tmp
"""
        + """
open("/tmp/planted.py", "w").write("print('planted')")
open("planted_in_work", "w").write("x")
os.makedirs(".ipython/profile_default/startup", exist_ok=True)
open(".ipython/profile_default/startup/00-evil.py", "w").write("raise SystemExit")
if os.path.isdir("/dev/shm"):
    open("/dev/shm/planted", "w").write("x")
locked = os.path.join(os.getcwd(), "locked")
os.makedirs(locked + "/inner")
open(locked + "/inner/f", "w").write("x")
os.chmod(locked + "/inner", 0o500)
os.chmod(locked, 0o500)
if os.fork() == 0:  # a daemon: new session, double fork, outlives its parent
    os.setsid()
    if os.fork() == 0:
        deadline = time.time() + 60
        while time.time() < deadline:
            for name in ("/tmp/daemon_alive", "daemon_was_here"):
                try:
                    open(name, "w").write(str(os.getpid()))
                except OSError:
                    pass
            time.sleep(0.01)
    os._exit(0)
time.sleep(0.3)
print(sorted(os.listdir(".")))
""",
    )
    assert "daemon_was_here" in printed(first[0])  # the daemon ran while its student did
    (second,) = child(slot, "import time\ntime.sleep(0.5)\n" + LOOK_AROUND, files={"mine": b"1"})
    seen = shown(second)
    assert seen["others"] == []  # no process but init, the zygote and this child
    assert seen["tmp"] == baseline["tmp"] and seen["shm"] == baseline["shm"] == []
    assert not os.path.exists(f"{mount_parent}/planted")  # (never reached the host either)
    (check,) = child(slot, f"import os\nprint(sorted(os.listdir({mount_parent!r})))")
    assert printed(check).strip() == "['shown']"
    assert seen["work"] == [".ipython", "mine"]  # its own file (and IPython's profile) only
    assert seen["ipc"] == []
    fds = seen["fds"]
    assert not [t for t in fds.values() if t.startswith("socket:")]  # no control channel
    # Two pipes: the worker protocol's own (the worker moves them off 0 and 1, to /dev/null).
    assert len([t for t in fds.values() if t.startswith("pipe:")]) == 2, fds
    assert fds["0"] == fds["1"] == "/dev/null", fds
    assert slot.starts == 1  # all of it cleaned without restarting the sandbox


def test_system_v_ipc_left_behind_restarts_the_sandbox(slot):
    child(
        slot,
        "import ctypes\nlibc = ctypes.CDLL(None)\nprint(libc.shmget(0, 4096, 0o1600))",  # IPC_CREAT
    )
    (reply,) = child(slot, LOOK_AROUND)
    assert shown(reply)["ipc"] == []
    assert slot.starts == 2


def test_killing_the_zygote_fails_only_that_submission(slot):
    folder = slot.folder()
    worker = slot.spawn(folder, LIMITS)
    try:
        worker.start(60)
        with pytest.raises(WorkerDied):
            # the sandbox's PID namespace ends with the zygote, this child with it
            worker.run(
                "import os, signal, time\nos.kill(os.getppid(), signal.SIGKILL)\ntime.sleep(5)", 30
            )
    finally:
        worker.close()
    (reply,) = child(slot, LOOK_AROUND)
    assert shown(reply)["others"] == [] and slot.starts == 2


def test_a_stopped_zygote_is_replaced(slot):
    (reply,) = child(
        slot, "import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)\nprint('stopped it')"
    )
    assert "stopped it" in printed(reply)  # the child itself goes on
    (reply,) = child(slot, LOOK_AROUND)  # the zygote did not answer its end: a new sandbox
    assert shown(reply)["others"] == [] and slot.starts == 2


def test_each_child_has_its_own_limits_cgroups_and_random_state(slot):
    code = """
import json, random, resource
groups = [line.split(":", 2)[2] for line in open("/proc/self/cgroup").read().splitlines()
          if line.split(":")[1] in ("memory", "pids")]
print(json.dumps({"as": resource.getrlimit(resource.RLIMIT_AS)[0], "groups": groups,
                  "random": random.random()}))
"""
    one, two = shown(child(slot, code)[0]), shown(child(slot, code)[0])
    assert one["as"] == LIMITS.memory
    assert one["random"] != two["random"]  # each child reseeded, as a fresh process is
    if any("autograder-" in g for g in one["groups"]):  # where the grader may create cgroups
        assert all("autograder-" in g for g in one["groups"])
        assert set(one["groups"]).isdisjoint(two["groups"])


def test_the_sandbox_restarts_after_max_children(slot):
    slot.max_children = 2
    for _ in range(3):
        child(slot, "print(1)")
    assert slot.starts == 2


def test_scores_are_the_same_with_and_without_the_zygote(tmp_path):
    import nbformat

    from tests.attacks import ATTACKS, _dump, solved, wrong_softmax
    from tests.test_adversarial import make_course, submit

    course = make_course(tmp_path / "course")
    chapter = "01_autograd"
    source = nbformat.read(course.source(chapter) / "exercises.ipynb", as_version=4)
    released = nbformat.read(course.root / "release" / chapter / "exercises.ipynb", as_version=4)
    subs = tmp_path / "submitted"
    submit(subs, "correct", _dump(solved(source, released)))
    submit(subs, "wrong_softmax", _dump(wrong_softmax(source, released)))
    submit(subs, "untouched", _dump(released))
    chosen = ("os_exit", "fork_bomb", "memory_bomb", "sys_exit", "stderr_and_warnings")
    for attack in ATTACKS:
        if attack.name in chosen:
            submit(subs, attack.name, attack.build(source, released))
    rows = {}
    for warm in (True, False):
        out = tmp_path / f"grades-{warm}.csv"
        grade(course, chapter, submissions=subs, out=out, jobs=2, progress=False, zygote=warm)
        with open(out, newline="") as fh:
            rows[warm] = {r["student"]: (r["score"], r["status"]) for r in csv.DictReader(fh)}
    assert rows[True] == rows[False]
    assert len(rows[True]) == 3 + len(chosen)


def test_the_next_student_of_a_slot_is_out_of_reach(tmp_path):
    """One slot (``jobs=1``), graded in order: a daemon that kills every other notebook of its
    sandbox for a minute, planted files, a stopped zygote; then an honest student, who must get
    full marks. (With both the zygote's clean-up and the cgroups' kill skipped, the daemon
    killed the honest student's notebook: status failed.)"""
    import nbformat

    from tests.attacks import (
        DAEMON_FOR_THE_NEXT,
        PLANT_FILES,
        SIGNAL_THE_ZYGOTE,
        ZYGOTE_PREAMBLE,
        _dump,
        solved,
        with_cell,
    )
    from tests.test_adversarial import make_course, submit

    course = make_course(tmp_path / "course")
    chapter = "01_autograd"
    source = nbformat.read(course.source(chapter) / "exercises.ipynb", as_version=4)
    released = nbformat.read(course.root / "release" / chapter / "exercises.ipynb", as_version=4)
    subs = tmp_path / "submitted"
    submit(subs, "a_daemon", with_cell(DAEMON_FOR_THE_NEXT, "end")(source, released))
    submit(subs, "b_honest", _dump(solved(source, released)))
    submit(subs, "c_plants", with_cell(PLANT_FILES, "end")(source, released))
    submit(subs, "d_honest", _dump(solved(source, released)))
    submit(subs, "e_stops", with_cell(ZYGOTE_PREAMBLE + SIGNAL_THE_ZYGOTE, "end")(source, released))
    submit(subs, "f_honest", _dump(solved(source, released)))
    out = tmp_path / "grades.csv"
    grade(course, chapter, submissions=subs, out=out, jobs=1, progress=False)
    with open(out, newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    full = rows["b_honest"]["max_score"]
    for student in ("b_honest", "d_honest", "f_honest"):
        assert (rows[student]["status"], rows[student]["score"]) == ("graded", full), rows[student]
    for student in ("a_daemon", "c_plants", "e_stops"):
        assert rows[student]["status"] == "graded", rows[student]
