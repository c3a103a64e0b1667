import ast, sys
import nbformat
sys.path.insert(0, "/work/main")
from autograder.grading.verdicts import CHECKS, is_reference_only

def cell_problems(src, strict):
    tree = ast.parse(src)
    in_block, expected, first = set(), set(), set()
    for node in ast.walk(tree):
        if is_reference_only(node):
            for n in ast.walk(node):
                in_block.add(id(n))
        if isinstance(node, ast.Call):
            f = node.func
            nm = f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)
            if nm in CHECKS:
                exp = list(node.args[1:]) + [k.value for k in node.keywords if k.arg not in ("actual", "value") and (strict or k.arg not in ("name", "hint"))]
                for e in exp:
                    for n in ast.walk(e):
                        expected.add(id(n))
                fa = node.args[:1] + [k.value for k in node.keywords if k.arg in ("actual", "value")]
                for e in fa:
                    for n in ast.walk(e):
                        first.add(id(n))
    assigned_out, assigned_in, exp_names, learner_names = set(), set(), set(), set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store | ast.Del) or isinstance(n, ast.arg):
            name = n.id if isinstance(n, ast.Name) else n.arg
            (assigned_in if id(n) in in_block else assigned_out).add(name)
        elif isinstance(n, ast.FunctionDef):
            (assigned_in if id(n) in in_block else assigned_out).add(n.name)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
            if id(n) in expected and id(n) not in first:
                exp_names.add(n.id)
            elif id(n) not in in_block:
                learner_names.add((n.id, n.lineno))
    lnames = {a for a, _ in learner_names}
    probs = []
    for name in sorted(exp_names & assigned_out - lnames):
        probs.append(f"only-expected name assigned outside a block: {name}")
    for name, line in sorted(learner_names):
        if name in assigned_in and name not in assigned_out:
            probs.append(f"block name used on the learner's side: {name} (line {line})")
    return probs

strict = "--strict" in sys.argv
for path in [a for a in sys.argv[1:] if not a.startswith("--")]:
    nb = nbformat.read(path, as_version=4)
    for c in nb.cells:
        md = c.metadata.get("nbgrader", {})
        if c.cell_type == "code" and md.get("grade") and not md.get("solution"):
            for p in cell_problems(c.source, strict):
                print(path.split("/")[-2], md["grade_id"], p)
