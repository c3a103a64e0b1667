"""Run each variant twice: reference rewrite (kernel verdicts + records) and learner rewrite
(blocks deleted; graded against the reference variant's records). Report disagreements."""
import json, sys, os
import nbformat
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
sys.path.insert(0, "/work/main")
NB = os.path.abspath(sys.argv[1]); os.chdir(os.path.dirname(NB))
from autograder.grading.verdicts import OBSERVE, judge_cell, rewrite_for_learner
from autograder.grading.wire import encode
from tests.mutants.run import run_variant
from tests.mutants import chapters

def _wire(v):
    return json.loads(json.dumps(encode(v)))

def run_learner(shell, nb, replacements, reference):
    shell.reset(new_session=False)
    out = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        source = replacements.get(gid, cell.source)
        is_test = bool(meta.get("grade")) and not meta.get("solution")
        records = []
        if is_test:
            source = rewrite_for_learner(source)
            shell.user_ns[OBSERVE] = lambda site, v, records=records: records.append({"site": site, "value": _wire(v)})
        with capture_output() as cap:
            outcome = shell.run_cell(source, store_history=False)
        if is_test:
            exc = outcome.error_in_exec or outcome.error_before_exec
            err = {"ename": type(exc).__name__, "evalue": str(exc)} if exc else None
            v = judge_cell(reference.get(gid, []), records, err)
            out[gid] = (v.passed, v.message[:300], err, bool(cap.stderr.strip()))
    return out

nb = nbformat.read(NB, as_version=4)
chapter = NB.split("/")[-2]
only = sys.argv[2:]  # optional mutant names
shell = InteractiveShell.instance()
ref_results, reference = run_variant(shell, nb, {}, None)
variants = {"<ref>": {}}
for m in chapters().get(chapter, []):
    if not only or m.name in only or "all" in only:
        variants[m.name] = m.replacements()
if not only:
    variants = {"<ref>": {}}
bad = 0
for name, repl in variants.items():
    kern, _ = run_variant(shell, nb, repl, reference) if repl else (ref_results, None)
    learn = run_learner(shell, nb, repl, reference)
    for gid, (passed, msg, err, stderr) in learn.items():
        k = kern[gid]
        if name == "<ref>" and (not passed or not k["ok"] or stderr):
            bad += 1; print("REF FAIL", gid, "kernel", k["ok"], k["error"][:200], "| learner", passed, msg, err)
        elif passed != k["ok"] or passed != k.get("graded", passed):
            bad += 1; print("DISAGREE", name, gid, "kernel", k["ok"], "graded", k.get("graded"), "learner-run", passed, msg[:200])
print("variants", len(variants), "problems", bad)
