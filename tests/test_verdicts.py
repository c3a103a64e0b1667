"""Are verdicts decided from observed values alone, with the learner's messages?"""

from __future__ import annotations

import json

import pytest
import torch

from autograder.grading.verdicts import (
    CHECKS,
    check_calls,
    decides_in_process,
    judge_cell,
    rewrite_for_learner,
    rewrite_for_reference,
)
from autograder.grading.wire import encode

CELL = """
x = torch.tensor([1.0, 2.0])
assert_close(f(x), x * 2, name="f(x)")
for i in range(2):
    check_shape(f(x), (2,), name="f(x)")
"""


def observe_with(source, namespace):
    seen = []
    namespace["__autograder_observe__"] = lambda site, value: seen.append(
        {"site": site, "value": json.loads(json.dumps(encode(value)))}
    )
    exec(source, namespace)
    return seen


def test_learner_rewrite_never_computes_the_expected_value():
    learner = rewrite_for_learner("assert_close(f(x), expensive_reference(x))")
    assert "expensive_reference" not in learner and "f(x)" in learner


def test_check_sites_are_found_in_loops_and_nested_code():
    assert check_calls(CELL) == ["assert_close@3:0", "check_shape@5:4"]


def judge(f_learner):
    ref = observe_with(rewrite_for_reference(CELL), {"torch": torch, "f": lambda x: x * 2})
    got = observe_with(rewrite_for_learner(CELL), {"torch": torch, "f": f_learner})
    return judge_cell(ref, got)


def test_a_right_answer_passes():
    assert judge(lambda x: x + x).passed


def test_a_wrong_answer_fails_with_the_checks_message():
    verdict = judge(lambda x: x * 3)
    assert not verdict.passed
    assert "f(x) is not close" in verdict.message and "factor 1.5" in verdict.message


def test_a_missing_observation_fails_with_the_learners_error():
    ref = observe_with(rewrite_for_reference(CELL), {"torch": torch, "f": lambda x: x * 2})
    verdict = judge_cell(ref, [], {"ename": "NameError", "evalue": "name 'f' is not defined"})
    assert not verdict.passed
    assert verdict.message == (
        "NameError: name 'f' is not defined\n  (the test stopped there, before checking f(x))"
    )


def test_a_learners_error_comes_with_the_hint_of_the_check_it_stopped():
    cell = 'h = f(x)\nassert_close(h, x * 2, name="h", hint="start from zeros when hx is None")'
    ref = observe_with(rewrite_for_reference(cell), {"x": torch.ones(2), "f": lambda x: x * 2})
    error = {"ename": "TypeError", "evalue": "missing argument 'hx'"}
    verdict = judge_cell(ref, [], error)
    assert verdict.message == (
        "TypeError: missing argument 'hx'\n  (the test stopped there, before checking h)\n"
        "  likely cause: start from zeros when hx is None"
    )


def test_a_value_that_is_not_a_tensor_is_named():
    verdict = judge(lambda x: object())
    assert not verdict.passed and "should be a tensor, but it is a object" in verdict.message


def test_a_cell_without_checks_never_passes():
    assert not judge_cell([], []).passed


@pytest.mark.parametrize(
    ("source", "decides"),
    [
        ('assert_close(f(x), 2 * x, name="f(x)")', False),
        ("assert f(x) is not None\nassert_close(f(x), 2 * x)", True),
        ('if f(x) is None:\n    raise AssertionError("None")\nassert_close(f(x), 2 * x)', True),
        (
            'try:\n    y = f(x)\nexcept Exception:\n    raise AssertionError("hint")\nassert_close(y, x)',
            True,
        ),
        ('def forbidden(*args):\n    raise AssertionError("no")\nassert_close(f(x), 2 * x)', False),
        ("def helper():\n    assert x\nassert_close(f(x), 2 * x)", True),  # asserts never
        ("y = f(x)", True),  # no check at all
    ],
)
def test_in_process_verdicts_are_asserts_raises_outside_blockers_or_no_checks(source, decides):
    assert decides_in_process(source) is decides


def test_every_check_the_grader_judges_survives_the_wire():
    """Each check in CHECKS, judged from values that crossed the wire, passes the right value
    and fails a wrong one."""
    torch.manual_seed(0)
    x = torch.rand(40, 50, dtype=torch.float64) + 0.5
    mask = torch.rand_like(x) >= 0.3
    logits = torch.eye(3)[torch.tensor([0, 1, 2, 1])]
    cases = {
        "assert_close": ("assert_close(v, torch.ones(2))", torch.ones(2), torch.zeros(2)),
        "check_shape": ("check_shape(v, (2, 3))", torch.zeros(2, 3), torch.zeros(3, 2)),
        "check_dtype": ("check_dtype(v, torch.float64)", torch.zeros(1).double(), torch.zeros(1)),
        "check_finite": ("check_finite(v)", torch.ones(2), torch.tensor([float("inf")])),
        "check_equal": ("check_equal(v, ['a', 'b'])", ["a", "b"], ["b", "a"]),
        "check_between": ("check_between(v, 0, 60)", 12.5, 61.0),
        "check_uniform": (
            "check_uniform(v, -1, 1)",
            torch.linspace(-0.9, 0.9, 50),
            torch.zeros(50),
        ),
        "check_dropout": ("check_dropout(v, x, 0.3)", x * mask / 0.7, x * mask),
        "check_accuracy": (
            "check_accuracy(v, None, torch.tensor([0, 1, 2, 1]), 0.9)",
            logits,
            logits.flip(0),
        ),
    }
    assert set(cases) == set(CHECKS)
    for name, (cell, right, wrong) in cases.items():
        ref = observe_with(rewrite_for_reference(cell), {"torch": torch, "x": x, "v": right})
        for value, passes in ((right, True), (wrong, False)):
            got = observe_with(rewrite_for_learner(cell), {"torch": torch, "x": x, "v": value})
            assert judge_cell(ref, got).passed is passes, (name, value)
