"""Hostile and broken submissions of chapter 01, each with what the grader must make of it.

Every attack starts from the released (student) notebook with a *wrong* softmax (it returns its
input), plus the attack. Honestly, that submission scores :data:`WRONG_SOFTMAX_SCORE`: the other
exercises are solved, softmax's tests fail. An attack succeeds if it scores more. Bad inputs
(broken files) must score 0 with status ``failed`` and a message that says why.

Attack code may name ``@COURSE@`` (the grading course's root) and ``@REPO@`` (this repository):
the test fills them in, as an attacker who knows the layout would.

Each attack is safe for the machine even without a sandbox: loops are bounded in time, memory
bombs ask for at most a few GiB, fork bombs for at most a few hundred processes, and every
process dies with its process group.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass

import nbformat

from autograder.grading.notebooks import fill_answers, solution_cells

WRONG_SOFTMAX = "def softmax(x, dim=-1):\n    return x\n"


@dataclass(frozen=True)
class Attack:
    name: str
    build: Callable[[nbformat.NotebookNode, nbformat.NotebookNode], bytes]
    status: str  # the status the CSV must show
    score: str  # "honest" (<= the wrong-softmax score), "zero", or "full"
    message: str = ""  # a phrase the CSV message must contain (status failed/timeout)
    # The honest submission this attack is measured against, when it is not the wrong softmax
    # (an attack on another exercise compares with that exercise answered wrongly).
    honest: Callable[[nbformat.NotebookNode, nbformat.NotebookNode], bytes] | None = None


def solved(source, release):
    """The release with every solution filled in from the source (the reference answers)."""
    return fill_answers(copy.deepcopy(release), solution_cells(source), strip_markers=True)


def wrong_softmax(source, release):
    nb = solved(source, release)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "softmax":
            cell.source = WRONG_SOFTMAX
    return nb


def with_solution(grade_id: str, code: str) -> Callable:
    """The wrong-softmax submission with the solution cell ``grade_id`` replaced by ``code``."""

    def build(source, release) -> bytes:
        nb = wrong_softmax(source, release)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                cell.source = code
        return _dump(nb)

    return build


# Answers the learner's process could find if test cells computed them there (issue 10): the
# expected value in the test cell's globals or on the call stack, and the reference gradients
# that autograd leaves in ``.grad`` of the very tensors the learner's function is given.
STEAL_SOFTMAX = """\
import sys


def softmax(x, dim=-1):
    # Look for the expected answer in every caller's frame: a tensor like x whose rows sum to 1.
    frame = sys._getframe(1)
    while frame is not None:
        for value in list(frame.f_locals.values()) + list(frame.f_globals.values()):
            if (
                isinstance(value, torch.Tensor)
                and value is not x
                and value.shape == x.shape
                and value.dtype == x.dtype
                and value.is_floating_point()
                and torch.allclose(value.sum(dim=dim), torch.ones((), dtype=x.dtype))
            ):
                return value.clone()
        frame = frame.f_back
    return x
"""
STEAL_GRADIENTS = """\
import sys


def linear_backward(x, W, b, grad_out):
    # The reference's own backward pass left its gradients on the inputs (or the caller's).
    found = [t.grad for t in (x, W, b)]
    if any(g is None for g in found):
        names = sys._getframe(1).f_globals
        found = [getattr(names.get(n), "grad", None) for n in ("x", "W", "b")]
    if all(g is not None for g in found) and [g.shape for g in found] == [x.shape, W.shape, b.shape]:
        return tuple(g.clone() for g in found)
    return torch.zeros_like(x), torch.zeros_like(W), torch.zeros_like(b)
"""
ZERO_GRADIENTS = """\
def linear_backward(x, W, b, grad_out):
    return torch.zeros_like(x), torch.zeros_like(W), torch.zeros_like(b)
"""

# Hidden tests run in the learner's process, so their source can be captured there (issue 10,
# item 5): every string on the call stack, in linecache, in IPython's input history. The attack
# puts what it found in an exception message, in printed output, in a later cell's output, and
# in live HTML; none of it may come back in the feedback or the CSV.
LEAK_HIDDEN_TESTS = """\
import builtins
import linecache
import sys

