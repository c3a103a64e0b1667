"""From Neurons to Large Models: checks that teach, and the grading tools around nbgrader.

Learners import the checks in any notebook (JupyterLab, Colab, CPU or GPU; nbgrader is not
needed)::

    from autograder import assert_close, check_shape, check_module

- values: ``assert_close``, ``check_shape``, ``check_dtype``, ``check_finite``, ``compare``
  (:mod:`autograder.checks`, tolerances in :mod:`autograder.tolerances`);
- gradients: ``gradcheck``, ``check_backward`` (:mod:`autograder.gradients`);
- modules: ``copy_parameters``, ``check_module`` (:mod:`autograder.modules`);
- optimizers: ``check_optimizer`` (:mod:`autograder.optim`);
- training: ``check_loss_decreases``, ``check_accuracy``, ``time_budget``, ``train_within``
  (:mod:`autograder.training`).

Every check raises :class:`CheckFailed` (an ``AssertionError``) with a message for the learner.

Instructors use the ``autograder`` command line (``autograder --help``).
"""

from .checks import CheckFailed, assert_close, check_dtype, check_finite, check_shape, compare
from .gradients import check_backward, gradcheck
from .modules import check_module, copy_parameters
from .optim import check_optimizer
from .tolerances import TF32, TOLERANCES, Tolerance, tolerance_for
from .training import check_accuracy, check_loss_decreases, time_budget, train_within

__all__ = [
    "CheckFailed",
    "assert_close",
    "check_dtype",
    "check_finite",
    "check_shape",
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
