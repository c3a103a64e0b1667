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

What this module leaves out: per-exercise tolerances. A test that needs a different one passes
``rtol``/``atol`` explicitly and says why in a comment.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["Tolerance", "TOLERANCES", "tolerance_for"]


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

# Integers and booleans compare exactly.
_EXACT = Tolerance(rtol=0.0, atol=0.0)


def tolerance_for(*dtypes: torch.dtype) -> Tolerance:
    """The default tolerance for comparing values of these dtypes: that of the least precise.

    On a GPU, matrix products may use TF32 or reduced-precision reductions; the float32
    tolerance covers that, since PyTorch's own CUDA kernels agree with the CPU within it.
    """
    chosen = _EXACT
    for dtype in dtypes:
        tol = TOLERANCES.get(dtype, _EXACT)
        if tol.rtol > chosen.rtol or tol.atol > chosen.atol:
            chosen = Tolerance(max(tol.rtol, chosen.rtol), max(tol.atol, chosen.atol))
    return chosen