from IPython.display import HTML, display


def _captured():
    found = []
    frame = sys._getframe(1)
    while frame is not None:
        for value in list(frame.f_locals.values()):
            if isinstance(value, str) and len(value) > 40:
                found.append(value)
        frame = frame.f_back
    for lines in list(linecache.cache.values()):
        if len(lines) > 2 and isinstance(lines[2], list):
            found.append("".join(lines[2]))
    found += [s for s in (globals().get("In") or []) if isinstance(s, str)]
    return "\\n".join(found)


def softmax(x, dim=-1):
    text = _captured()
    builtins._stolen = getattr(builtins, "_stolen", "") + text
    print(text)
    display(HTML("<script>alert('stolen')</script><img src=x onerror=alert(1)>"))
    raise RuntimeError(text)
"""
PRINT_STOLEN = (
    "import builtins\n"
    "from IPython.display import HTML, display\n"
    "print(getattr(builtins, '_stolen', 'nothing stolen'))\n"
    "display(HTML('<script>alert(\"' + getattr(builtins, '_stolen', '')[:2000] + '\")</script>'))"
)


# The same capture, carried back in a value instead of an error: a check's failure message
# names the learner's value (its type, its repr), and a class may be named anything.
LEAK_IN_VALUES = LEAK_HIDDEN_TESTS.replace(
    "    raise RuntimeError(text)\n",
    "    lines = [l.strip() for l in text.splitlines() if 'name = f' in l and 'softmax(x' in l and len(l.strip()) < 99]\n"
    "    picked = max(lines, key=len, default='')\n"
    "    leak = type(picked or 'nothing', (), {'__repr__': lambda self: picked})\n"
    "    return leak()\n",
)


def leak_hidden_tests_in_values(source, release) -> bytes:
    """Softmax returns an object whose type name and repr are the hidden tests' captured lines."""
    nb = wrong_softmax(source, release)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "softmax":
            cell.source = LEAK_IN_VALUES
    return _dump(nb)


def leak_hidden_tests(source, release) -> bytes:
    """Softmax captures the hidden tests' source; a last cell prints it again, as HTML too."""
    nb = wrong_softmax(source, release)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "softmax":
            cell.source = LEAK_HIDDEN_TESTS
    nb.cells.append(nbformat.v4.new_code_cell(PRINT_STOLEN))
    nb.cells.append(
        nbformat.v4.new_markdown_cell(
            "<script>alert('markdown')</script><img src=x onerror=alert(2)>"
        )
    )
    return _dump(nb)


# The warm zygote: a child of it that attacks it, or leaves something for the next child.
ZYGOTE_PREAMBLE = """\
import os, signal, time
parent = os.getppid()
zygote = b"autograder.grading.zygote" in open(f"/proc/{parent}/cmdline", "rb").read()
"""
PTRACE_THE_ZYGOTE = (
    ZYGOTE_PREAMBLE
    + """\
import ctypes
if zygote:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.ptrace(16, parent, 0, 0) == 0:  # PTRACE_ATTACH: then its memory is ours to rewrite
        print("TRACED THE ZYGOTE")
        libc.ptrace(17, parent, 0, 0)  # PTRACE_DETACH
    try:
        with open(f"/proc/{parent}/mem", "r+b") as mem:
            print("OPENED THE ZYGOTE'S MEMORY")
    except OSError as exc:
        print("no access:", type(exc).__name__)
"""
)
SIGNAL_THE_ZYGOTE = """\
if zygote:
    os.kill(parent, signal.SIGSTOP)  # it cannot clean up after us: the grader must notice
"""
KILL_THE_ZYGOTE = """\
os.kill(parent if zygote else os.getpid(), signal.SIGKILL)
time.sleep(5)
"""
DAEMON_FOR_THE_NEXT = (
    ZYGOTE_PREAMBLE
    + """\
own = os.getpid()
if zygote and os.fork() == 0:
    os.setsid()
    if os.fork() == 0:  # a daemon: for a minute, kill every other notebook of the sandbox
        me, deadline = os.getpid(), time.time() + 60
        while time.time() < deadline:
            for pid in [int(p) for p in os.listdir("/proc") if p.isdigit()]:
                if pid not in (1, me, parent, own):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
            time.sleep(0.05)
    os._exit(0)
"""
)
PLANT_FILES = """\
import os
for path in ("/tmp/sitecustomize.py", "/tmp/usercustomize.py", "/dev/shm/planted"):
    try:
        with open(path, "w") as f:
            f.write("raise SystemExit('planted by another student')\\n")
    except OSError:
        pass
os.makedirs(".ipython/profile_default/startup", exist_ok=True)
with open(".ipython/profile_default/startup/00-planted.py", "w") as f:
    f.write("raise SystemExit('planted')\\n")
"""


