"""Does the book build offline, with every chapter, and without giving anything away?

Builds the book the way ``make book`` does (warnings are errors; lessons executed through the
cache) and scans every file of the site: no solution code, no hidden-test code, nothing loaded
from another host (MathJax is served by the site itself).
"""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat
import pytest
import yaml

from tests.conftest import CHAPTERS, ROOT, SOURCE, exercise_chapters
from tests.test_release_and_autograde import secret_lines

BOOK = ROOT / "book"
HTML = BOOK / "_build" / "html"

# A tag that makes the browser fetch something: scripts, stylesheets, images, frames, fonts.
EXTERNAL_LOAD = re.compile(
    r"<(script|link|img|iframe|source|embed)\b[^>]*\b(src|href)\s*=\s*[\"']((?:https?:)?//[^\"']+)",
    re.I,
)
CSS_IMPORT = re.compile(r"(@import\s+(url\()?[\"']?|url\([\"']?)((?:https?:)?//[^\"')]+)", re.I)


def toc_files() -> list[str]:
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    files = []

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    walk(toc.get("parts"))
    return files


def test_every_chapter_is_in_the_table_of_contents():
    files = toc_files()
    for chapter in CHAPTERS:
        assert f"chapters/{chapter}/lesson" in files, f"{chapter}'s lesson is not in book/_toc.yml"
        assert f"chapters/{chapter}/exercises" in files, (
            f"{chapter}'s exercises are not in book/_toc.yml"
        )


@pytest.fixture(scope="module")
def site():
    run = subprocess.run(
        [sys.executable, "-m", "autograder.book", "build"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert run.returncode == 0, (
        f"the book does not build:\n{run.stdout[-5000:]}\n{run.stderr[-5000:]}"
    )
    return HTML


def site_files(site, suffixes):
    return [p for p in site.rglob("*") if p.is_file() and p.suffix in suffixes]


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_book_has_every_chapter_page(site):
    for chapter in CHAPTERS:
        for page in ("lesson", "exercises"):
            assert (site / "chapters" / chapter / f"{page}.html").exists(), f"{chapter}/{page}"
    assert (site / "index.html").exists()


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_book_contains_no_solution_and_no_hidden_test(site):
    secrets = set()
    for chapter in exercise_chapters():
        secrets |= secret_lines(nbformat.read(SOURCE / chapter / "exercises.ipynb", as_version=4))
    markers = ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
    for path in site_files(site, {".html", ".ipynb", ".txt", ".md", ".js", ".json"}):
        text = path.read_text(errors="replace")
        # HTML escapes quotes and angle brackets; compare both forms.
        unescaped = (
            text.replace("&quot;", '"')
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
        )
        for marker in markers:
            assert marker not in unescaped, f"{path.relative_to(site)} contains {marker!r}"
        leaked = [s for s in secrets if s in unescaped]
        assert not leaked, (
            f"{path.relative_to(site)} contains solution or hidden-test code: {leaked[:2]}"
        )


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_book_loads_nothing_from_another_host(site):
    offenders = []
    for path in site_files(site, {".html"}):
        for match in EXTERNAL_LOAD.finditer(path.read_text(errors="replace")):
            tag = match.group(0)
            if match.group(1).lower() == "link" and not re.search(
                r"rel=[\"'](stylesheet|preload|modulepreload|icon)", tag
            ):
                continue  # <link rel="canonical"> and the like are not loads
            offenders.append(f"{path.relative_to(site)}: {match.group(3)}")
    for path in site_files(site, {".css"}):
        for match in CSS_IMPORT.finditer(path.read_text(errors="replace")):
            offenders.append(f"{path.relative_to(site)}: {match.group(3)}")
    assert not offenders, "pages load from another host:\n" + "\n".join(sorted(set(offenders))[:20])


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_math_is_typeset_by_a_local_mathjax(site):
    lesson = (site / "chapters" / CHAPTERS[0] / "lesson.html").read_text()
    assert re.search(r"<script[^>]+src=\"[./]*_static/mathjax/tex-chtml\.js", lesson), (
        "MathJax is not served locally"
    )
    assert (site / "_static" / "mathjax" / "tex-chtml.js").exists()
    assert "\\(" in lesson or "\\[" in lesson or "math notranslate" in lesson, (
        "the lesson has no math"
    )


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_lessons_are_executed_with_figures(site):
    for chapter in CHAPTERS:
        html = (site / "chapters" / chapter / "lesson.html").read_text()
        assert "cell_output" in html, f"{chapter}'s lesson has no outputs in the book"
        assert re.search(r"<img[^>]+(\.png|data:image/png)", html), (
            f"{chapter}'s lesson has no figure"
        )
