"""From Neurons to Large Models: checks that teach, and the grading tools around nbgrader.

Learners import the checks in any notebook (JupyterLab, Colab, CPU or GPU; nbgrader is not
needed)::

    from autograder import assert_close, check_shape, check_module

- values: ``assert_close``, ``check_shape``, ``check_dtype``, ``check_finite``, ``check_equal``,
  ``check_between``, ``check_uniform``, ``check_dropout``, ``compare``
  (:mod:`autograder.checks`, tolerances in :mod:`autograder.tolerances`);
- gradients: ``gradcheck``, ``check_backward`` (:mod:`autograder.gradients`);
- modules: ``copy_parameters``, ``check_module`` (:mod:`autograder.modules`);
- optimizers: ``check_optimizer`` (:mod:`autograder.optim`);
- training: ``check_loss_decreases``, ``check_accuracy``, ``time_budget``, ``train_within``
  (:mod:`autograder.training`).

Every check raises :class:`CheckFailed` (an ``AssertionError``) with a message for the learner.

Instructors use the ``autograder`` command line (``autograder --help``).
"""

import importlib
from typing import Any

# Imported on first use, so that the command line and the book build start without torch.
_EXPORTS = {
    "CheckFailed": "checks",
    "assert_close": "checks",
    "check_dtype": "checks",
    "check_finite": "checks",
    "check_shape": "checks",
    "check_equal": "checks",
    "check_between": "checks",
    "check_uniform": "checks",
    "check_dropout": "checks",
    "compare": "checks",
    "gradcheck": "gradients",
    "check_backward": "gradients",
    "copy_parameters": "modules",
    "check_module": "modules",
    "check_optimizer": "optim",
    "check_loss_decreases": "training",
    "check_accuracy": "training",
    "time_budget": "training",
    "train_within": "training",
    "TF32": "tolerances",
    "TOLERANCES": "tolerances",
    "Tolerance": "tolerances",
    "tolerance_for": "tolerances",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'autograder' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "CheckFailed",
    "assert_close",
    "check_dtype",
    "check_finite",
    "check_shape",
    "check_equal",
    "check_between",
    "check_uniform",
    "check_dropout",
    "compare",
    "gradcheck",
    "check_backward",
    "copy_parameters",
    "check_module",
    "check_optimizer",
    "check_loss_decreases",
    "check_accuracy",
    "time_budget",
    "train_within",
    "TF32",
    "TOLERANCES",
    "Tolerance",
    "tolerance_for",
]

__version__ = "0.1.0"