def _dump(nb) -> bytes:
    return nbformat.writes(nb).encode()


def with_cell(code: str, where: str = "start") -> Callable:
    """The wrong-softmax submission with one extra learner cell holding ``code``."""

    def build(source, release) -> bytes:
        nb = wrong_softmax(source, release)
        cell = nbformat.v4.new_code_cell(code)
        if where == "start":
            nb.cells.insert(1, cell)  # after the set-up cell
        else:
            nb.cells.append(cell)
        return _dump(nb)

    return build


def edit_notebook(edit: Callable) -> Callable:
    def build(source, release) -> bytes:
        nb = wrong_softmax(source, release)
        edit(nb)
        return _dump(nb)

    return build


def _raw(data: bytes) -> Callable:
    return lambda source, release: data


def _grade_cells(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


def _inflate_points(nb):
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            meta["points"] = 1000


def _tests_made_answers(nb):
    # Every test cell claims to be a written answer, edited: nbgrader's rule would leave it to a
    # human (no automatic 0), and the submission "needs manual grading".
    for cell in _grade_cells(nb):
        cell.metadata.nbgrader["solution"] = True
        cell.source += "\n# my answer"


def _blank_softmax_tests(nb):
    for cell in _grade_cells(nb):
        if "softmax" in cell.metadata.nbgrader["grade_id"]:
            cell.source = "pass"


def _delete_softmax_tests(nb):
    nb.cells = [
        c
        for c in nb.cells
        if not (
            c.metadata.get("nbgrader", {}).get("grade")
            and "softmax" in c.metadata.nbgrader["grade_id"]
        )
    ]


def _rename_grade_cells(nb):
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            meta["grade_id"] = meta["grade_id"] + "_renamed"


def _duplicate_solution(nb):
    # A second softmax cell with the right answer: the first one (wrong) is the one graded.
    right = "import torch\ndef softmax(x, dim=-1):\n    return torch.softmax(x, dim=dim)\n"
    first = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "softmax")
    dup = copy.deepcopy(first)
    dup.source = right
    dup["id"] = "dup-softmax"
    nb.cells.append(dup)


DISPLAY_FLOOD = "\n".join(
    ["from IPython.display import HTML, display"]
    + [f"for i in range(300):\n    display(HTML('{c}' * 10_000))" for c in "abcdefghijkl"]
)


def _hundred_mb_output(nb):
    cell = nbformat.v4.new_code_cell("print('x')")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * (100 * 1024 * 1024))]
    nb.cells.insert(1, cell)


def _nbformat3(source, release) -> bytes:
    nb = wrong_softmax(source, release)
    v3 = nbformat.convert(nb, 3)
    return json.dumps(v3).encode()


def _other_assignment(source, release) -> bytes:
    """Chapter 02's solved notebook handed in as chapter 01's."""
    from tests.conftest import SOURCE

    return (SOURCE / "02_optimization" / "exercises.ipynb").read_bytes()


