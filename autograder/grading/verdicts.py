"""Verdicts decided outside the learner's process.

nbgrader runs a notebook's tests inside the learner's own kernel, where the learner's code can
patch ``torch.testing``, the checks, IPython or ``builtins`` and turn any failure into a pass.
Here the tests are split in two:

1. **Observe** (in the learner's sandboxed process): each test cell of the *source* notebook is
   rewritten so that every check call, ``assert_close(actual, expected, ...)``, becomes
   ``__autograder_observe__(site, actual)``. Only the learner's value is computed and sent back
   as plain data (:mod:`autograder.grading.wire`); the expected value is never computed there.
   Blocks written ``with reference_only():`` (what only feeds a check's expected side: expected
   tensors, held-out labels, reference gradients) are deleted, so that no answer exists in the
   learner's process for its code to read (globals, the call stack, a ``.grad`` on its inputs).
2. **Expect** (once per assignment, in a trusted process running the reference solution): the
   same cells are rewritten so that each check call records *all* its arguments, giving the
   expected values, tolerances and messages.
3. **Judge** (in the grader's own process): each check is called for real, with the learner's
   observed value and the reference run's other arguments. A test cell passes when every check
   the reference run made is matched, in order, by a passing observation.

A submission that tampers with its own process can therefore only change the values it
reports; to pass, those values must be the right answers on the grader's inputs. Test cells
must express every verdict through a check listed in :data:`CHECKS` (``tests/`` enforces it).

Left out: running processes (see :mod:`autograder.grading.worker` and :mod:`autograder.grading.sandbox`) and
the gradebook.
"""

from __future__ import annotations

import ast
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..checks import training
from ..checks import values as checks
from .wire import Opaque, WireError, decode

__all__ = [
    "CHECKS",
    "CellVerdict",
    "rewrite_for_learner",
    "rewrite_for_reference",
    "judge_cell",
    "check_calls",
    "decides_in_process",
    "is_reference_only",
]

OBSERVE = "__autograder_observe__"
#: The context manager that marks what only feeds a check's expected side
#: (:mod:`autograder.checks.contract`); the learner's rewrite deletes its blocks.
REFERENCE_ONLY = "reference_only"

# CPython 3.11 can fail AST conversions made by several threads at once ("SystemError: AST
# constructor recursion depth mismatch"); the grader judges submissions in threads, so every
# parse and unparse here takes this lock, and results are cached (the same test cells come back
# for every submission).
AST_LOCK = threading.Lock()

#: The checks a test cell may call, by name, and the function the grader runs for each.
CHECKS: dict[str, Callable[..., object]] = {
    "assert_close": checks.assert_close,
    "check_shape": checks.check_shape,
    "check_dtype": checks.check_dtype,
    "check_finite": checks.check_finite,
    "check_equal": checks.check_equal,
    "check_between": checks.check_between,
    "check_uniform": checks.check_uniform,
    "check_dropout": checks.check_dropout,
    "check_accuracy": training.check_accuracy,
}


def _check_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name) and func.id in CHECKS:
        return func.id
    if isinstance(func, ast.Attribute) and func.attr in CHECKS:
        return func.attr
    return None


def check_calls(source: str) -> list[str]:
    """The check calls in a cell's source, as ``name@line:col`` sites, in source order."""
    return list(_check_calls(source))


@lru_cache(maxsize=4096)
def _check_calls(source: str) -> tuple[str, ...]:
    with AST_LOCK:
        tree = ast.parse(source)
    return tuple(
        f"{_check_name(node)}@{node.lineno}:{node.col_offset}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _check_name(node)
    )


def is_reference_only(node: ast.AST) -> bool:
    """Whether ``node`` is a ``with reference_only():`` block (any other items alongside)."""
    if not isinstance(node, ast.With | ast.AsyncWith):
        return False
    for item in node.items:
        call = item.context_expr
        if isinstance(call, ast.Call):
            func = call.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name == REFERENCE_ONLY:
                return True
    return False


class _Rewriter(ast.NodeTransformer):
    def __init__(self, reference: bool) -> None:
        self.reference = reference

    def visit_With(self, node: ast.With) -> ast.AST:
        if not self.reference and is_reference_only(node):
            # The learner's run never computes what only the expected side needs.
            return ast.copy_location(ast.Pass(), node)
        return self.generic_visit(node)

    visit_AsyncWith = visit_With

    def visit_Call(self, node: ast.Call) -> ast.AST:
        name = _check_name(node)
        if name is None:
            return self.generic_visit(node)
        site = ast.Constant(f"{name}@{node.lineno}:{node.col_offset}")
        if self.reference:
            # Record every argument: the reference's own value and what the learner's must match.
            payload = ast.Dict(
                keys=[ast.Constant("args"), ast.Constant("kwargs")],
                values=[
                    ast.Tuple(elts=list(node.args), ctx=ast.Load()),
                    ast.Dict(
                        keys=[ast.Constant(k.arg) for k in node.keywords],
                        values=[k.value for k in node.keywords],
                    ),
                ],
            )
        else:
            if node.args:
                payload = node.args[0]
            else:
                first = [k.value for k in node.keywords if k.arg in ("actual", "value")]
                payload = first[0] if first else ast.Constant(None)
        new = ast.Call(func=ast.Name(OBSERVE, ast.Load()), args=[site, payload], keywords=[])
        return ast.copy_location(new, node)


