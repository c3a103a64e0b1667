"""The course's benchmarks: tables of medians (and ratios against a baseline measured in the same
run), printed and written to ``bench/results/latest.md``.

``make bench`` runs every section; ``python bench/run.py --only notebooks`` runs one.

- notebooks: each lesson's and exercise notebook's execution time and the kernel's peak memory
  (median of 3; the notebook runs with ``jupyter nbconvert --execute``, as a reader would).
- book: the book's full build in a scratch copy (execution cache empty), then the rebuild with
  nothing changed (median of 3).
- grading: 20 submissions of chapter 01 graded by plain ``nbgrader autograde`` and by
  ``autograder grade --jobs 2`` sandboxed with the warm zygote, without it, and without the
  sandbox (medians of 3 interleaved runs), with the speed-ups, the sandbox's cost and the floor
  (the learner's cells alone); then 100 submissions on Dask ``LocalCluster``s of 1 and 2
  processes.

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


#: Which notebooks the notebooks section runs (``--notebooks``: a glob under course/source).
NOTEBOOKS = "*/*.ipynb"


def bench_notebooks(repeats: int) -> str:
    rows = []
    env = {
        k: v for k, v in os.environ.items() if k != "MPLBACKEND"
    }  # inline figures, as in Jupyter
    with tempfile.TemporaryDirectory() as tmp:
        for nb in sorted(SOURCE.glob(NOTEBOOKS)):
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
    """20 submissions of chapter 01: nbgrader, and ours sandboxed with and without the warm
    zygote and without the sandbox (medians of ``repeats`` interleaved runs, after a first run
    that makes the reference run); 100 submissions on Dask ``local:1`` and ``local:2``; and the
    floor, the learner's cells alone in a process already started."""
    from autograder.grading.batch import grade
    from autograder.grading.throughput import cells_seconds, compare_with_nbgrader, reference_class
    from autograder.publishing.course import Course

    variants = {
        "autograder grade --jobs 2 (sandboxed, warm zygote)": {"zygote": True},
        "autograder grade --jobs 2 --no-zygote (sandboxed)": {"zygote": False},
        "autograder grade --jobs 2 --no-sandbox": {"sandbox": False},
    }
    with tempfile.TemporaryDirectory() as tmp:
        c = compare_with_nbgrader(ROOT / "course", "01_autograd", Path(tmp), students=20, jobs=2)
        course = Course(Path(tmp) / "autograder")
        runs: dict[str, list] = {name: [] for name in variants}
        for _ in range(repeats):
            for name, options in variants.items():
                runs[name].append(grade(course, "01_autograd", jobs=2, progress=False, **options))
        floor = cells_seconds(course, "01_autograd", repeats=repeats)
        same = all(
            {(r.student, r.score) for r in run.results}
            == {(r.student, r.score) for r in c.ours.results}
            for group in runs.values()
            for run in group
        )
        # 100 submissions on Dask: LocalClusters of 1 and 2 processes (start-up included).
        big = Path(tmp) / "big"
        shutil.copytree(Path(tmp) / "autograder", big, ignore=shutil.ignore_patterns("submitted"))
        big_course = Course(big)
        reference_class(big_course, "01_autograd", big_course.folder("submitted"), 100)
        dask = {
            n: grade(big_course, "01_autograd", progress=False, cluster=f"local:{n}")
            for n in (1, 2)
        }
        same = same and {r.score for d in dask.values() for r in d.results} == {
            r.score for r in c.ours.results
        }

    def median(name: str) -> float:
        return statistics.median(r.wall_seconds for r in runs[name])

    def per_sub(group) -> float:
        return statistics.median(r.seconds.get("run", 0.0) for run in group for r in run.results)

    base = c.nbgrader.wall_seconds
    names = list(variants)
    rows = [
        [
            "nbgrader autograde (baseline, serial)",
            f"{base:.1f}",
            "1 run",
            f"{60 * 20 / base:.1f}",
            "1.0x",
            "",
        ]
    ]
    for name in names:
        walls = [r.wall_seconds for r in runs[name]]
        rows.append(
            [
                name,
                f"{median(name):.1f}",
                f"{min(walls):.1f}–{max(walls):.1f}",
                f"{60 * 20 / median(name):.1f}",
                f"{base / median(name):.1f}x",
                f"{per_sub(runs[name]):.2f}",
            ]
        )
    rows.append(
        [
            "(first autograder run, with the reference run)",
            f"{c.ours.wall_seconds:.1f}",
            "1 run",
            f"{c.ours_per_minute:.1f}",
            f"{base / c.ours.wall_seconds:.1f}x",
            "",
        ]
    )
    rows.append(
        [
            "floor: the learner's cells alone, one warm process",
            f"{floor * 20 / 2:.1f}",
            "",
            f"{60 * 2 / floor:.1f}",
            f"{base / (floor * 10):.1f}x",
            f"{floor:.2f}",
        ]
    )
    warm, fresh, plain = (median(n) for n in names)
    grading = table(
        f"Grading 20 submissions of 01_autograd (median of {repeats}; same scores as nbgrader: "
        f"{'yes' if same else 'NO'})",
        ["grader", "seconds", "range", "submissions/min", "speed-up", "median s per submission"],
        rows,
    )  # fmt: skip
    ratios = table(
        "The sandbox's cost and the zygote's gain (ratios of the medians above)",
        ["comparison", "ratio"],
        [
            ["sandboxed / no sandbox, both a fresh process per submission", f"{fresh / plain:.2f}"],
            ["sandboxed with the zygote / no sandbox (fresh processes)", f"{warm / plain:.2f}"],
            ["no zygote / zygote (sandboxed)", f"{fresh / warm:.2f}"],
            ["warm zygote / the floor (2 slots)", f"{warm / (floor * 10):.2f}"],
        ],
    )
    cluster = table(
        "100 submissions of 01_autograd on a Dask LocalCluster (sandboxed, warm zygote per worker; start-up included)",
        ["cluster", "seconds", "submissions/min", "speed-up over local:1"],
        [[f"--cluster local:{n}", f"{d.wall_seconds:.1f}", f"{d.per_minute():.1f}",
          f"{dask[1].wall_seconds / d.wall_seconds:.2f}x"] for n, d in dask.items()],
    )  # fmt: skip
    return "\n".join([grading, ratios, cluster])


SECTIONS: dict[str, Callable[[int], str]] = {
    "notebooks": bench_notebooks,
    "book": bench_book,
    "grading": bench_grading,
}


def main(argv: list[str] | None = None) -> int:
    global NOTEBOOKS
    parser = argparse.ArgumentParser(description="Run the course's benchmarks and print tables.")
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated: {', '.join(SECTIONS)}"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--notebooks",
        default=NOTEBOOKS,
        help="which notebooks to time, a glob under course/source (default: all, '*/*.ipynb')",
    )
    args = parser.parse_args(argv)
    NOTEBOOKS = args.notebooks
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
