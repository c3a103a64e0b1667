"""Does the book build offline, with every chapter, and without giving anything away?

Builds the book the way ``make book`` does (warnings are errors; lessons executed through the
cache; one build per session, :mod:`tests.book_fixture`) and scans every file of the site: no
solution code, no hidden-test code, nothing loaded from another host (MathJax is served by the
site itself), no broken internal link. The launch buttons must open each page's notebook on the
student branch, whose tree ``python -m autograder.publishing.book publish`` writes: that tree is checked
too (every launch target in it, in the student version, and nothing secret anywhere in it).
What a browser makes of the site is tested in ``tests/test_browser.py``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import nbformat
import pytest
import yaml

from autograder.publishing import book, colab
from tests.book_fixture import BOOK, run_build, site_fixture  # noqa: F401  (the fixture `site`)
from tests.conftest import CHAPTERS, ROOT, SOURCE, exercise_chapters
from tests.test_release_and_autograde import secret_lines

CONFIG = yaml.safe_load((BOOK / "_config.yml").read_text())
GUIDES = ["guide/student", "guide/notation", "guide/instructor"]
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")

# A tag that makes the browser fetch something: scripts, stylesheets, images, frames, fonts.
EXTERNAL_LOAD = re.compile(
    r"<(script|link|img|iframe|source|embed)\b[^>]*\b(src|href)\s*=\s*[\"']((?:https?:)?//[^\"']+)",
    re.I,
)
CSS_IMPORT = re.compile(r"(@import\s+(url\()?[\"']?|url\([\"']?)((?:https?:)?//[^\"')]+)", re.I)


def course_secrets() -> set[str]:
    """Lines that only the solutions and hidden tests of the course hold.

    :func:`secret_lines` of every chapter, minus those a notebook also shows outside these
    regions (a visible test may hold a line of a hidden one, or of another chapter's, e.g.
    ``assert_close(ours, theirs, name=name)`` or ``from unittest import mock``).
    """
    secrets, public = set(), []
    for chapter in exercise_chapters():
        nb = nbformat.read(SOURCE / chapter / "exercises.ipynb", as_version=4)
        secrets |= secret_lines(nb)
        for cell in nb.cells:
            inside = False
            for line in cell.source.splitlines():
                stripped = line.strip()
                if stripped.startswith(("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS")):
                    inside = True
                elif stripped.startswith(("### END SOLUTION", "### END HIDDEN TESTS")):
                    inside = False
                elif not inside:
                    public.append(line)
    shown = "\n".join(public)
    return {line for line in secrets if line not in shown}


def is_lesson(path: Path) -> bool:
    """A lesson page or notebook: it may show code that an exercise asks for again (chapter 1
    builds a Value engine in the lesson, and the exercise rebuilds it), so only the solution
    and hidden-test markers are checked there."""
    return path.stem == "lesson"


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
    for guide in GUIDES:
        assert guide in files, f"{guide} is not in book/_toc.yml"


def site_files(site, suffixes):
    return [p for p in site.rglob("*") if p.is_file() and p.suffix in suffixes]


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_book_has_every_chapter_page(site):
    for chapter in CHAPTERS:
        for page in ("lesson", "exercises"):
            assert (site / "chapters" / chapter / f"{page}.html").exists(), f"{chapter}/{page}"
    assert (site / "index.html").exists()
    for guide in GUIDES:
        assert (site / f"{guide}.html").exists(), guide


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_book_contains_no_solution_and_no_hidden_test(site):
    secrets = course_secrets()
    markers = MARKERS
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
        if is_lesson(path):
            continue  # lessons are written by hand and may teach what an exercise asks again
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
def test_every_lesson_executes_without_an_error(site):
    """The book build is where the lessons execute (``make test`` runs nbval on the exercises
    only): ``allow_errors: false`` and ``-W`` fail the build (the ``site`` fixture) on a cell
    that raises, and no lesson page may show a traceback."""
    for chapter in CHAPTERS:
        html = (site / "chapters" / chapter / "lesson.html").read_text()
        assert "output traceback" not in html, f"{chapter}'s lesson shows an error in the book"


@pytest.mark.xdist_group("book")
def test_lessons_are_executed_with_figures(site):
    for chapter in CHAPTERS:
        html = (site / "chapters" / chapter / "lesson.html").read_text()
        assert "cell_output" in html, f"{chapter}'s lesson has no outputs in the book"
        assert re.search(r"<img[^>]+(\.png|data:image/png)", html), (
            f"{chapter}'s lesson has no figure"
        )


def chapter_pages() -> list[tuple[str, str]]:
    return [
        (chapter, page)
        for chapter in CHAPTERS
        for page in ("lesson", "exercises")
        if (SOURCE / chapter / f"{page}.ipynb").exists()
    ]


class Links(HTMLParser):
    """Every URL an HTML page points to (href, src) and every id it defines."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []  # (tag, url)
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name in ("href", "src"):
                self.urls.append((tag, value))
            elif name in ("id", "name"):
                self.ids.add(value)


