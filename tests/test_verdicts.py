"""Are verdicts decided from observed values alone, with the learner's messages?"""

from __future__ import annotations

import json

import torch

from autograder.verdicts import check_calls, judge_cell, rewrite_for_learner, rewrite_for_reference
from autograder.wire import encode

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
    assert not verdict.passed and verdict.message == "NameError: name 'f' is not defined"


def test_a_value_that_is_not_a_tensor_is_named():
    verdict = judge(lambda x: object())
    assert not verdict.passed and "should be a tensor, but it is a object" in verdict.message


def test_a_cell_without_checks_never_passes():
    assert not judge_cell([], []).passed
