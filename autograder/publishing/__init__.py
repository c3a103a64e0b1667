"""What readers and instructors publish: the book, Colab launch cells, the course's layout.

- :mod:`~autograder.publishing.book`: ``make book`` (Jupyter Book 1.x, offline MathJax) and
  ``make publish`` (the student branch);
- :mod:`~autograder.publishing.colab`: the set-up cell that installs the course on Colab and
  the launch buttons' repository;
- :mod:`~autograder.publishing.course`: the nbgrader course root, its config and releases.

Left out: grading (:mod:`autograder.grading`).
"""
