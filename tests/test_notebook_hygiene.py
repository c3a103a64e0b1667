"""Are the source notebooks committed the way the course needs them?

Without outputs, nbformat 4.5 with unique cell ids, nbgrader metadata in schema 3 with unique
grade ids, every chapter with both of its notebooks, and test cells whose every verdict goes
through a check the grader judges in its own process (CONTRIBUTING.md).
"""

from __future__ import annotations

import ast
import json

import nbformat
import pytest

from autograder.grading.verdicts import (
    CHECKS,
    check_calls,
    in_process_verdicts,
    is_reference_only,
)
from tests.conftest import CHAPTERS, SOURCE

NOTEBOOKS = sorted(SOURCE.rglob("*.ipynb"))


def test_every_chapter_has_a_lesson_and_exercises():
    assert CHAPTERS, "no chapters in course/source"
    for chapter in CHAPTERS:
        assert (SOURCE / chapter / "lesson.ipynb").exists(), f"{chapter} has no lesson.ipynb"
        assert (SOURCE / chapter / "exercises.ipynb").exists(), f"{chapter} has no exercises.ipynb"
        prefix, _, topic = chapter.partition("_")
        assert prefix.isdigit() and len(prefix) == 2 and topic == topic.lower(), chapter


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(SOURCE)))
def test_notebook_is_clean(path):
    raw = json.loads(path.read_text(encoding="utf-8"))
    nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    nbformat.validate(nb)
    assert (raw["nbformat"], raw["nbformat_minor"]) >= (4, 5), "cell ids need nbformat 4.5"
    ids = [c["id"] for c in raw["cells"]]
    assert len(ids) == len(set(ids)), "cell ids must be unique"
    for i, cell in enumerate(raw["cells"]):
        if cell["cell_type"] == "code":
            assert not cell["outputs"] and cell["execution_count"] is None, (
                f"cell {i} has outputs: run nbstripout"
            )
    kernel = raw["metadata"].get("kernelspec", {})
    assert kernel.get("name") == "python3", "kernelspec must be python3"


@pytest.mark.parametrize(
    "path", [p for p in NOTEBOOKS if p.name == "lesson.ipynb"], ids=lambda p: p.parent.name
)
def test_no_stray_true_from_compare(path):
    """compare() prints its verdict and returns a bool: as a cell's last expression, the book
    shows a stray ``True`` under the table. Write ``_ = compare(...)`` there."""
    nb = nbformat.read(path, as_version=4)
    stray = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            body = ast.parse(cell.source).body
        except SyntaxError:  # magics: not ours to judge here
            continue
        last = body[-1] if body else None
        if (
            isinstance(last, ast.Expr)
            and isinstance(last.value, ast.Call)
            and getattr(last.value.func, "id", None) == "compare"
        ):
            stray.append(i)
    assert not stray, f"cells {stray} end with a bare compare(...): write `_ = compare(...)`"


@pytest.mark.parametrize(
    "path", [p for p in NOTEBOOKS if p.name == "exercises.ipynb"], ids=lambda p: p.parent.name
)
def test_nbgrader_metadata(path):
    nb = nbformat.read(path, as_version=4)
    grade_ids = []
    kinds = {"solution": 0, "visible": 0, "hidden": 0}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if not meta:
            continue
        assert meta.get("schema_version") == 3
        gid = meta.get("grade_id")
        assert gid and gid.isidentifier(), f"grade_id {gid!r} must be an identifier"
        grade_ids.append(gid)
        if meta.get("solution"):
            kinds["solution"] += 1
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source, gid
        if meta.get("grade"):
            assert meta.get("locked"), f"test cell {gid} must be locked"
            assert meta.get("points", 0) > 0, f"test cell {gid} gives no points"
            if "### BEGIN HIDDEN TESTS" in cell.source:
                kinds["hidden"] += 1
                assert gid.startswith("hidden_"), f"hidden-test cell {gid} should be named hidden_*"
                before = cell.source.split("### BEGIN HIDDEN TESTS")[0]
                assert before.strip().startswith("#"), (
                    f"{gid}: start with a comment that tells the learner what is checked"
                )
            else:
                kinds["visible"] += 1
                assert "hidden" not in gid, f"visible test cell {gid} is named like a hidden one"
    assert len(grade_ids) == len(set(grade_ids)), "grade ids must be unique"
    assert all(kinds.values()), (
        f"an exercises notebook needs solutions, visible and hidden tests: {kinds}"
    )


