"""Comparison tolerances, in one place.

Every check in this package that compares numbers takes its default ``rtol``/``atol`` from
:func:`tolerance_for`. A value is close when ``|actual - expected| <= atol + rtol * |expected|``
elementwise (the rule of ``torch.isclose``).

Why these numbers: a from-scratch implementation computes the same function as PyTorch but
in another order (a sum over a different axis first, ``exp`` then divide instead of a fused
kernel), so float32 results differ from PyTorch's in the last few bits, and more after a few
layers. The float32 tolerance is therefore looser than ``torch.testing.assert_close``'s default
(rtol 1.3e-6, atol 1e-5) by about two orders of magnitude in ``rtol``, and still tight enough to
catch every mistake the exercises test for (wrong axis, missing term, wrong scale). Gradient
checks run in float64, where the tolerance is tight.

On a GPU, PyTorch may compute float32 convolutions (and, when a notebook asks for it, matrix
products) in TF32, whose inputs keep only 10 bits of mantissa: results then differ from an exact
float32 computation by about 1e-3 relative. When a value compared came from a CUDA device and
TF32 is allowed, float32 comparisons use :data:`TF32` instead, so a correct answer passes on a
GPU as it does on the CPU. float64 is never computed in TF32.

Finite-difference gradient checks (:mod:`autograder.checks.gradients`) have their own, looser
defaults (those of ``torch.autograd.gradcheck``): a central difference is only accurate to
about ``eps**2``.

What this module leaves out: per-exercise tolerances. A test that needs a different one passes
``rtol``/``atol`` explicitly and says why in a comment.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch

__all__ = ["Tolerance", "TOLERANCES", "TF32", "tolerance_for", "tf32_enabled"]


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float


TOLERANCES: dict[torch.dtype, Tolerance] = {
    torch.float64: Tolerance(rtol=1e-7, atol=1e-9),
    torch.complex128: Tolerance(rtol=1e-7, atol=1e-9),
    torch.float32: Tolerance(rtol=1e-4, atol=1e-5),
    torch.complex64: Tolerance(rtol=1e-4, atol=1e-5),
    torch.float16: Tolerance(rtol=1e-2, atol=1e-3),
    torch.bfloat16: Tolerance(rtol=2e-2, atol=1e-2),
}
"""Default tolerance by the dtype of the values compared (the less precise of the two)."""

TF32 = Tolerance(rtol=5e-3, atol=5e-3)
"""float32 values computed on a CUDA device that may use TF32 (see the module docstring)."""

# Integers and booleans compare exactly.
_EXACT = Tolerance(rtol=0.0, atol=0.0)


def tf32_enabled() -> bool:
    """Whether PyTorch may compute float32 convolutions or matrix products in TF32 on CUDA."""
    if not torch.cuda.is_available():
        return False
    try:
        with warnings.catch_warnings():  # the legacy flags are deprecated in recent versions
            warnings.simplefilter("ignore")
            if torch.backends.cudnn.allow_tf32 or torch.backends.cuda.matmul.allow_tf32:
                return True
            if torch.get_float32_matmul_precision() != "highest":
                return True
            backends = (torch.backends.cuda.matmul, torch.backends.cudnn)
            backends += tuple(getattr(torch.backends.cudnn, n, None) for n in ("conv", "rnn"))
            if any(getattr(b, "fp32_precision", None) == "tf32" for b in backends):
                return True  # the settings of PyTorch 2.9 and later
    except (AttributeError, RuntimeError):  # pragma: no cover - depends on the build
        return True  # cannot tell: assume the looser case rather than fail a correct answer
    return False


def tolerance_for(*dtypes: torch.dtype, on_cuda: bool = False) -> Tolerance:
    """The default tolerance for comparing values of these dtypes: that of the least precise.

    Args:
        dtypes: the dtypes of the values compared.
        on_cuda: whether one of the values was computed on a CUDA device; float32 then uses
            :data:`TF32` when TF32 is enabled (:func:`tf32_enabled`).
    """
    chosen = _EXACT
    for dtype in dtypes:
        tol = TOLERANCES.get(dtype, _EXACT)
        if dtype in (torch.float32, torch.complex64) and on_cuda and tf32_enabled():
            tol = TF32
        chosen = Tolerance(max(tol.rtol, chosen.rtol), max(tol.atol, chosen.atol))
    return chosen