#: Code that tampers with the learner's own process to turn failed tests into passes; each is
#: also run on every chapter (``tests/test_adversarial.py``). None may earn a point.
TAMPERING: dict[str, str] = {
    "patch_torch_testing": "import torch\ntorch.testing.assert_close = lambda *a, **k: None",
    "patch_numpy_testing": "import numpy\nnumpy.testing.assert_allclose = lambda *a, **k: None",
    "patch_torch_allclose": (
        "import torch\ntorch.allclose = lambda *a, **k: True\n"
        "torch.isclose = lambda a, b, **k: torch.ones_like(a, dtype=torch.bool)"
    ),
    "patch_tensor_comparisons": (
        "import torch\n_eq = torch.Tensor.__eq__\n"
        "torch.Tensor.__eq__ = lambda a, b: torch.ones(a.shape, dtype=torch.bool)\n"
        "torch.Tensor.all = lambda *a, **k: torch.tensor(True)\n"
        "torch.Tensor.__bool__ = lambda self: True"
    ),
    "patch_autograder_checks": (
        "import autograder, autograder.checks.values, autograder.checks.training\n"
        "for name in ('assert_close', 'check_shape', 'check_finite', 'check_dtype', 'check_equal',\n"
        "             'check_between', 'check_uniform', 'check_dropout', 'check_accuracy'):\n"
        "    setattr(autograder, name, lambda *a, **k: None)\n"
        "    for module in (autograder.checks.values, autograder.checks.training):\n"
        "        if hasattr(module, name):\n"
        "            setattr(module, name, lambda *a, **k: None)\n"
        "    globals()[name] = lambda *a, **k: None"
    ),
    "input_transformer": "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])",
    "ast_transformer": (
        "import ast\nclass Strip(ast.NodeTransformer):\n    def visit_Assert(self, node):\n"
        "        return None\n    def visit_Call(self, node):\n        return ast.Constant(None)\n"
        "get_ipython().ast_transformers.append(Strip())"
    ),
    "strip_asserts_and_raises": (
        "import ast\nclass Strip(ast.NodeTransformer):\n    def visit_Assert(self, node):\n"
        "        return ast.Pass()\n    def visit_Raise(self, node):\n        return ast.Pass()\n"
        "get_ipython().ast_transformers.append(Strip())"
    ),
    "patch_run_code": (
        "ip = get_ipython()\n_orig = ip.run_cell\ndef run_cell(*a, **k):\n    r = _orig(*a, **k)\n"
        "    r.error_in_exec = None\n    return r\nip.run_cell = run_cell\n"
        "ip.showtraceback = lambda *a, **k: None\nip._showtraceback = lambda *a, **k: None"
    ),
    "forge_observations": (
        "import torch\n_obs = globals().get('__autograder_observe__')\n"
        "def fake(site, value):\n    return _obs(site, torch.zeros(1)) if _obs else None\n"
        "globals()['__autograder_observe__'] = fake"
    ),
    "settrace": "import sys\nsys.settrace(lambda *a: None)\nsys.setprofile(lambda *a: None)",
}