@lru_cache(maxsize=4096)
def _rewrite(source: str, reference: bool) -> str:
    with AST_LOCK:
        return _rewrite_unlocked(source, reference)


def _rewrite_unlocked(source: str, reference: bool) -> str:
    tree = ast.parse(source)
    if any(
        isinstance(n, ast.Call)
        and _check_name(n)
        and any(isinstance(a, ast.Starred) for a in n.args)
        for n in ast.walk(tree)
    ):
        raise ValueError("check calls in test cells must not use *args")
    tree = _Rewriter(reference).visit(tree)
    ast.fix_missing_locations(tree)
    return ast.unparse(tree)


def rewrite_for_learner(source: str) -> str:
    """The test cell as it runs in the learner's process: checks become observations, and
    ``with reference_only():`` blocks are deleted (expected values never exist there)."""
    return _rewrite(source, reference=False)


def rewrite_for_reference(source: str) -> str:
    """The test cell as it runs with the reference solution: checks record their arguments."""
    return _rewrite(source, reference=True)


@dataclass
class CellVerdict:
    passed: bool
    message: str = ""


def _by_site(observations: list[dict[str, Any]]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = defaultdict(list)
    for obs in observations:
        grouped[str(obs.get("site"))].append(obs.get("value"))
    return grouped


def decides_in_process(source: str) -> bool:
    """Whether a test cell also decides in the learner's process: an ``assert`` statement, a
    ``raise`` outside a nested function, or no check call at all. Such a cell must also run
    without an error there, which honest work does but a submission that tampers with its own
    process can fake; the course's rule (CONTRIBUTING.md) is that test cells say everything
    through checks.

    A ``raise`` inside a function the cell defines is allowed: it is how a test blocks a call
    the exercise forbids (``mock.patch.object(F, "conv2d", forbidden)``). It can only stop the
    learner's code before a check observes its value, which fails the check in the grader.
    """
    return _decides_in_process(source)


@lru_cache(maxsize=4096)
def _decides_in_process(source: str) -> bool:
    with AST_LOCK:
        tree = ast.parse(source)
    return bool(in_process_verdicts(tree)) or not check_calls(source)


def in_process_verdicts(tree: ast.AST) -> list[ast.stmt]:
    """The ``assert`` statements, and the ``raise`` statements outside nested functions, of a
    parsed cell (see :func:`decides_in_process`)."""
    found: list[ast.stmt] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.Assert) or (isinstance(node, ast.Raise) and not in_function):
            found.append(node)
        inside = in_function or isinstance(
            node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        )
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(tree, False)
    return found


def judge_cell(
    reference: list[dict[str, Any]],
    learner: list[dict[str, Any]],
    error: dict[str, str] | None = None,
    *,
    require_no_error: bool = False,
) -> CellVerdict:
    """Decide one test cell from the reference run's and the learner's observations.

    Args:
        reference: observations of the reference run (each check's encoded arguments).
        learner: observations of the learner's run (each check's encoded first argument).
        error: the exception that ended the learner's cell, if any (for the message only).
    """
    if require_no_error and error:
        return CellVerdict(
            False, f"{error.get('ename', 'Error')}: {error.get('evalue', '')}".strip()
        )
    if not reference:
        if require_no_error:
            return CellVerdict(True)
        return CellVerdict(False, "this test has no checks the grader can judge (a course bug)")
    seen: dict[str, int] = defaultdict(int)
    learner_sites = _by_site(learner)
    for obs in reference:
        site = str(obs["site"])
        index = seen[site]
        seen[site] += 1
        name = site.split("@", 1)[0]
        check = CHECKS[name]
        try:
            ref = decode(obs["value"])
            args, kwargs = list(ref["args"]), dict(ref["kwargs"])
        except (WireError, KeyError, TypeError) as exc:
            return CellVerdict(False, f"the grader could not read the reference run ({exc})")
        values = learner_sites.get(site, [])
        if index >= len(values):
            return CellVerdict(False, _stopped(error, kwargs))
        try:
            actual = decode(values[index])
        except WireError:
            return CellVerdict(False, "the submission sent a value the grader cannot read")
        if isinstance(actual, Opaque):
            # Not plain data on the learner's side: a stand-in whose type name the message shows.
            actual = type(actual.type_name, (), {})()
        try:
            if args:
                check(actual, *args[1:], **kwargs)
            else:
                check(actual, **{k: v for k, v in kwargs.items() if k not in ("actual", "value")})
        except checks.CheckFailed as exc:
            return CellVerdict(False, str(exc))
        except Exception as exc:  # noqa: BLE001 - a malformed value is the learner's failure
            return CellVerdict(False, f"{type(exc).__name__}: {exc}")
    return CellVerdict(True)


def _stopped(error: dict[str, str] | None, kwargs: dict[str, Any]) -> str:
    """Why a test cell ended before a check: the learner's error, the value the check was
    about to look at, and the check's hint (what usually causes this)."""
    what = kwargs.get("name")
    if error:
        message = f"{error.get('ename', 'Error')}: {error.get('evalue', '')}".strip()
        if isinstance(what, str):
            message += f"\n  (the test stopped there, before checking {what})"
    else:
        message = "the test stopped before all of its checks ran"
        if isinstance(what, str):
            message += f" (the next one checks {what})"
    hint = kwargs.get("hint")
    if isinstance(hint, str) and hint:
        message += f"\n  likely cause: {hint}"
    return message
