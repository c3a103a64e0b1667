"""The ``autograder`` command: the course's grading cycle in six thin commands.

    autograder [--course DIR] release ASSIGNMENT
    autograder check NOTEBOOK [--timeout SECONDS]
    autograder [--course DIR] grade ASSIGNMENT [--submissions DIR] [--out CSV] [--jobs N] [--timeout SECONDS]
                                        [--memory GIB] [--no-sandbox] [--no-zygote] [--cluster local:N|tcp://HOST:8786]
    autograder [--course DIR] feedback ASSIGNMENT [--quiet]
    autograder [--course DIR] report ASSIGNMENT [--out HTML]
    autograder [--course DIR] export [--out CSV]

Each command is a few lines over a module that does the work (:mod:`autograder.publishing.course`,
:mod:`autograder.grading.selfcheck`, :mod:`autograder.grading.batch`, :mod:`autograder.grading.feedback`,
:mod:`autograder.grading.report`, :mod:`autograder.grading.gradebook`), which in turn drive nbgrader's converters, preprocessors and
gradebook. Exit status: 0 on success, 1 when tests fail (``check``) or a submission could not
be graded (``grade``), 2 for a usage error (no course, no such assignment or file).

Left out: nbgrader's exchange commands (``nbgrader release_assignment``, ``collect``, ...),
which work unchanged on the same course.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _course(args: argparse.Namespace):
    from .publishing.course import Course

    return Course.find(args.course)


def cmd_release(args: argparse.Namespace) -> int:
    from .publishing.course import release

    target = release(_course(args), args.assignment)
    print(f"released {args.assignment} to {target}")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from .grading.selfcheck import check_notebook, format_check

    path = Path(args.notebook)
    if not path.is_file():
        print(f"autograder check: no such notebook: {path}", file=sys.stderr)
        return EXIT_USAGE
    result = check_notebook(path, timeout=args.timeout)
    print(format_check(result))
    return EXIT_OK if result.passed else EXIT_FAILED


def cmd_grade(args: argparse.Namespace) -> int:
    from .grading.batch import STATUSES, grade

    course = _course(args)
    run = grade(
        course,
        args.assignment,
        submissions=args.submissions,
        out=args.out,
        jobs=args.jobs,
        timeout=args.timeout,
        progress=not args.quiet,
        memory=int(args.memory * (1 << 30)),
        sandbox=False if args.no_sandbox else None,
        cluster=args.cluster,
        zygote=not args.no_zygote,
    )
    counts = Counter(r.status for r in run.results)
    out = args.out or course.root / "grades" / f"{args.assignment}.csv"
    summary = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s])
    for warning in run.warnings:  # about the assignment itself, for the instructor
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{args.assignment}: {summary or 'no submissions'} in {run.wall_seconds:.1f} s -> {out}")
    for r in run.results:
        if r.status in ("failed", "timeout", "refused"):
            row = r.row()  # names and messages escaped: a folder name may hold terminal escapes
            print(f"  {r.status}: {row['student']}/{row['notebook']}: {row['message']}")
    return EXIT_OK if run.ok else EXIT_FAILED


def cmd_feedback(args: argparse.Namespace) -> int:
    from .grading.feedback import generate_feedback

    pages = generate_feedback(_course(args), args.assignment, progress=not args.quiet)
    print(f"wrote {len(pages)} feedback pages")
    for page in pages:
        print(f"  {page}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from .grading.report import write_report

    out = write_report(_course(args), args.assignment, args.out)
    print(f"wrote the class report of {args.assignment} to {out}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from .grading.gradebook import export_csv

    course = _course(args)
    out = export_csv(
        course, args.out or course.root / "grades" / "gradebook.csv", args.assignment or ()
    )
    print(f"exported the gradebook to {out}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograder",
        description="Release, self-check, grade and give feedback on the course's exercises (over nbgrader).",
    )
    parser.add_argument(
        "--course",
        type=Path,
        help="the course folder (holding nbgrader_config.py); default: found from the current directory",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show nbgrader's log messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("release", help="write the student version to course/release/ASSIGNMENT")
    p.add_argument("assignment")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser(
        "check", help="run the visible tests of a notebook (exit 0 only if all pass)"
    )
    p.add_argument("notebook")
    p.add_argument("--timeout", type=int, default=300, help="seconds per cell (default: 300)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "grade", help="grade every submission of ASSIGNMENT, write the gradebook and a CSV"
    )
    p.add_argument("assignment")
    p.add_argument(
        "--submissions",
        type=Path,
        help="folder of <student>/ASSIGNMENT/ (default: course/submitted)",
    )
    p.add_argument("--out", type=Path, help="CSV to write (default: course/grades/ASSIGNMENT.csv)")
    p.add_argument(
        "--jobs", "-j", type=int, default=1, help="submissions graded in parallel (default: 1)"
    )
    p.add_argument(
        "--timeout", type=float, help="seconds per cell (default: Execute.timeout of the course)"
    )
    p.add_argument(
        "--memory",
        type=float,
        default=2.0,
        help="memory per submission in GiB (default: 2)",
    )
    p.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run submissions with resource limits only, without bubblewrap (not recommended)",
    )
    p.add_argument(
        "--no-zygote",
        action="store_true",
        help="start a fresh Python for every submission instead of forking it from the slot's "
        "warm zygote (slower; for comparison)",
    )
    p.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="grade on a Dask cluster: local:N (N worker processes here) or a scheduler's "
        "address, tcp://HOST:8786 (each worker grades in its own sandbox)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser(
        "feedback", help="write HTML feedback for every graded student of ASSIGNMENT"
    )
    p.add_argument("assignment")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser(
        "report",
        help="write an HTML class report of ASSIGNMENT: score histogram, pass rates, common failures",
    )
    p.add_argument("assignment")
    p.add_argument(
        "--out", type=Path, help="page to write (default: course/grades/ASSIGNMENT-report.html)"
    )
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("export", help="write the gradebook as CSV for an LMS")
    p.add_argument("--out", type=Path, help="CSV to write (default: course/grades/gradebook.csv)")
    p.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    p.set_defaults(func=cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .grading.execution import skip_slow_optional_imports

    skip_slow_optional_imports()
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s"
    )
    logging.getLogger("autograder.nbgrader").setLevel(
        logging.INFO if args.verbose else logging.ERROR
    )
    from .grading.cluster import ClusterError
    from .grading.notebooks import NotGradable
    from .publishing.course import CourseError

    try:
        return args.func(args)
    except (CourseError, NotGradable, FileNotFoundError, ClusterError) as exc:
        print(f"autograder {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"autograder {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