ATTACKS: list[Attack] = [
    # --- bad input -------------------------------------------------------------------------
    Attack("invalid_json", _raw(b'{"cells": [ this is not json'), "failed", "zero", "invalid JSON"),
    Attack("another_assignment", _other_assignment, "failed", "zero", "another assignment"),
    Attack("empty_file", _raw(b""), "failed", "zero", "empty"),
    Attack("binary_garbage", _raw(bytes(range(256)) * 64), "failed", "zero", "not"),
    Attack("nbformat_3", _nbformat3, "failed", "zero", "nbformat"),
    Attack("not_a_notebook", _raw(b'{"hello": "world"}'), "failed", "zero", "notebook"),
    Attack("edited_test_cells", edit_notebook(_blank_softmax_tests), "graded", "honest"),
    Attack("deleted_test_cells", edit_notebook(_delete_softmax_tests), "graded", "honest"),
    Attack("renamed_grade_cells", edit_notebook(_rename_grade_cells), "graded", "honest"),
    Attack("changed_points", edit_notebook(_inflate_points), "graded", "honest"),
    Attack("tests_made_written_answers", edit_notebook(_tests_made_answers), "graded", "honest"),
    Attack("duplicated_solution_cell", edit_notebook(_duplicate_solution), "graded", "honest"),
    Attack(
        "extra_cells", with_cell("helper = 42\nprint('an extra cell')", "end"), "graded", "honest"
    ),
    Attack("hundred_mb_output", edit_notebook(_hundred_mb_output), "graded", "honest"),
    # A cell that displays 36 MB: the grader keeps 1 MB of it (tests/test_adversarial.py).
    Attack("display_flood", with_cell(DISPLAY_FLOOD, where="end"), "graded", "honest"),
    # --- crashes and runaway code -----------------------------------------------------------
    Attack("sys_exit", with_cell("import sys\nsys.exit(0)"), "graded", "honest"),
    Attack("os_exit", with_cell("import os\nos._exit(0)"), "failed", "zero", "ended"),
    Attack(
        "kernel_dies",
        with_cell("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"),
        "failed",
        "zero",
        "ended",
    ),
    Attack(
        "infinite_loop",
        with_cell("import time\nt = time.time()\nwhile time.time() - t < 600:\n    pass"),
        "timeout",
        "zero",
        "time limit",
    ),
    Attack(
        "loop_ignoring_sigint",
        with_cell(
            "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nt = time.time()\nwhile time.time() - t < 600:\n    pass"
        ),
        "timeout",
        "zero",
        "time limit",
    ),
    Attack(
        "memory_bomb",
        with_cell("blocks = []\nfor _ in range(6):\n    blocks.append(bytearray(1 << 30))"),
        "graded",
        "honest",
    ),
    Attack(
        "fork_bomb",
        with_cell(
            "import os, time\nkids = 0\nfor _ in range(600):\n    try:\n        if os.fork() == 0:\n"
            "            time.sleep(20)\n            os._exit(0)\n        kids += 1\n    except OSError:\n        break"
        ),
        "graded",
        "honest",
    ),
    Attack(
        "fill_the_disk",  # its folder is a capped tmpfs: stops at ENOSPC, the host keeps its disk
        with_cell(
            "n = 0\ntry:\n    for i in range(32):\n        with open(f'fill{i}', 'wb') as f:\n"
            "            f.write(b'x' * (64 << 20))\n        n += 1\nexcept OSError as e:\n    print(n, e)"
        ),
        "graded",
        "honest",
    ),
    Attack(
        "signal_handlers",
        with_cell(
            "import signal\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM):\n    signal.signal(s, signal.SIG_IGN)"
        ),
        "graded",
        "honest",
    ),
    # --- the warm zygote (issue 11): its parent, and the next student of its slot ---------------
    # Each acts only where its parent is a zygote (a fresh worker's parent is the grader).
    Attack("ptrace_the_zygote", with_cell(PTRACE_THE_ZYGOTE), "graded", "honest"),
    Attack("stop_the_zygote", with_cell(ZYGOTE_PREAMBLE + SIGNAL_THE_ZYGOTE), "graded", "honest"),
    Attack(
        "kill_the_zygote",  # its own run ends with the sandbox (without a zygote: killed itself)
        with_cell(ZYGOTE_PREAMBLE + KILL_THE_ZYGOTE),
        "failed",
        "zero",
        "ended",
    ),
    Attack("daemon_for_the_next_student", with_cell(DAEMON_FOR_THE_NEXT), "graded", "honest"),
    Attack("plant_files_for_the_next_student", with_cell(PLANT_FILES), "graded", "honest"),
    # --- reading the answer in the learner's own process ------------------------------------
    Attack(
        "steal_expected_from_the_caller",
        with_solution("softmax", STEAL_SOFTMAX),
        "graded",
        "honest",
    ),
    Attack(
        "steal_reference_gradients",
        with_solution("linear_backward", STEAL_GRADIENTS),
        "graded",
        "honest",
        honest=with_solution("linear_backward", ZERO_GRADIENTS),
    ),
    Attack("leak_hidden_tests", leak_hidden_tests, "graded", "honest"),
    Attack("leak_hidden_tests_in_values", leak_hidden_tests_in_values, "graded", "honest"),
    # --- tampering with the checks ----------------------------------------------------------
    *(Attack(name, with_cell(code), "graded", "honest") for name, code in TAMPERING.items()),
    Attack(
        "patch_builtins",
        with_cell(
            "import builtins\nbuiltins.AssertionError = type('Nope', (Exception,), {})\nbuiltins.isinstance = lambda *a: True"
        ),
        "failed",  # the notebook's own process cannot run any more: no grade, not a pass
        "zero",
        "process",
    ),
    Attack(
        "read_source_notebook",
        with_cell(
            "import glob\nfound = []\nfor pattern in ('@REPO@/course/source/**/*.ipynb', '@COURSE@/source/**/*.ipynb',\n"
            "                '@COURSE@/gradebook.db', '../../../source/**/*.ipynb', '../**/*.ipynb'):\n"
            "    found += glob.glob(pattern, recursive=True)\nprint(found)"
        ),
        "graded",
        "honest",
    ),
    Attack(
        "write_fake_results",
        with_cell(
            "import json\nfor path in ('autograder.json', '../autograder.json', '@COURSE@/autograded/autograder.json'):\n"
            "    try:\n        open(path, 'w').write(json.dumps({'score': 1000}))\n    except OSError:\n        pass"
        ),
        "graded",
        "honest",
    ),
    Attack(
        "overwrite_gradebook",
        with_cell(
            "for path in ('@COURSE@/gradebook.db', '@REPO@/course/gradebook.db'):\n    try:\n"
            "        open(path, 'wb').write(b'garbage')\n    except OSError:\n        pass"
        ),
        "graded",
        "honest",
    ),
    Attack(
        "network",
        with_cell(
            "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 80), timeout=3)\n    print('NETWORK REACHABLE')\nexcept OSError as e:\n    print('no network:', e)"
        ),
        "graded",
        "honest",
    ),
    Attack(
        "stderr_and_warnings",
        with_cell(
            "import sys, warnings\nprint('noise', file=sys.stderr)\nwarnings.warn('a warning')"
        ),
        "graded",
        "honest",
    ),
]


