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

from autograder.grading.verdicts import CHECKS, check_calls, in_process_verdicts
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
