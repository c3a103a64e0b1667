"""Are the source notebooks committed the way the course needs them?

Without outputs, nbformat 4.5 with unique cell ids, nbgrader metadata in schema 3 with unique
grade ids, and every chapter with both of its notebooks.
"""

from __future__ import annotations

import json

import nbformat
import pytest

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
