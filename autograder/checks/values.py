"""Checks on values: closeness, shape, dtype, finiteness, with messages written for a learner.

Each check raises :class:`CheckFailed` (an ``AssertionError``, so nbgrader and pytest count it
as a failed test) whose message says what was expected, what came, how far off and where, and
where it can, a likely cause. Messages describe the *result* only: they never print a test's
inputs, so a hidden test's data stays hidden.

All comparisons happen on the CPU (results may come from a GPU), with the tolerances of
:mod:`autograder.checks.tolerances`. ``compare`` prints a one-line comparison for lessons instead of
raising.

Values may be tensors (any device, with or without ``requires_grad``), NumPy arrays, Python
numbers or nested lists. Python numbers carry no dtype: ``assert_close`` checks dtypes only
when both sides are tensors or arrays, and reads Python floats as float64.

Besides closeness: ``check_equal`` (exact plain values: names, counts, flags), ``check_between``
(every value within bounds), ``check_uniform`` (values that fill a range, as a uniform
initialization does) and ``check_dropout`` (an inverted-dropout output of an input).

Left out: gradients, modules, optimizers and training runs (their own modules build on these).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NoReturn

import numpy as np
import torch

from .tolerances import tolerance_for

__all__ = [
    "CheckFailed",
    "assert_close",
    "check_shape",
    "check_dtype",
    "check_finite",
    "check_equal",
    "check_between",
    "check_uniform",
    "check_dropout",
    "compare",
]


class CheckFailed(AssertionError):
    """A check did not pass; the message is meant for the learner."""


def _fail(message: str) -> NoReturn:
    __tracebackhide__ = True  # IPython and pytest hide this frame from the traceback
    raise CheckFailed(message) from None


def _has_dtype(value: Any) -> bool:
    return isinstance(value, torch.Tensor | np.ndarray | np.generic)


def _on_cuda(*values: Any) -> bool:
    return any(isinstance(v, torch.Tensor) and v.is_cuda for v in values)


def _to_tensor(value: Any, name: str) -> torch.Tensor:
    """A CPU tensor from a tensor, NumPy array, number or nested list; a clear error otherwise."""
    __tracebackhide__ = True
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, np.ndarray | np.generic):
        # A writable, positively strided copy: torch.from_numpy warns on read-only arrays
        # and refuses negative strides (x[::-1]).
        array = np.array(value, copy=True, order="C")
        try:
            return torch.from_numpy(array)
        except TypeError:
            _fail(f"{name} is a NumPy array of dtype {array.dtype}, which is not numeric.")
    if value is None:
        _fail(
            f"{name} is None, but a tensor was expected.\n"
            "  likely cause: the function returned nothing: did you forget a `return` statement?"
        )
    if isinstance(value, list | tuple) and any(
        isinstance(v, torch.Tensor | np.ndarray | list | tuple) for v in value
    ):
        parts = [_to_tensor(v, name) for v in value]
        if len({p.shape for p in parts}) == 1:
            return torch.stack(parts)
        _fail(
            f"{name} is a {type(value).__name__} of pieces of different shapes, but one "
            "tensor was expected.\n"
            "  likely cause: combine the pieces with torch.stack or torch.cat."
        )
    if isinstance(value, bool | int | float | complex | list | tuple):
        try:
            t = torch.tensor(value)
        except (TypeError, ValueError, RuntimeError):
            _fail(f"{name} should be a tensor, but it is a {type(value).__name__} of mixed values.")
        if t.is_floating_point():  # Python floats are double precision
            return t.to(torch.float64)
        if t.is_complex():
            return t.to(torch.complex128)
        return t
    _fail(f"{name} should be a tensor, but it is a {type(value).__name__}.")


def _fmt(x: float | complex) -> str:
    if isinstance(x, bool | int):
        return str(x)
    if isinstance(x, complex):
        return f"{x:.6g}"
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return f"{x:.6g}"


def _shape(shape: torch.Size | Sequence[int | None] | torch.Tensor) -> str:
    dims = tuple(shape.shape) if isinstance(shape, torch.Tensor) else tuple(shape)
    inner = ", ".join("*" if d is None else str(d) for d in dims)
    return "(" + inner + ("," if len(dims) == 1 else "") + ")"


def _dtype(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _shape_hint(actual: Sequence[int], expected: Sequence[int]) -> str:
    """A likely cause for a shape mismatch, or an empty string."""
    a, e = tuple(actual), tuple(expected)
    if len(a) == len(e) >= 2 and a == e[::-1]:
        return "the dimensions are reversed: is a matrix transposed (W vs W.T)?"
    if not e and a:
        return "a single number was expected: did you forget to reduce (mean or sum)?"
    if not a and e:
        return "one value per element was expected, but the result was reduced to one number."
    squeezed_a, squeezed_e = tuple(d for d in a if d != 1), tuple(d for d in e if d != 1)
    if squeezed_a == squeezed_e:
        if len(a) < len(e):
            return "a dimension of size 1 is missing: reduce with keepdim=True, or unsqueeze."
        if len(a) > len(e):
            return "there is an extra dimension of size 1: squeeze it, or reduce without keepdim."
        return "a dimension of size 1 is in another place: check the unsqueeze/view."
    if len(a) > len(e) and a[len(a) - len(e) :] == e:
        return (
            f"extra leading dimensions {_shape(a[: len(a) - len(e)])}: one value per example "
            "where one for the whole batch was expected; a broadcast input's gradient "
            "(a bias, say) is summed over the batch."
        )
    if len(a) < len(e) and e[len(e) - len(a) :] == a:
        return "the leading (batch) dimensions are missing: was the result reduced over the batch?"
    if len(a) + 1 == len(e):
        return "one dimension is missing: was the result reduced over an axis that should stay?"
    if len(a) == len(e) + 1:
        return (
            "there is one dimension too many: is a reduction (sum or mean) over one axis missing?"
        )
    if len(a) == len(e) and sorted(a) == sorted(e):
        return "the same dimensions in another order: check transpose/permute and the order of dimensions."
    if len(a) == len(e) and math.prod(a) == math.prod(e):
        return "the same number of elements in another layout: check view/reshape."
    if len(a) == len(e):
        diffs = [i for i, (x, y) in enumerate(zip(a, e, strict=True)) if x != y]
        if len(diffs) == 1:
            i = diffs[0]
            if a[i] == 1:
                return f"dimension {i} was reduced: was the sum or mean taken over the wrong axis?"
            return f"only dimension {i} differs: check the computation along that axis."
    return ""


def _hinted(message: str, hint: str | None) -> str:
    """``message`` with ``hint`` as its likely cause (replacing one the message had)."""
    if not hint:
        return message
    return message.split("\n  likely cause:")[0] + f"\n  likely cause: {hint}"


def _tensor_or_fail(value: Any, name: str, hint: str | None) -> torch.Tensor:
    __tracebackhide__ = True
    try:
        return _to_tensor(value, name)
    except CheckFailed as exc:
        _fail(_hinted(str(exc), hint))


def check_shape(
    value: Any, shape: Sequence[int | None] | int, name: str = "result", *, hint: str | None = None
) -> None:
    """Check that ``value`` is a tensor of ``shape``; ``None`` in ``shape`` matches any size.
    ``hint``, if given, is the likely cause the message names."""
    __tracebackhide__ = True
    t = _tensor_or_fail(value, name, hint)
    expected = (shape,) if isinstance(shape, int) else tuple(shape)
    ok = t.dim() == len(expected) and all(
        e is None or e == a for a, e in zip(t.shape, expected, strict=True)
    )
    if ok:
        return
    msg = f"{name} has shape {_shape(t)}, but shape {_shape(expected)} was expected."
    if None not in expected:
        cause = _shape_hint(t.shape, expected)  # type: ignore[arg-type]
        if cause:
            msg += f"\n  likely cause: {cause}"
    _fail(_hinted(msg, hint))


def _dtype_problem(actual: torch.dtype, expected: torch.dtype, name: str) -> str | None:
    """The message for a tensor of dtype ``actual`` where ``expected`` belongs, or None."""
    if actual == expected:
        return None
    msg = f"{name} has dtype {_dtype(actual)}, but {_dtype(expected)} was expected."
    cause = ""
    if expected.is_floating_point and not actual.is_floating_point:
        cause = (
            "integer arithmetic, or a tensor made from Python ints; "
            "convert with .float() or create it with dtype=..."
        )
    elif expected == torch.float64 and actual.is_floating_point:
        cause = (
            "a tensor created inside the function without dtype= (torch.zeros(n) is float32) "
            "lost precision; create it with dtype=x.dtype or use torch.zeros_like(x)."
        )
    elif expected.is_floating_point and actual.is_floating_point:
        cause = (
            "a tensor made from a NumPy array (float64) or created with another dtype; "
            "keep the input's dtype (x.dtype) or convert with .to(x.dtype)."
        )
    elif expected == torch.bool:
        cause = "a comparison such as (x > 0) gives a bool tensor directly."
    elif not expected.is_floating_point and actual.is_floating_point:
        cause = (
            "integers (indices, labels, counts) were expected: argmax gives int64, "
            "but a division with / makes floats; use // or .long()."
        )
    if cause:
        msg += f"\n  likely cause: {cause}"
    return msg


def check_dtype(
    value: Any, dtype: torch.dtype, name: str = "result", *, hint: str | None = None
) -> None:
    """Check that ``value`` is a tensor (or array) of ``dtype``; ``hint`` as in :func:`check_shape`."""
    __tracebackhide__ = True
    if isinstance(value, bool | int | float | complex):
        _fail(
            _hinted(
                f"{name} is a Python {type(value).__name__}, but a tensor of dtype "
                f"{_dtype(dtype)} was expected.\n"
                "  likely cause: .item() or float() turned the tensor into a number; "
                "return the tensor itself.",
                hint,
            )
        )
    if isinstance(value, list | tuple):
        _fail(
            _hinted(
                f"{name} is a Python {type(value).__name__}, but a tensor of dtype "
                f"{_dtype(dtype)} was expected.\n"
                "  likely cause: build it with torch.tensor(...), or torch.stack a list of tensors.",
                hint,
            )
        )
    t = _tensor_or_fail(value, name, hint)
    problem = _dtype_problem(t.dtype, dtype, name)
    if problem:
        _fail(_hinted(problem, hint))


def _nonfinite_message(t: torch.Tensor, name: str) -> str:
    bad = ~torch.isfinite(t)
    count = int(bad.sum())
    kinds = []
    if torch.isnan(t).any():
        kinds.append("NaN")
    if torch.isinf(t).any():
        kinds.append("inf")
    where = ""
    if t.dim():
        first = tuple(int(i) for i in torch.nonzero(bad)[0])
        where = f" ({count} of {t.numel()} elements, first at index {first})"
    return (
        f"{name} contains {' and '.join(kinds)}{where}.\n"
        "  likely cause: overflow or an undefined operation: exp of a large number "
        "(subtract the maximum first), log of 0, or a division by 0."
    )


def check_finite(value: Any, name: str = "result", *, hint: str | None = None) -> None:
    """Check that ``value`` holds no NaN and no infinity; ``hint`` as in :func:`check_shape`."""
    __tracebackhide__ = True
    t = _tensor_or_fail(value, name, hint)
    if (t.is_floating_point() or t.is_complex()) and not torch.isfinite(t).all():
        _fail(_hinted(_nonfinite_message(t, name), hint))


def _value_hint(a: torch.Tensor, e: torch.Tensor, rtol: float, atol: float) -> str:
    """A likely cause for values that differ, from a few common patterns; empty if none fits."""
    if e.numel() == 0 or a.is_complex() or e.is_complex():
        return ""
    if not (torch.isfinite(a).all() and torch.isfinite(e).all()):
        return ""
    scale = atol + rtol * e.abs()
    if float(e.abs().max()) > 10 * atol:
        if float(a.abs().max()) <= atol:
            return "every value is 0: was the result left as created (torch.zeros) or never accumulated?"
        if torch.all((a + e).abs() <= scale):
            return (
                "the sign is flipped (a gradient of -f instead of f, or the subtraction reversed)."
            )
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
                n_hint = f" (= {round(r)}: a sum where a mean belongs, or a factor counted twice?)"
            elif r != 0 and abs(inv - round(inv)) < 1e-3 and round(inv) > 1:
                n_hint = (
                    f" (= 1/{round(inv)}: a mean where a sum belongs, a double division, "
                    "or a constant factor dropped, like the 2 in d(x**2)/dx?)"
                )
            return f"every value is off by the same factor {_fmt(r)}{n_hint}."
    diff = a - e
    offset = float(diff.flatten()[0])
    if (
        e.numel() >= 2
        and float(diff.abs().min()) > atol
        and torch.allclose(diff, torch.full_like(diff, offset), rtol=1e-4, atol=atol)
    ):
        return f"every value is off by the same constant {_fmt(offset)} (a missing or extra term?)."
    return ""


def _mismatch(
    actual: Any,
    expected: Any,
    *,
    name: str,
    rtol: float | None = None,
    atol: float | None = None,
    check_dtype: bool = True,
    hint: str | None = None,
    header: str | None = None,
    want: str = "expected",
) -> str | None:
    """The message explaining how ``actual`` differs from ``expected``, or None if it is close.

    ``header`` replaces the first line; ``want`` names the reference in "got ..., expected ...".
    Shared by every check of the package that compares values.
    """
    __tracebackhide__ = True
    a = _to_tensor(actual, name)
    e = _to_tensor(expected, f"the expected {name}")
    if a.shape != e.shape:
        msg = f"{name} has shape {_shape(a)}, but shape {_shape(e)} was expected."
        cause = _shape_hint(a.shape, e.shape)
        return msg + (f"\n  likely cause: {cause}" if cause else "")
    if check_dtype and _has_dtype(actual) and _has_dtype(expected):
        problem = _dtype_problem(a.dtype, e.dtype, name)
        if problem:
            return problem
    tol = tolerance_for(a.dtype, e.dtype, on_cuda=_on_cuda(actual, expected))
    rtol = tol.rtol if rtol is None else rtol
    atol = tol.atol if atol is None else atol
    dtypes = (
        _dtype(a.dtype) if a.dtype == e.dtype else f"{_dtype(a.dtype)} (expected {_dtype(e.dtype)})"
    )

    if a.dtype == torch.bool or e.dtype == torch.bool:
        a, e = a.to(torch.int64), e.to(torch.int64)
    work = torch.promote_types(a.dtype, e.dtype)
    if not (work.is_floating_point or work.is_complex):
        work = torch.float64
    if work in (torch.float16, torch.bfloat16):
        work = torch.float32
    a, e = a.to(work), e.to(work)

    if torch.isfinite(e).all() and not torch.isfinite(a).all():
        return _hinted(_nonfinite_message(a, name), hint)

    close = torch.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
    if bool(close.all()):
        return None

    abs_err = (a - e).abs()
    abs_err = torch.where(torch.isnan(abs_err), torch.full_like(abs_err, math.inf), abs_err)
    rel_err = torch.where(abs_err == 0, torch.zeros_like(abs_err), abs_err / e.abs())
    worst = int(torch.argmax(torch.where(close, torch.zeros_like(abs_err), abs_err + 1)))
    idx = tuple(int(i) for i in np.unravel_index(worst, tuple(a.shape))) if a.dim() else ()
    n_bad = int((~close).sum())

    lines = [header or f"{name} is not close to the {want} values."]
    lines.append(f"  shape {_shape(a)}, dtype {dtypes}; tolerance rtol={rtol:.0e}, atol={atol:.0e}")
    if a.numel() > 1:
        lines.append(
            f"  mismatched elements: {n_bad} / {a.numel()} ({100 * n_bad / a.numel():.1f}%)"
        )
    where = f" at index {idx}" if a.dim() else ""
    lines.append(
        f"  largest difference{where}: got {_fmt(a.flatten()[worst].item())}, "
        f"{want} {_fmt(e.flatten()[worst].item())}"
    )
    lines.append(
        f"  max absolute error {_fmt(float(abs_err.max()))}, "
        f"max relative error {_fmt(float(rel_err.max()))}"
    )
    cause = hint or _value_hint(a, e, rtol, atol)
    if cause:
        lines.append(f"  likely cause: {cause}")
    return "\n".join(lines)


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
        rtol, atol: override the defaults of :func:`autograder.checks.tolerances.tolerance_for`.
        name: how the message calls the value, e.g. ``"softmax(x)"`` or ``"grad_W"``.
        check_dtype: whether a different dtype is a failure (checked only when both values
            are tensors or arrays: a Python number has no dtype).
        hint: a likely cause to add to the message when the values differ (the test knows
            its exercise's classic mistakes better than a generic pattern does).

    Raises:
        CheckFailed: with shapes, dtypes, the largest absolute and relative error, where the
            largest difference is, and a likely cause.
    """
    __tracebackhide__ = True
    try:
        message = _mismatch(
            actual, expected, name=name, rtol=rtol, atol=atol, check_dtype=check_dtype, hint=hint
        )
    except CheckFailed as exc:  # not a value to compare (None, an object): the hint still applies
        message = _hinted(str(exc), hint)
    if message:
        _fail(message)


