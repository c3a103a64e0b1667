"""Run a command confined: its own process group, resource limits, and where the machine has
Debian's ``bubblewrap``, no network and a file system that shows only what grading needs.

What the confined process sees with bubblewrap (``bwrap``), an allow-list:

- read-only, what running needs and nothing else of the host: the system's programs and
  libraries (:data:`SYSTEM_PATHS`: ``/usr``, a few files of ``/etc``), the Python installation
  and the course's packages (``readable``);
- the folders listed in ``hide`` replaced by empty ones wherever they lie under what it sees:
  the course (sources with solutions and hidden tests, the gradebook, other students' work) is
  invisible;
- its own working directory, the only place it may write: a size-capped tmpfs
  (:attr:`Limits.workdir_size`) into which the host folder's files are copied as it starts,
  so nothing it writes reaches the host and it cannot fill the host's disk; and an empty private
  ``/tmp`` (a capped tmpfs too);
- no network (a new network namespace with only a loopback), its own PID namespace, and it dies
  with its parent;
- it runs as ``nobody`` (uid and gid 65534) in a user namespace of its own, without
  capabilities.

Resource limits (``setrlimit``, applied in every case): address space, CPU time, file size,
open files, and the number of processes where the user is not root (root ignores that limit).
Where the grader may create control groups (cgroup v1 ``pids`` and ``memory`` controllers
writable, as for root on most Linux machines), the submission also gets a group of its own
capping its processes and its total memory, forks included (a fork bomb stops at the cap), and
a ``cpu`` group of its own, so that parallel submissions share the CPU fairly however many busy
processes one of them starts.
Wall-clock limits are the caller's business (:mod:`autograder.grading.isolated` enforces them per cell
and per notebook by killing the process group).

Without bubblewrap (macOS, Colab, a machine without it) the command runs with the limits only,
and :func:`sandbox_warning` says so: the network and the file system are then not confined.

Deliberately left out: containers and cgroup v2 (an instructor who has them can run the whole
grader inside one), and seccomp filters.
"""

from __future__ import annotations

import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

__all__ = ["Limits", "Sandbox", "Cgroups", "bwrap_path", "sandbox_warning", "kill_group"]

GiB = 1 << 30
MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Resource limits for one confined process (and each process it starts)."""

    memory: int = 2 * GiB
    """Address space per process, bytes (RLIMIT_AS)."""
    cpu_seconds: int = 900
    """CPU time per process, seconds (RLIMIT_CPU): SIGXCPU, then SIGKILL."""
    file_size: int = 256 * MiB
    """Largest file the process may write, bytes (RLIMIT_FSIZE)."""
    processes: int = 256
    """Processes of the (non-root) user (RLIMIT_NPROC); the watchdog also counts the group's."""
    open_files: int = 1024
    """Open file descriptors (RLIMIT_NOFILE)."""
    workdir_size: int = 512 * MiB
    """Bytes the working folder may hold (bubblewrap: a tmpfs of this size, the files copied in)."""

    def apply(self) -> None:
        """Set these limits on the current process (called in the child before exec)."""
        for name, value in (
            ("RLIMIT_AS", self.memory),
            ("RLIMIT_CPU", self.cpu_seconds),
            ("RLIMIT_FSIZE", self.file_size),
            ("RLIMIT_NOFILE", self.open_files),
            ("RLIMIT_CORE", 0),
        ):
            _lower(getattr(resource, name), value)
        if os.geteuid() != 0 and hasattr(resource, "RLIMIT_NPROC"):
            _lower(resource.RLIMIT_NPROC, self.processes)


