"""From Neurons to Large Models: checks that teach, and the grading tools around nbgrader.

Learners import the checks in any notebook (JupyterLab, Colab, CPU or GPU; nbgrader is not
needed)::

    from autograder import assert_close, check_shape

Instructors use the ``autograder`` command line (``autograder --help``).
"""

from .checks import CheckFailed, assert_close, check_dtype, check_finite, check_shape, compare
from .tolerances import TOLERANCES, Tolerance, tolerance_for

__all__ = [
    "CheckFailed",
    "assert_close",
    "check_dtype",
    "check_finite",
    "check_shape",
    "compare",
    "TOLERANCES",
    "Tolerance",
    "tolerance_for",
]

__version__ = "0.1.0"
