"""Does ``autograder grade`` grade an instructor's own nbgrader assignment as nbgrader does?

nbgrader ships its documentation's example course inside the package: assignment ``ps1``
(plain ``assert`` tests, written answers in markdown and in code, a task cell) and two students'
submissions. One course gets them twice: ``ps1`` as shipped, and ``ps1_variant``, whose
source has a test that ends in a number (nbgrader's partial credit) and a test its own reference
solution fails. ``autograder grade`` and ``nbgrader autograde`` each grade both in their own
copy of the course, and the gradebooks are compared grade by grade. Then the instructor's side:
nbgrader's formgrader renders the autograded notebook with a score box for every cell worth
points, a manual score entered the way the formgrader enters it counts, and grading again keeps
it.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import nbgrader
import pytest
from nbgrader.api import Gradebook

EXAMPLES = Path(nbgrader.__file__).parent / "docs" / "source" / "user_guide"
STUDENTS = ("bitdiddle", "hacker")
ASSIGNMENTS = ("ps1", "ps1_variant")
CONFIG = """\
from pathlib import Path
c = get_config()
COURSE = Path(__file__).resolve().parent
c.CourseDirectory.root = str(COURSE)
c.CourseDirectory.db_url = f"sqlite:///{COURSE / 'gradebook.db'}"
c.Exchange.root = str(COURSE / "exchange")
"""
PARTIAL = "correct_squares"  # ends in `0.25`: a passing submission earns 0.25 of its 1 point
BROKEN = "correct_sum_of_squares"  # the reference solution fails it


def _edit_test(nb, grade_id: str, extra: str) -> None:
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    cell.source = cell.source.rstrip() + "\n" + extra


def make_course(folder: Path) -> Path:
    folder.mkdir()
    (folder / "nbgrader_config.py").write_text(CONFIG)
    for assignment in ASSIGNMENTS:
        shutil.copytree(EXAMPLES / "source" / "ps1", folder / "source" / assignment)
        for student in STUDENTS:
            shutil.copytree(
                EXAMPLES / "submitted" / student / "ps1",
                folder / "submitted" / student / assignment,
            )
    variant = folder / "source" / "ps1_variant" / "problem1.ipynb"
    nb = nbformat.read(variant, as_version=4)
    _edit_test(nb, PARTIAL, "0.25")
    _edit_test(nb, BROKEN, "assert sum_of_squares(1) == 2, 'the test itself is wrong'")
    nbformat.write(nb, variant)
    return folder


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)


def grades(course: Path, assignment: str) -> dict:
    """``{(student, notebook): (score, max_score, {grade_id: (auto_score, needs_manual)})}``."""
    found = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in STUDENTS:
            for nb in gb.find_submission(assignment, student).notebooks:
                found[student, nb.name] = (
                    nb.score,
                    nb.max_score,
                    {g.name: (g.auto_score, g.needs_manual_grade) for g in nb.grades},
                )
    return found


@pytest.fixture(scope="module")
def courses(tmp_path_factory):
    """The same course graded by ``autograder grade`` and by ``nbgrader autograde``."""
    base = tmp_path_factory.mktemp("nbgrader-examples")
    ours, theirs = make_course(base / "ours"), make_course(base / "nbgrader")
    bin_dir = Path(sys.executable).parent
    out = {"ours": ours, "nbgrader": theirs, "grade": {}}
    for assignment in ASSIGNMENTS:
        released = run([str(bin_dir / "autograder"), "release", assignment], ours)
        assert released.returncode == 0, released.stderr
        out["grade"][assignment] = run(
            [str(bin_dir / "autograder"), "grade", assignment, "--jobs", "2", "--quiet"], ours
        )
        for step in ("generate_assignment", "autograde"):
            done = run([str(bin_dir / "nbgrader"), step, assignment, "--force"], theirs)
            assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_gradebook_holds_what_nbgrader_would_write(courses, assignment):
    graded = courses["grade"][assignment]
    assert graded.returncode == 0, graded.stdout + graded.stderr[-3000:]
    ours, theirs = grades(courses["ours"], assignment), grades(courses["nbgrader"], assignment)
    assert ours == theirs
    # The example is worth testing: automatic points, untouched answers (0) and answers that
    # wait for a human (None) are all in it.
    autos = {auto for _, _, cells in ours.values() for auto, _ in cells.values()}
    assert {None, 0.0, 1.0} <= autos, autos


def test_the_csv_says_which_submissions_need_a_human(courses):
    with open(courses["ours"] / "grades" / "ps1.csv", newline="") as fh:
        rows = {(r["student"], r["notebook"]): r for r in csv.DictReader(fh)}
    assert set(rows) == {(s, nb) for s in STUDENTS for nb in ("problem1", "problem2")}
    assert {r["status"] for r in rows.values()} == {"needs manual grading"}
    hacker = rows["hacker", "problem1"]
    assert (hacker["score"], hacker["max_score"]) == ("3", "10")  # the task cell's 4 points count
    assert "needs manual grading: sum_of_squares_equation" in hacker["message"]
    bitdiddle = rows["bitdiddle", "problem1"]
    assert "no answer: sum_of_squares_application" in bitdiddle["message"]
    assert "edited locked cells" not in bitdiddle["message"], "a task cell is not an edit"


def test_partial_credit_and_a_test_the_reference_fails(courses):
    graded = courses["grade"]["ps1_variant"]
    # The instructor is told, by name; the batch went on and graded everyone.
    assert f"reference solution fails its own test {BROKEN}" in graded.stderr, graded.stderr
    assert "4 needs manual grading" in graded.stdout, graded.stdout
    ours = grades(courses["ours"], "ps1_variant")
    assert ours["hacker", "problem1"][2][PARTIAL] == (0.25, False)
    assert ours["hacker", "problem1"][2][BROKEN] == (0.0, False)


def formgrade_page(course: Path, student: str, notebook: str) -> str:
    """The page nbgrader's formgrader shows for a submission (its exporter and template)."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {
        "assignment_id": "ps1", "notebook_id": notebook, "submission_id": "s", "index": 0,
        "total": 1, "base_url": "", "student": student, "last_name": "", "first_name": "",
        "notebook_path": f"autograded/{student}/ps1/{notebook}.ipynb",
    }  # fmt: skip
    path = course / "autograded" / student / "ps1" / f"{notebook}.ipynb"
    html, _ = HTMLExporter(config=config).from_filename(str(path), resources=resources)
    return html