def parse(path: Path) -> Links:
    links = Links()
    links.feed(path.read_text(errors="replace"))
    return links


def launch_links(html: Path) -> dict[str, str]:
    """The page's launch buttons: {"colab" | "binder" | "jupyterhub": url}."""
    found = {}
    colab_url = CONFIG["launch_buttons"]["colab_url"].rstrip("/")
    binder_url = CONFIG["launch_buttons"]["binderhub_url"].rstrip("/")
    hub_url = (CONFIG["launch_buttons"].get("jupyterhub_url") or "").rstrip("/")
    for tag, url in parse(html).urls:
        if tag != "a":
            continue
        if url.startswith(colab_url + "/"):
            found["colab"] = url
        elif url.startswith(binder_url + "/v2/"):
            found["binder"] = url
        elif "/hub/user-redirect/git-pull?" in url and (not hub_url or url.startswith(hub_url)):
            found["jupyterhub"] = url
    return found


def launch_target(kind: str, url: str) -> tuple[str, str]:
    """(branch, path in the repository) a launch URL opens."""
    repo = colab.repository()
    owner_repo = repo.url.removeprefix("https://github.com/")
    parts = urlsplit(url)
    if kind == "colab":
        prefix = f"/github/{owner_repo}/blob/"
        assert parts.path.startswith(prefix), url
        branch, _, path = parts.path.removeprefix(prefix).partition("/")
        return branch, path
    if kind == "binder":
        prefix = f"/v2/gh/{owner_repo}/"
        assert parts.path.startswith(prefix), url
        branch = parts.path.removeprefix(prefix)
        (urlpath,) = parse_qs(parts.query)["urlpath"]
        assert urlpath.startswith("lab/tree/"), f"Binder should open JupyterLab: {url}"
        return branch, urlpath.removeprefix("lab/tree/")
    query = parse_qs(parts.query)
    assert query["repo"] == [repo.url], url
    (urlpath,) = query["urlpath"]
    folder = owner_repo.split("/")[1]
    return query["branch"][0], urlpath.removeprefix(f"lab/tree/{folder}/")


def is_student_version(nb) -> bool:
    text = nbformat.writes(nb)
    return not any(m in text for m in MARKERS) and "NotImplementedError" in text


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_chapter_pages_have_launch_and_download_buttons(site):
    """Colab and Binder (and JupyterHub when configured) open this very page's notebook on the
    student branch; the download button gives the notebook, in the student version."""
    repo = colab.repository()
    hub = bool(CONFIG["launch_buttons"].get("jupyterhub_url"))
    for chapter, page in chapter_pages():
        html = site / "chapters" / chapter / f"{page}.html"
        links = launch_links(html)
        expected = {"colab", "binder"} | ({"jupyterhub"} if hub else set())
        assert set(links) == expected, f"{chapter}/{page}: launch buttons {sorted(links)}"
        for kind, url in links.items():
            branch, path = launch_target(kind, url)
            assert branch == repo.branch, f"{kind} opens branch {branch!r}: {url}"
            assert path == f"{repo.path_to_book}/chapters/{chapter}/{page}.ipynb", (
                f"{kind} on {chapter}/{page} opens {path}"
            )
        downloads = [
            url
            for tag, url in parse(html).urls
            if tag == "a" and "_sources/" in url and url.endswith(f"{page}.ipynb")
        ]
        assert downloads, f"{chapter}/{page} has no download button for its notebook"
        for url in downloads:
            target = (html.parent / unquote(url)).resolve()
            assert target == (site / "_sources" / "chapters" / chapter / f"{page}.ipynb").resolve()
            nb = nbformat.read(target, as_version=4)
            assert nb.cells[0].get("id") == colab.CELL_ID, "the download lacks the set-up cell"
            if page == "exercises":
                assert is_student_version(nb), f"{chapter}'s download is not the student version"


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_every_page_notebook_starts_with_the_colab_cell(site):
    """Generated pages carry the current set-up cell; the web page itself does not show it."""
    source = colab.setup_source()
    for chapter, page in chapter_pages():
        nb = nbformat.read(BOOK / "chapters" / chapter / f"{page}.ipynb", as_version=4)
        first = nb.cells[0]
        assert first.get("id") == colab.CELL_ID and first.source == source, f"{chapter}/{page}"
        assert sum(c.get("id") == colab.CELL_ID for c in nb.cells) == 1
        html = (site / "chapters" / chapter / f"{page}.html").read_text()
        assert "google.colab" not in html, f"{chapter}/{page}.html shows the set-up cell"


