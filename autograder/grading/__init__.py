"""The engine instructors run: sandboxed grading with verdicts decided by the grader.

- :mod:`~autograder.grading.batch`: ``autograder grade``: every submission of an assignment,
  in parallel slots, into the gradebook and the CSV; :mod:`~autograder.grading.cluster`: the
  same slots on the workers of a Dask cluster (``--cluster``);
- :mod:`~autograder.grading.isolated`: one notebook in a sandboxed worker, its test cells
  rewritten to observe (:mod:`~autograder.grading.verdicts`) and judged here;
- :mod:`~autograder.grading.worker`, :mod:`~autograder.grading.sandbox`: the learner's process
  and its confinement (bubblewrap, limits); :mod:`~autograder.grading.zygote`: a warm sandbox
  per slot that forks that process for each submission; :mod:`~autograder.grading.wire`: the
  plain data that crosses between them;
- :mod:`~autograder.grading.submissions`, :mod:`~autograder.grading.notebooks`: finding,
  reading and sanitizing submissions; :mod:`~autograder.grading.files`: refusing links,
  special files and unprintable names, escaping names; :mod:`~autograder.grading.gradebook`: nbgrader's
  gradebook and the CSV; :mod:`~autograder.grading.feedback`: feedback pages;
  :mod:`~autograder.grading.report`: the instructor's class report;
- :mod:`~autograder.grading.selfcheck`, :mod:`~autograder.grading.execution`: the learner's
  ``autograder check`` and in-kernel execution as nbgrader does it;
- :mod:`~autograder.grading.throughput`: the grading benchmark against ``nbgrader autograde``.

Left out: the checks themselves (:mod:`autograder.checks`) and the book
(:mod:`autograder.publishing`).
"""
