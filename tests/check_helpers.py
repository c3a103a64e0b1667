"""What the tests of the checks share: reading a check's failure message, and a CUDA marker."""

from __future__ import annotations

import pytest
import torch

from autograder import CheckFailed

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def failure(fn, *args, **kwargs) -> str:
    """The message of the :class:`CheckFailed` that ``fn(*args, **kwargs)`` raises."""
    with pytest.raises(CheckFailed) as info:
        fn(*args, **kwargs)
    assert isinstance(info.value, AssertionError)  # nbgrader and pytest count it as a failure
    return str(info.value)
