"""Checks on values: closeness, shape, dtype, finiteness, with messages written for a learner.

Each check raises :class:`CheckFailed` (an ``AssertionError``, so nbgrader and pytest count it
as a failed test) whose message says what was expected, what came, how far off and where, and
where it can, a likely cause. Messages describe the *result* only: they never print a test's
inputs, so a hidden test's data stays hidden.

All comparisons happen on the CPU (results may come from a GPU), with the tolerances of
:mod:`autograder.tolerances`. ``compare`` prints a one-line comparison for lessons instead of
raising.

Left out: gradients, modules, optimizers and training runs (their own modules build on these).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .tolerances import tolerance_for

__all__ = [
    "CheckFailed",
    "assert_close",
    "check_shape",
    "check_dtype",
    "check_finite",
    "compare",
]


class CheckFailed(AssertionError):
    """A check did not pass; the message is meant for the learner."""


def _fail(message: str) -> None:
    __tracebackhide__ = True  # IPython and pytest hide this frame from the traceback
    raise CheckFailed(message) from None


def _to_tensor(value: Any, name: str) -> torch.Tensor:
    """A CPU tensor from a tensor, NumPy array, number or nested list; a clear error otherwise."""
    __tracebackhide__ = True
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, np.ndarray | np.generic):
        return torch.from_numpy(np.asarray(value))
    if isinstance(value, bool | int | float):
        return torch.tensor(value)
    if isinstance(value, list | tuple):
        try:
            return torch.tensor(value)
        except (TypeError, ValueError, RuntimeError):
            pass
    if value is None:
        _fail(
            f"{name} is None: the function returned nothing. "
            "Did you forget a `return` statement?"
        )
    _fail(f"{name} should be a tensor, but it is a {type(value).__name__}.")
    raise AssertionError  # unreachable; keeps type checkers content


def _fmt(x: float) -> str:
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return str(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return f"{x:.6g}"


def _shape(t: torch.Tensor) -> str:
    return "(" + ", ".join(str(s) for s in t.shape) + ("," if t.dim() == 1 else "") + ")"


def _shape_hint(actual: torch.Size, expected: torch.Size) -> str:
    """A likely cause for a shape mismatch, or an empty string."""
    if len(actual) == len(expected) and tuple(actual) == tuple(reversed(expected)):
        return "the dimensions are reversed: is a matrix transposed (W vs W.T)?"
    if len(expected) == 0 and len(actual) > 0:
        return "a single number was expected: did you forget to reduce (mean or sum)?"
    if len(actual) == 0 and len(expected) > 0:
        return "one value per element was expected, but the result was reduced to one number."
    if len(actual) + 1 == len(expected) and 1 in expected:
        return "a dimension of size 1 is missing: reduce with keepdim=True, or unsqueeze."
    if len(actual) == len(expected) + 1 and 1 in actual:
        return "there is an extra dimension of size 1: squeeze it, or reduce without keepdim."
    if len(actual) + 1 == len(expected):
        return "one dimension is missing: was the result reduced over an axis that should stay?"
    if len(actual) == len(expected) and math.prod(actual) == math.prod(expected):
        return "the same number of elements in another layout: check view/reshape and the order of dimensions."
    if len(actual) == len(expected):
        diffs = [i for i, (a, e) in enumerate(zip(actual, expected, strict=True)) if a != e]
        if len(diffs) == 1:
            return f"only dimension {diffs[0]} differs: check the computation along that axis."
    return ""


def check_shape(value: Any, shape: Sequence[int | None], name: str = "result") -> None:
    """Check that ``value`` is a tensor of ``shape``; ``None`` in ``shape`` matches any size."""
    __tracebackhide__ = True
    t = _to_tensor(value, name)
    expected = tuple(shape)
    ok = t.dim() == len(expected) and all(
        e is None or e == a for a, e in zip(t.shape, expected, strict=True)
    )
    if ok:
        return
    shown = "(" + ", ".join("*" if e is None else str(e) for e in expected) + ")"
    msg = f"{name} has shape {_shape(t)}, but shape {shown} was expected."
    if None not in expected:
        hint = _shape_hint(t.shape, torch.Size(expected))  # type: ignore[arg-type]
        if hint:
            msg += f"\n  likely cause: {hint}"
    _fail(msg)


def check_dtype(value: Any, dtype: torch.dtype, name: str = "result") -> None:
    """Check that ``value`` is a tensor of ``dtype``."""
    __tracebackhide__ = True
    t = _to_tensor(value, name)
    if t.dtype == dtype:
        return
    msg = f"{name} has dtype {t.dtype}, but {dtype} was expected."
    if dtype.is_floating_point and not t.dtype.is_floating_point:
        msg += (
            "\n  likely cause: integer arithmetic, or a tensor made from Python ints; "
            "convert with .float() or create it with dtype=..."
        )
    elif dtype.is_floating_point and t.dtype.is_floating_point:
        msg += "\n  likely cause: a constant tensor created with another dtype; keep the input's dtype (x.dtype)."
    _fail(msg)


def _nonfinite_message(t: torch.Tensor, name: str) -> str:
    bad = ~torch.isfinite(t)
    count = int(bad.sum())
    first = tuple(int(i) for i in torch.nonzero(bad)[0]) if t.dim() else ()
    kinds = []
    if torch.isnan(t).any():
        kinds.append("NaN")
    if torch.isinf(t).any():
        kinds.append("inf")
    return (
        f"{name} contains {' and '.join(kinds)} ({count} of {t.numel()} elements, "
        f"first at index {first}).\n"
        "  likely cause: overflow or an undefined operation: exp of a large number "
        "(subtract the maximum first), log of 0, or a division by 0."
    )


def check_finite(value: Any, name: str = "result") -> None:
    """Check that ``value`` holds no NaN and no infinity."""
    __tracebackhide__ = True
    t = _to_tensor(value, name)
    if t.is_floating_point() or t.is_complex():
        if not torch.isfinite(t).all():
            _fail(_nonfinite_message(t, name))


def _value_hint(a: torch.Tensor, e: torch.Tensor, rtol: float, atol: float) -> str:
    """A likely cause for values that differ, from a few common patterns; empty if none fits."""
    if e.numel() == 0 or not torch.isfinite(a).all():
        return ""
    scale = atol + rtol * e.abs()
    if torch.all((a + e).abs() <= scale) and e.abs().max() > atol:
        return "the sign is flipped (a gradient of -f instead of f, or the subtraction reversed)."
    if e.dim() == 2 and e.shape[0] == e.shape[1] and torch.all((a - e.T).abs() <= scale):
        return "the result is the transpose of the expected one."
    nonzero = e.abs() > 10 * atol
    if nonzero.sum() >= 2:
        ratio = a[nonzero] / e[nonzero]
        r = float(ratio.median())
        if abs(r - 1) > 1e-3 and torch.allclose(ratio, torch.full_like(ratio, r), rtol=1e-3):
            n_hint = ""
            inv = 1 / r if r != 0 else float("inf")
            if abs(r - round(r)) < 1e-3 and round(r) > 1:
                n_hint = f" (= {round(r)}: a sum where a mean belongs?)"
            elif r != 0 and abs(inv - round(inv)) < 1e-3 and round(inv) > 1:
                n_hint = f" (= 1/{round(inv)}: a mean where a sum belongs, or a double division?)"
            return f"every value is off by the same factor {_fmt(r)}{n_hint}."
    diff = a - e
    if e.numel() >= 2 and float(diff.abs().min()) > atol and torch.allclose(
        diff, torch.full_like(diff, float(diff.flatten()[0])), rtol=1e-4, atol=atol
    ):
        return f"every value is off by the same constant {_fmt(float(diff.flatten()[0]))} (a missing or extra term?)."
    return ""


def assert_close(
    actual: Any,
    expected: Any,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    name: str = "result",
    check_dtype: bool = True,
    hint: str | None = None,
) -> None:
    """Check that ``actual`` equals ``expected`` within tolerance, elementwise.

    Args:
        actual: the learner's result (tensor, array, number or nested list; any device).
        expected: the reference result.
        rtol, atol: override the defaults of :func:`autograder.tolerances.tolerance_for`.
        name: how the message calls the value, e.g. ``"softmax(x)"`` or ``"grad_W"``.
        check_dtype: whether a different dtype is a failure.
        hint: a likely cause to add to the message when the values differ (the test knows
            its exercise's classic mistakes better than a generic pattern does).

    Raises:
        CheckFailed: with shapes, dtypes, the largest absolute and relative error, where the
            largest difference is, and a likely cause.
    """
    __tracebackhide__ = True
    a = _to_tensor(actual, name)
    e = _to_tensor(expected, f"the expected {name}")
    if a.shape != e.shape:
        msg = f"{name} has shape {_shape(a)}, but shape {_shape(e)} was expected."
        cause = _shape_hint(a.shape, e.shape)
        if cause:
            msg += f"\n  likely cause: {cause}"
        _fail(msg)
    if check_dtype and a.dtype != e.dtype:
        check_dtype_fn(a, e.dtype, name)
    tol = tolerance_for(a.dtype, e.dtype)
    rtol = tol.rtol if rtol is None else rtol
    atol = tol.atol if atol is None else atol

    if a.dtype == torch.bool or e.dtype == torch.bool:
        a, e = a.to(torch.int64), e.to(torch.int64)
    work = torch.promote_types(a.dtype, e.dtype)
    if not (work.is_floating_point or work.is_complex):
        work = torch.float64
    if work in (torch.float16, torch.bfloat16):
        work = torch.float32
    a, e = a.to(work), e.to(work)

    if (e.is_floating_point() or e.is_complex()) and torch.isfinite(e).all() and not torch.isfinite(a).all():
        _fail(_nonfinite_message(a, name))

    close = torch.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
    if bool(close.all()):
        return

    abs_err = (a - e).abs()
    abs_err = torch.where(torch.isnan(abs_err), torch.full_like(abs_err, float("inf")), abs_err)
    rel_err = abs_err / e.abs().clamp_min(torch.finfo(abs_err.dtype).tiny)
    worst = int(torch.argmax(torch.where(close, torch.zeros_like(abs_err), abs_err + 1)))
    idx = tuple(int(i) for i in np.unravel_index(worst, tuple(a.shape))) if a.dim() else ()
    n_bad = int((~close).sum())

    lines = [f"{name} is not close to the expected values."]
    lines.append(
        f"  shape {_shape(a)}, dtype {actual.dtype if isinstance(actual, torch.Tensor) else a.dtype}; "
        f"tolerance rtol={rtol:.0e}, atol={atol:.0e}"
    )
    if a.numel() > 1:
        lines.append(f"  mismatched elements: {n_bad} / {a.numel()} ({100 * n_bad / a.numel():.1f}%)")
    where = f" at index {idx}" if a.dim() else ""
    lines.append(
        f"  largest difference{where}: got {_fmt(a.flatten()[worst].item())}, "
        f"expected {_fmt(e.flatten()[worst].item())}"
    )
    lines.append(
        f"  max absolute error {_fmt(float(abs_err.max()))}, "
        f"max relative error {_fmt(float(rel_err.max()))}"
    )
    cause = hint or _value_hint(a, e, rtol, atol)
    if cause:
        lines.append(f"  likely cause: {cause}")
    _fail("\n".join(lines))


# ``assert_close`` has a parameter named ``check_dtype``; keep a second name for the function.
check_dtype_fn = check_dtype


def compare(name: str, ours: Any, theirs: Any, *, rtol: float | None = None, atol: float | None = None) -> bool:
    """Print how ``ours`` compares with ``theirs`` (PyTorch's): exact, close, and max difference.

    For lessons, after Karpathy's ``cmp``: it prints rather than raises, and returns whether the
    two are close.
    """
    a = _to_tensor(ours, name)
    b = _to_tensor(theirs, name)
    if a.shape != b.shape:
        print(f"{name:<20} | shapes differ: {_shape(a)} vs {_shape(b)}")
        return False
    tol = tolerance_for(a.dtype, b.dtype)
    rtol = tol.rtol if rtol is None else rtol
    atol = tol.atol if atol is None else atol
    work = torch.promote_types(a.dtype, b.dtype)
    if not work.is_floating_point:
        work = torch.float64
    a, b = a.to(work), b.to(work)
    exact = bool(torch.equal(a, b))
    close = bool(torch.allclose(a, b, rtol=rtol, atol=atol))
    maxdiff = float((a - b).abs().max()) if a.numel() else 0.0
    print(f"{name:<20} | exact: {exact!s:5} | close: {close!s:5} | max diff: {maxdiff:.2e}")
    return close
