"""`make bench` itself: the script compiles, and its options parse (its sections are slow and run
only under `make bench`; a broken script would otherwise be found there, not here)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_bench_script_parses_its_options():
    script = ROOT / "bench" / "run.py"
    out = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    for option in ("--only", "--repeats", "--notebooks"):
        assert option in out.stdout
    bad = subprocess.run(
        [sys.executable, str(script), "--only", "nothing"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "unknown section" in bad.stderr
