"""Training checks: the loss goes down, the held-out accuracy is reached, in the time allowed.

:func:`check_loss_decreases` compares the average loss over the last steps with the average
over the first steps (averages over windows, so the noise of minibatches does not decide), and
reads the curve for a likely cause when it fails (going up, flat, oscillating, NaN).

:func:`check_accuracy` computes a model's accuracy on held-out data (logits, probabilities or
labels; any device; evaluation mode and no gradients during the check) and fails below a
threshold, saying whether the model is at chance level or predicts one class only.

:func:`time_budget` (a context manager) and :func:`train_within` (a call) measure wall-clock
time and fail *after* the work when it took longer than its budget. They never interrupt the
work: a signal or a thread that stops a running cell would leave a Jupyter kernel in an unknown
state. On CUDA they wait for queued kernels before reading the clock.

A test cell of an exercise that trains a model reads::

    with time_budget(60, what="train(model)"):
        losses = train(model, x_train, y_train)
    check_loss_decreases(losses, factor=0.5)
    check_accuracy(model, x_test, y_test, threshold=0.9)

Left out: interrupting runaway training (nbgrader's per-cell timeout does that), learning-rate
or overfitting diagnostics, and metrics other than accuracy.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import torch
from torch import nn

from .values import _fail, _to_tensor

__all__ = ["check_loss_decreases", "check_accuracy", "time_budget", "train_within", "Budget"]

T = TypeVar("T")


def _losses(losses: Sequence[Any], name: str) -> list[float]:
    values = []
    for v in losses:
        t = _to_tensor(v, name)
        if t.numel() != 1:
            _fail(
                f"each {name} should be one number, but one has shape {tuple(t.shape)}.\n"
                "  likely cause: the loss was not reduced (mean or sum) before it was recorded."
            )
        values.append(float(t.reshape(())))
    return values


def check_loss_decreases(
    losses: Sequence[Any],
    *,
    factor: float = 0.9,
    window: int | None = None,
    name: str = "loss",
) -> None:
    """Check that the loss went down: the last window's average <= ``factor`` x the first's.

    Args:
        losses: the recorded losses, in order (numbers or one-element tensors, any device).
        factor: the largest allowed ratio final / initial (0.5: the loss must halve).
        window: how many values each average takes (default: a tenth of the run, at least 1).
        name: how the message calls the values.

    Raises:
        CheckFailed: with both averages, their ratio and a likely cause.
    """
    __tracebackhide__ = True
    values = _losses(losses, name)
    if len(values) < 2:
        _fail(f"{len(values)} {name} value(s) recorded: at least 2 are needed to see a decrease.")
    bad = [i for i, v in enumerate(values) if not math.isfinite(v)]
    if bad:
        _fail(
            f"the {name} became {values[bad[0]]} at index {bad[0]} "
            f"(value {bad[0] + 1} of {len(values)}).\n"
            "  likely cause: a learning rate too high (the parameters blew up), or log of 0 / "
            "exp of a large number in the loss (use the log-sum-exp form)."
        )
    w = window or max(1, len(values) // 10)
    w = min(w, len(values) // 2) or 1
    first, last = values[:w], values[-w:]
    initial, final = sum(first) / w, sum(last) / w
    if initial > 0 and final <= factor * initial:
        return
    if initial <= 0 and final < initial:
        return
    ratio = final / initial if initial != 0 else math.inf
    spread = max(last) - min(last)
    lines = [
        f"the {name} did not decrease enough: the average of the last {w} values is "
        f"{final:.4g}, of the first {w} values {initial:.4g} "
        f"(ratio {ratio:.3g}; at most {factor:g} was required)."
    ]
    if final > initial * 1.05:
        cause = (
            "the loss went up: the update may have the wrong sign (p += lr * grad), or the "
            "learning rate is too high."
        )
    elif spread > 0.5 * abs(final):
        cause = "the loss jumps around at the end: the learning rate is probably too high."
    elif abs(final - initial) <= 0.01 * abs(initial):
        cause = (
            "the loss barely moved: optimizer.step() not called, the model's parameters not "
            "given to the optimizer, gradients cut by .detach(), or a learning rate far too small."
        )
    else:
        cause = "it is learning, slowly: train longer or raise the learning rate."
    lines.append(f"  likely cause: {cause}")
    _fail("\n".join(lines))


def _predict(model: Any, x: torch.Tensor, batch_size: int | None) -> torch.Tensor:
    """Predicted labels on the CPU, from a module (in eval mode, no grad) or a function."""
    device, dtype, was_training = x.device, x.dtype, False
    if isinstance(model, nn.Module):
        param = next(iter(model.parameters()), None)
        if param is not None:
            device, dtype = param.device, param.dtype
        was_training = model.training
        model.eval()
    if x.is_floating_point():
        x = x.to(dtype)
    step = batch_size or max(1, len(x))
    outs = []
    try:
        with torch.no_grad():
            for start in range(0, len(x), step):
                out = model(x[start : start + step].to(device))
                outs.append(_to_tensor(out, "the model's output"))
    finally:
        if isinstance(model, nn.Module):
            model.train(was_training)
    out = torch.cat(outs) if outs else torch.zeros(0, dtype=torch.long)
    return _labels(out, len(x))


def _labels(out: torch.Tensor, n: int) -> torch.Tensor:
    """Predicted labels from outputs for ``n`` examples: scores (N, C), one score each, or labels."""
    __tracebackhide__ = True
    if not out.is_floating_point():
        return out.reshape(-1) if out.dim() == 2 and out.shape[1] == 1 else out
    if out.dim() == 2 and out.shape[1] > 1:
        return out.argmax(dim=1)
    scores = out.reshape(-1)
    if scores.numel() != n:
        _fail(
            f"the model gives outputs of shape {tuple(out.shape)} for {n} examples: one "
            "score per class (N, C), one score per example (N,), or one label per example "
            "was expected."
        )
    if bool(((scores >= 0) & (scores <= 1)).all()):
        return (scores >= 0.5).long()  # probabilities
    return (scores > 0).long()  # logits


def check_accuracy(
    model: nn.Module | Callable[[torch.Tensor], Any] | torch.Tensor,
    x: Any,
    y: Any,
    threshold: float,
    *,
    batch_size: int | None = None,
    name: str = "held-out accuracy",
    hint: str | None = None,
) -> float:
    """Check that ``model`` classifies at least a ``threshold`` fraction of ``(x, y)`` right.

    Args:
        model: an ``nn.Module`` (run in eval mode without gradients, on its own device, then
            put back in its mode), a function ``x -> outputs``, or the outputs themselves
            (then ``x`` is not used: pass ``None``). Outputs may be class scores
            (N, C) (argmax), one score per example for two classes (probabilities if all lie
            in [0, 1], threshold 0.5; else logits, threshold 0), or integer labels.
        x, y: the inputs and the integer labels.
        threshold: the least accuracy accepted, in [0, 1].
        batch_size: predict in batches of this size (default: all at once).
        name: how the message calls the accuracy.
        hint: the likely cause to name when the accuracy is too low (instead of a guess from
            the predictions).

    Returns:
        The accuracy, so a test can report or reuse it.

    Raises:
        CheckFailed: with the accuracy, the count of correct predictions and a likely cause.
    """
    __tracebackhide__ = True
    labels = _to_tensor(y, "y").reshape(-1).long()
    if callable(model):
        inputs = x if isinstance(x, torch.Tensor) else _to_tensor(x, "x")
        predicted = _predict(model, inputs, batch_size).reshape(-1).long()
    else:  # the model's outputs, computed already
        predicted = _labels(_to_tensor(model, "the model's outputs"), len(labels))
    if predicted.numel() != labels.numel():
        _fail(
            f"the model gives {predicted.numel()} predictions for {labels.numel()} labels.\n"
            "  likely cause: the output is not one row per example (a flatten or a transpose?)."
        )
    correct = int((predicted == labels).sum())
    accuracy = correct / max(1, labels.numel())
    if accuracy >= threshold:
        return accuracy
    n_classes = int(max(labels.max(), predicted.max())) + 1 if labels.numel() else 1
    majority = int(torch.bincount(labels).max()) / labels.numel() if labels.numel() else 0.0
    lines = [
        f"{name} is {accuracy:.3f} ({correct} of {labels.numel()} right), but at least "
        f"{threshold:.3f} was required."
    ]
    if labels.numel() and predicted.unique().numel() == 1:
        cause = (
            f"the model predicts class {int(predicted[0])} for every example: a learning rate "
            "too high, inputs not normalized, or dead ReLUs."
        )
    elif accuracy <= max(1 / max(n_classes, 1), majority) + 0.05:
        cause = (
            "the model is at chance level: is it trained (and is this the trained model)? "
            "Are the labels still aligned with the inputs after shuffling?"
        )
    else:
        cause = (
            "the model learned something, not enough: train longer, raise the learning rate, "
            "or check that training used the same preprocessing as this data."
        )
    lines.append(f"  likely cause: {hint or cause}")
    _fail("\n".join(lines))


def _sync() -> None:
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


@dataclass
class Budget:
    """The clock of a :func:`time_budget` block: read ``elapsed`` or ``remaining`` inside."""

    seconds: float
    what: str
    start: float = field(default_factory=lambda: time.perf_counter())
    stop: float | None = None

    @property
    def elapsed(self) -> float:
        return (self.stop if self.stop is not None else time.perf_counter()) - self.start

    @property
    def remaining(self) -> float:
        return self.seconds - self.elapsed


def _over_budget(what: str, elapsed: float, seconds: float) -> str:
    return (
        f"{what} took {elapsed:.1f} s, more than its budget of {seconds:g} s "
        f"({100 * (elapsed / seconds - 1):.0f}% over).\n"
        "  likely cause: a Python loop over single examples or elements instead of batched "
        "tensor operations, a larger model or more epochs than asked for, or work repeated "
        "inside the loop (moving data to the device, building the model); timings vary on a "
        "shared machine, so aim well under the budget."
    )


@contextmanager
def time_budget(seconds: float, what: str = "training") -> Iterator[Budget]:
    """Fail after the block if it took longer than ``seconds`` of wall-clock time.

    The block is never interrupted; if it raises, its own error goes through unchanged.
    Inside, ``budget.elapsed`` and ``budget.remaining`` let a loop stop early on its own::

        with time_budget(60, what="training") as budget:
            for epoch in range(100):
                ...
                if budget.remaining < 5:
                    break
    """
    __tracebackhide__ = True
    _sync()
    budget = Budget(seconds=seconds, what=what)
    yield budget
    _sync()
    budget.stop = time.perf_counter()
    if budget.elapsed > seconds:
        _fail(_over_budget(what, budget.elapsed, seconds))


def train_within(
    fn: Callable[..., T], seconds: float, *args: Any, what: str = "training", **kwargs: Any
) -> T:
    """Call ``fn(*args, **kwargs)`` and return its result; fail if it took over ``seconds``."""
    __tracebackhide__ = True
    with time_budget(seconds, what=what):
        result = fn(*args, **kwargs)
    return result