def _lower(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    new_hard = value if hard == resource.RLIM_INFINITY else min(hard, value)
    resource.setrlimit(which, (min(value, new_hard), new_hard))


def tmp_size(limits: Limits) -> int:
    """Bytes the private /tmp may hold (a tmpfs lives in memory: at most the memory limit)."""
    return min(limits.memory, 512 * MiB)


@lru_cache(maxsize=1)
def bwrap_path() -> str | None:
    """The ``bwrap`` executable, if it exists and can create the namespaces we use here."""
    path = shutil.which("bwrap")
    if not path or not sys.platform.startswith("linux"):
        return None
    probe = subprocess.run(
        [
            path,
            "--ro-bind",
            "/",
            "/",
            "--unshare-net",
            "--unshare-pid",
            "--die-with-parent",
            "true",
        ],
        capture_output=True,
        timeout=30,
    )
    return path if probe.returncode == 0 else None


def sandbox_warning() -> str | None:
    """A warning to show the instructor when submissions cannot be fully confined, else None."""
    if bwrap_path():
        return None
    return (
        "bubblewrap (bwrap) is not available here: submissions run with resource limits only, "
        "with network access and a view of the file system. Install it (Debian/Ubuntu: "
        "apt-get install bubblewrap) or grade inside a container."
    )


CGROUP_ROOT = Path("/sys/fs/cgroup")


def _own_cgroup(controller: str) -> Path | None:
    """This process's cgroup v1 folder for ``controller``, if it exists and we may write it."""
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controller in controllers.split(","):
                folder = CGROUP_ROOT / controller / path.lstrip("/")
                return folder if folder.is_dir() and os.access(folder, os.W_OK) else None
    except OSError:
        return None
    return None


@cache
def _sweep_stale(parent: Path) -> None:
    """Remove the empty groups that graders killed with SIGKILL left behind (their names carry
    the grader's process id: ``autograder-<pid>-<random>``), once per process and parent."""
    for folder in parent.glob("autograder-*-*"):
        try:
            pid = int(folder.name.split("-")[1])
            if pid == os.getpid() or Path(f"/proc/{pid}").exists():
                continue
            folder.rmdir()  # fails, harmlessly, on a group that still has processes
        except (ValueError, OSError):
            continue


class Cgroups:
    """A fresh cgroup per submission: ``pids.max``, ``memory.limit_in_bytes`` and, for the
    ``cpu`` controller, the default ``cpu.shares`` (v1). The kernel's scheduler shares the CPU
    between groups first, so a submission's many busy children get one submission's share, and
    its neighbour its own."""

    def __init__(self, limits: Limits | None) -> None:
        self.dirs: list[Path] = []
        self.controllers: list[str] = []
        if limits is None:  # none wanted
            return
        name = f"autograder-{os.getpid()}-{secrets.token_hex(4)}"
        for controller, knob, value in (
            ("pids", "pids.max", limits.processes),
            ("memory", "memory.limit_in_bytes", limits.memory),
            ("cpu", "cpu.shares", 1024),
        ):
            parent = _own_cgroup(controller)
            if parent is None:
                continue
            _sweep_stale(parent)
            try:
                folder = parent / name
                folder.mkdir()
                (folder / knob).write_text(str(value))
                self.dirs.append(folder)
                self.controllers.append(controller)
            except OSError:
                continue

    def open_procs(self) -> list[int]:
        """Descriptors open for writing on each group's ``cgroup.procs``: a process that writes
        ``0`` to them joins the groups (how a zygote's child enters its own, from inside its
        sandbox, where no cgroup file system is visible). The caller closes them."""
        fds = []
        try:
            for folder in self.dirs:
                fds.append(os.open(folder / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC))
        except OSError:
            for fd in fds:
                os.close(fd)
            raise
        return fds

    def enter(self) -> None:
        """Move the calling process into the groups (in the child, before exec)."""
        for folder in self.dirs:
            (folder / "cgroup.procs").write_text(str(os.getpid()))

    def remove(self) -> None:
        for folder in self.dirs:
            for _ in range(50):
                try:
                    for pid in (folder / "cgroup.procs").read_text().split():
                        try:
                            os.kill(int(pid), signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                    folder.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)
        self.dirs = []


#: The user and group a submission runs as inside the sandbox.
NOBODY = 65534
#: Where the sandbox shows the host's working folder, read-only, for its first command to copy
#: into the working folder's tmpfs.
INPUT = "/run/autograder-input"
#: The working folder of a warm zygote's children inside their sandbox (a tmpfs).
WARM_WORKDIR = "/run/autograder-work"

#: What of the system a submission sees (read-only, where it exists): the programs and
#: libraries, the dynamic linker's configuration, fonts (matplotlib), time zones, the user
#: database, and the CPU topology that PyTorch's cpuinfo reads (without it, it writes to stderr).
SYSTEM_PATHS = (
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc/alternatives",
    "/etc/fonts",
    "/etc/group",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/mime.types",
    "/etc/nsswitch.conf",
    "/etc/os-release",
    "/etc/passwd",
    "/usr/share/zoneinfo",
    "/sys/devices/system/cpu",
)


def system_binds(paths: Sequence[str] = SYSTEM_PATHS) -> list[str]:
    """bubblewrap arguments that show ``paths`` read-only: a symbolic link as the same link
    (``/lib -> usr/lib`` on a merged-/usr system), anything else bound where it is; nothing else
    of the host is visible (an allow-list, not the whole system with a few folders hidden)."""
    args: list[str] = []
    for name in paths:
        path = Path(name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), name]
        elif path.exists():
            args += ["--ro-bind", name, name]
    return args


