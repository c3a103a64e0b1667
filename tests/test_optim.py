"""Does check_optimizer pass faithful optimizers and say at which step a wrong one parts?"""

from __future__ import annotations

import pytest
import torch

from autograder import CheckFailed, check_optimizer
from tests.check_helpers import cuda, failure

pytestmark = pytest.mark.filterwarnings("error")


# Learners' optimizers: right, and with the classic mistakes.


class SGD:
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        self.params, self.lr, self.momentum, self.weight_decay = (
            list(params),
            lr,
            momentum,
            weight_decay,
        )
        self.buffers = [None] * len(self.params)

    @torch.no_grad()
    def step(self):
        for i, p in enumerate(self.params):
            g = p.grad + self.weight_decay * p
            if self.momentum:
                if self.buffers[i] is None:
                    self.buffers[i] = g.clone()
                else:
                    self.buffers[i] = self.momentum * self.buffers[i] + g
                g = self.buffers[i]
            p -= self.lr * g


class SGDWithoutMomentum(SGD):
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr, 0.0, weight_decay)  # momentum accepted, then ignored


class Adam:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.params, self.lr, self.betas, self.eps = list(params), lr, betas, eps
        self.weight_decay = weight_decay
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    def direction(self, m_hat, v_hat):
        return m_hat / (v_hat.sqrt() + self.eps)

    def corrected(self, m, v):
        b1, b2 = self.betas
        return m / (1 - b1**self.t), v / (1 - b2**self.t)

    @torch.no_grad()
    def step(self):
        self.t += 1
        b1, b2 = self.betas
        for i, p in enumerate(self.params):
            g = p.grad + self.weight_decay * p
            self.m[i] = b1 * self.m[i] + (1 - b1) * g
            self.v[i] = b2 * self.v[i] + (1 - b2) * g * g
            m_hat, v_hat = self.corrected(self.m[i], self.v[i])
            p -= self.lr * self.direction(m_hat, v_hat)


class AdamWithoutBiasCorrection(Adam):
    def corrected(self, m, v):
        return m, v


class AdamEpsInsideSqrt(Adam):
    def direction(self, m_hat, v_hat):
        return m_hat / (v_hat + self.eps).sqrt()


class AdamStepCountStuck(Adam):
    def corrected(self, m, v):
        b1, b2 = self.betas
        return m / (1 - b1), v / (1 - b2)  # t stays 1


class AdamNotInPlace(Adam):
    @torch.no_grad()
    def step(self):
        for p in self.params:
            p = p - self.lr * p.grad  # rebinds the name; the parameter never changes


class AdamSpelledDifferently(Adam):
    def __init__(self, params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(params, lr, (beta1, beta2), eps)


def test_right_optimizers_pass():
    check_optimizer(SGD, torch.optim.SGD, {"lr": 0.1})
    check_optimizer(SGD, torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01})
    check_optimizer(Adam, torch.optim.Adam, {"lr": 0.01, "betas": (0.8, 0.99)}, steps=20)
    check_optimizer(Adam, torch.optim.Adam, {"lr": 0.01, "weight_decay": 0.1}, steps=3)


def test_sgd_without_momentum_parts_at_step_2():
    msg = failure(
        check_optimizer, SGDWithoutMomentum, torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}
    )
    assert msg.startswith(
        "your SGDWithoutMomentum and torch.optim.SGD part at step 2 of 10, on parameter weight."
    )
    assert "the update of weight is not close to the expected values." in msg
    assert "max absolute error" in msg and "at index (" in msg
    assert "likely cause: the earlier steps match, so the rule is right but the state" in msg
    assert "reminder: torch.optim.SGD" in msg and "buf = g at the first step" in msg


def test_adam_without_bias_correction_parts_at_step_1():
    msg = failure(check_optimizer, AdamWithoutBiasCorrection, torch.optim.Adam, {"lr": 0.01})
    assert "part at step 1 of 10" in msg
    assert "off by the same factor" in msg
    assert "bias correction with t = 1 at the first step" in msg


def test_adam_eps_inside_the_square_root_is_named():
    msg = failure(check_optimizer, AdamEpsInsideSqrt, torch.optim.Adam, {"lr": 0.01})
    assert "part at step 1 of 10, on parameter bias." in msg
    assert (
        "likely cause: the update of bias, whose gradients are tiny (about 1e-5), is the most wrong: eps"
        in msg
    )


def test_adam_with_a_step_count_that_does_not_advance():
    msg = failure(check_optimizer, AdamStepCountStuck, torch.optim.Adam, {"lr": 0.01})
    assert "part at step 2 of 10" in msg
    assert "a step count t that does not advance" in msg


def test_update_not_in_place_is_named():
    msg = failure(check_optimizer, AdamNotInPlace, torch.optim.Adam, {"lr": 0.01})
    assert "got 0, expected" in msg
    assert "left the parameters unchanged: step() must update them in place" in msg


def test_adam_is_not_adamw():
    msg = failure(check_optimizer, Adam, torch.optim.AdamW, {"lr": 0.01, "weight_decay": 0.1})
    assert "your Adam and torch.optim.AdamW part at step 1" in msg
    assert "AdamW first shrinks p" in msg


def test_constructor_arguments_spelled_differently():
    msg = failure(
        check_optimizer,
        AdamSpelledDifferently,
        torch.optim.Adam,
        {"lr": 0.01, "betas": (0.9, 0.99)},
    )
    assert "could not be created as AdamSpelledDifferently(params, lr=..., betas=...)" in msg
    assert "unexpected keyword argument 'betas'" in msg
    check_optimizer(
        AdamSpelledDifferently,
        torch.optim.Adam,
        {"lr": 0.01, "betas": (0.9, 0.99)},
        learner_kwargs={"lr": 0.01, "beta1": 0.9, "beta2": 0.99},
    )


def test_float32_parameters():
    check_optimizer(SGD, torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}, dtype=torch.float32)


@cuda
def test_optimizers_on_cuda():
    check_optimizer(Adam, torch.optim.Adam, {"lr": 0.01}, device="cuda")
    with pytest.raises(CheckFailed, match="step 2"):
        check_optimizer(
            SGDWithoutMomentum, torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}, device="cuda"
        )
