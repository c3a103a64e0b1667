"""From Neurons to Large Models: checks that teach, and the grading tools around nbgrader.

Learners import the checks in any notebook (JupyterLab, Colab, CPU or GPU; nbgrader is not
needed)::

    from autograder import assert_close, check_shape, check_module

- values: ``assert_close``, ``check_shape``, ``check_dtype``, ``check_finite``, ``check_equal``,
  ``check_between``, ``check_uniform``, ``check_dropout``, ``compare``
  (:mod:`autograder.checks.values`, tolerances in :mod:`autograder.checks.tolerances`);
- gradients: ``gradcheck``, ``check_backward`` (:mod:`autograder.checks.gradients`);
- modules: ``copy_parameters``, ``check_module`` (:mod:`autograder.checks.modules`);
- optimizers: ``check_optimizer`` (:mod:`autograder.checks.optim`);
- training: ``check_loss_decreases``, ``check_accuracy``, ``time_budget``, ``train_within``
  (:mod:`autograder.checks.training`).

Every check raises :class:`CheckFailed` (an ``AssertionError``) with a message for the learner.
``reference_only`` marks what in a test cell only computes a check's expected side
(:mod:`autograder.checks.contract`).

The package has three parts, one per audience: :mod:`autograder.checks` (what learners import),
:mod:`autograder.grading` (the engine instructors run) and :mod:`autograder.publishing` (the
book and Colab). The command line (:mod:`autograder.cli`) is a thin layer over them.

Instructors use the ``autograder`` command line (``autograder --help``).
"""

import importlib
from typing import Any

# Imported on first use, so that the command line and the book build start without torch.
_EXPORTS = {
    "CheckFailed": "checks.values",
    "assert_close": "checks.values",
    "check_dtype": "checks.values",
    "check_finite": "checks.values",
    "check_shape": "checks.values",
    "check_equal": "checks.values",
    "check_between": "checks.values",
    "check_uniform": "checks.values",
    "check_dropout": "checks.values",
    "compare": "checks.values",
    "gradcheck": "checks.gradients",
    "check_backward": "checks.gradients",
    "copy_parameters": "checks.modules",
    "check_module": "checks.modules",
    "check_optimizer": "checks.optim",
    "check_loss_decreases": "checks.training",
    "check_accuracy": "checks.training",
    "time_budget": "checks.training",
    "train_within": "checks.training",
    "TF32": "checks.tolerances",
    "TOLERANCES": "checks.tolerances",
    "Tolerance": "checks.tolerances",
    "tolerance_for": "checks.tolerances",
    "reference_only": "checks.contract",
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
    "reference_only",
]

__version__ = "0.1.0"
