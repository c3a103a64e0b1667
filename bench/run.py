"""The course's benchmarks: tables of medians (and ratios against a baseline measured in the same
run), printed and written to ``bench/results/latest.md``.

``make bench`` runs every section; ``python bench/run.py --only notebooks`` runs one.

- notebooks: each lesson's and exercise notebook's execution time and the kernel's peak memory
  (median of 3; the notebook runs with ``jupyter nbconvert --execute``, as a reader would).
- book: the book's full build in a scratch copy (execution cache empty), then the rebuild with
  nothing changed (median of 3).
- grading: 20 submissions of chapter 01 graded by ``autograder grade --jobs 2`` (with and
  without the sandbox, and on a Dask ``LocalCluster`` of 2 processes) and by plain
  ``nbgrader autograde``, in one run, with the speed-up.

Not timed tests: nothing here fails on a slow machine; the tables are for people to read.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "course" / "source"
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"


def run_measured(cmd: list[str], cwd: Path, env: dict | None = None) -> tuple[float, float]:
    """Wall-clock seconds and peak RSS (MiB) of a command and every process it waited for."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    return elapsed, usage.ru_maxrss / 1024  # Linux reports KiB


def table(title: str, header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [f"### {title}", "", line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out) + "\n"


def bench_notebooks(repeats: int) -> str:
    rows = []
    env = {
        k: v for k, v in os.environ.items() if k != "MPLBACKEND"
    }  # inline figures, as in Jupyter
    with tempfile.TemporaryDirectory() as tmp:
        for nb in sorted(SOURCE.glob("*/*.ipynb")):
            times, mems = [], []
            for i in range(repeats):
                out = Path(tmp) / f"{nb.parent.name}-{nb.stem}-{i}.ipynb"
                cmd = [
                    str(BIN / "jupyter"),
                    "nbconvert",
                    "--to",
                    "notebook",
                    "--execute",
                    "--ExecutePreprocessor.timeout=600",
                    "--output",
                    str(out),
                    str(nb),
                ]
                t, m = run_measured(cmd, nb.parent, env)
                times.append(t)
                mems.append(m)
            rows.append(
                [
                    f"{nb.parent.name}/{nb.name}",
                    f"{statistics.median(times):.1f}",
                    f"{min(times):.1f}–{max(times):.1f}",
                    f"{statistics.median(mems):.0f}",
                ]
            )
            print(f"  {rows[-1][0]}: {rows[-1][1]} s", file=sys.stderr)
    return table(
        f"Notebook execution (median of {repeats}; lessons must stay under 60 s on 2 cores)",
        ["notebook", "seconds", "range", "peak MiB"],
        rows,
    )


def bench_book(repeats: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "repo"
        ignore = shutil.ignore_patterns(
            ".venv",
            ".git",
            "_build",
            "chapters",
            "release",
            "autograded",
            "submitted",
            "feedback",
            "gradebook.db",
            "__pycache__",
        )
        for part in ("autograder", "book", "course"):
            shutil.copytree(ROOT / part, copy / part, ignore=ignore)
        env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
        env["PYTHONPATH"] = str(copy)
        cmd = [sys.executable, "-m", "autograder.publishing.book", "build"]
        full, full_mem = run_measured(cmd, copy, env)
        print(f"  full build: {full:.1f} s", file=sys.stderr)
        rebuilds = [run_measured(cmd, copy, env)[0] for _ in range(repeats)]
    rebuild = statistics.median(rebuilds)
    rows = [
        ["full build (empty cache)", f"{full:.1f}", "1 run", f"{full_mem:.0f}"],
        [
            f"rebuild, nothing changed (median of {repeats})",
            f"{rebuild:.1f}",
            f"{min(rebuilds):.1f}–{max(rebuilds):.1f}",
            "",
        ],
        ["ratio full / rebuild", f"{full / rebuild:.1f}x", "", ""],
    ]
    return table("Book build", ["build", "seconds", "range", "peak MiB"], rows)


def bench_grading(repeats: int) -> str:
    """20 submissions of chapter 01: ours (sandboxed, and without the sandbox) and nbgrader."""
    from autograder.grading.batch import grade
    from autograder.grading.throughput import compare_with_nbgrader
    from autograder.publishing.course import Course

    with tempfile.TemporaryDirectory() as tmp:
        c = compare_with_nbgrader(ROOT / "course", "01_autograd", Path(tmp), students=20, jobs=2)
        course = Course(Path(tmp) / "autograder")
        plain = grade(course, "01_autograd", jobs=2, progress=False, sandbox=False)
        # Dask's LocalCluster of 2 processes (its start-up included), sandboxed.
        dask = grade(course, "01_autograd", progress=False, cluster="local:2")
        same_dask = {(r.student, r.score) for r in dask.results} == {
            (r.student, r.score) for r in c.ours.results
        }

    def per_sub(run) -> float:
        return statistics.median(r.seconds.get("run", 0.0) for r in run.results)

    base = c.nbgrader.wall_seconds
    rows = [
        ["nbgrader autograde (baseline, serial)", f"{base:.1f}", f"{c.nbgrader_per_minute:.1f}", "1.0x", ""],
        ["autograder grade --jobs 2 (sandboxed)", f"{c.ours.wall_seconds:.1f}", f"{c.ours_per_minute:.1f}",
         f"{base / c.ours.wall_seconds:.1f}x", f"{per_sub(c.ours):.1f}"],
        ["autograder grade --jobs 2 --no-sandbox", f"{plain.wall_seconds:.1f}", f"{plain.per_minute():.1f}",
         f"{base / plain.wall_seconds:.1f}x", f"{per_sub(plain):.1f}"],
        ["autograder grade --cluster local:2", f"{dask.wall_seconds:.1f}", f"{dask.per_minute():.1f}",
         f"{base / dask.wall_seconds:.1f}x", f"{per_sub(dask):.1f}"],
    ]  # fmt: skip
    same = "yes" if c.same_scores and same_dask else "NO"
    return table(
        f"Grading 20 submissions of 01_autograd (one run each; same scores as nbgrader: {same}; "
        "the first autograder run includes the one-off reference run)",
        ["grader", "seconds", "submissions/min", "speed-up", "median s per submission"],
        rows,
    )


SECTIONS: dict[str, Callable[[int], str]] = {
    "notebooks": bench_notebooks,
    "book": bench_book,
    "grading": bench_grading,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the course's benchmarks and print tables.")
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated: {', '.join(SECTIONS)}"
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    stamp = time.strftime("%Y-%m-%d %H:%M")
    report = [f"## Benchmarks ({stamp}, {os.cpu_count()} cores, Python {sys.version.split()[0]})\n"]
    for name in chosen:
        print(f"[bench] {name} ...", file=sys.stderr)
        section = SECTIONS[name](args.repeats)
        print(section)
        report.append(section)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.md").write_text("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
