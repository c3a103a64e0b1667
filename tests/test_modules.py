"""Does check_module pass faithful re-implementations of PyTorch modules and catch wrong ones?"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from autograder import CheckFailed, check_module, copy_parameters
from tests.check_helpers import cuda, failure

pytestmark = pytest.mark.filterwarnings("error")


def randn(*shape, seed=1):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# Learners' modules: right, and with the classic mistakes.


class Linear(nn.Module):
    def __init__(self, n_in, n_out, transposed=False):
        super().__init__()
        self.transposed = transposed
        shape = (n_in, n_out) if transposed else (n_out, n_in)
        self.weight = nn.Parameter(torch.randn(shape))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return (x @ self.weight if self.transposed else x @ self.weight.T) + self.bias


class LSTMCell(nn.Module):
    def __init__(self, n_in, n_hidden, gate_order=(0, 1, 2, 3)):
        super().__init__()
        self.weight_ih = nn.Parameter(torch.randn(4 * n_hidden, n_in))
        self.weight_hh = nn.Parameter(torch.randn(4 * n_hidden, n_hidden))
        self.bias_ih = nn.Parameter(torch.zeros(4 * n_hidden))
        self.bias_hh = nn.Parameter(torch.zeros(4 * n_hidden))
        self.gate_order = gate_order

    def forward(self, x, state):
        h, c = state
        gates = x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh
        chunks = gates.chunk(4, dim=1)
        i, f, g, o = (chunks[k] for k in self.gate_order)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        return o.sigmoid() * c.tanh(), c


class GRUCell(nn.Module):
    def __init__(self, n_in, n_hidden, reset_after_bias=True):
        super().__init__()
        self.weight_ih = nn.Parameter(torch.randn(3 * n_hidden, n_in))
        self.weight_hh = nn.Parameter(torch.randn(3 * n_hidden, n_hidden))
        self.bias_ih = nn.Parameter(torch.zeros(3 * n_hidden))
        self.bias_hh = nn.Parameter(torch.zeros(3 * n_hidden))
        self.reset_after_bias = reset_after_bias

    def forward(self, x, h):
        i_r, i_z, i_n = (x @ self.weight_ih.T + self.bias_ih).chunk(3, dim=1)
        h_r, h_z, _ = (h @ self.weight_hh.T + self.bias_hh).chunk(3, dim=1)
        w_hn, b_hn = self.weight_hh.chunk(3)[2], self.bias_hh.chunk(3)[2]
        r, z = (i_r + h_r).sigmoid(), (i_z + h_z).sigmoid()
        if self.reset_after_bias:
            n = (i_n + r * (h @ w_hn.T + b_hn)).tanh()
        else:
            n = (i_n + r * (h @ w_hn.T) + b_hn).tanh()  # the reset gate misses the bias
        return (1 - z) * n + z * h


class MultiheadAttention(nn.Module):
    """batch_first attention laid out as nn.MultiheadAttention; returns (output, weights)."""

    def __init__(self, embed_dim, num_heads, scale=True):
        super().__init__()
        self.num_heads, self.scale = num_heads, scale
        self.in_proj_weight = nn.Parameter(torch.randn(3 * embed_dim, embed_dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * embed_dim))
        self.out_proj = nn.Linear(embed_dim, embed_dim)

    def forward(self, q, k, v):
        B, T, E = q.shape  # (B, T, E)
        H, d = self.num_heads, E // self.num_heads
        w_q, w_k, w_v = self.in_proj_weight.chunk(3)
        b_q, b_k, b_v = self.in_proj_bias.chunk(3)
        q = (q @ w_q.T + b_q).view(B, T, H, d).transpose(1, 2)  # (B, H, T, d)
        k = (k @ w_k.T + b_k).view(B, -1, H, d).transpose(1, 2)  # (B, H, S, d)
        v = (v @ w_v.T + b_v).view(B, -1, H, d).transpose(1, 2)  # (B, H, S, d)
        scores = q @ k.transpose(-2, -1)  # (B, H, T, S)
        if self.scale:
            scores = scores / math.sqrt(d)
        weights = scores.softmax(dim=-1)
        out = (weights @ v).transpose(1, 2).reshape(B, T, E)  # (B, T, E)
        return self.out_proj(out), weights.mean(dim=1)


class LinearFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return x @ weight.T + bias

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        return grad @ weight, 2 * grad.T @ x, grad.sum(0)  # grad of weight doubled


class LinearWrongBackward(Linear):
    def forward(self, x):
        return LinearFunction.apply(x, self.weight, self.bias)


# copy_parameters


def test_copy_parameters_by_name_across_dtypes():
    ref, ours = nn.Linear(3, 2), Linear(3, 2).double()
    copy_parameters(ref, ours)
    assert torch.equal(ours.weight.float(), ref.weight.detach())
    assert ours.weight.dtype == torch.float64


def test_copy_parameters_copies_running_statistics():
    ref, ours = nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    ref.running_mean.fill_(2.0)
    copy_parameters(ref, ours)
    assert torch.equal(ours.running_mean, torch.full((3,), 2.0))


def test_copy_parameters_lists_missing_extra_and_misshaped():
    class Named(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.zeros(3, 2))
            self.b = nn.Parameter(torch.zeros(2))

    msg = failure(copy_parameters, nn.Linear(3, 2), Named())
    assert msg.startswith("cannot copy the parameters of torch.nn.Linear into Named by name.")
    assert "missing in Named: bias (2,)" in msg
    assert "in Named but not in torch.nn.Linear: b (2,)" in msg
    assert "weight has shape (3, 2) in Named, (2, 3) in torch.nn.Linear" in msg
    assert "likely cause: name the parameters as the other module does: weight, bias" in msg
    assert "also: a weight stored transposed" in msg
    copy_parameters(nn.Linear(3, 2), Linear(3, 2), name_map={})


def test_copy_parameters_transposed_weight():
    msg = failure(copy_parameters, nn.Linear(3, 2), Linear(3, 2, transposed=True))
    assert "likely cause: a weight stored transposed" in msg


def test_copy_parameters_plain_tensors_are_not_parameters():
    class Plain(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.zeros(2, 3)

    msg = failure(copy_parameters, nn.Linear(3, 2), Plain(), dst_label="your Plain")
    assert "missing in your Plain: weight (2, 3), bias (2,)" in msg
    assert "your Plain has no parameters: register them in __init__ as nn.Parameter" in msg


def test_copy_parameters_with_renaming():
    class Renamed(nn.Module):
        def __init__(self):
            super().__init__()
            self.W = nn.Parameter(torch.zeros(2, 3))
            self.b = nn.Parameter(torch.zeros(2))

    ref, ours = nn.Linear(3, 2), Renamed()
    copy_parameters(ref, ours, name_map={"weight": "W", "bias": "b"})
    assert torch.equal(ours.W, ref.weight)


# check_module


def test_linear_passes_and_transposed_use_fails():
    check_module(Linear(5, 4), nn.Linear(5, 4), randn(3, 5))

    class UsesWeightUntransposed(Linear):
        def forward(self, x):
            return x @ self.weight.T.T.T + self.bias  # right

    check_module(UsesWeightUntransposed(4, 4), nn.Linear(4, 4), randn(3, 4))

    class Wrong(Linear):
        def forward(self, x):
            return x @ self.weight + self.bias  # square weight: runs, but transposed

    msg = failure(check_module, Wrong(4, 4), nn.Linear(4, 4), randn(3, 4))
    assert msg.startswith("your Wrong and torch.nn.Linear disagree on the output.")
    assert "the output is not close to the expected values." in msg
    assert "shape (3, 4), dtype float64" in msg
    assert "largest difference at index (" in msg
    assert "torch.nn.Linear computes x @ weight.T + bias" in msg


def test_lstm_cell_passes():
    x, h, c = randn(3, 5, seed=1), randn(3, 4, seed=2), randn(3, 4, seed=3)
    check_module(LSTMCell(5, 4), nn.LSTMCell(5, 4), (x, (h, c)), output_names=("h", "c"))


def test_lstm_cell_with_gates_swapped_fails_with_the_gate_order():
    x, h, c = randn(3, 5, seed=1), randn(3, 4, seed=2), randn(3, 4, seed=3)
    swapped = LSTMCell(5, 4, gate_order=(1, 0, 2, 3))  # forget and input swapped
    msg = failure(check_module, swapped, nn.LSTMCell(5, 4), (x, (h, c)), output_names=("h", "c"))
    assert msg.startswith("your LSTMCell and torch.nn.LSTMCell disagree on h.")
    assert "max absolute error" in msg
    assert "likely cause: a computation or a parameter layout other than PyTorch's." in msg
    assert "order input, forget, cell, output" in msg


def test_gru_cell_passes_and_reset_gate_without_bias_fails():
    x, h = randn(3, 5, seed=1), randn(3, 4, seed=2)
    ref = nn.GRUCell(5, 4)
    check_module(GRUCell(5, 4), ref, (x, h))
    msg = failure(check_module, GRUCell(5, 4, reset_after_bias=False), ref, (x, h))
    assert "disagree on the output" in msg
    assert "r multiplies the hidden part with its bias" in msg


def test_multihead_attention_passes_with_weights():
    q, kv = randn(2, 3, 8, seed=1), randn(2, 5, 8, seed=2)
    ref = nn.MultiheadAttention(8, num_heads=2, batch_first=True)
    check_module(MultiheadAttention(8, 2), ref, (q, kv, kv), output_names=("output", "weights"))


def test_multihead_attention_without_scaling_fails():
    q, kv = randn(2, 3, 8, seed=1), randn(2, 5, 8, seed=2)
    ref = nn.MultiheadAttention(8, num_heads=2, batch_first=True)
    msg = failure(
        check_module,
        MultiheadAttention(8, 2, scale=False),
        ref,
        (q, kv, kv),
        learner_forward=lambda m, q, k, v: m(q, k, v)[0],
        torch_forward=lambda m, q, k, v: m(q, k, v, need_weights=False)[0],
    )
    assert msg.startswith("your MultiheadAttention and torch.nn.MultiheadAttention disagree")
    assert "scales scores by 1/sqrt(head_dim)" in msg


def test_output_structure_mismatch_is_described():
    x, h, c = randn(3, 5, seed=1), randn(3, 4, seed=2), randn(3, 4, seed=3)

    class OnlyH(LSTMCell):
        def forward(self, x, state):
            return super().forward(x, state)[0]

    msg = failure(
        check_module, OnlyH(5, 4), nn.LSTMCell(5, 4), (x, (h, c)), input_names=("x", "h", "c")
    )
    assert (
        "your OnlyH returned a tensor of shape (3, 4), but torch.nn.LSTMCell returns a tuple of 2"
        in msg
    )


def test_right_output_wrong_gradient_names_the_parameter():
    msg = failure(check_module, LinearWrongBackward(5, 4), nn.Linear(5, 4), randn(3, 5))
    assert "disagree on the gradient of weight." in msg
    assert "factor 2" in msg


def test_parameter_used_through_data_gets_no_gradient():
    class ThroughData(Linear):
        def forward(self, x):
            return x @ self.weight.T + self.bias.data

    msg = failure(check_module, ThroughData(5, 4), nn.Linear(5, 4), randn(3, 5))
    assert "your ThroughData gives no gradient to bias, but torch.nn.Linear does." in msg
    assert ".data/.detach()" in msg


def test_gradient_of_the_input_is_compared():
    class InputGradWrong(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, grad):
            return -grad

    class Identityish(Linear):
        def forward(self, x):
            return super().forward(InputGradWrong.apply(x))

    msg = failure(check_module, Identityish(5, 4), nn.Linear(5, 4), randn(3, 5))
    assert "disagree on the gradient of the input." in msg
    assert "sign is flipped" in msg


def test_detached_output_is_reported():
    class Detached(Linear):
        def forward(self, x):
            return super().forward(x).detach()

    msg = failure(check_module, Detached(5, 4), nn.Linear(5, 4), randn(3, 5))
    assert "not connected to its inputs or parameters in the autograd graph" in msg
    check_module(Detached(5, 4), nn.Linear(5, 4), randn(3, 5), check_grads=False)


def test_float32_output_in_a_float64_check_is_reported():
    class Float32(Linear):
        def forward(self, x):
            return super().forward(x).float()

    msg = failure(check_module, Float32(5, 4), nn.Linear(5, 4), randn(3, 5))
    assert "the output has dtype float32, but float64 was expected." in msg


def test_copy_to_torch_and_modules_left_unchanged():
    ours, ref = Linear(5, 4), nn.Linear(5, 4)
    saved_ours, saved_ref = ours.weight.detach().clone(), ref.weight.detach().clone()
    check_module(ours, ref, randn(3, 5), copy="to_torch")
    assert torch.equal(ours.weight, saved_ours) and torch.equal(ref.weight, saved_ref)
    assert ours.weight.dtype == torch.float32 and ours.weight.grad is None
    msg = failure(
        check_module, Linear(5, 4, transposed=True), nn.Linear(5, 4), randn(3, 5), copy="to_torch"
    )
    assert "cannot copy the parameters of your Linear into torch.nn.Linear" in msg


def test_in_place_changes_to_inputs_stay_inside_the_check():
    class ScalesInput(Linear):
        def forward(self, x):
            out = super().forward(x)
            x.mul_(2.0)  # after use: the output is right, the caller's x must not change
            return out

    x = randn(3, 5)
    saved = x.clone()
    check_module(ScalesInput(5, 4), nn.Linear(5, 4), x, dtype=None, check_grads=False)
    assert torch.equal(x, saved)


def test_float32_mode_keeps_the_dtypes():
    check_module(Linear(5, 4), nn.Linear(5, 4), randn(3, 5), dtype=None)


@cuda
def test_modules_on_cuda_compare_with_the_cpu():
    x, h, c = randn(3, 5, seed=1), randn(3, 4, seed=2), randn(3, 4, seed=3)
    check_module(LSTMCell(5, 4).cuda(), nn.LSTMCell(5, 4), (x, (h, c)))
    check_module(LSTMCell(5, 4), nn.LSTMCell(5, 4).cuda(), (x.cuda(), (h.cuda(), c.cuda())))
    with pytest.raises(CheckFailed, match="forget"):
        check_module(LSTMCell(5, 4, gate_order=(1, 0, 2, 3)).cuda(), nn.LSTMCell(5, 4), (x, (h, c)))