LOCAL_SCHEMES = ("", "file")


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_no_broken_internal_links(site):
    """Every href and src to a file of the site exists, and every #anchor is an id there."""
    # _static/ holds the theme's template fragments (Jinja, not pages)
    pages = {p: parse(p) for p in site.rglob("*.html") if "_static" not in p.parts}
    broken = []
    for page, links in pages.items():
        for tag, url in links.urls:
            parts = urlsplit(url)
            if parts.scheme not in LOCAL_SCHEMES or parts.netloc or url.startswith("//"):
                continue  # another host (launch buttons, external references): not followed
            if not parts.path and not parts.fragment:
                continue  # href="" or "#": the theme's buttons
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            where = f"{page.relative_to(site)}: <{tag}> {url}"
            if not target.exists():
                broken.append(f"{where} (no such file)")
                continue
            if not target.resolve().is_relative_to(site.resolve()):
                broken.append(f"{where} (outside the site)")
                continue
            if parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{where} (no id {parts.fragment!r})")
    assert not broken, f"{len(broken)} broken internal links:\n" + "\n".join(broken[:30])


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_a_rebuild_with_nothing_changed_executes_nothing(site):
    """The execution cache and Sphinx's incremental build make a no-change rebuild quick."""
    run, seconds = run_build(timeout=900)
    assert run.returncode == 0, f"the rebuild failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    output = run.stdout + run.stderr
    assert "Executing notebook" not in output, "a rebuild with nothing changed executed a notebook"
    assert "Executed notebook" not in output
    print(f"no-change rebuild: {seconds:.1f} s")


@pytest.fixture(scope="module")
def published(site, tmp_path_factory):
    """The student branch's tree, written by ``python -m autograder.publishing.book publish``, in a git
    index (as the branch would hold it)."""
    tree = tmp_path_factory.mktemp("student") / "tree"
    run = subprocess.run(
        [sys.executable, "-m", "autograder.publishing.book", "publish", str(tree)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, f"publish failed:\n{run.stdout}\n{run.stderr}"
    for args in (["init", "-q"], ["add", "-A"]):
        subprocess.run(["git", *args], cwd=tree, check=True, capture_output=True)
    files = subprocess.run(
        ["git", "ls-files"], cwd=tree, check=True, capture_output=True, text=True
    ).stdout.splitlines()
    return tree, set(files)


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_every_launch_url_opens_a_student_notebook_on_the_published_branch(site, published):
    tree, files = published
    seen = 0
    for html in site.rglob("*.html"):
        for kind, url in launch_links(html).items():
            _, path = launch_target(kind, url)
            assert path in files, f"{kind} on {html.relative_to(site)} opens {path}: not published"
            nb = nbformat.read(tree / path, as_version=4)
            assert nb.cells[0].get("id") == colab.CELL_ID
            if path.endswith("exercises.ipynb"):
                assert is_student_version(nb), f"{path} on the student branch has solutions"
            seen += 1
    assert seen >= 2 * len(chapter_pages())


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_the_published_tree_holds_no_solution_and_no_hidden_test(published):
    tree, files = published
    assert not [f for f in files if f.startswith(book.NOT_PUBLISHED)], "instructor files published"
    secrets = course_secrets()
    for name in files:
        text = (tree / name).read_text(errors="replace")
        if name.endswith(".ipynb"):
            assert not [m for m in MARKERS if m in text], f"{name} holds a solution/hidden marker"
        if is_lesson(tree / name):
            continue
        leaked = [line for line in secrets if line in text]
        assert not leaked, f"{name} holds solution or hidden-test code: {leaked[:3]}"


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_the_published_tree_installs_and_runs_on_binder(published):
    """The package installs from the branch; Binder gets torch's CPU build and the same pins."""
    tree, files = published
    for name in (
        "pyproject.toml",
        "README.md",
        "autograder/__init__.py",
        "autograder/publishing/colab.py",
    ):
        assert name in files, name
    reqs = (tree / ".binder" / "requirements.txt").read_text()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in reqs
    pins = {
        line.split("==")[0]: line
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    for name in ("torch", "numpy", "matplotlib", "scikit-learn", "tqdm", "nbgrader"):
        assert pins[name] in reqs.splitlines(), f"{name} is not pinned as in requirements.txt"
    assert "pytest" not in reqs and "jupyter-book" not in reqs
    postbuild = tree / ".binder" / "postBuild"
    assert postbuild.stat().st_mode & 0o111, "postBuild must be executable"
    assert "pip install --no-deps ." in postbuild.read_text()
    assert ".binder/postBuild" in files and ".binder/runtime.txt" in files


def test_publish_refuses_a_folder_it_did_not_write(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(ValueError, match="refusing"):
        book.publish(tmp_path)
    assert (tmp_path / "precious.txt").read_text() == "keep me"
    with pytest.raises(ValueError, match="holds the repository"):
        book.publish(ROOT)
