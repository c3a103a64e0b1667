"""Optimizer equivalence: a learner's optimizer against a ``torch.optim`` class, step by step.

:func:`check_optimizer` gives both optimizers identical copies of a few parameters and, at each
step, identical gradients, then compares the update each one made to each parameter. It
reports the first step and parameter where the trajectories part, with the error, and a likely
cause read from *when* they part (the first step: the update rule; later: the state kept
between steps; only the parameter with tiny gradients: where ``eps`` goes).

The problem is small and deterministic: three float64 parameters (a ``weight`` matrix with
gradients of order 1, a ``bias`` whose gradients are of order 1e-5, where ``eps`` matters, and
a ``gain`` vector with gradients of order 10) and a fixed, seeded sequence of random gradients,
drawn on the CPU so every device sees the same numbers. Comparing updates rather than values
keeps an error in a small update from hiding behind a parameter's larger magnitude.

The learner's class is called as ``learner_cls(params, **kwargs)`` with a list of
``nn.Parameter`` and must update them in place in ``step()``, reading ``p.grad``, as
``torch.optim`` optimizers do.

Left out: parameter groups, ``closure`` arguments (LBFGS), learning-rate schedulers, sparse
gradients and parameters whose ``grad`` is None.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from .values import _fail, _mismatch

__all__ = ["check_optimizer"]

# name: (shape, gradient scale)
_PROBLEM: dict[str, tuple[tuple[int, ...], float]] = {
    "weight": ((3, 4), 1.0),
    "bias": ((4,), 1e-5),
    "gain": ((2,), 10.0),
}

_RULES: dict[str, str] = {
    "SGD": (
        "torch.optim.SGD adds weight_decay * p to the gradient g; with momentum mu it keeps "
        "buf = mu * buf + (1 - dampening) * g (buf = g at the first step) and steps "
        "p -= lr * buf (nesterov: p -= lr * (g + mu * buf))."
    ),
    "Adam": (
        "torch.optim.Adam keeps m = b1 * m + (1 - b1) * g and v = b2 * v + (1 - b2) * g**2, "
        "corrects them with m / (1 - b1**t) and v / (1 - b2**t), t = 1 at the first step, and "
        "steps p -= lr * m_hat / (sqrt(v_hat) + eps); weight_decay adds weight_decay * p to g."
    ),
    "AdamW": (
        "torch.optim.AdamW first shrinks p *= 1 - lr * weight_decay, then takes Adam's step "
        "(bias-corrected m and v, t = 1 at the first step, p -= lr * m_hat / (sqrt(v_hat) + eps))."
    ),
    "RMSprop": (
        "torch.optim.RMSprop keeps v = alpha * v + (1 - alpha) * g**2 and steps "
        "p -= lr * g / (sqrt(v) + eps)."
    ),
    "Adagrad": ("torch.optim.Adagrad keeps sum += g**2 and steps p -= lr * g / (sqrt(sum) + eps)."),
}


def _label(cls: Callable[..., Any]) -> str:
    name = getattr(cls, "__name__", type(cls).__name__)
    module = getattr(cls, "__module__", "") or ""
    return f"torch.optim.{name}" if module.startswith("torch.optim") else name


def _parameters(
    init: dict[str, torch.Tensor], device: torch.device, dtype: torch.dtype
) -> list[nn.Parameter]:
    return [nn.Parameter(t.to(device, dtype).clone()) for t in init.values()]


def _relative(moved: list[tuple[str, torch.Tensor, torch.Tensor]], name: str) -> float:
    """The largest error of a parameter's update, relative to the update's size."""
    _, ours, ref = next(m for m in moved if m[0] == name)
    return float((ours - ref).abs().max() / ref.abs().max().clamp_min(1e-300))


def check_optimizer(
    learner_cls: Callable[..., Any],
    torch_cls: type[torch.optim.Optimizer],
    kwargs: Mapping[str, Any],
    steps: int = 10,
    *,
    learner_kwargs: Mapping[str, Any] | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float64,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
) -> None:
    """Check that ``learner_cls`` moves parameters as ``torch_cls`` does, for ``steps`` steps.

    Args:
        learner_cls: the learner's optimizer class (or factory), called as
            ``learner_cls(params, **kwargs)``.
        torch_cls: the reference, e.g. ``torch.optim.SGD``.
        kwargs: hyperparameters for both, e.g. ``{"lr": 0.1, "momentum": 0.9}``.
        steps: how many steps to compare.
        learner_kwargs: the learner's hyperparameters when they are spelled differently
            (e.g. ``beta1=0.9, beta2=0.999`` for ``betas=(0.9, 0.999)``).
        device: where the parameters live (the gradients are drawn on the CPU).
        dtype: the parameters' dtype.
        rtol, atol: override the defaults of :mod:`autograder.checks.tolerances` for the updates.
        seed: seed of the initial values and gradients.

    Raises:
        CheckFailed: naming the first step and parameter where the updates differ.
    """
    __tracebackhide__ = True
    device = torch.device(device)
    gen = torch.Generator().manual_seed(seed)
    init = {
        n: torch.randn(shape, generator=gen, dtype=torch.float64)
        for n, (shape, _) in _PROBLEM.items()
    }
    grads = [
        {
            n: scale * torch.randn(shape, generator=gen, dtype=torch.float64)
            for n, (shape, scale) in _PROBLEM.items()
        }
        for _ in range(steps)
    ]
    ref_params, our_params = _parameters(init, device, dtype), _parameters(init, device, dtype)
    ref = torch_cls(ref_params, **kwargs)
    them, you = _label(torch_cls), f"your {_label(learner_cls)}"
    hyper = dict(kwargs if learner_kwargs is None else learner_kwargs)
    try:
        ours = learner_cls(our_params, **hyper)
    except TypeError as exc:
        _fail(
            f"{you} could not be created as {_label(learner_cls)}(params, "
            f"{', '.join(f'{k}=...' for k in hyper)}): {exc}\n"
            "  likely cause: the constructor's parameter names differ from torch.optim's."
        )

    names = list(_PROBLEM)
    for step in range(1, steps + 1):
        before_ref = [p.detach().cpu().clone() for p in ref_params]
        before_ours = [p.detach().cpu().clone() for p in our_params]
        for p, q, n in zip(ref_params, our_params, names, strict=True):
            g = grads[step - 1][n]
            p.grad = g.to(device, dtype).clone()
            q.grad = g.to(device, dtype).clone()
        ref.step()
        ours.step()
        moved = [
            (n, q.detach().cpu() - q0, p.detach().cpu() - p0)
            for n, p, q, p0, q0 in zip(
                names, ref_params, our_params, before_ref, before_ours, strict=True
            )
        ]
        tol = {"rtol": rtol, "atol": atol}
        failing = [n for n, a, b in moved if _mismatch(a, b, name=n, **tol)]
        if not failing:
            continue
        specific = None
        if not any(a.any() for _, a, _ in moved):
            specific = (
                f"{you} left the parameters unchanged: step() must update them in place "
                "(p -= lr * p.grad under torch.no_grad(), or p.add_(...)); p = p - ... only "
                "rebinds a local name."
            )
        elif "bias" in failing and _relative(moved, "bias") > 10 * max(
            (_relative(moved, n) for n in failing if n != "bias"), default=0.0
        ):
            failing = ["bias"]
            specific = (
                "the update of bias, whose gradients are tiny (about 1e-5), is the most wrong: "
                "eps is in another place than torch's (added to the square root, outside it), "
                "or missing."
            )
        n, a, b = next(m for m in moved if m[0] == failing[0])
        message = _mismatch(a, b, name=f"the update of {n}", hint=specific, **tol)
        lines = [f"{you} and {them} part at step {step} of {steps}, on parameter {n}.", message]
        if step == 1:
            cause = (
                "the very first update differs: check the update rule itself (its sign, lr, "
                "weight decay) and, for Adam-like optimizers, bias correction with t = 1 at "
                "the first step."
            )
        else:
            cause = (
                "the earlier steps match, so the rule is right but the state kept between "
                "steps is not: a momentum or moving-average buffer that is not kept, or "
                "updated in another order, or a step count t that does not advance."
            )
        if specific is None:
            lines.append(f"  {'also' if 'likely cause' in message else 'likely cause'}: {cause}")
        rule = _RULES.get(getattr(torch_cls, "__name__", ""), "")
        if rule:
            lines.append(f"  reminder: {rule}")
        _fail("\n".join(lines))
