"""Do the value checks pass right answers, and explain wrong ones to a learner?"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder import (
    assert_close,
    check_between,
    check_dropout,
    check_dtype,
    check_equal,
    check_finite,
    check_shape,
    check_uniform,
    compare,
)
from tests.check_helpers import cuda, failure

# A check that warns writes to stderr, which fails an nbgrader test cell: warnings are errors.
pytestmark = pytest.mark.filterwarnings("error")


# assert_close: passing


def test_close_values_pass_across_types():
    x = torch.tensor([1.0, 2.0, 3.0])
    assert_close(x + 1e-6, x)
    assert_close(x.double(), x.double())
    assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    assert_close([1.0, 2.0], torch.tensor([1.0, 2.0]))  # a Python list has no dtype to check
    assert_close(0.5, torch.tensor(0.5, dtype=torch.float64))
    assert_close(torch.tensor([1, 2]), [1, 2])
    assert_close(torch.tensor([True, False]), torch.tensor([True, False]))
    assert_close(torch.tensor([1 + 2j]), torch.tensor([1 + 2j]))


def test_tensors_that_require_grad_compare_without_warning():
    w = torch.ones(3, requires_grad=True)
    assert_close(w * 2, torch.full((3,), 2.0))
    assert_close([w[0] * 2, w[1]], [2.0, 1.0])  # a list of 0-d tensors in the graph


def test_numpy_arrays_readonly_or_reversed_compare_without_warning():
    a = np.arange(4.0)
    a.flags.writeable = False
    assert_close(a, np.arange(4.0))
    assert_close(np.arange(4.0)[::-1], np.array([3.0, 2.0, 1.0, 0.0]))
    assert_close(np.float32(1.5), np.float32(1.5))


def test_nan_where_nan_is_expected_passes():
    assert_close(torch.tensor([1.0, float("nan")]), torch.tensor([1.0, float("nan")]))


# assert_close: failing, with what a learner needs


def test_values_message_has_shape_dtype_errors_and_where():
    expected = torch.zeros(3, 4)
    actual = expected.clone()
    actual[1, 2] = 0.5
    actual[2, 3] = 0.1
    msg = failure(assert_close, actual, expected, name="softmax(x)")
    assert msg.startswith("softmax(x) is not close to the expected values.")
    assert "shape (3, 4), dtype float32" in msg
    assert "rtol=1e-04, atol=1e-05" in msg
    assert "mismatched elements: 2 / 12 (16.7%)" in msg
    assert "largest difference at index (1, 2): got 0.5, expected 0" in msg
    assert "max absolute error 0.5, max relative error inf" in msg


def test_relative_error_is_reported():
    msg = failure(assert_close, torch.tensor([1.0, 2.2]), torch.tensor([1.0, 2.0]))
    assert "max absolute error 0.2" in msg
    assert "max relative error 0.1" in msg
    assert "at index (1,)" in msg


def test_scalar_mismatch_has_no_index():
    msg = failure(assert_close, torch.tensor(2.0), torch.tensor(1.0), name="loss")
    assert "largest difference: got 2, expected 1" in msg
    assert "index" not in msg


@pytest.mark.parametrize(
    ("actual", "expected", "cause"),
    [
        (-torch.arange(1.0, 5.0), torch.arange(1.0, 5.0), "sign is flipped"),
        (
            torch.tensor([[1.0, 2.0], [3.0, 4.0]]).T,
            torch.tensor([[1.0, 2.0], [3.0, 4.0]]),
            "transpose",
        ),
        (4 * torch.arange(1.0, 5.0), torch.arange(1.0, 5.0), "factor 4 (= 4: a sum where a mean"),
        (
            torch.arange(1.0, 5.0) / 2,
            torch.arange(1.0, 5.0),
            "factor 0.5 (= 1/2: a mean where a sum",
        ),
        (torch.arange(1.0, 5.0) + 0.25, torch.arange(1.0, 5.0), "same constant 0.25"),
        (torch.zeros(4), torch.arange(1.0, 5.0), "every value is 0"),
    ],
)
def test_value_patterns_give_a_likely_cause(actual, expected, cause):
    assert cause in failure(assert_close, actual, expected)


def test_hint_replaces_the_generic_cause():
    msg = failure(assert_close, -torch.ones(3), torch.ones(3), hint="did you subtract the max?")
    assert "likely cause: did you subtract the max?" in msg
    assert "sign" not in msg


def test_shape_mismatch_says_both_shapes_and_cause():
    msg = failure(assert_close, torch.zeros(4, 3), torch.zeros(3, 4), name="W")
    assert "W has shape (4, 3), but shape (3, 4) was expected." in msg
    assert "transposed" in msg


@pytest.mark.parametrize(
    ("actual", "expected", "cause"),
    [
        ((), (3,), "reduced to one number"),
        ((3,), (), "forget to reduce"),
        ((3,), (3, 1), "keepdim=True"),
        ((3, 1), (3,), "extra dimension of size 1"),
        ((5, 4), (4,), "extra leading dimensions (5,)"),
        ((4,), (5, 4), "reduced over the batch"),
        ((2, 3, 4), (2, 4, 3), "another order"),
        ((6, 2), (3, 4), "another layout"),
        ((3, 1), (3, 4), "dimension 1 was reduced"),
        ((3, 5), (3, 4), "only dimension 1 differs"),
    ],
)
def test_shape_hints(actual, expected, cause):
    msg = failure(assert_close, torch.zeros(actual), torch.zeros(expected))
    assert cause in msg


def test_dtype_mismatch_names_both_dtypes():
    msg = failure(
        assert_close, torch.ones(3, dtype=torch.float32), torch.ones(3, dtype=torch.float64)
    )
    assert "has dtype float32, but float64 was expected" in msg
    assert "without dtype=" in msg
    assert_close(torch.ones(3), torch.ones(3, dtype=torch.float64), check_dtype=False)


def test_dtype_not_checked_against_python_numbers():
    assert_close(torch.tensor([0.1], dtype=torch.float64), [0.1])
    assert_close(0.1, torch.tensor(0.1, dtype=torch.float64))


def test_python_floats_are_read_in_double_precision():
    # Against float64, a Python float keeps float64's tight tolerance (float32 would loosen it).
    msg = failure(assert_close, torch.tensor(1.0, dtype=torch.float64), 1.001)
    assert "dtype float64; tolerance rtol=1e-07, atol=1e-09" in msg


def test_integers_compare_exactly():
    msg = failure(assert_close, torch.tensor([1, 2, 4]), torch.tensor([1, 2, 3]), name="labels")
    assert "labels is not close" in msg
    assert "rtol=0e+00, atol=0e+00" in msg


def test_nan_where_a_number_is_expected_says_nan_and_where():
    actual = torch.tensor([[1.0, 2.0], [float("nan"), float("inf")]])
    msg = failure(assert_close, actual, torch.ones(2, 2), name="probs")
    assert "probs contains NaN and inf (2 of 4 elements, first at index (1, 0))" in msg
    assert "subtract the maximum" in msg


def test_none_says_return_is_missing():
    assert "forget a `return`" in failure(assert_close, None, torch.ones(2))
    msg = failure(assert_close, None, torch.ones(2), name="w.grad", hint="no gradient reached w")
    assert (
        msg == "w.grad is None, but a tensor was expected.\n  likely cause: no gradient reached w"
    )


def test_list_of_tensors_of_different_shapes_says_stack():
    msg = failure(assert_close, [torch.ones(2), torch.ones(3)], torch.ones(5))
    assert "torch.stack or torch.cat" in msg


def test_unsupported_type_is_named():
    assert "it is a dict" in failure(assert_close, {"a": 1}, torch.ones(1))


def test_messages_never_print_more_than_the_worst_element():
    expected = torch.arange(100.0)
    actual = expected + 1000.5
    msg = failure(assert_close, actual, expected)
    assert "1020.5" not in msg and "1001.5" not in msg  # only the worst element is shown
    assert msg.count("\n") < 8


# check_shape, check_dtype, check_finite


def test_check_shape_pass_and_wildcards():
    check_shape(torch.zeros(2, 3), (2, 3))
    check_shape(torch.zeros(2, 3), (None, 3))
    check_shape(torch.zeros(5), 5)
    check_shape(np.zeros((2, 2)), torch.Size([2, 2]))


def test_check_shape_failure():
    msg = failure(check_shape, torch.zeros(4, 2), (2, 4), name="logits")
    assert "logits has shape (4, 2), but shape (2, 4) was expected." in msg
    assert "likely cause" in msg
    msg = failure(check_shape, torch.zeros(4, 2), (None, 3))
    assert "shape (*, 3) was expected" in msg
    assert "likely cause" not in msg  # no guess against a wildcard


def test_check_dtype_pass_and_failures():
    check_dtype(torch.zeros(2, dtype=torch.int64), torch.int64)
    check_dtype(np.zeros(2, dtype=np.float32), torch.float32)
    msg = failure(check_dtype, torch.zeros(2, dtype=torch.int64), torch.float32, name="probs")
    assert "probs has dtype int64, but float32 was expected." in msg
    assert ".float()" in msg
    assert "argmax gives int64" in failure(check_dtype, torch.zeros(2), torch.int64)
    assert "comparison" in failure(check_dtype, torch.zeros(2), torch.bool)
    assert "NumPy" in failure(check_dtype, torch.zeros(2, dtype=torch.float64), torch.float32)


def test_check_dtype_of_a_python_number_says_item():
    msg = failure(check_dtype, 0.5, torch.float32, name="loss")
    assert "loss is a Python float, but a tensor of dtype float32 was expected" in msg
    assert ".item()" in msg
    assert "torch.stack" in failure(check_dtype, [torch.ones(1)], torch.float32)


def test_check_finite():
    check_finite(torch.tensor([1.0, -2.0]))
    check_finite(torch.tensor([1, 2]))  # integers are always finite
    msg = failure(check_finite, torch.tensor([0.0, float("inf")]), name="log_probs")
    assert "log_probs contains inf (1 of 2 elements, first at index (1,))" in msg
    msg = failure(check_finite, torch.tensor(float("nan")), name="loss")
    assert msg.startswith("loss contains NaN.")


# compare (for lessons): prints, never raises


def test_compare_prints_exact_close_and_difference(capsys):
    x = torch.tensor([1.0, 2.0])
    assert compare("softmax", x, x) is True
    assert compare("softmax", x + 1e-7, x) is True
    assert compare("relu", x + 1, x) is False
    assert compare("bad shape", torch.zeros(2), torch.zeros(3)) is False
    out = capsys.readouterr().out.splitlines()
    assert (
        out[0].startswith("softmax") and "exact: True" in out[0] and "max diff: 0.00e+00" in out[0]
    )
    assert "exact: False | close: True" in out[1]
    assert "close: False" in out[2] and "max diff: 1.00e+00" in out[2]
    assert "shapes differ: (2,) vs (3,)" in out[3]


@cuda
def test_cuda_values_compare_on_the_cpu():
    x = torch.randn(4, 4, device="cuda")
    assert_close(x, x.cpu())
    assert_close(x, x)
    check_shape(x, (4, 4))
    check_dtype(x, torch.float32)
    check_finite(x)
    msg = failure(assert_close, x + 1, x)
    assert "same constant 1" in msg


# hints on shape, dtype and finiteness checks


def test_a_hint_replaces_the_generic_cause_of_shape_dtype_and_finite_checks():
    msg = failure(check_shape, torch.zeros(3, 2), (2, 3), name="W", hint="use W.T")
    assert msg == "W has shape (3, 2), but shape (2, 3) was expected.\n  likely cause: use W.T"
    msg = failure(check_shape, None, (2,), name="h", hint="start from zeros when hx is None")
    assert msg.startswith("h is None") and msg.endswith(
        "likely cause: start from zeros when hx is None"
    )
    msg = failure(check_dtype, 5.0, torch.float64, name="norm", hint="no .item()")
    assert "norm is a Python float" in msg and msg.endswith("likely cause: no .item()")
    msg = failure(check_finite, torch.tensor([float("nan")]), name="p", hint="0 / 0")
    assert "p contains NaN" in msg and msg.endswith("likely cause: 0 / 0")


# check_equal


def test_check_equal_passes_plain_values_and_equal_tensors():
    check_equal(["bias", "weight"], ("bias", "weight"))
    check_equal(None, None)
    check_equal(True, True)
    check_equal({"a": [1, 2]}, {"a": (1, 2)})
    check_equal(torch.tensor([1, 2]), torch.tensor([1, 2]))


def test_check_equal_failures_describe_both_sides():
    msg = failure(
        check_equal, ["w"], ["bias", "weight"], name="the parameter names", hint="nn.Parameter"
    )
    assert msg == (
        "the parameter names is ['w'], but ['bias', 'weight'] was expected.\n"
        "  first difference at index 0: 'w' where 'bias' was expected (length 1, 2 expected).\n"
        "  likely cause: nn.Parameter"
    )
    # Long sequences whose beginnings look alike: the message names the first difference.
    long = [(b"u", b"g")] * 60
    msg = failure(check_equal, [*long, (b"a", b"b")], [*long, (b"b", b"a")], name="merges")
    assert "first difference at index 60: (b'a', b'b') where (b'b', b'a') was expected" in msg
    msg = failure(check_equal, [1, 2, 3], [1, 2], name="ids")
    assert "the first 2 items agree; length 3, 2 expected." in msg
    assert "is a tensor of shape (4,), but None was expected" in failure(
        check_equal, torch.zeros(4), None, name="p.grad"
    )
    assert "is 1, but True was expected" in failure(check_equal, 1, True)  # a flag, not a count
    assert "is a object, but" in failure(check_equal, object(), 3)
    assert "..." in failure(check_equal, "x" * 500, "y")  # long values are cut
    assert "was expected" in failure(check_equal, torch.zeros(2), torch.zeros(3))


# check_between and check_uniform


def test_check_between_numbers_and_tensors():
    check_between(0.97, 0.95, 1.0)
    check_between(torch.rand(100), 0, 1)
    check_between(12.0, high=60)
    msg = failure(check_between, 75.2, high=60, name="the training time (s)", hint="fewer epochs")
    assert msg == "the training time (s) is 75.2, outside [-inf, 60].\n  likely cause: fewer epochs"
    msg = failure(check_between, torch.tensor([0.5, 2.0, -3.0]), -1, 1, name="w")
    assert msg.startswith("2 of 3 values of w lie outside [-1, 1]: they range from -3 to 2.")
    assert "NaN" in failure(check_between, float("nan"), 0, 1)
    assert "is empty" in failure(check_between, torch.zeros(0), 0, 1)


def test_check_uniform_wants_values_that_fill_the_range():
    torch.manual_seed(0)
    check_uniform(torch.empty(256).uniform_(-0.125, 0.125), -0.125, 0.125)
    msg = failure(check_uniform, torch.randn(256), -0.125, 0.125, name="weight_ih")
    assert msg.startswith("256 of 256 values") or "values of weight_ih lie outside" in msg
    msg = failure(check_uniform, torch.zeros(32), -0.125, 0.125, name="bias_ih")
    assert "fills 0% of [-0.125, 0.125]" in msg and "zeros for a bias" in msg
    msg = failure(check_uniform, torch.empty(256).uniform_(-0.05, 0.05), -0.125, 0.125, name="w")
    assert "a smaller range" in msg


# check_dropout


def test_check_dropout_accepts_inverted_dropout():
    torch.manual_seed(0)
    x = torch.rand(300, 200, dtype=torch.float64) + 0.5
    mask = torch.rand_like(x) >= 0.2
    check_dropout(x * mask / 0.8, x, 0.2)
    check_dropout(x, x, 0.0)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda x, m: x * m, "entries of dropout(x) are not x / (1 - p) = 1.25 * x"),  # no scaling
        (lambda x, m: x * m * 0.2, "x / (1 - p)"),
        (lambda x, m: x * ~m / 0.8, "keeps an entry with probability p instead of 1 - p"),
        (lambda x, m: x / 0.8, "nothing is dropped"),
        (lambda x, m: x * 0, "everything is dropped"),
        (lambda x, m: (x * m / 0.8).float(), "dtype float32, but float64"),
        (lambda x, m: (x * m / 0.8)[:10], "dropout keeps the shape"),
    ],
)
def test_check_dropout_names_the_classic_mistakes(make, message):
    torch.manual_seed(0)
    x = torch.rand(300, 200, dtype=torch.float64) + 0.5
    mask = torch.rand_like(x) >= 0.2
    assert message in failure(check_dropout, make(x, mask), x, 0.2, name="dropout(x)")


def test_check_dropout_refuses_a_bad_p():
    with pytest.raises(ValueError):
        check_dropout(torch.ones(3), torch.ones(3), 1.0)
