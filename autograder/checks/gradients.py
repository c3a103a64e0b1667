"""Gradient checks: finite differences, and a learner's hand-written backward against autograd.

:func:`gradcheck` checks that autograd's gradient of a function (typically one with a
hand-written ``torch.autograd.Function.backward`` inside) matches central finite differences,
in float64. Rather than build the whole Jacobian, it checks the product that ``backward``
computes, ``v^T J``, for one fixed random ``v`` (seeded: the check is deterministic and leaves
the global random state alone): one backward pass and two forward passes per input element. A
wrong Jacobian passes only if its error happens to be orthogonal to ``v``, which a random ``v``
makes vanishingly unlikely. The message names the input and the element that disagree.

:func:`check_backward` compares a learner's backward function, which *returns* gradients,
with what ``torch.autograd`` computes for the forward ``fn`` on the same float64 inputs and the
same upstream gradient ``grad_out``.

Both run the functions on the inputs' own device (CPU or CUDA, as the caller chose) and compare
on the CPU. Messages show gradient values, never the inputs.

Left out: second derivatives (``gradgradcheck``), complex inputs, sparse tensors, and functions
that draw random numbers (dropout): make them deterministic before checking.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from .values import _fail, _mismatch, _value_hint

__all__ = ["gradcheck", "check_backward"]

SEED = 104729
"""Seed of the random upstream gradients: an unusual number, so that they never repeat the
inputs of a test that seeded the global generator with a small seed (torch.manual_seed(0) and
torch.Generator().manual_seed(0) draw the same numbers; a grad_out equal to x hides mistakes)."""

_CUT_FROM_GRAPH = (
    "part of the computation is cut from the autograd graph: .detach(), .data, .item(), "
    ".numpy() or torch.tensor(...) applied to an intermediate result."
)


def _fn_name(fn: Callable[..., Any]) -> str:
    name = getattr(fn, "__name__", "")
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type):  # a classmethod such as MyFunction.apply
        name = f"{owner.__name__}.{name}"
    return "the function" if not name or name == "<lambda>" else f"{name}()"


def _input_names(fn: Callable[..., Any], n: int, names: Sequence[str] | None) -> list[str]:
    """Names for the inputs: given, else the parameter names of ``fn``, else "input i"."""
    if names is not None:
        if len(names) != n:
            raise ValueError(f"names has {len(names)} entries for {n} inputs")
        return [str(x) for x in names]
    params: list[str] = []
    try:
        for p in inspect.signature(fn).parameters.values():
            if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                break
            params.append(p.name)
    except (TypeError, ValueError):  # builtins without a signature
        pass
    return params[:n] if len(params) >= n else [f"input {i}" for i in range(n)]


def _grad_name(label: str) -> str:
    return f"grad_{label}" if label.isidentifier() else f"the gradient of {label}"


def _prepare(inputs: Sequence[Any], wrt: Sequence[int] | None) -> tuple[list[Any], list[int]]:
    """Copies of the inputs, floating-point ones in float64 (on their device), and the indices
    of those to differentiate."""
    args: list[Any] = []
    diff: list[int] = []
    for i, x in enumerate(inputs):
        if isinstance(x, torch.Tensor) and x.is_floating_point():
            # contiguous, so that finite differences can step through x.view(-1)
            args.append(
                x.detach().to(torch.float64, memory_format=torch.contiguous_format, copy=True)
            )
            if wrt is None or i in wrt:
                diff.append(i)
        elif isinstance(x, torch.Tensor):
            args.append(x.detach().clone())
        else:
            args.append(x)
    if wrt is not None and sorted(wrt) != diff:
        raise ValueError("wrt must index floating-point tensor inputs")
    if not diff:
        raise ValueError("no floating-point tensor input to differentiate")
    return args, diff


def _outputs(out: Any, what: str) -> list[torch.Tensor]:
    """The floating-point tensors in an output (a tensor, or nested tuples/lists of them)."""
    if isinstance(out, torch.Tensor):
        return [out] if out.is_floating_point() else []
    if isinstance(out, tuple | list):
        return [t for o in out if o is not None for t in _outputs(o, what)]
    if out is None:
        _fail(f"{what} returned None: did you forget a `return` statement?")
    _fail(
        f"{what} returned a {type(out).__name__}, not a tensor, so no gradient can flow.\n"
        "  likely cause: .item() or float() turned the result into a Python number."
    )


def _directions(outs: Sequence[torch.Tensor], seed: int) -> list[torch.Tensor]:
    """Fixed random tensors shaped like the outputs (drawn on the CPU, moved to their device)."""
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(o.shape, generator=gen, dtype=torch.float64).to(o.device) for o in outs]


def gradcheck(
    fn: Callable[..., Any],
    *inputs: Any,
    eps: float = 1e-6,
    rtol: float = 1e-3,
    atol: float = 1e-5,
    wrt: Sequence[int] | None = None,
    names: Sequence[str] | None = None,
    seed: int = SEED,
) -> None:
    """Check autograd's gradient of ``fn`` against central finite differences, in float64.

    It calls ``fn`` twice per element of the differentiated inputs: keep them small (tens
    to a few hundred elements), as gradient checks usually are. ``fn`` must compute in the
    inputs' dtype (float64); the check says so when it does not.

    Args:
        fn: the function; it may return a tensor or a tuple of tensors.
        inputs: its positional arguments. Floating-point tensors are copied to float64 and
            differentiated; other arguments (integer targets, numbers) pass through unchanged.
        eps: the finite-difference step.
        rtol, atol: tolerance of the comparison (``torch.autograd.gradcheck``'s defaults).
        wrt: differentiate only these input positions.
        names: how the messages call the inputs (default: the parameter names of ``fn``).
        seed: seed of the random direction the outputs are projected on.

    Raises:
        CheckFailed: naming the input and the element whose gradient disagrees, with the
            autograd and finite-difference values, the error, and a likely cause.
    """
    __tracebackhide__ = True
    args, diff = _prepare(inputs, wrt)
    labels = _input_names(fn, len(inputs), names)
    what = _fn_name(fn)

    leaves = {i: args[i].requires_grad_(True) for i in diff}
    outs = _outputs(fn(*args), what)
    if not outs:
        _fail(f"{what} returned no floating-point tensor: there is nothing to differentiate.")
    for o in outs:
        if o.dtype != torch.float64:
            _fail(
                f"{what} returned a {str(o.dtype).removeprefix('torch.')} tensor for float64 "
                "inputs, which makes finite differences meaningless.\n"
                "  likely cause: a tensor created inside without dtype= (torch.zeros(n) and "
                "torch.tensor([...]) are float32), or a .float() cast; keep the input's dtype."
            )
    vs = _directions(outs, seed)
    connected = [(o * v).sum() for o, v in zip(outs, vs, strict=True) if o.requires_grad]
    if not connected:
        _fail(
            f"{what}'s output does not depend on its inputs in the autograd graph.\n"
            f"  likely cause: {_CUT_FROM_GRAPH}"
        )
    grads = torch.autograd.grad(sum(connected), [leaves[i] for i in diff], allow_unused=True)

    def projected(call_args: list[Any]) -> float:
        result = _outputs(fn(*call_args), what)
        return float(sum((o.detach() * v).sum() for o, v in zip(result, vs, strict=True)))

    base = [a.detach() if isinstance(a, torch.Tensor) else a for a in args]
    for i, grad in zip(diff, grads, strict=True):
        x = base[i]
        if x.numel() == 0:
            continue
        numeric = torch.zeros(x.numel(), dtype=torch.float64)
        for k in range(x.numel()):
            values = []
            for step in (eps, -eps):
                moved = x.clone()
                moved.view(-1)[k] += step
                values.append(projected(base[:i] + [moved] + base[i + 1 :]))
            numeric[k] = (values[0] - values[1]) / (2 * eps)
        numeric = numeric.view(x.shape)
        analytic = torch.zeros_like(numeric) if grad is None else grad.detach().cpu()
        hint = None
        if not analytic.any() and numeric.abs().max() > atol:
            hint = f"autograd's gradient is 0 everywhere: {_CUT_FROM_GRAPH}"
        elif not _value_hint(analytic, numeric, rtol, atol):
            hint = (
                "a hand-written backward (torch.autograd.Function) that does not match its "
                "forward, or a step that is not differentiable (rounding, argmax, comparisons)."
            )
        message = _mismatch(
            analytic,
            numeric,
            name=_grad_name(labels[i]),
            rtol=rtol,
            atol=atol,
            check_dtype=False,
            hint=hint,
            header=(
                f"gradcheck of {what}: autograd's gradient with respect to {labels[i]} "
                "disagrees with finite differences."
            ),
            want="finite differences give",
        )
        if message:
            _fail(
                message
                + "\n  (the values are gradients of a fixed random weighting of the outputs, "
                "as backward receives them)"
            )


def _as_list(result: Any, labels: list[str], what: str) -> list[Any]:
    """The gradients a learner's backward returned, one per differentiated input, in order."""
    if isinstance(result, Mapping):
        missing = [lab for lab in labels if lab not in result]
        if missing:
            _fail(f"{what} returned no gradient for {', '.join(missing)}.")
        return [result[lab] for lab in labels]
    if result is None:
        _fail(f"{what} returned None: did you forget a `return` statement?")
    parts = list(result) if isinstance(result, tuple | list) else [result]
    if len(parts) != len(labels):
        _fail(
            f"{what} returned {len(parts)} gradient{'s' if len(parts) != 1 else ''}, but "
            f"{len(labels)} were expected: one for each of {', '.join(labels)}, in that order."
        )
    return parts


def check_backward(
    learner_backward: Callable[..., Any],
    fn: Callable[..., Any],
    inputs: Sequence[Any] | torch.Tensor,
    grad_out: Any = None,
    *,
    names: Sequence[str] | None = None,
    wrt: Sequence[int] | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = SEED,
) -> None:
    """Compare a hand-written backward with ``torch.autograd`` on the forward ``fn``, in float64.

    The learner's function is called as ``learner_backward(*inputs, grad_out)`` with float64
    copies of the inputs and returns the gradients with respect to the differentiated inputs
    (every floating-point tensor input, or those in ``wrt``), in order: a tensor if there is
    one, else a tuple (or a dict keyed by the input names). Adapt other signatures with a
    lambda, e.g. ``lambda x, W, b, g: linear_backward(g, (x, W, b))``.

    Args:
        learner_backward: the learner's backward, as above.
        fn: the forward computation with PyTorch operations, e.g.
            ``lambda x, W, b: x @ W.T + b``; autograd differentiates it.
        inputs: the forward's positional arguments (a single tensor, or a sequence).
        grad_out: the upstream gradient (a tuple if ``fn`` returns several tensors); by
            default a fixed random tensor shaped like the output.
        names: how the messages call the inputs (default: the parameter names of ``fn``).
        wrt: the input positions whose gradients the learner returns.
        rtol, atol: override the float64 defaults of :mod:`autograder.checks.tolerances`.
        seed: seed of the default ``grad_out``.

    Raises:
        CheckFailed: naming the gradient that differs, with shapes, dtypes, errors and where
            the largest difference is.
    """
    __tracebackhide__ = True
    if isinstance(inputs, torch.Tensor):
        inputs = (inputs,)
    args, diff = _prepare(inputs, wrt)
    labels = _input_names(fn, len(inputs), names)
    diff_labels = [labels[i] for i in diff]
    backward_name = _fn_name(learner_backward)
    what = "your backward" if backward_name == "the function" else f"your {backward_name}"

    leaves = [args[i].requires_grad_(True) for i in diff]
    outs = _outputs(fn(*args), "the forward fn")
    if grad_out is None:
        g_outs = _directions(outs, seed)
    else:
        given = list(grad_out) if isinstance(grad_out, tuple | list) else [grad_out]
        if len(given) != len(outs):
            raise ValueError(f"grad_out has {len(given)} tensors for {len(outs)} outputs")
        g_outs = [g.detach().to(o.device, torch.float64) for g, o in zip(given, outs, strict=True)]
    expected = torch.autograd.grad(outs, leaves, grad_outputs=g_outs, allow_unused=True)

    copies = [a.detach().clone() if isinstance(a, torch.Tensor) else a for a in args]
    upstream = g_outs[0].clone() if len(g_outs) == 1 else tuple(g.clone() for g in g_outs)
    returned = _as_list(learner_backward(*copies, upstream), diff_labels, what)

    for label, got, leaf, want in zip(diff_labels, returned, leaves, expected, strict=True):
        reference = torch.zeros_like(leaf) if want is None else want
        message = _mismatch(got, reference, name=_grad_name(label), rtol=rtol, atol=atol)
        if message and "likely cause" not in message:
            message += (
                f"\n  likely cause: check the chain rule for {label}: the local derivative, on "
                "which side of grad_out it multiplies, whether it is transposed, and which "
                "dimensions are summed; a value used twice in the forward needs both "
                "contributions added."
            )
        if message:
            _fail(
                f"{what}: the gradient with respect to {label} differs from autograd's.\n{message}"
            )
