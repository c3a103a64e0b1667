"""Are the default tolerances the ones documented, and do the checks use them?"""

from __future__ import annotations

import pytest
import torch

from autograder import TF32, TOLERANCES, CheckFailed, Tolerance, assert_close, tolerance_for
from autograder.checks import tolerances as tolerances_module

pytestmark = pytest.mark.filterwarnings("error")


def test_the_least_precise_dtype_decides():
    assert tolerance_for(torch.float64) == TOLERANCES[torch.float64]
    assert tolerance_for(torch.float32, torch.float64) == TOLERANCES[torch.float32]
    assert tolerance_for(torch.float64, torch.float16) == TOLERANCES[torch.float16]
    assert tolerance_for(torch.bfloat16, torch.float16) == Tolerance(rtol=2e-2, atol=1e-2)


def test_integers_and_booleans_are_exact():
    assert tolerance_for(torch.int64) == Tolerance(0.0, 0.0)
    assert tolerance_for(torch.bool, torch.int32) == Tolerance(0.0, 0.0)


def test_tighter_for_more_precise_dtypes():
    ordered = [torch.float64, torch.float32, torch.float16]
    rtols = [TOLERANCES[d].rtol for d in ordered]
    assert rtols == sorted(rtols)


def test_tf32_only_on_cuda_with_tf32_enabled(monkeypatch):
    assert tolerance_for(torch.float32, on_cuda=False) == TOLERANCES[torch.float32]
    monkeypatch.setattr(tolerances_module, "tf32_enabled", lambda: True)
    assert tolerance_for(torch.float32, on_cuda=True) == TF32
    assert tolerance_for(torch.float64, on_cuda=True) == TOLERANCES[torch.float64]
    monkeypatch.setattr(tolerances_module, "tf32_enabled", lambda: False)
    assert tolerance_for(torch.float32, on_cuda=True) == TOLERANCES[torch.float32]


def test_tf32_is_off_without_cuda():
    if not torch.cuda.is_available():
        assert tolerances_module.tf32_enabled() is False


def test_float32_tolerance_separates_rounding_from_mistakes():
    x = torch.linspace(0.5, 2.0, 50)
    assert_close(x * (1 + 3e-5), x)  # reassociated float32 arithmetic: passes
    with pytest.raises(CheckFailed):
        assert_close(x * (1 + 1e-3), x)  # a real, small mistake: fails


def test_float64_tolerance_is_tight():
    x = torch.linspace(0.5, 2.0, 50, dtype=torch.float64)
    assert_close(x * (1 + 1e-12), x)
    with pytest.raises(CheckFailed):
        assert_close(x * (1 + 1e-6), x)


def test_explicit_tolerance_overrides_the_default():
    x = torch.ones(3)
    assert_close(x * 1.01, x, rtol=0.02)
    with pytest.raises(CheckFailed, match="rtol=1e-03"):
        assert_close(x * 1.01, x, rtol=1e-3)
