"""Does the grader keep the answers and the clock on its own side?

Small notebooks graded with :func:`autograder.grading.isolated.grade_notebook` (no bubblewrap:
what is tested here is the grader's logic, not the sandbox): ``reference_only`` blocks never run
in the learner's process, and a test cell's ``autograder.time_limit`` is enforced by the grader's
clock, whatever time the learner's process reports.
"""

from __future__ import annotations

import copy
import json

import nbformat
import pytest

from autograder.grading.isolated import (
    LEARNER_CELLS_ALLOWANCE,
    grade_notebook,
    notebook_budget,
    reference_observations,
)
from autograder.grading.sandbox import Sandbox

pytestmark = pytest.mark.slow

SETUP = "import time\nimport torch\nfrom autograder import assert_close, check_between, check_equal, reference_only"
SOLUTION = "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"
TEST = """\
torch.manual_seed(0)
x = torch.randn(5, dtype=torch.float64)
with reference_only():
    expected = 2 * x
start = time.perf_counter()
y = double(x.clone())
seconds = time.perf_counter() - start
check_between(seconds, high=3, name="the time double takes in seconds")
assert_close(y, expected, name="double(x)")
"""


def cell(kind: str, source: str, grade_id: str, **extra):
    c = nbformat.v4.new_code_cell(source)
    meta = {"schema_version": 3, "grade_id": grade_id, "locked": kind != "solution"}
    meta.update(
        solution=kind == "solution",
        grade=kind == "test",
        **({"points": 1} if kind == "test" else {}),
    )
    c.metadata["nbgrader"] = meta
    c.metadata.update(extra)
    return c


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    source = nbformat.v4.new_notebook()
    source.cells = [
        cell("setup", SETUP, "setup"),
        cell("solution", SOLUTION, "double"),
        cell("test", TEST, "test_double", autograder={"time_limit": 3}),
    ]
    reference = reference_observations(source, tmp_path_factory.mktemp("reference"))

    def grade(double_source: str, *extra_cells: str, solution_meta: dict | None = None):
        sub = copy.deepcopy(source)
        sub.cells[1].source = double_source
        sub.cells[1].metadata.update(solution_meta or {})
        sub.cells[2:2] = [nbformat.v4.new_code_cell(c) for c in extra_cells]
        work = tmp_path_factory.mktemp("run")
        return grade_notebook(
            source, sub, reference, Sandbox(workdir=work, use_bwrap=False), cell_timeout=20
        )

    return grade


def test_the_reference_solution_passes(graded):
    result = graded(SOLUTION)
    assert (result.status, result.score) == ("graded", 1.0), result.cells


def test_an_answer_read_from_the_callers_globals_earns_nothing(graded):
    steal = (
        "import sys\ndef double(x):\n    g = sys._getframe(1).f_globals\n"
        "    return g['expected'].clone() if 'expected' in g else x"
    )
    result = graded(steal)
    assert result.score == 0, result.cells


def test_the_grader_clock_decides_a_time_budget_not_the_learners(graded):
    # Slow (6 s for a 3 s budget), and reporting 0 s through a patched clock.
    slow = (
        "import time\n_real = time.sleep\ndef double(x):\n    _real(6)\n"
        "    time.perf_counter = lambda: 0.0\n    return 2 * x"
    )
    result = graded(slow)
    assert (result.status, result.score) == ("timeout", 0.0), result
    assert "time budget of 3 s" in result.message


def test_a_learner_cannot_give_its_own_cell_a_longer_budget(graded):
    slow = "import time\ndef double(x):\n    time.sleep(6)\n    return 2 * x"
    result = graded(
        slow,
        "pass",
        solution_meta={"autograder": {"time_limit": 1000}},
    )
    assert (result.status, result.score) == ("timeout", 0.0), result


def test_the_notebook_budget_comes_from_the_source_not_the_submission():
    source = nbformat.v4.new_notebook()
    source.cells = [
        cell("setup", SETUP, "setup"),
        cell("solution", SOLUTION, "double"),
        cell("test", TEST, "test_double", autograder={"time_limit": 90}),
    ]
    assert notebook_budget(source, 20) == 20 + 20 + 90 + LEARNER_CELLS_ALLOWANCE
    forged = copy.deepcopy(source)
    forged.cells[2].metadata["autograder"] = {"time_limit": True}  # not a number of seconds
    assert notebook_budget(forged, 20) == 20 + 20 + 20 + LEARNER_CELLS_ALLOWANCE


def test_a_flood_of_outputs_is_cut_per_cell_and_per_notebook(graded):
    # 15 cells of 300 displays of 10 kB each (45 MB): the grader keeps at most 1 MB a cell,
    # 10 MB a notebook, with a note, and the test cells still grade.
    flood = (
        "from IPython.display import HTML, display\n"
        "for i in range(300):\n    display(HTML('x' * 10_000))"
    )
    result = graded(SOLUTION, *[flood] * 15)
    assert (result.status, result.score) == ("graded", 1.0), result.cells
    sizes = [len(json.dumps(c.get("outputs", []))) for c in result.notebook.cells]
    assert max(sizes) <= (1 << 20) + 1000, max(sizes)
    assert sum(sizes) <= (10 << 20) + 20_000, sum(sizes)
    notes = [
        o["text"]
        for c in result.notebook.cells
        for o in c.get("outputs", [])
        if "not kept" in o.get("text", "")
    ]
    assert len(notes) == 15 and "1 MB of outputs per cell" in notes[0]
