"""Do the gradient checks pass right gradients and say which input and element are wrong?"""

from __future__ import annotations

import pytest
import torch

from autograder import CheckFailed, check_backward, gradcheck
from tests.check_helpers import cuda, failure

pytestmark = pytest.mark.filterwarnings("error")


def inputs(*shapes, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(s, generator=gen) for s in shapes]


# Hand-written backward passes, right and wrong, as learners write them.


class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x * grad


class SquareMissingTwo(Square):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return x * grad  # the 2 of d(x**2)/dx is missing


class MatMul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad @ b.T, a.T @ grad


class MatMulTransposedGradB(MatMul):
    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad @ b.T, (a.T @ grad).T  # b is square here, so only the values tell


def linear(x, W, b):
    return x @ W.T + b


def linear_backward(x, W, b, grad_out):
    return grad_out @ W, grad_out.T @ x, grad_out.sum(0)


# gradcheck


def test_gradcheck_passes_correct_functions():
    (x,) = inputs((3, 4))
    gradcheck(Square.apply, x)
    a, b = inputs((2, 3), (3, 3))
    gradcheck(MatMul.apply, a, b)
    gradcheck(torch.nn.functional.cross_entropy, *inputs((4, 3)), torch.tensor([0, 2, 1, 0]))
    gradcheck(lambda x: (x.sin(), x.cos()), x)  # several outputs


def test_gradcheck_accepts_non_contiguous_inputs():
    a, b = inputs((3, 2), (3, 3))
    gradcheck(MatMul.apply, a.T, b.T)  # transposed views
    check_backward(lambda a, b, g: (g @ b.T, a.T @ g), MatMul.apply, (a.T, b.T))


def test_gradcheck_names_the_function_input_and_element():
    (x,) = inputs((3, 4))

    def square(x):
        return SquareMissingTwo.apply(x)

    msg = failure(gradcheck, square, x)
    assert msg.startswith(
        "gradcheck of square(): autograd's gradient with respect to x disagrees with finite differences."
    )
    assert "mismatched elements: 12 / 12" in msg
    assert "largest difference at index (" in msg and "finite differences give" in msg
    assert "max absolute error" in msg and "max relative error 0.5" in msg
    assert "likely cause: every value is off by the same factor 0.5" in msg
    assert "the 2 in d(x**2)/dx" in msg


def test_gradcheck_finds_the_wrong_input_among_several():
    a, b = inputs((2, 3), (3, 3))
    msg = failure(gradcheck, MatMulTransposedGradB.apply, a, b, names=("a", "b"))
    assert msg.startswith(
        "gradcheck of MatMulTransposedGradB.apply(): autograd's gradient with respect to b disagrees"
    )
    assert "likely cause" in msg


def test_gradcheck_wrt_skips_inputs():
    a, b = inputs((2, 3), (3, 3))
    gradcheck(MatMulTransposedGradB.apply, a, b, wrt=[0])  # only a's gradient is checked
    with pytest.raises(ValueError):
        gradcheck(MatMul.apply, a, b, wrt=[2])


def test_gradcheck_cut_graph_is_named():
    (x,) = inputs((3,))
    msg = failure(gradcheck, lambda x: x.detach() * 2 + 0 * x, x)
    assert "autograd's gradient is 0 everywhere" in msg and ".detach()" in msg
    msg = failure(gradcheck, lambda x: x.detach() * 2, x)
    assert "does not depend on its inputs in the autograd graph" in msg


def test_gradcheck_float32_inside_is_caught():
    (x,) = inputs((3,))
    msg = failure(gradcheck, lambda x: x.float() * torch.ones(3), x)
    assert "returned a float32 tensor for float64 inputs" in msg
    assert "dtype=" in msg


def test_gradcheck_python_number_output_says_item():
    (x,) = inputs((3,))
    msg = failure(gradcheck, lambda x: (x * x).sum().item(), x)
    assert "returned a float, not a tensor" in msg and ".item()" in msg
    assert "forget a `return`" in failure(gradcheck, lambda x: None, x)


def test_gradcheck_never_prints_inputs_or_touches_the_inputs_or_the_global_rng():
    x = torch.tensor([123.456, -654.321])
    before = x.clone()
    state = torch.random.get_rng_state()
    msg = failure(gradcheck, SquareMissingTwo.apply, x)
    assert "123.4" not in msg and "654.3" not in msg
    assert torch.equal(x, before) and x.dtype == torch.float32
    assert torch.equal(torch.random.get_rng_state(), state)


# check_backward