# --- submissions that are not what they claim (issue 10, item 1) ---------------------------------


@dataclass(frozen=True)
class FileAttack:
    """A submission laid out on disk, not only a notebook's bytes.

    ``plant(submitted, student, chapter, course_root, wrong)`` creates the student's folder
    under ``submitted`` (``wrong`` is the honest wrong-softmax notebook's bytes) and returns the
    folder name the student really has on disk (odd names are the attack). The grader must
    refuse each with status ``status`` and a message containing ``message``; the CSV shows the
    name escaped (``shown`` is the row's ``student`` prefix to look for, default the name).
    """

    name: str
    plant: Callable[..., str | bytes]
    status: str
    message: str
    shown: str = ""


def _student(submitted, student: str | bytes, chapter: str):
    import os
    from pathlib import Path

    folder = os.path.join(os.fsencode(submitted), os.fsencode(student), os.fsencode(chapter))
    os.makedirs(folder, exist_ok=True)
    return Path(os.fsdecode(folder))


def _symlinked_notebook(submitted, student, chapter, course_root, wrong):
    # The source notebook: every solution and hidden test, the reference's full marks.
    (_student(submitted, student, chapter) / "exercises.ipynb").symlink_to(
        course_root / "source" / chapter / "exercises.ipynb"
    )
    return student


def _hardlinked_notebook(submitted, student, chapter, course_root, wrong):
    import os

    os.link(
        course_root / "source" / chapter / "exercises.ipynb",
        _student(submitted, student, chapter) / "exercises.ipynb",
    )
    return student


def _symlinked_assignment_folder(submitted, student, chapter, course_root, wrong):
    (submitted / student).mkdir(parents=True)
    (submitted / student / chapter).symlink_to(course_root / "source" / chapter)
    return student