def test_no_generated_folders_are_tracked():
    import subprocess

    tracked = subprocess.run(
        ["git", "ls-files", "course"], capture_output=True, text=True, cwd=SOURCE.parent.parent
    ).stdout.split()
    generated = ("course/release/", "course/submitted/", "course/autograded/", "course/feedback/")
    assert not [t for t in tracked if t.startswith(generated) or t.endswith("gradebook.db")]


EXERCISES = [p for p in NOTEBOOKS if p.name == "exercises.ipynb"]


def _called(call: ast.Call) -> str:
    """The name a call calls: ``assert_close`` for ``assert_close(...)`` and
    ``autograder.assert_close(...)`` alike (as the grader's rewriter reads it)."""
    return ast.unparse(call.func).split(".")[-1]


def _check_call_problems(tree: ast.AST) -> list[str]:
    """Check calls the grader cannot judge: ``*args``, or a result that is used (in the
    learner's process a check only observes its first argument and returns None)."""
    problems = []
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            if not (isinstance(child, ast.Call) and _called(child) in CHECKS):
                continue
            if any(isinstance(a, ast.Starred) for a in child.args):
                problems.append(f"line {child.lineno}: {_called(child)}(*...) hides the value")
            if not isinstance(node, ast.Expr):
                problems.append(f"line {child.lineno}: the result of {_called(child)}() is used")
    return problems


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.parent.name)
def test_test_cells_decide_only_through_checks(path):
    """No ``assert``, no ``raise`` outside a blocker function, at least one check, and checks
    called in the test cell itself: then a submission that tampers with its own process can
    only change the values it reports, never a verdict."""
    nb = nbformat.read(path, as_version=4)
    problems = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        tree = ast.parse(cell.source)
        if meta.get("grade") and not meta.get("solution"):
            for node in in_process_verdicts(tree):
                kind = type(node).__name__.lower()
                problems.append(
                    f"{gid}, line {node.lineno}: `{kind}` decides in the learner's process"
                )
            if not check_calls(cell.source):
                problems.append(f"{gid}: no check call (assert_close, check_shape, ...)")
            problems += [f"{gid}, {p}" for p in _check_call_problems(tree)]
            last = tree.body[-1] if tree.body else None
            if isinstance(last, ast.Expr) and (
                not isinstance(last.value, ast.Call) or _called(last.value) == "check_accuracy"
            ):
                problems.append(
                    f"{gid}: the last line shows a value, which nbgrader reads as partial "
                    "credit when it is a number: end with a check or a print"
                )
        elif not meta.get("solution") and check_calls(cell.source):
            problems.append(
                f"{gid or 'a cell'} calls a check outside a test cell: a helper that checks is "
                "not rewritten for the grader; call the checks in the test cell itself"
            )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.parent.name)
def test_messages_of_hidden_tests_do_not_quote_their_source(path):
    """A check's ``name=`` and ``hint=`` reach the learner's feedback; they may describe what a
    hidden test checks, not quote its code (the feedback scan would rightly call it a leak)."""
    from tests.test_grading_cli import hidden_lines

    nb = nbformat.read(path, as_version=4)
    secrets = hidden_lines(nb)
    quoted = []
    for cell in nb.cells:
        if "### BEGIN HIDDEN TESTS" not in cell.source:
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                quoted += [
                    f"{cell.metadata.nbgrader.grade_id}: {node.value!r} quotes {line!r}"
                    for line in secrets
                    if line in node.value
                ]
    assert not quoted, "\n".join(quoted)


def _names(nodes, ctx) -> set[str]:
    return {
        n.id
        for node in nodes
        for n in ast.walk(node)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ctx)
    }