def test_the_formgrader_grades_what_is_left_and_a_regrade_keeps_it(courses):
    ours, theirs = courses["ours"], courses["nbgrader"]
    boxes = re.compile(r'<input class="score tabbable" id="([^"]+)"')
    for student in STUDENTS:
        for notebook in ("problem1", "problem2"):
            mine = set(boxes.findall(formgrade_page(ours, student, notebook)))
            assert mine == set(boxes.findall(formgrade_page(theirs, student, notebook)))
            assert mine, "the formgrader shows no score box"
    # A manual score, entered as the formgrader's API does (nbgrader's GradeHandler.put).
    url = f"sqlite:///{ours / 'gradebook.db'}"
    with Gradebook(url) as gb:
        grade = gb.find_grade("sum_of_squares_equation", "problem1", "ps1", "hacker")
        grade.manual_score = 1.0
        gb.db.commit()
        assert gb.find_submission_notebook("problem1", "ps1", "hacker").score == 4.0
    again = run([str(Path(sys.executable).parent / "autograder"), "grade", "ps1", "--quiet"], ours)
    assert again.returncode == 0, again.stderr[-3000:]
    with Gradebook(url) as gb:
        grade = gb.find_grade("sum_of_squares_equation", "problem1", "ps1", "hacker")
        assert grade.manual_score == 1.0
        assert gb.find_submission_notebook("problem1", "ps1", "hacker").score == 4.0
