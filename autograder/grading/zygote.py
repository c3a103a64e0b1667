"""A warm zygote per grading slot: start Python, IPython and torch once, fork one child per
submission.

Most of a sandboxed submission's cost is not the learner's cells but starting Python and
importing torch, IPython and the checks (about 2 s of CPU). A :class:`Slot` starts one
bubblewrap sandbox (:mod:`autograder.grading.sandbox`, ``warm`` mode) whose first process, the
*zygote* (``python -m autograder.grading.zygote FD``), imports all of that and then forks one
child per submission; each child runs :mod:`autograder.grading.worker`'s loop, as a fresh worker
process would.

What keeps one submission from another (and from the zygote):

- **The zygote never runs learner code** and holds nothing secret: it receives a folder name,
  limits and descriptors, never a cell. It is not dumpable (``PR_SET_DUMPABLE`` 0), so no other
  process of the same user may ptrace it or open its ``/proc/<pid>/mem``.
- **Its control channel is private**: a Unix socket on which the grader sends each request
  with the child's own descriptors (``SCM_RIGHTS``): two fresh pipes for the worker protocol and
  the child's cgroups' ``cgroup.procs``. The child joins its groups by writing ``0`` to them,
  then closes every descriptor but its pipes, so neither it nor anything it starts can speak
  for the zygote.
- **Each child its own limits and groups**: ``setrlimit`` in the child before any learner code;
  the grader creates the cgroups (memory, pids, cpu) outside and removes them afterwards,
  killing anything left in them.
- **Nothing survives a submission**: when the grader ends a child, the zygote kills every other
  process of the sandbox (``kill(-1)``, until ``/proc`` shows only itself and bubblewrap's
  init), reaps, brings the working folder, ``/tmp`` and ``/dev/shm`` back to what they held
  before any child ran (:func:`snapshot`: empty, but for the mount points bubblewrap made there,
  such as a virtualenv's under ``/tmp``), and checks that no System V IPC object is left. Anything it cannot make clean (or a zygote that does not answer)
  and the grader restarts the slot's sandbox; it also does so after any submission that timed
  out or crashed, and after :attr:`Slot.max_children` submissions.
- A child that signals or kills its zygote only ends its own run (the sandbox's PID namespace
  dies with the zygote): its submission fails, and the slot starts afresh for the next.

Only under bubblewrap (its PID namespace is what ``kill(-1)`` may empty); without it, each
submission gets a fresh worker process as before (:class:`autograder.grading.isolated.WorkerProcess`).

Left out: user keyrings (``add_key``) persist between a slot's children; they carry no code
and the course has no use for them.
"""

from __future__ import annotations

import array
import dataclasses
import json
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .isolated import WorkerProcess

#: Modules the zygote imports once for all its children (any that fails to import is skipped).
PRELOAD = (
    "numpy",
    "torch",
    "torch.nn",
    "torch.nn.functional",
    "IPython.core.interactiveshell",
    "IPython.core.displayhook",
    "IPython.utils.capture",
    "autograder",
    "autograder.checks.values",
    "autograder.grading.wire",
    "autograder.grading.worker",
    "matplotlib",
    "matplotlib.pyplot",
    "sklearn.datasets",
)
PR_SET_DUMPABLE = 4
#: Descriptors one request may carry: the two pipes and up to six cgroups.
MAX_FDS = 8


# --- inside the sandbox: the zygote ------------------------------------------------------------


def _prctl_dumpable(value: int) -> bool:
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_DUMPABLE, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


#: What a child may write, emptied after each (but for what bubblewrap put there: below).
WRITABLE = ("/tmp", "/dev/shm", "/dev/mqueue")


def _remove(path: str) -> None:
    """Delete a file or a whole tree that a child made (read-only folders included)."""

    def writable(func, name, _exc) -> None:
        try:  # a folder the child made read-only: its owner (us) may change that
            os.chmod(os.path.dirname(name), 0o700)
            if os.path.isdir(name) and not os.path.islink(name):
                os.chmod(name, 0o700)
            func(name)
        except OSError:
            pass

    try:
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, 0o700)
            shutil.rmtree(path, onerror=writable)
        else:
            os.unlink(path)
    except OSError:
        pass


def snapshot(folder: str) -> set[str]:
    """What ``folder`` holds before any child ran: the paths, relative to it, of everything on
    its own file system (the folders bubblewrap made as mount points for what it shows
    read-only, such as a virtualenv under /tmp). Mounted file systems are not entered."""
    root = Path(folder)
    if not root.is_dir():
        return set()
    device = root.stat().st_dev
    seen: set[str] = set()

    def walk(path: str, rel: str) -> None:
        for entry in os.scandir(path):
            name = f"{rel}/{entry.name}" if rel else entry.name
            seen.add(name)
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode) and info.st_dev == device:
                walk(entry.path, name)

    walk(folder, "")
    return seen