def test_check_backward_passes_a_correct_backward():
    x, W, b = inputs((5, 3), (4, 3), (4,))
    check_backward(linear_backward, linear, (x, W, b))
    check_backward(lambda x, g: 2 * x * g, lambda x: x * x, x)  # a single input
    check_backward(lambda x, g: 2 * x * g, lambda x: x * x, x, grad_out=torch.ones(5, 3))


def test_check_backward_accepts_a_dict_of_gradients():
    x, W, b = inputs((5, 3), (4, 3), (4,))

    def backward(x, W, b, g):
        return {"b": g.sum(0), "W": g.T @ x, "x": g @ W}

    check_backward(backward, linear, (x, W, b))


def test_check_backward_transposed_gradient_shape():
    x, W, b = inputs((5, 3), (4, 3), (4,))

    def linear_backward_transposed(x, W, b, g):
        return g @ W, x.T @ g, g.sum(0)

    msg = failure(check_backward, linear_backward_transposed, linear, (x, W, b))
    assert msg.startswith(
        "your linear_backward_transposed(): the gradient with respect to W differs"
    )
    assert "grad_W has shape (3, 4), but shape (4, 3) was expected." in msg
    assert "transposed" in msg


def test_check_backward_transposed_square_gradient_values():
    x, W, b = inputs((5, 3), (3, 3), (3,))
    msg = failure(check_backward, lambda x, W, b, g: (g @ W, x.T @ g, g.sum(0)), linear, (x, W, b))
    assert msg.startswith("your backward: the gradient with respect to W differs")
    assert "max absolute error" in msg and "at index (" in msg
    assert "likely cause: the result is the transpose of the expected one." in msg


def test_check_backward_bias_not_summed_over_batch():
    x, W, b = inputs((5, 3), (4, 3), (4,))
    msg = failure(check_backward, lambda x, W, b, g: (g @ W, g.T @ x, g), linear, (x, W, b))
    assert "grad_b has shape (5, 4), but shape (4,) was expected." in msg
    assert "summed over the batch" in msg


def test_check_backward_wrong_values_get_the_chain_rule_cause():
    x, W, b = inputs((5, 3), (4, 3), (4,))
    msg = failure(
        check_backward, lambda x, W, b, g: (g @ W, g.T @ x.abs(), g.sum(0)), linear, (x, W, b)
    )
    assert "grad_W is not close to the expected values" in msg
    assert "likely cause: check the chain rule for W" in msg


def test_check_backward_reused_input_needs_both_contributions():
    (x,) = inputs((4,))
    msg = failure(check_backward, lambda x, g: x * g, lambda x: x * x, x)
    assert "factor 0.5" in msg


def test_check_backward_wrong_count_none_and_float32():
    x, W, b = inputs((5, 3), (4, 3), (4,))
    msg = failure(check_backward, lambda x, W, b, g: (g @ W, g.T @ x), linear, (x, W, b))
    assert (
        "returned 2 gradients, but 3 were expected: one for each of x, W, b, in that order" in msg
    )
    assert "forget a `return`" in failure(
        check_backward, lambda x, W, b, g: None, linear, (x, W, b)
    )
    msg = failure(
        check_backward, lambda x, W, b, g: ((g @ W).float(), g.T @ x, g.sum(0)), linear, (x, W, b)
    )
    assert "grad_x has dtype float32, but float64 was expected." in msg


def test_check_backward_does_not_change_the_inputs():
    x, W, b = inputs((5, 3), (4, 3), (4,))
    saved = [t.clone() for t in (x, W, b)]

    def backward_in_place(x, W, b, g):
        grads = g @ W, g.T @ x, g.sum(0)
        x.zero_()
        return grads

    check_backward(backward_in_place, linear, (x, W, b))
    assert all(torch.equal(t, s) for t, s in zip((x, W, b), saved, strict=True))


def test_check_backward_integer_inputs_pass_through():
    (logits,) = inputs((4, 3))
    target = torch.tensor([0, 2, 1, 0])

    def ce_backward(logits, target, g):
        p = logits.softmax(-1)
        p[torch.arange(4), target] -= 1
        return g * p / 4

    check_backward(ce_backward, torch.nn.functional.cross_entropy, (logits, target))
    msg = failure(
        check_backward,
        lambda lg, t, g: g * lg.softmax(-1) / 4,
        torch.nn.functional.cross_entropy,
        (logits, target),
    )
    assert "differs from autograd's" in msg


@cuda
def test_gradient_checks_run_on_cuda_inputs():
    x, W, b = (t.cuda() for t in inputs((5, 3), (4, 3), (4,)))
    gradcheck(linear, x, W, b)
    check_backward(linear_backward, linear, (x, W, b))
    with pytest.raises(CheckFailed, match="transposed"):
        check_backward(lambda x, W, b, g: (g @ W, x.T @ g, g.sum(0)), linear, (x, W, b))
