"""Does the book work in a real browser, and does a released notebook run in JupyterLab?

Playwright for Python drives Debian's Chromium (``/usr/bin/chromium``, from ``apt-get install
chromium``; Playwright never downloads a browser here), headless, with a new empty profile.

- The built book (:mod:`tests.book_fixture`), served on 127.0.0.1 by a thread running
  ``http.server``: math is typeset by the local MathJax (``mjx-container`` elements, no raw TeX
  left in the text), figures load, the launch buttons open the page's own notebook on the student
  branch, the download button gives the student version, search finds chapter 1, no page logs a
  console error, and no request leaves 127.0.0.1 (every request is routed and recorded; requests
  to other hosts are aborted, and launch links are never followed).
- JupyterLab 4 on 127.0.0.1 (a free port, a token) on a scratch copy of the course holding a
  released notebook (``nbgrader generate_assignment``, then the Colab set-up cell, then the
  reference solutions filled in, as a learner who did the work): the notebook opens, *Run All
  Cells* runs it, each visible test prints that it passed, and nbgrader's extensions are loaded
  (its server extensions answer, its menu is in the menu bar).

Screenshots go to ``tests/artifacts/`` (git-ignored). Without Chromium or Playwright these tests
fail when ``CI`` is set and are skipped, saying why, elsewhere.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest

from autograder.grading.notebooks import fill_answers, solution_cells
from autograder.publishing import colab
from tests.book_fixture import site_fixture  # noqa: F401  (the fixture `site`)
from tests.conftest import CHAPTERS, COURSE, ROOT, SOURCE
from tests.test_book import chapter_pages, is_student_version, launch_target

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "tests" / "artifacts"
LOCAL_HOSTS = {"127.0.0.1"}
# TeX that MathJax would have replaced: its delimiters and common commands.
RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\(frac|mathbb|partial|sum|begin|operatorname)\b")
LAB_CHAPTER = "01_autograd"


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def need(reason: str) -> None:
    """Fail on CI (the browser tests are part of the suite there), skip elsewhere."""
    if on_ci():
        pytest.fail(f"{reason} (CI must run the browser tests: .ci/run installs chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A headless Chromium with a new empty profile (a Playwright persistent context)."""
    if not CHROMIUM.exists():
        need(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need("the playwright package is not installed (pip install -r requirements.txt)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(60_000)
        yield context
        context.close()


@dataclass
class Log:
    """What one page did: console errors, uncaught exceptions, requests to other hosts."""

    errors: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    requests: int = 0

    def assert_clean(self, what: str) -> None:
        assert not self.external, f"{what} requested other hosts: {self.external[:10]}"
        assert not self.errors, f"{what} logged console errors: {self.errors[:10]}"


def open_page(context, url: str, log: Log | None = None):
    """A new page with every request routed (local ones continue, others are aborted and
    recorded) and console errors recorded; then ``goto(url)``."""
    log = log or Log()
    page = context.new_page()

    def route(r):
        log.requests += 1
        host = urlsplit(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            r.continue_()
        else:
            log.external.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: log.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log.errors.append(f"uncaught: {e}"))
    page.goto(url, wait_until="load")
    return page, log


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def served(site):
    """The built book on http://127.0.0.1:PORT/, served by a thread of this process."""
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def wait_for_mathjax(page) -> None:
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("() => MathJax.startup.promise")


def prose_text(page) -> str:
    """The article's text without code blocks and typeset math (where TeX may legitimately be)."""
    return page.evaluate(
        """() => {
            const main = document.querySelector('article') || document.body;
            const copy = main.cloneNode(true);
            copy.querySelectorAll('pre, code, .highlight, mjx-container, script, style')
                .forEach(e => e.remove());
            return copy.textContent;
        }"""
    )


# ---------------------------------------------------------------------------- the book


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_math_is_typeset_offline(browser, served):
    pages = [f"chapters/{c}/lesson.html" for c in CHAPTERS] + ["guide/notation.html"]
    for path in pages:
        page, log = open_page(browser, f"{served}/{path}")
        wait_for_mathjax(page)
        typeset = page.locator("mjx-container").count()
        assert typeset > 0, f"{path}: no math typeset by MathJax"
        raw = RAW_TEX.findall(prose_text(page))
        assert not raw, f"{path}: raw TeX left on the page: {raw[:5]}"
        if path.endswith(f"{CHAPTERS[0]}/lesson.html"):
            page.locator("mjx-container").nth(min(3, typeset - 1)).scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "book-lesson-math.png"))
        log.assert_clean(path)
        page.close()


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_figures_render(browser, served):
    for chapter in CHAPTERS:
        path = f"chapters/{chapter}/lesson.html"
        page, log = open_page(browser, f"{served}/{path}")
        figures = page.locator("article .cell_output img")
        count = figures.count()
        assert count >= 2, f"{path}: {count} figures (a lesson has at least two)"
        for i in range(count):
            figures.nth(i).scroll_into_view_if_needed()
        page.wait_for_function(
            """() => [...document.querySelectorAll('article .cell_output img')]
                     .every(img => img.complete)"""
        )
        broken = page.evaluate(
            """() => [...document.querySelectorAll('article img')]
                     .filter(img => !(img.naturalWidth > 0)).map(img => img.src)"""
        )
        assert not broken, f"{path}: images that did not load: {broken}"
        if chapter == CHAPTERS[0]:
            figures.nth(0).scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "book-lesson-figure.png"))
        log.assert_clean(path)
        page.close()


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_launch_buttons_open_the_pages_notebook(browser, served):
    repo = colab.repository()
    for chapter, kind in chapter_pages():
        path = f"chapters/{chapter}/{kind}.html"
        page, log = open_page(browser, f"{served}/{path}")
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        launches = {
            name: url
            for url in hrefs
            for name, prefix in (
                ("colab", "https://colab.research.google.com/"),
                ("binder", "https://mybinder.org/"),
            )
            if url.startswith(prefix)
        }
        assert set(launches) == {"colab", "binder"}, f"{path}: launch links {hrefs}"
        for name, url in launches.items():
            branch, target = launch_target(name, url)
            assert (branch, target) == (
                repo.branch,
                f"{repo.path_to_book}/chapters/{chapter}/{kind}.ipynb",
            ), f"{path}: the {name} button opens {target} on {branch}"
        # The launch menu shows the buttons (they are not followed).
        page.locator(".dropdown-launch-buttons button").first.click()
        page.get_by_text("Colab", exact=True).first.wait_for(state="visible")
        if (chapter, kind) == (CHAPTERS[0], "exercises"):
            page.screenshot(path=str(ARTIFACTS / "book-launch-buttons.png"))
        # The download button gives the notebook, the student version for exercises.
        (download,) = {u for u in hrefs if u.endswith(f"/_sources/chapters/{chapter}/{kind}.ipynb")}
        response = page.request.get(download)
        assert response.ok, f"{path}: download {download} answers {response.status}"
        nb = nbformat.reads(response.text(), as_version=4)
        assert nb.cells[0].get("id") == colab.CELL_ID
        if kind == "exercises":
            assert is_student_version(nb), f"{path}: the download is not the student version"
        log.assert_clean(path)
        page.close()


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_search_finds_chapter_one(browser, served):
    page, log = open_page(browser, f"{served}/search.html?q=backpropagation")
    results = page.locator("#search-results ul.search li a")
    results.first.wait_for()
    hrefs = results.evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert any(f"chapters/{CHAPTERS[0]}/lesson.html" in h for h in hrefs), hrefs
    page.screenshot(path=str(ARTIFACTS / "book-search.png"))
    log.assert_clean("search.html")
    page.close()


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_every_page_loads_cleanly(browser, served, site):
    """Every page of the site: no console error, no request to another host."""
    log = Log()
    for html in sorted(site.rglob("*.html")):
        rel = html.relative_to(site).as_posix()
        if rel.startswith("_"):
            continue
        page, _ = open_page(browser, f"{served}/{rel}", log)
        page.close()
        log.assert_clean(rel)
    assert log.requests > 0