def restore(folder: str, baseline: set[str]) -> list[str]:
    """Remove everything in ``folder`` that its :func:`snapshot` did not hold, without entering
    other file systems (mount points are read-only and not the child's); what is left over."""
    root = Path(folder)
    if not root.is_dir():
        return []
    device = root.stat().st_dev
    left: list[str] = []

    def walk(path: str, rel: str) -> None:
        try:
            entries = list(os.scandir(path))
        except OSError:  # a folder of ours the child made unreadable
            try:
                os.chmod(path, 0o755)
                entries = list(os.scandir(path))
            except OSError:
                left.append(rel or ".")
                return
        for entry in entries:
            name = f"{rel}/{entry.name}" if rel else entry.name
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if info.st_dev != device:  # a mount point
                continue
            if name in baseline:
                if stat.S_ISDIR(info.st_mode):
                    walk(entry.path, name)
                continue
            _remove(entry.path)
            if os.path.lexists(entry.path):
                left.append(name)

    walk(folder, "")
    return sorted(left)


def _ipc_objects() -> list[str]:
    """System V shared memory, semaphores and message queues left in the sandbox's namespace."""
    left = []
    for kind in ("shm", "sem", "msg"):
        try:
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]
        except OSError:
            continue
        left += [f"{kind} {line.split()[1]}" for line in lines if line.strip()]
    return left


def clean_up(workdir: str, baseline: dict[str, set[str]]) -> list[str]:
    """Kill every process of the sandbox but bubblewrap's init and this one, bring the folders
    a child may write back to their ``baseline`` (:func:`snapshot`); what could not be cleaned
    (empty: clean)."""
    me = os.getpid()
    problems: list[str] = []
    for attempt in range(100):
        others = [p for p in _pids() if p not in (1, me)]
        if not others:
            break
        try:
            os.kill(-1, signal.SIGKILL)  # every process we may signal, but init and ourselves
        except ProcessLookupError:
            pass
        _reap()
        time.sleep(0.002 * attempt)
    else:
        problems.append(f"{len(others)} processes would not die")
    for folder in (workdir, *WRITABLE):
        left = restore(folder, baseline.get(folder, set()))
        if left:
            problems.append(f"{folder} not empty: {left[:3]}")
    if ipc := _ipc_objects():
        problems.append(f"System V IPC objects left: {ipc[:3]}")
    return problems


def _recv(ctl: socket.socket) -> tuple[dict[str, Any] | None, list[int]]:
    """One request (a JSON line, with descriptors); None at the end of the channel."""
    fds = array.array("i")
    data, ancdata, _, _ = ctl.recvmsg(1 << 16, socket.CMSG_SPACE(MAX_FDS * fds.itemsize))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    if not data:
        return None, list(fds)
    return json.loads(data), list(fds)


def _send(ctl: socket.socket, message: dict[str, Any]) -> None:
    ctl.sendall(json.dumps(message).encode() + b"\n")


def _child(request: dict[str, Any], fds: list[int], workdir: str) -> None:
    """In the forked child: join the cgroups, take the pipes, drop everything else, copy the
    submission's files in, lower the limits, run the worker. Never returns."""
    code = 1
    try:
        os.setsid()
        req, reply, *groups = fds
        for fd in groups:
            try:
                os.write(fd, b"0")  # cgroup v1: the writing process joins the group
            except OSError:
                pass
        os.dup2(req, 0)
        os.dup2(reply, 1)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        _close_from(3)  # the control socket among them
        _prctl_dumpable(1)
        source = Path(request["input"]) / request["folder"]
        shutil.copytree(source, workdir, symlinks=True, dirs_exist_ok=True)
        os.chdir(workdir)
        _fresh_random()
        from autograder.grading.sandbox import Limits

        Limits(**request["limits"]).apply()
        from autograder.grading import worker

        code = worker.main()
    except BaseException:  # noqa: BLE001 - the child must never return into the zygote's loop
        code = 1
    finally:
        os._exit(code)


def _close_from(low: int) -> None:
    """Close every open descriptor from ``low`` up: those ``/proc/self/fd`` lists (a loop up to
    the descriptor limit costs a tenth of a second where that limit is a million)."""
    for name in os.listdir("/proc/self/fd"):
        if int(name) >= low:
            try:
                os.close(int(name))
            except OSError:  # the listing's own descriptor, already closed
                pass