def reference_leaks(source: str) -> list[str]:
    """What a test cell leaves in the learner's process that only the expected side needs.

    The grader deletes ``with reference_only():`` blocks from the learner's run and evaluates
    only each check's first argument there (CONTRIBUTING.md). So:

    - a name that a check's other arguments use, assigned outside a block, must also be used on
      the learner's side; otherwise it only computes an expected value, in the learner's
      process, and belongs in a block (``name=`` and ``hint=`` are messages, not answers);
    - an expected argument must not read ``.grad`` of a tensor the learner's side also uses:
      the reference's backward pass left its answer on the learner's own input;
    - a name assigned only inside a block must not be used on the learner's side, which never
      defines it.
    """
    tree = ast.parse(source)
    blocks = [n for n in ast.walk(tree) if is_reference_only(n)]
    in_block = {id(n) for b in blocks for n in ast.walk(b)}
    expected_args = [
        arg
        for call in ast.walk(tree)
        if isinstance(call, ast.Call) and _called(call) in CHECKS and id(call) not in in_block
        for arg in [
            *call.args[1:],
            *(k.value for k in call.keywords if k.arg not in ("name", "hint")),
        ]
    ]
    in_expected = {id(n) for a in expected_args for n in ast.walk(a)}
    everything = list(ast.walk(tree))
    learner = [n for n in everything if id(n) not in in_block and id(n) not in in_expected]
    learner_loads = {
        n.id for n in learner if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }
    learner_stores = {
        n.id for n in learner if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store | ast.Del)
    }
    learner_stores |= {n.name for n in learner if isinstance(n, ast.FunctionDef | ast.ClassDef)} | {
        a.arg for n in learner if isinstance(n, ast.arguments) for a in n.args + n.kwonlyargs
    }
    learner_stores |= {
        (a.asname or a.name).split(".")[0]
        for n in learner
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in n.names
    }
    block_stores = _names(blocks, ast.Store | ast.Del)
    # Loop counters (``for i in range(...)``, ``for i, p in enumerate(...)``) index answers but
    # are none themselves.
    counters = set()
    for loop in ast.walk(tree):
        if isinstance(loop, ast.For | ast.comprehension) and isinstance(loop.iter, ast.Call):
            func = getattr(loop.iter.func, "id", None)
            target = loop.target
            if func == "range" and isinstance(target, ast.Name):
                counters.add(target.id)
            elif func == "enumerate" and isinstance(target, ast.Tuple) and target.elts:
                if isinstance(target.elts[0], ast.Name):
                    counters.add(target.elts[0].id)
    problems = []
    for name in sorted(_names(expected_args, ast.Load) & learner_stores - learner_loads - counters):
        problems.append(
            f"`{name}` only feeds a check's expected side but is computed in the learner's "
            "process: compute it inside `with reference_only():`"
        )
    for arg in expected_args:
        for node in ast.walk(arg):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "grad"
                and isinstance(node.value, ast.Name)
                and node.value.id in learner_loads
                and node.value.id not in block_stores
            ):
                problems.append(
                    f"line {node.lineno}: the expected `{node.value.id}.grad` lives on a tensor "
                    "the learner's code also receives: give the reference its own copy inside "
                    "`with reference_only():`"
                )
    for name in sorted(block_stores & learner_loads - learner_stores):
        problems.append(
            f"`{name}` is assigned only inside `with reference_only():`, which the learner's "
            "run skips, but the learner's side uses it"
        )
    return problems


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.parent.name)
def test_expected_values_exist_only_in_the_reference_run(path):
    """Expected values, held-out labels and reference gradients are computed inside
    ``with reference_only():`` blocks (or inline in a check's expected argument), so that a
    learner's function cannot read them from its globals, the call stack or its inputs."""
    nb = nbformat.read(path, as_version=4)
    problems = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            problems += [f"{meta['grade_id']}: {p}" for p in reference_leaks(cell.source)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "source, leaks",
    [
        ("x = f()\ny = g(x)\nassert_close(h(x), y)", ["`y` only feeds"]),
        ("x = f()\nwith reference_only():\n    y = g(x)\nassert_close(h(x), y)", []),
        ("x = f()\nassert_close(h(x), g(x))", []),
        ("x = f()\n(x * 2).sum().backward()\nassert_close(h(x), x.grad)", ["x.grad"]),
        (
            "x = f()\nwith reference_only():\n    r = x.clone()\n    r.sum().backward()\n"
            "assert_close(h(x), r.grad)",
            [],
        ),
        ("with reference_only():\n    y = g()\nprint(y)\nassert_close(h(), y)", ["only inside"]),
        ("for a, b in [(h(1), g(1))]:\n    assert_close(a, b)", ["`b` only feeds"]),
        (
            "with reference_only():\n    r = [g(1)]\nfor i, p in enumerate([h(1)]):\n"
            "    assert_close(p, r[i])",
            [],
        ),
    ],
)
def test_the_reference_leak_rule_finds_what_it_should(source, leaks):
    found = reference_leaks(source)
    assert len(found) == len(leaks), found
    for problem, phrase in zip(found, leaks, strict=True):
        assert phrase in problem, problem