def _symlinked_student_folder(submitted, student, chapter, course_root, wrong):
    import shutil

    elsewhere = course_root / "source_copy"
    shutil.copytree(course_root / "source", elsewhere / "x", dirs_exist_ok=True)
    (submitted / student).symlink_to(elsewhere / "x", target_is_directory=True)
    return student


def _symlinked_data_file(submitted, student, chapter, course_root, wrong):
    folder = _student(submitted, student, chapter)
    (folder / "exercises.ipynb").write_bytes(wrong)
    (folder / "notes.txt").symlink_to(course_root / "gradebook.db")  # copied in: readable
    return student


def _hardlinked_data_file(submitted, student, chapter, course_root, wrong):
    import os

    folder = _student(submitted, student, chapter)
    (folder / "exercises.ipynb").write_bytes(wrong)
    (folder / "data").mkdir()
    os.link(course_root / "gradebook.db", folder / "data" / "grades.bin")
    return student


def _symlinked_data_folder(submitted, student, chapter, course_root, wrong):
    folder = _student(submitted, student, chapter)
    (folder / "exercises.ipynb").write_bytes(wrong)
    (folder / "data").symlink_to(course_root / "source", target_is_directory=True)
    return student


def _fifo_notebook(submitted, student, chapter, course_root, wrong):
    import os

    os.mkfifo(_student(submitted, student, chapter) / "exercises.ipynb")  # reading blocks
    return student


def _named(name: str | bytes) -> Callable:
    """An honest wrong answer in a student folder called ``name`` (odd bytes, controls, length)."""

    def plant(submitted, student, chapter, course_root, wrong):
        (_student(submitted, name, chapter) / "exercises.ipynb").write_bytes(wrong)
        return name

    return plant


def _odd_grade_id(submitted, student, chapter, course_root, wrong):
    nb = json.loads(wrong)
    nb["cells"].append(
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "odd",
            "metadata": {
                "nbgrader": {
                    "grade": True,
                    "grade_id": "\x1b[2J\ud800" + "g" * 5000,
                    "locked": False,
                    "points": 1000,
                    "schema_version": 3,
                    "solution": False,
                    "task": False,
                }
            },
            "outputs": [],
            "source": "pass",
        }
    )
    data = json.dumps(nb).encode("utf-8", "surrogatepass")
    (_student(submitted, student, chapter) / "exercises.ipynb").write_bytes(data)
    return student


FILE_ATTACKS: list[FileAttack] = [
    FileAttack("symlinked_notebook", _symlinked_notebook, "refused", "symbolic link"),
    FileAttack("hardlinked_notebook", _hardlinked_notebook, "refused", "hard link"),
    FileAttack(
        "symlinked_assignment_folder", _symlinked_assignment_folder, "refused", "symbolic link"
    ),
    FileAttack("symlinked_student_folder", _symlinked_student_folder, "refused", "symbolic link"),
    FileAttack("symlinked_data_file", _symlinked_data_file, "refused", "notes.txt"),
    FileAttack("hardlinked_data_file", _hardlinked_data_file, "refused", "hard link"),
    FileAttack("symlinked_data_folder", _symlinked_data_folder, "refused", "symbolic link"),
    FileAttack("fifo_notebook", _fifo_notebook, "refused", "not a regular file"),
    FileAttack(
        "undecodable_student_name",
        _named(b"file_undecodable_\xff\xfe"),
        "refused",
        "not printable",
        shown="file_undecodable_\\xff\\xfe",
    ),
    FileAttack(
        "control_characters_in_name",
        _named("file_controls_\x1b[31m\r\nforged,row"),
        "refused",
        "not printable",
        shown="file_controls_\\x1b[31m\\r\\nforged,row",
    ),
    FileAttack(
        "very_long_name", _named("file_long_" + "x" * 240), "graded", "", shown="file_long_xxxx"
    ),
    FileAttack("odd_grade_id", _odd_grade_id, "graded", "unknown grade ids"),
]