def _fresh_random() -> None:
    """New seeds for the generators a fresh process would seed from the OS (torch's default
    seed is fixed in a fresh process, as here)."""
    import random

    random.seed()
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    ctl = socket.socket(fileno=int(args[0]))
    workdir = args[1]
    os.environ.setdefault("MPLBACKEND", "Agg")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # nothing of the zygote's own talks to anyone but the grader
        os.dup2(null, fd)
    os.close(null)
    baseline = {folder: snapshot(folder) for folder in (workdir, *WRITABLE)}
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a course without matplotlib or sklearn still grades
            pass
    protected = _prctl_dumpable(0)
    problems = clean_up(workdir, baseline)  # the preloads' caches (matplotlib's fonts)
    # One thread: fork copies only the calling one (a lock held by another would stay held).
    threads = len(os.listdir("/proc/self/task"))
    _send(ctl, {"ready": True, "dumpable": not protected, "threads": threads, "problems": problems})
    child = None
    while True:
        try:
            request, fds = _recv(ctl)
        except (OSError, ValueError):
            return 1
        if request is None or request.get("op") == "exit":
            return 0
        if request.get("op") == "fork" and child is None and len(fds) >= 2:
            child = os.fork()
            if child == 0:
                _child(request, fds, workdir)
            for fd in fds:
                os.close(fd)
            _send(ctl, {"forked": child})
        elif request.get("op") == "end":
            for fd in fds:
                os.close(fd)
            problems = clean_up(workdir, baseline)
            child = None
            _send(ctl, {"done": True, "problems": problems})
        else:
            for fd in fds:
                os.close(fd)
            _send(ctl, {"error": "unexpected request"})


# --- on the grader's side: a slot ---------------------------------------------------------------


class ZygoteError(RuntimeError):
    """The slot's zygote did not start, stopped answering, or could not clean up."""