def _describe(value: Any) -> str:
    """A short description of a value for a message: plain values as written, others by type."""
    if isinstance(value, torch.Tensor | np.ndarray):
        kind = "tensor" if isinstance(value, torch.Tensor) else "NumPy array"
        return f"a {kind} of shape {_shape(tuple(value.shape))}"
    if value is None or isinstance(value, bool | int | float | str | list | tuple | dict):
        text = repr(value)
        return text if len(text) <= 200 else text[:197] + "..."
    return f"a {type(value).__name__}"


def _plain(value: Any) -> Any:
    """Tuples as lists, recursively, so that (1, 2) and [1, 2] compare equal."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def check_equal(
    actual: Any, expected: Any, *, name: str = "result", hint: str | None = None
) -> None:
    """Check that ``actual`` is exactly ``expected``: for plain values such as a list of
    parameter names, a count, a flag or ``None`` (tuples and lists compare alike). Use
    :func:`assert_close` for numbers that are computed.

    Tensors and arrays compare equal when they have the same shape and values.
    """
    __tracebackhide__ = True
    if _has_dtype(actual) or _has_dtype(expected):
        same = (
            _has_dtype(actual)
            and _has_dtype(expected)
            and tuple(actual.shape) == tuple(expected.shape)
            and bool(torch.equal(_to_tensor(actual, name), _to_tensor(expected, name)))
        )
    else:
        if isinstance(actual, bool) or isinstance(expected, bool):
            same = actual is expected  # True is not 1 here: a flag was asked for
        else:
            try:
                same = bool(_plain(actual) == _plain(expected))
            except Exception:  # noqa: BLE001 - a value whose == misbehaves is not equal
                same = False
    if same:
        return
    msg = f"{name} is {_describe(actual)}, but {_describe(expected)} was expected."
    msg += _first_difference(actual, expected)
    if hint:
        msg += f"\n  likely cause: {hint}"
    _fail(msg)


def _first_difference(actual: Any, expected: Any) -> str:
    """Where two sequences first differ, for a message (their beginnings may look the same)."""
    if not (isinstance(actual, list | tuple) and isinstance(expected, list | tuple)):
        return ""
    try:
        for k, (a, e) in enumerate(zip(actual, expected, strict=False)):
            if _plain(a) != _plain(e):
                return (
                    f"\n  first difference at index {k}: {_describe(a)} where {_describe(e)} "
                    f"was expected (length {len(actual)}, {len(expected)} expected)."
                )
    except Exception:  # noqa: BLE001 - items whose == misbehaves: no detail
        return ""
    if len(actual) != len(expected):
        return f"\n  the first {min(len(actual), len(expected))} items agree; length {len(actual)}, {len(expected)} expected."
    return ""


def _bounds(low: float | None, high: float | None) -> str:
    lo = "-inf" if low is None else _fmt(low)
    hi = "inf" if high is None else _fmt(high)
    return f"[{lo}, {hi}]"


def _outside(
    value: Any, low: float | None, high: float | None, name: str, hint: str | None
) -> tuple[torch.Tensor, str | None]:
    """The value as a float64 tensor, and the message if some of it lies outside the bounds."""
    t = _to_tensor(value, name)
    if t.is_complex():
        return t, f"{name} is complex, but real values in {_bounds(low, high)} were expected."
    t = t.to(torch.float64)
    if t.numel() == 0:
        return t, f"{name} is empty, but values in {_bounds(low, high)} were expected."
    if torch.isnan(t).any():
        return t, _nonfinite_message(t, name)
    bad = torch.zeros_like(t, dtype=torch.bool)
    if low is not None:
        bad |= t < low
    if high is not None:
        bad |= t > high
    if not bool(bad.any()):
        return t, None
    if t.dim() == 0:
        msg = f"{name} is {_fmt(float(t))}, outside {_bounds(low, high)}."
    else:
        msg = (
            f"{int(bad.sum())} of {t.numel()} values of {name} lie outside {_bounds(low, high)}: "
            f"they range from {_fmt(float(t.min()))} to {_fmt(float(t.max()))}."
        )
    if hint:
        msg += f"\n  likely cause: {hint}"
    return t, msg


def check_between(
    actual: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    name: str = "result",
    hint: str | None = None,
) -> None:
    """Check that ``actual`` (a number or every value of a tensor) lies in ``[low, high]``;
    ``None`` leaves a side open. For budgets and thresholds: a time, an accuracy, a loss."""
    __tracebackhide__ = True
    _, message = _outside(actual, low, high, name, hint)
    if message:
        _fail(message)


def check_uniform(
    actual: Any,
    low: float,
    high: float,
    *,
    fill: float = 0.75,
    name: str = "result",
    hint: str | None = None,
) -> None:
    """Check that the values of ``actual`` lie in ``[low, high]`` and spread over at least a
    ``fill`` fraction of it, as a tensor drawn uniformly from ``[low, high]`` does (an
    initialization such as PyTorch's ``uniform_(-k, k)``); a few hundred values are enough."""
    __tracebackhide__ = True
    t, message = _outside(actual, low, high, name, hint)
    if message:
        _fail(message)
    spread = float(t.max() - t.min())
    if spread >= fill * (high - low):
        return
    msg = (
        f"the values of {name} range from {_fmt(float(t.min()))} to {_fmt(float(t.max()))}, "
        f"which fills {100 * spread / (high - low):.0f}% of {_bounds(low, high)}; values drawn "
        f"uniformly from it fill at least {100 * fill:.0f}%."
    )
    cause = hint or (
        "every value is the same (zeros for a bias?)"
        if spread == 0
        else "a smaller range, or another distribution than uniform"
    )
    _fail(msg + f"\n  likely cause: {cause}")


def check_dropout(
    actual: Any,
    x: Any,
    p: float,
    *,
    tolerance: float | None = None,
    name: str = "dropout(x)",
    hint: str | None = None,
) -> None:
    """Check that ``actual`` is an inverted-dropout output of ``x`` with drop probability ``p``:
    the same shape and dtype, every entry either 0 (dropped) or ``x / (1 - p)`` (kept), and a
    fraction of about ``p`` dropped (within ``tolerance``, by default five standard deviations
    of a binomial count). ``x`` should have no zeros, so that a kept entry is never 0.
    """
    __tracebackhide__ = True
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    a = _to_tensor(actual, name)
    e = _to_tensor(x, "x")
    if a.shape != e.shape:
        msg = f"{name} has shape {_shape(a)}, but x has shape {_shape(e)}: dropout keeps the shape."
        cause = _shape_hint(a.shape, e.shape)
        _fail(msg + (f"\n  likely cause: {cause}" if cause else ""))
    if _has_dtype(actual) and _has_dtype(x):
        problem = _dtype_problem(a.dtype, e.dtype, name)
        if problem:
            _fail(problem)
    if (a.is_floating_point() or a.is_complex()) and not torch.isfinite(a).all():
        _fail(_nonfinite_message(a, name))
    kept = a != 0
    n = a.numel()
    dropped = 1 - float(kept.sum()) / max(n, 1)
    tol = tolerance if tolerance is not None else 5 * math.sqrt(p * (1 - p) / max(n, 1)) + 1e-9
    if abs(dropped - p) > tol:
        msg = (
            f"{name} drops {100 * dropped:.1f}% of the entries, but p = {_fmt(p)} should drop "
            f"about {100 * p:.1f}% (within {100 * tol:.1f} points)."
        )
        if dropped == 0:
            cause = "nothing is dropped: is the mask applied, and only when training?"
        elif dropped == 1:
            cause = "everything is dropped: is the mask inverted, or multiplied by p?"
        elif abs(dropped - (1 - p)) <= tol:
            cause = (
                "the mask keeps an entry with probability p instead of 1 - p: an entry is "
                "dropped when rand < p, kept otherwise."
            )
        else:
            cause = "the mask is not drawn with probability p for each entry independently."
        _fail(msg + f"\n  likely cause: {hint or cause}")
    if bool(kept.any()):
        scale = 1.0 / (1.0 - p)
        message = _mismatch(
            a[kept],
            e.to(a.dtype)[kept] * scale,
            name=f"the kept entries of {name}",
            header=f"the kept (nonzero) entries of {name} are not x / (1 - p) = {_fmt(scale)} * x.",
            check_dtype=False,
            hint=hint
            or f"a kept entry is x / (1 - p) = {_fmt(scale)} * x (inverted dropout), not x * p "
            "or x / p.",
        )
        if message:
            _fail(message)


def compare(
    name: str, ours: Any, theirs: Any, *, rtol: float | None = None, atol: float | None = None
) -> bool:
    """Print how ``ours`` compares with ``theirs`` (PyTorch's): exact, close, and max difference.

    For lessons, after Karpathy's ``cmp``: it prints rather than raises, and returns whether the
    two are close.
    """
    a = _to_tensor(ours, name)
    b = _to_tensor(theirs, name)
    if a.shape != b.shape:
        print(f"{name:<20} | shapes differ: {_shape(a)} vs {_shape(b)}")
        return False
    tol = tolerance_for(a.dtype, b.dtype, on_cuda=_on_cuda(ours, theirs))
    rtol = tol.rtol if rtol is None else rtol
    atol = tol.atol if atol is None else atol
    work = torch.promote_types(a.dtype, b.dtype)
    if not (work.is_floating_point or work.is_complex):
        work = torch.float64
    a, b = a.to(work), b.to(work)
    exact = bool(torch.equal(a, b))
    close = bool(torch.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))
    diff = torch.where(a.isnan() & b.isnan(), torch.zeros_like(a), a - b).abs()
    maxdiff = float(diff.nan_to_num(nan=math.inf).max()) if a.numel() else 0.0
    print(f"{name:<20} | exact: {exact!s:5} | close: {close!s:5} | max diff: {maxdiff:.2e}")
    return close
