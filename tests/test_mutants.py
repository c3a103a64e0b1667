"""Does every hidden test catch a mistake a learner really makes?

For each chapter, the reference solutions must pass every test cell, and each wrong
implementation in ``tests/mutants/<chapter>.py`` must fail the hidden-test cells it names.
Every hidden-test cell must be named by at least one mutant: a hidden test that no wrong
implementation fails is not a test.

Each test cell is decided twice (see :mod:`tests.mutants.run`): in the learner's kernel, as
nbgrader does, and from the observed values in the grader, as ``autograder grade`` does. The
two must agree for every variant: a test whose expected values depend on the learner's own
results (a random mask, say) would fail an honest, different solution in the grader.
"""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from tests.conftest import ROOT, SOURCE, exercise_chapters
from tests.mutants import chapters

MUTANTS = chapters()
REFERENCE = "<reference solution>"


def _group(chapter: str):
    """Each chapter's mutants are one xdist group (one worker runs them, the chapters spread)."""
    return pytest.mark.xdist_group(f"mutants-{chapter}")


def _chapter_params():
    return [pytest.param(c, marks=_group(c), id=c) for c in exercise_chapters()]


def hidden_cells(chapter: str) -> list[str]:
    nb = nbformat.read(SOURCE / chapter / "exercises.ipynb", as_version=4)
    return [
        c.metadata["nbgrader"]["grade_id"]
        for c in nb.cells
        if c.cell_type == "code"
        and c.metadata.get("nbgrader", {}).get("grade")
        and "### BEGIN HIDDEN TESTS" in c.source
    ]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Run every chapter's reference and mutants once; cache the per-cell results."""
    cache: dict[str, dict] = {}

    def get(chapter: str) -> dict:
        if chapter not in cache:
            tmp = tmp_path_factory.mktemp(chapter)
            variants = {REFERENCE: {}}
            variants.update({m.name: m.replacements() for m in MUTANTS.get(chapter, [])})
            (tmp / "variants.json").write_text(json.dumps(variants))
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "tests.mutants.run",
                    str(SOURCE / chapter / "exercises.ipynb"),
                    str(tmp / "variants.json"),
                    str(tmp / "results.json"),
                ],
                cwd=SOURCE / chapter,
                env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
                check=True,
                timeout=900,
            )
            cache[chapter] = json.loads((tmp / "results.json").read_text())
        return cache[chapter]

    return get


@pytest.mark.slow
@pytest.mark.parametrize("chapter", _chapter_params())
def test_reference_passes_every_test_cell_without_stderr(chapter, results):
    ref = results(chapter)[REFERENCE]
    failed = {gid: r["error"] for gid, r in ref.items() if not r["ok"]}
    assert not failed, f"the reference solution fails: {failed}"
    rejected = {gid: r["verdict"] for gid, r in ref.items() if "graded" in r and not r["graded"]}
    assert not rejected, f"the grader fails the reference solution: {rejected}"
    noisy = [gid for gid, r in ref.items() if r["stderr"]]
    assert not noisy, f"cells write to stderr (nbgrader would zero them): {noisy}"


def _mutant_params():
    return [
        pytest.param(chapter, m, id=f"{chapter}-{m.name}", marks=_group(chapter))
        for chapter in exercise_chapters()
        for m in MUTANTS.get(chapter, [])
    ]


@pytest.mark.slow
@pytest.mark.parametrize("chapter, mutant", _mutant_params())
def test_mutant_fails_the_hidden_tests_it_names(chapter, mutant, results):
    res = results(chapter)[mutant.name]
    for gid in [mutant.cell, *mutant.extra]:
        assert gid in res, f"{mutant.name} replaces {gid!r}, which is not a cell of {chapter}"
    for gid in mutant.fails:
        assert gid in res, f"{mutant.name} names {gid!r}, which is not a cell of {chapter}"
        assert not res[gid]["ok"], f"{gid} passes with the wrong implementation {mutant.name}"
        assert not res[gid]["graded"], f"the grader passes {gid} with {mutant.name}"


@pytest.mark.slow
@pytest.mark.parametrize("chapter", _chapter_params())
def test_the_grader_agrees_with_the_kernel_on_every_variant(chapter, results):
    disagree = [
        f"{variant} / {gid}: kernel {'passes' if r['ok'] else 'fails'} ({r['error'][:200]}), "
        f"grader {'passes' if r['graded'] else 'fails'} ({r['verdict'][:200]})"
        for variant, cells in results(chapter).items()
        for gid, r in cells.items()
        if "graded" in r and r["ok"] != r["graded"]
    ]
    assert not disagree, "\n".join(disagree)


@pytest.mark.parametrize("chapter", exercise_chapters())
def test_every_hidden_test_has_a_mutant_it_catches(chapter):
    caught = {gid for m in MUTANTS.get(chapter, []) for gid in m.fails}
    missing = [gid for gid in hidden_cells(chapter) if gid not in caught]
    assert hidden_cells(chapter), f"{chapter} has no hidden tests"
    assert not missing, f"hidden tests no mutant in tests/mutants/ch{chapter}.py fails: {missing}"


def test_every_mutant_module_belongs_to_a_chapter():
    unknown = set(MUTANTS) - set(exercise_chapters())
    assert not unknown, f"mutant modules for chapters that do not exist: {unknown}"
    assert (ROOT / "tests" / "mutants").is_dir()
