"""The test-cell contract's marker: ``with reference_only():``.

A test cell computes its expected values inside a ``reference_only`` block::

    inputs = make_inputs()
    with reference_only():
        wanted = my_reference(inputs)
    assert_close(my_function(inputs), wanted, name="my_function(inputs)")

In a learner's notebook (JupyterLab, Colab, nbgrader's own kernel) the block runs as written:
the context manager does nothing. When ``autograder grade`` runs a submission, it deletes every
such block from the test cell before the learner's process sees it
(:func:`autograder.grading.verdicts.rewrite_for_learner`), so expected values, held-out labels
and reference gradients exist only in the grader's run of the reference solution. A learner's
function can then find no answer in its globals, on the call stack or in a ``.grad`` left on
its inputs.

Left out: enforcing the contract (``tests/test_notebook_hygiene.py`` fails a test cell whose
expected argument is computed outside such a block).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["reference_only"]


@contextmanager
def reference_only() -> Iterator[None]:
    """Mark a block of a test cell that only computes what a check expects (a no-op here)."""
    yield
