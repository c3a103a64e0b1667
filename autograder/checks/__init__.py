"""What learners import: the checks that tell, kindly and precisely, what is wrong.

- :mod:`~autograder.checks.values`: ``assert_close``, ``check_shape``, ``check_dtype``,
  ``check_finite``, ``check_equal``, ``check_between``, ``check_uniform``, ``check_dropout``,
  ``compare`` and :class:`CheckFailed`;
- :mod:`~autograder.checks.tolerances`: the tolerances per dtype, in one place;
- :mod:`~autograder.checks.gradients`: ``gradcheck``, ``check_backward``;
- :mod:`~autograder.checks.modules`: ``copy_parameters``, ``check_module``;
- :mod:`~autograder.checks.optim`: ``check_optimizer``;
- :mod:`~autograder.checks.training`: ``check_loss_decreases``, ``check_accuracy``,
  ``time_budget``, ``train_within``;
- :mod:`~autograder.checks.contract`: ``reference_only``, the marker of what in a test cell
  only feeds a check's expected side.

Everything here runs in a learner's notebook (JupyterLab, Colab, CPU or GPU) without nbgrader.
The grading engine (:mod:`autograder.grading`) calls the same functions with the reference
run's arguments. Left out: anything that runs, sandboxes or records a submission.

Submodules import on first use (``from autograder.checks import assert_close`` works, and so
does ``from autograder import assert_close``), so that importing the package needs no torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_MODULES = ("values", "tolerances", "gradients", "modules", "optim", "training", "contract")


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(f".{name}", __name__)
    from autograder import _EXPORTS

    module = _EXPORTS.get(name)
    if module is None or not module.startswith("checks."):
        raise AttributeError(f"module 'autograder.checks' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"autograder.{module}"), name)
    globals()[name] = value
    return value