class Slot:
    """One grading slot's warm sandbox: :meth:`spawn` a worker per submission.

    Not thread-safe: one slot per grading thread. ``close()`` ends the sandbox.
    """

    max_children = 50
    start_timeout = 120.0
    answer_timeout = 10.0

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.env = env
        self.proc = None
        self.ctl: socket.socket | None = None
        self.inbox: Path | None = None
        self.key: tuple | None = None
        self.children = 0
        self.starts = 0
        self.info: dict[str, Any] = {}
        self.disabled = ""  # why this slot's zygote cannot be used, once it failed to start
        self._buffer = b""

    # The sandbox ------------------------------------------------------------------------------
    def configure(self, hide, readable, limits, use_bwrap=None) -> None:
        """Use a sandbox with these settings (restarting it if it had others)."""
        key = (tuple(map(str, hide)), tuple(map(str, readable)), limits, use_bwrap)
        if key != self.key:
            self.close()
            self.key = key

    def _start(self) -> None:
        if self.disabled:
            raise ZygoteError(self.disabled)
        try:
            self._launch()
        except ZygoteError as exc:
            self.disabled = str(exc)  # not again for every submission: fresh processes instead
            raise

    def _launch(self) -> None:
        import tempfile

        from .isolated import worker_env
        from .sandbox import WARM_WORKDIR, Sandbox

        hide, readable, limits, use_bwrap = self.key
        self.inbox = Path(tempfile.mkdtemp(prefix="autograder-slot-"))
        sandbox = Sandbox(
            workdir=self.inbox,
            hide=[Path(h) for h in hide],
            readable=[Path(r) for r in readable],
            limits=limits,
            use_bwrap=use_bwrap,
        )
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.proc = sandbox.popen(
                [
                    sys.executable,
                    "-m",
                    "autograder.grading.zygote",
                    str(theirs.fileno()),
                    WARM_WORKDIR,
                ],
                env=worker_env(self.env),
                warm=True,
                cgroups=False,
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        finally:
            theirs.close()
        self.ctl = ours
        self.children = 0
        self.starts += 1
        self._buffer = b""
        try:
            reply = self._answer(self.start_timeout)
        except ZygoteError:
            self.close()
            raise
        self.info = reply
        if reply.get("ready") is not True:
            self.close()
            raise ZygoteError("the grading slot's sandbox did not start properly")
        if reply.get("dumpable") is not False or reply.get("threads") != 1:
            self.close()  # a zygote others could trace, or one a fork would copy half of
            raise ZygoteError(
                "the grading slot's zygote could not be protected "
                f"(dumpable: {reply.get('dumpable')}, threads: {reply.get('threads')})"
            )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        """End the sandbox (if any) and remove its inbox."""
        from .sandbox import kill_group

        if self.ctl is not None:
            self.ctl.close()
            self.ctl = None
        if self.proc is not None:
            kill_group(self.proc)
            self.proc = None
        if self.inbox is not None:
            shutil.rmtree(self.inbox, ignore_errors=True)
            self.inbox = None

    def _answer(self, timeout: float) -> dict[str, Any]:
        assert self.ctl is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ZygoteError("the grading slot's zygote did not answer")
            self.ctl.settimeout(left)
            try:
                chunk = self.ctl.recv(1 << 16)
            except (TimeoutError, OSError) as exc:
                raise ZygoteError("the grading slot's zygote did not answer") from exc
            if not chunk:
                raise ZygoteError("the grading slot's zygote ended")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            reply = json.loads(line)
        except ValueError as exc:
            raise ZygoteError("the grading slot's zygote sent garbage") from exc
        return reply if isinstance(reply, dict) else {}

    def _request(self, message: dict[str, Any], fds: list[int] = ()) -> None:
        assert self.ctl is not None
        data = json.dumps(message).encode()
        ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
        try:
            self.ctl.sendmsg([data], ancillary)
        except OSError as exc:
            raise ZygoteError("the grading slot's zygote ended") from exc

    # Submissions ------------------------------------------------------------------------------
    def folder(self) -> Path:
        """A new, empty folder for the next submission's files (seen by its child only)."""
        if not self.running or self.children >= self.max_children:
            self.close()
            self._start()
        assert self.inbox is not None
        for old in self.inbox.iterdir():  # a previous submission's, if its end was not reached
            shutil.rmtree(old, ignore_errors=True)
        folder = self.inbox / secrets.token_hex(8)
        folder.mkdir()
        return folder

    def spawn(self, folder: Path, limits) -> ZygoteWorker:
        """Fork a child for the submission whose files are in ``folder`` (from :meth:`folder`)."""
        from .sandbox import INPUT, Cgroups

        groups = Cgroups(limits)
        to_child = os.pipe2(os.O_CLOEXEC)  # (read end: the child's stdin, write end: ours)
        from_child = os.pipe2(os.O_CLOEXEC)
        procs: list[int] = []
        try:
            procs = groups.open_procs()
            self._request(
                {
                    "op": "fork",
                    "input": INPUT,
                    "folder": folder.name,
                    "limits": dataclasses.asdict(limits),
                },
                [to_child[0], from_child[1], *procs],
            )
            reply = self._answer(self.answer_timeout)
            if "forked" not in reply:
                raise ZygoteError("the grading slot's zygote did not start the submission")
        except BaseException:
            for fd in (*to_child, *from_child):
                os.close(fd)
            groups.remove()
            self.close()
            raise
        finally:
            for fd in procs:
                os.close(fd)
        os.close(to_child[0])
        os.close(from_child[1])
        self.children += 1
        return ZygoteWorker(self, folder, groups, to_child[1], from_child[0])

    def end(self, folder: Path, failed: bool) -> None:
        """End the current child: everything in the sandbox but the zygote killed, its folders
        emptied; the sandbox restarted if that fails, or if the child ``failed``."""
        try:
            if not self.running:
                raise ZygoteError("the grading slot's zygote ended")
            self._request({"op": "end"})
            reply = self._answer(self.answer_timeout)
            if reply.get("done") is not True or reply.get("problems") or failed:
                self.close()
        except ZygoteError:
            self.close()
        finally:
            shutil.rmtree(folder, ignore_errors=True)


class ZygoteWorker(WorkerProcess):
    """A zygote's child: :class:`autograder.grading.isolated.WorkerProcess`'s protocol
    (``start``, ``run``) on the child's own pipes; ``close`` ends it through the slot."""

    def __init__(self, slot: Slot, folder: Path, groups, to_child: int, from_child: int) -> None:
        self.slot = slot
        self.folder = folder
        self.groups = groups
        self.proc = slot.proc
        self._stdin = os.fdopen(to_child, "wb")
        self._stdout_fd = from_child
        self._buffer = b""
        self._started = False
        self.failed = False
        self._closed = False

    def start(self, timeout: float = 120) -> None:
        try:
            super().start(timeout)
        except Exception:
            self.failed = True
            raise

    def run(self, source: str, timeout: float) -> dict[str, Any]:
        try:
            return super().run(source, timeout)
        except Exception:
            self.failed = True
            raise

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._stdin.close()
        except OSError:
            pass
        os.close(self._stdout_fd)
        self.slot.end(self.folder, self.failed)
        self.groups.remove()


if __name__ == "__main__":
    sys.exit(main())
