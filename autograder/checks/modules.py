"""Module equivalence: a learner's ``nn.Module`` against PyTorch's, outputs and gradients.

:func:`copy_parameters` copies parameters (and same-named buffers) from one module into another
by name, and says exactly which names are missing, extra or shaped differently.

:func:`check_module` copies the parameters of a PyTorch module into (a copy of) the learner's,
or the other way round, runs both on the same inputs, in float64 by default, and compares
the outputs (a tensor, or nested tuples such as ``LSTMCell``'s ``(h, c)``), then the gradients
of the inputs and of every parameter under the same upstream gradient. When outputs differ,
the message recalls how the PyTorch module lays out its parameters (gate order, transposed
weights, stacked projections), the usual reason a from-scratch module disagrees.

Both modules stay on their own device (CPU or CUDA); the inputs follow each module and the
comparisons happen on the CPU. The caller's modules are not modified: the check works on
deep copies.

Left out: modules that draw random numbers in ``forward`` (set dropout to 0 or use ``eval()``),
parameter names that differ in more than a renaming (pass ``name_map`` for renamings),
and stateful comparisons over several calls (run the check once per call instead).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from copy import deepcopy
from typing import Any, Literal

import torch
from torch import nn

from .gradients import SEED
from .values import _fail, _mismatch, _shape

__all__ = ["copy_parameters", "check_module"]

# How PyTorch lays out the parameters of the modules learners re-implement most often.
_LAYOUTS: dict[type[nn.Module], str] = {
    nn.Linear: "torch.nn.Linear computes x @ weight.T + bias, with weight of shape (out_features, in_features).",
    nn.LSTMCell: (
        "torch.nn.LSTMCell stacks the gates in weight_ih, weight_hh, bias_ih and bias_hh in the "
        "order input, forget, cell, output (i, f, g, o = gates.chunk(4, dim=1)), applies sigmoid "
        "to i, f, o and tanh to g, adds both biases, and returns (h', c') with "
        "c' = f * c + i * g and h' = o * tanh(c')."
    ),
    nn.GRUCell: (
        "torch.nn.GRUCell stacks the gates in the order reset, update, new (r, z, n); "
        "n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)) (r multiplies the hidden part "
        "with its bias) and h' = (1 - z) * n + z * h."
    ),
    nn.RNNCell: "torch.nn.RNNCell computes h' = tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh).",
    nn.MultiheadAttention: (
        "torch.nn.MultiheadAttention stacks the q, k, v projections in in_proj_weight (rows "
        "0:E, E:2E, 2E:3E), gives each head embed_dim // num_heads consecutive features, scales "
        "scores by 1/sqrt(head_dim), then applies out_proj; inputs are (T, B, E) unless "
        "batch_first=True, and the returned attention weights are averaged over heads."
    ),
    nn.LayerNorm: "torch.nn.LayerNorm uses the biased variance (unbiased=False), with eps inside the square root.",
    nn.Conv2d: "torch.nn.Conv2d computes a cross-correlation (no kernel flip), with weight of shape (out_channels, in_channels, kH, kW).",
    nn.Embedding: "torch.nn.Embedding's weight has one row per token: shape (num_embeddings, embedding_dim).",
}


def _label(module: nn.Module) -> str:
    cls = type(module)
    if cls.__module__.startswith("torch.nn"):
        return f"torch.nn.{cls.__name__}"
    return cls.__name__


def _layout(module: nn.Module) -> str:
    for cls, text in _LAYOUTS.items():
        if isinstance(module, cls):
            return text
    return ""


def copy_parameters(
    src: nn.Module,
    dst: nn.Module,
    *,
    name_map: Mapping[str, str] | None = None,
    src_label: str | None = None,
    dst_label: str | None = None,
) -> None:
    """Copy every parameter of ``src`` into the parameter of ``dst`` with the same name.

    Same-named buffers of the same shape (BatchNorm's running statistics) are copied too.
    Values are converted to ``dst``'s device and dtype.

    Args:
        src, dst: the modules.
        name_map: renamings, from ``src``'s parameter names to ``dst``'s.
        src_label, dst_label: how the message calls the modules (default: their class names).

    Raises:
        CheckFailed: listing the parameters missing from ``dst``, those ``dst`` has and ``src``
            lacks, and those whose shapes differ; nothing is copied then.
    """
    __tracebackhide__ = True
    src_label = src_label or _label(src)
    dst_label = dst_label or _label(dst)
    rename = dict(name_map or {})
    source = {rename.get(n, n): p for n, p in src.named_parameters()}
    target = dict(dst.named_parameters())
    missing = [n for n in source if n not in target]
    extra = [n for n in target if n not in source]
    shaped = [n for n in source if n in target and source[n].shape != target[n].shape]
    if missing or extra or shaped:
        lines = [f"cannot copy the parameters of {src_label} into {dst_label} by name."]
        if missing:
            lines.append(
                f"  missing in {dst_label}: "
                + ", ".join(f"{n} {_shape(source[n].shape)}" for n in missing)
            )
        if extra:
            lines.append(
                f"  in {dst_label} but not in {src_label}: "
                + ", ".join(f"{n} {_shape(target[n].shape)}" for n in extra)
            )
        for n in shaped:
            lines.append(
                f"  {n} has shape {_shape(target[n].shape)} in {dst_label}, "
                f"{_shape(source[n].shape)} in {src_label}"
            )
        causes = []
        if not target:
            causes.append(
                f"{dst_label} has no parameters: register them in __init__ as nn.Parameter "
                "attributes (or nn.Linear submodules), after super().__init__(), not as plain tensors."
            )
        elif missing or extra:
            causes.append(
                "name the parameters as the other module does: "
                + ", ".join(source)
                + " (list them with [n for n, _ in module.named_parameters()])."
            )
        if shaped and all(tuple(target[n].shape) == tuple(source[n].shape)[::-1] for n in shaped):
            causes.append(
                "a weight stored transposed: PyTorch keeps weights as (out_features, "
                "in_features) and computes x @ W.T."
            )
        elif shaped:
            causes.append("the sizes given to the constructors differ.")
        lines.append(f"  likely cause: {causes[0]}")
        lines.extend(f"  also: {cause}" for cause in causes[1:])
        _fail("\n".join(lines))
    src_buffers = {rename.get(n, n): b for n, b in src.named_buffers()}
    with torch.no_grad():
        for n, p in source.items():
            target[n].copy_(p)
        for n, b in dst.named_buffers():
            if n in src_buffers and src_buffers[n].shape == b.shape:
                b.copy_(src_buffers[n])


def _device(module: nn.Module, fallback: torch.device) -> torch.device:
    for t in list(module.parameters()) + list(module.buffers()):
        return t.device
    return fallback


def _map(tree: Any, fn: Callable[[torch.Tensor], torch.Tensor]) -> Any:
    if isinstance(tree, torch.Tensor):
        return fn(tree)
    if isinstance(tree, tuple | list):
        return type(tree)(_map(t, fn) for t in tree)
    if isinstance(tree, dict):
        return {k: _map(v, fn) for k, v in tree.items()}
    return tree


def _leaves(tree: Any, path: str) -> list[tuple[str, torch.Tensor | None]]:
    """(path, tensor) for every tensor in a nested output; None marks an empty slot."""
    if isinstance(tree, torch.Tensor):
        return [(path, tree)]
    if tree is None:
        return [(path, None)]
    if isinstance(tree, tuple | list):
        return [leaf for i, t in enumerate(tree) for leaf in _leaves(t, f"{path}[{i}]")]
    if isinstance(tree, dict):
        return [leaf for k, v in tree.items() for leaf in _leaves(v, f"{path}[{k!r}]")]
    return [(path, None)]


def _describe(tree: Any) -> str:
    if isinstance(tree, torch.Tensor):
        return f"a tensor of shape {_shape(tree.shape)}"
    if isinstance(tree, tuple | list):
        inner = ", ".join("tensor" if isinstance(t, torch.Tensor) else _describe(t) for t in tree)
        return f"a {type(tree).__name__} of {len(tree)} ({inner})"
    return "None" if tree is None else f"a {type(tree).__name__}"


def check_module(
    learner_module: nn.Module,
    torch_module: nn.Module,
    inputs: Any,
    *,
    copy: Literal["to_learner", "to_torch"] = "to_learner",
    name_map: Mapping[str, str] | None = None,
    learner_forward: Callable[..., Any] | None = None,
    torch_forward: Callable[..., Any] | None = None,
    dtype: torch.dtype | None = torch.float64,
    check_grads: bool = True,
    output_names: Sequence[str] | None = None,
    input_names: Sequence[str] | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = SEED,
) -> None:
    """Check that ``learner_module`` computes what ``torch_module`` does, outputs and gradients.

    Args:
        learner_module: the learner's module.
        torch_module: the PyTorch module (any ``nn.Module`` taken as the reference).
        inputs: the forward's input, or a tuple of positional inputs, which may nest
            (``(x, (h, c))`` for ``nn.LSTMCell``).
        copy: ``"to_learner"`` copies PyTorch's parameters into the learner's module;
            ``"to_torch"`` copies the learner's initialisation into PyTorch's.
        name_map: renamings from PyTorch's parameter names to the learner's.
        learner_forward, torch_forward: how to call each module, ``f(module, *inputs)``
            (default ``module(*inputs)``), e.g. ``lambda m, q, k, v: m(q, k, v)[0]``.
        dtype: the dtype both modules and floating-point inputs run in (None: keep theirs).
        check_grads: also compare the gradients of the inputs and parameters.
        output_names, input_names: names for the output and input tensors, in order.
        rtol, atol: override the defaults of :mod:`autograder.checks.tolerances`.
        seed: seed of the upstream gradient used for the backward pass.

    Raises:
        CheckFailed: naming the output or gradient that differs, with the error and where,
            and how PyTorch's module is laid out.
    """
    __tracebackhide__ = True
    ours, ref = deepcopy(learner_module), deepcopy(torch_module)
    if dtype is not None:
        ours, ref = ours.to(dtype), ref.to(dtype)
    you, them = f"your {_label(learner_module)}", _label(torch_module)
    rename = dict(name_map or {})
    if copy == "to_learner":
        copy_parameters(ref, ours, name_map=rename, src_label=them, dst_label=you)
    elif copy == "to_torch":
        back = {v: k for k, v in rename.items()}
        copy_parameters(ours, ref, name_map=back, src_label=you, dst_label=them)
    else:
        raise ValueError("copy must be 'to_learner' or 'to_torch'")

    args = inputs if isinstance(inputs, tuple) else (inputs,)
    first = next((t for _, t in _leaves(args, "") if t is not None), None)
    fallback = first.device if first is not None else torch.device("cpu")

    def prepare(module: nn.Module) -> Any:
        device = _device(module, fallback)

        def leaf(t: torch.Tensor) -> torch.Tensor:
            # A copy for each module: an in-place change in one forward cannot reach the other.
            if not t.is_floating_point():
                return t.detach().to(device, copy=True)
            t = t.detach().to(device, dtype or t.dtype, copy=True)
            return t.requires_grad_(check_grads)

        return _map(args, leaf)

    in_ours, in_ref = prepare(ours), prepare(ref)
    out_ours = (learner_forward or (lambda m, *a: m(*a)))(ours, *in_ours)
    out_ref = (torch_forward or (lambda m, *a: m(*a)))(ref, *in_ref)

    leaves_ours, leaves_ref = _leaves(out_ours, "output"), _leaves(out_ref, "output")
    if [p for p, t in leaves_ours if t is not None] != [p for p, t in leaves_ref if t is not None]:
        _fail(f"{you} returned {_describe(out_ours)}, but {them} returns {_describe(out_ref)}.")
    pairs = [
        (p, a, b) for (p, a), (_, b) in zip(leaves_ours, leaves_ref, strict=True) if b is not None
    ]
    if output_names is not None and len(output_names) != len(pairs):
        raise ValueError(f"output_names has {len(output_names)} names for {len(pairs)} outputs")
    names = list(output_names) if output_names else [p for p, _, _ in pairs]
    if isinstance(out_ref, torch.Tensor) and not output_names:
        names = ["the output"]
    layout = _layout(torch_module)

    for label, (_, a, b) in zip(names, pairs, strict=True):
        message = _mismatch(a, b, name=label, rtol=rtol, atol=atol)
        if message:
            if layout and "likely cause" not in message:
                message += f"\n  likely cause: a computation or a parameter layout other than PyTorch's. {layout}"
            _fail(f"{you} and {them} disagree on {label}.\n{message}")
    if not check_grads:
        return

    gen = torch.Generator().manual_seed(seed)
    ups = [torch.randn(b.shape, generator=gen, dtype=torch.float64) for _, _, b in pairs]
    floating = [(a, b, u) for (_, a, b), u in zip(pairs, ups, strict=True) if b.is_floating_point()]
    if not any(a.requires_grad for a, _, _ in floating):
        _fail(
            f"{you}'s output is not connected to its inputs or parameters in the autograd graph.\n"
            "  likely cause: .detach(), .data, .item() or torch.tensor(...) on an intermediate, "
            "or a forward under torch.no_grad()."
        )

    def backward(outs: list[torch.Tensor], module: nn.Module, tree: Any) -> tuple[list, dict]:
        leaves = [t for _, t in _leaves(tree, "") if t is not None and t.requires_grad]
        params = {n: p for n, p in module.named_parameters() if p.requires_grad}
        wanted = leaves + list(params.values())
        loss = sum((o * u.to(o.device, o.dtype)).sum() for o, u in outs if o.requires_grad)
        grads = torch.autograd.grad(loss, wanted, allow_unused=True)
        return list(grads[: len(leaves)]), dict(zip(params, grads[len(leaves) :], strict=True))

    g_in_ours, g_par_ours = backward([(a, u) for a, _, u in floating], ours, in_ours)
    g_in_ref, g_par_ref = backward([(b, u) for _, b, u in floating], ref, in_ref)
    in_labels = [p for p, t in _leaves(args, "input") if t is not None and t.is_floating_point()]
    if len(in_labels) == 1:
        in_labels = ["the input"]
    if input_names is not None:
        if len(input_names) != len(in_labels):
            raise ValueError(
                f"input_names has {len(input_names)} names for {len(in_labels)} inputs"
            )
        in_labels = list(input_names)
    checks = [
        (f"the gradient of {lab}", got, want, None)
        for lab, got, want in zip(in_labels, g_in_ours, g_in_ref, strict=True)
    ] + [
        (f"the gradient of {n}", g_par_ours.get(rename.get(n, n)), want, ref.get_parameter(n))
        for n, want in g_par_ref.items()
    ]
    for label, got, want, param in checks:
        if want is None:
            want = torch.zeros_like(param) if param is not None else None
        if got is None and want is not None and want.any():
            _fail(
                f"{you} gives no gradient to {label.removeprefix('the gradient of ')}, "
                f"but {them} does.\n"
                "  likely cause: it is not used in forward, used through .data/.detach(), "
                "or created with requires_grad=False."
            )
        if got is None or want is None:
            continue
        message = _mismatch(got, want, name=label, rtol=rtol, atol=atol)
        if message:
            if "likely cause" not in message:
                message += (
                    "\n  likely cause: the outputs match, so the forward is right but its "
                    "gradient is not: a hand-written backward (torch.autograd.Function) that "
                    "does not match the forward, or an in-place change of a saved tensor."
                )
            _fail(f"{you} and {them} disagree on {label}.\n{message}")
