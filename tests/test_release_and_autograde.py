"""Does each chapter survive the real nbgrader pipeline?

Released with ``nbgrader generate_assignment`` and graded with ``nbgrader autograde`` (nbgrader's
own command line, in a scratch copy of the course): the reference solutions get full marks, the
untouched student version gets 0, and the student version holds no solution code and no hidden
test.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.grading.notebooks import fill_answers, solution_cells
from tests.conftest import COURSE, SOURCE, exercise_chapters

NBGRADER = str(Path(sys.executable).with_name("nbgrader"))


def secret_lines(nb, *public, hidden_only: bool = False) -> set[str]:
    """Distinctive lines of the solutions and of the hidden tests that the learner never sees.

    A line inside a solution or hidden-test block is secret unless the student version shows
    the same line elsewhere (a visible test may well call ``assert_close(ours, theirs)`` too),
    or one of the ``public`` notebooks does (the lesson may build the same tensor).
    ``hidden_only``: the hidden tests' lines only (for what shows a learner's own solutions).
    """
    blocks = (("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"),)
    if not hidden_only:
        blocks += (("### BEGIN SOLUTION", "### END SOLUTION"),)
    inside_lines, visible = set(), set()
    for cell in nb.cells:
        inside = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if any(stripped.startswith(begin) for begin, _ in blocks):
                inside = True
            elif any(stripped.startswith(end) for _, end in blocks):
                inside = False
            elif inside:
                if len(stripped) >= 25 and not stripped.startswith("#"):
                    inside_lines.add(stripped)
            else:
                visible.add(stripped)
    for other in public:
        visible |= {line.strip() for cell in other.cells for line in cell.source.splitlines()}
    shown = "\n".join(visible)
    return {line for line in inside_lines if line not in shown}


def nbgrader(course: Path, *args: str) -> None:
    run = subprocess.run(
        [NBGRADER, *args, "--log-level=WARN"],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, f"nbgrader {args[0]} failed:\n{run.stdout}\n{run.stderr}"


def _chapters():
    """Every chapter, each its own xdist group: the chapters release and grade on both workers."""
    return [
        pytest.param(c, id=c, marks=pytest.mark.xdist_group(f"release-{c}"))
        for c in exercise_chapters()
    ]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """``graded(chapter)``: a scratch course in which ``chapter`` was released and two students,
    the reference solution and untouched, were graded by ``nbgrader autograde``."""
    cache: dict[str, Path] = {}

    def get(chapter: str) -> Path:
        if chapter not in cache:
            course = tmp_path_factory.mktemp(f"course-{chapter}")
            shutil.copy(COURSE / "nbgrader_config.py", course)
            shutil.copytree(SOURCE / chapter, course / "source" / chapter)
            nbgrader(course, "generate_assignment", chapter, "--force")
            source = nbformat.read(SOURCE / chapter / "exercises.ipynb", as_version=4)
            release_path = course / "release" / chapter / "exercises.ipynb"
            released = nbformat.read(release_path, as_version=4)
            reference = fill_answers(
                nbformat.read(release_path, as_version=4), solution_cells(source)
            )
            for student, nb in (("reference", reference), ("untouched", released)):
                dest = course / "submitted" / student / chapter
                dest.mkdir(parents=True)
                nbformat.write(nb, dest / "exercises.ipynb")
            nbgrader(course, "autograde", chapter, "--force")
            cache[chapter] = course
        return cache[chapter]

    return get


def scores(course: Path, chapter: str) -> dict[str, tuple[float, float]]:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        out = {}
        for student in ("reference", "untouched"):
            sub = gb.find_submission(chapter, student)
            out[student] = (sub.score, sub.max_score)
        return out


@pytest.mark.slow
@pytest.mark.parametrize("chapter", _chapters())
def test_reference_solution_gets_full_marks(graded, chapter):
    score, max_score = scores(graded(chapter), chapter)["reference"]
    assert max_score > 0
    assert score == max_score, f"the reference solution of {chapter} scores {score}/{max_score}"


@pytest.mark.slow
@pytest.mark.parametrize("chapter", _chapters())
def test_untouched_student_version_scores_zero(graded, chapter):
    score, max_score = scores(graded(chapter), chapter)["untouched"]
    assert score == 0, f"the untouched {chapter} scores {score}/{max_score}"


@pytest.mark.slow
@pytest.mark.parametrize("chapter", _chapters())
def test_release_has_no_solutions_and_no_hidden_tests(graded, chapter):
    text = (graded(chapter) / "release" / chapter / "exercises.ipynb").read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    source = nbformat.read(SOURCE / chapter / "exercises.ipynb", as_version=4)
    leaked = [line for line in secret_lines(source) if line in text]
    assert not leaked, f"the student version of {chapter} contains: {leaked[:3]}"


@pytest.fixture(scope="module")
def ours(graded, tmp_path_factory):
    """``ours(chapter)``: the same two students, graded by ``autograder grade`` in a copy."""
    from autograder.grading.batch import grade
    from autograder.publishing.course import Course

    cache: dict[str, dict] = {}

    def get(chapter: str) -> dict:
        if chapter not in cache:
            course = tmp_path_factory.mktemp(f"ours-{chapter}") / "course"
            shutil.copytree(
                graded(chapter),
                course,
                ignore=shutil.ignore_patterns("autograded", "gradebook.db"),
            )
            nbgrader(course, "generate_assignment", chapter, "--force")
            run = grade(Course(course), chapter, jobs=2, progress=False)
            cache[chapter] = {r.student: r for r in run.results}
        return cache[chapter]

    return get


@pytest.mark.slow
@pytest.mark.parametrize("chapter", _chapters())
def test_our_grader_agrees_reference_full_marks_untouched_zero(ours, chapter):
    """The sandboxed grader with verdicts outside the learner's process grades like nbgrader."""
    ref, untouched = ours(chapter)["reference"], ours(chapter)["untouched"]
    assert (ref.status, ref.score) == ("graded", ref.max_score), ref.message
    assert (untouched.status, untouched.score) == ("graded", 0), untouched.message