# ---------------------------------------------------------------------------- JupyterLab


def released_course(tmp: Path) -> Path:
    """A scratch course with chapter 1 released by nbgrader, the Colab set-up cell added, and
    the reference solutions filled in."""
    course = tmp / "course"
    (course / "source").mkdir(parents=True)
    shutil.copy(COURSE / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(SOURCE / LAB_CHAPTER, course / "source" / LAB_CHAPTER)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run(
        [str(Path(sys.executable).with_name("nbgrader")), "generate_assignment", LAB_CHAPTER],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    released = course / "release" / LAB_CHAPTER / "exercises.ipynb"
    assert run.returncode == 0 and released.exists(), run.stdout + run.stderr
    colab.add_setup_cell(released)
    source = nbformat.read(SOURCE / LAB_CHAPTER / "exercises.ipynb", as_version=4)
    nb = fill_answers(
        nbformat.read(released, as_version=4), solution_cells(source), strip_markers=True
    )
    nbformat.write(nb, released)
    return course


def lab_settings(folder: Path) -> Path:
    """User settings: render every cell (no windowing), and no news or update checks."""
    for plugin, values in {
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
    }.items():
        path = folder / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    return folder


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab 4 on 127.0.0.1 (a free port, a token) on the scratch course."""
    tmp = tmp_path_factory.mktemp("lab")
    course = released_course(tmp)
    port, token = free_port(), secrets.token_hex(16)
    jupyter = tmp / "jupyter"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "JUPYTER_CONFIG_DIR": str(jupyter / "config"),
        "JUPYTER_DATA_DIR": str(jupyter / "data"),
        "JUPYTER_RUNTIME_DIR": str(jupyter / "runtime"),
        "IPYTHONDIR": str(jupyter / "ipython"),
        "MPLBACKEND": "Agg",
    }
    cmd = [
        str(Path(sys.executable).with_name("jupyter")),
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={course}",
        f"--LabApp.user_settings_dir={lab_settings(jupyter / 'settings')}",
        f"--LabApp.workspaces_dir={jupyter / 'workspaces'}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")  # CI runs as root
    log_path = tmp / "jupyter-lab.log"
    with open(log_path, "w") as log_file:
        server = subprocess.Popen(
            cmd,
            cwd=course,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield {"base": base, "token": token, "course": course, "env": env, "log": log_path}
    finally:
        stop(server)


def stop(server: subprocess.Popen) -> None:
    """Stop the server and its kernels (its own session): SIGTERM, then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            pass
        try:
            server.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.mark.slow
@pytest.mark.xdist_group("lab")
def test_nbgrader_extensions_are_enabled(lab):
    """Both halves of nbgrader's JupyterLab integration are installed and enabled."""
    jupyter = str(Path(sys.executable).with_name("jupyter"))
    out = subprocess.run(
        [jupyter, "labextension", "list"], env=lab["env"], capture_output=True, text=True
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
    assert re.search(r"@jupyter/nbgrader v\S+ enabled\s+OK", text), text
    out = subprocess.run(
        [jupyter, "server", "extension", "list"], env=lab["env"], capture_output=True, text=True
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
    for ext in ("formgrader", "assignment_list", "validate_assignment", "course_list"):
        assert re.search(rf"nbgrader\.server_extensions\.{ext} enabled", text), (ext, text)


def wait_for_kernel(page, base: str, token: str, timeout: float = 180) -> None:
    """Until the notebook's kernel has started (the server says so) and the page shows it idle:
    on a busy machine the kernel takes a while, and cells run before it is connected are not
    run at all."""
    deadline = time.monotonic() + timeout
    while True:
        sessions = page.request.get(f"{base}/api/sessions?token={token}").json()
        if any((s.get("kernel") or {}).get("execution_state") == "idle" for s in sessions):
            break
        assert time.monotonic() < deadline, f"the kernel did not start: {sessions}"
        time.sleep(0.5)
    status = page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\| Idle\s*$"))
    status.first.wait_for(timeout=timeout * 1000)


def run_all_cells(page, attempts: int = 2) -> None:
    """*Run > Run All Cells*, then wait for the first cell to run (again if it did not start)."""
    first_prompt = page.locator(".jp-Notebook .jp-Cell.jp-CodeCell .jp-InputPrompt").first
    for attempt in range(attempts):
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        try:
            page.wait_for_function(
                "el => /\\[[0-9*]+\\]/.test(el.textContent)",
                arg=first_prompt.element_handle(),
                timeout=60_000,
            )
            return
        except Exception:
            if attempt == attempts - 1:
                raise


@pytest.mark.slow
@pytest.mark.xdist_group("lab")
def test_a_released_notebook_runs_in_jupyterlab(browser, lab):
    base, token = lab["base"], lab["token"]
    url = f"{base}/lab/tree/release/{LAB_CHAPTER}/exercises.ipynb?token={token}"
    page, log = open_page(browser, url)
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
    notebook.wait_for()
    wait_for_kernel(page, base, token)
    from playwright.sync_api import expect

    # the Colab set-up cell comes first (and, below, prints nothing here)
    expect(page.locator(".jp-NotebookPanel .jp-Cell").first).to_contain_text("google.colab")

    # nbgrader's lab extension adds its menu; its server extension answers.
    menu = page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader")
    assert menu.count() == 1, "nbgrader's menu is not in JupyterLab's menu bar"
    formgrader = page.request.get(f"{base}/formgrader?token={token}")
    assert formgrader.ok, f"nbgrader's formgrader answers {formgrader.status}"

    # Run > Run All Cells, through the menus, as a learner would.
    run_all_cells(page)
    tests = [
        c.metadata["nbgrader"]["grade_id"].removeprefix("test_")
        for c in nbformat.read(
            lab["course"] / "release" / LAB_CHAPTER / "exercises.ipynb", as_version=4
        ).cells
        if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("test_")
    ]
    assert tests, "no visible tests in the released notebook"
    outputs = page.locator(".jp-OutputArea-output")
    try:
        for name in tests:  # the outputs, not the sources that print them
            outputs.filter(has_text=f"{name}: visible test passed").first.wait_for(timeout=180_000)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "lab-exercises-FAILED.png"))
        raise
    page.wait_for_function(
        """() => document.querySelectorAll('.jp-InputPrompt').length > 0 &&
                 [...document.querySelectorAll('.jp-InputPrompt')]
                     .every(p => !p.textContent.includes('*'))""",
        timeout=180_000,
    )
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']")
    assert errors.count() == 0, f"cells raised errors: {errors.all_inner_texts()[:3]}"
    colab_outputs = page.locator(".jp-Notebook .jp-Cell").first.locator(".jp-OutputArea-output")
    assert colab_outputs.count() == 0, "the Colab set-up cell printed something in JupyterLab"
    outputs.filter(has_text=f"{tests[0]}: visible test passed").first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "lab-exercises-run-all.png"))
    assert not log.external, f"JupyterLab requested other hosts: {log.external[:10]}"
    page.close()