@dataclass
class Sandbox:
    """How to confine one submission's process.

    Attributes:
        workdir: the submission's own folder; the only writable place, and the cwd.
        hide: folders to make invisible (the course root, the gradebook's folder ...).
        readable: folders to show read-only even inside a hidden one (the virtualenv that lives
            inside the repository, the autograder package).
        limits: resource limits.
        use_bwrap: None = use bubblewrap when available; False = limits only.
    """

    workdir: Path
    hide: Sequence[Path] = ()
    readable: Sequence[Path] = ()
    limits: Limits = field(default_factory=Limits)
    use_bwrap: bool | None = None

    @property
    def confined(self) -> bool:
        return self.use_bwrap is not False and bwrap_path() is not None

    def command(self, argv: Sequence[str], *, warm: bool = False) -> list[str]:
        """The full command line: ``argv`` wrapped in bubblewrap when confined.

        ``warm`` (a warm zygote, :mod:`autograder.grading.zygote`): the host folder is shown
        read-only at :data:`INPUT` and the working folder, an empty tmpfs at
        :data:`WARM_WORKDIR`, is filled by the zygote's children, one submission at a time.
        """
        if not self.confined:
            return list(argv)
        work = str(Path(self.workdir).resolve())
        inside = WARM_WORKDIR if warm else work
        cmd = [bwrap_path() or "bwrap", *system_binds(), "--dev", "/dev", "--proc", "/proc"]
        # A private, empty /tmp first: whatever is hidden under /tmp is gone with it.
        cmd += ["--size", str(tmp_size(self.limits)), "--tmpfs", "/tmp"]
        hidden_paths = [
            p
            for p in (Path(h).resolve() for h in self.hide)
            if p.exists() and not p.is_relative_to("/tmp")
        ]
        for hidden in hidden_paths:
            cmd += ["--tmpfs", str(hidden)]
        for path in self.readable:
            path = Path(path).resolve()
            if path.exists():
                cmd += ["--ro-bind", str(path), str(path)]
        # The working folder: a tmpfs of its own size, at the host folder's path, the host's
        # files copied in (below) from a read-only view. Nothing written there reaches the host.
        cmd += [
            "--ro-bind",
            work,
            INPUT,
            "--size",
            str(self.limits.workdir_size),
            "--tmpfs",
            inside,
        ]
        # Hidden folders are empty and read-only (after the mount points above were made in them).
        for hidden in hidden_paths:
            cmd += ["--remount-ro", str(hidden)]
        # The root that holds the mount points is bubblewrap's own tmpfs: read-only too.
        cmd += ["--remount-ro", "/"]
        cmd += [
            # nobody inside, mapped to the grader's user outside: no capabilities, no setuid.
            "--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY),
            "--chdir", inside,
            "--setenv", "HOME", inside,
            "--setenv", "TMPDIR", "/tmp",
            "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--die-with-parent", "--new-session",
            "--",
        ]  # fmt: skip
        if warm:
            return cmd + list(argv)
        return cmd + ["/bin/sh", "-c", f'cp -R {INPUT}/. . && exec "$@"', "sh", *argv]

    def popen(
        self,
        argv: Sequence[str],
        env: dict[str, str] | None = None,
        *,
        warm: bool = False,
        cgroups: bool = True,
        **kwargs,
    ) -> subprocess.Popen:
        """Start ``argv`` confined, in a new process group, with the limits applied.

        ``cgroups=False``: no control groups of its own (a zygote, whose children each get
        theirs); ``warm``: see :meth:`command`.
        """
        limits = self.limits
        groups = Cgroups(limits if cgroups else None)

        def preexec() -> None:
            os.setsid()
            groups.enter()
            limits.apply()

        try:
            proc = subprocess.Popen(
                self.command(argv, warm=warm),
                cwd=self.workdir,
                env=env,
                preexec_fn=preexec,
                **kwargs,
            )
        except BaseException:
            groups.remove()
            raise
        proc._autograder_cgroups = groups  # type: ignore[attr-defined]
        return proc


def kill_group(proc: subprocess.Popen) -> None:
    """Kill a process started by :meth:`Sandbox.popen` and everything in its process group."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    groups = getattr(proc, "_autograder_cgroups", None)
    if groups is not None:
        groups.remove()
