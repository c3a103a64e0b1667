"""nbgrader configuration for the course: one place for everything grading needs.

Paths are anchored to this file, not to the current directory, so `nbgrader` (or the
`autograder` CLI) finds the same gradebook and exchange from wherever it is started, and
nothing needs root.
"""

from pathlib import Path

c = get_config()  # noqa: F821  (provided by traitlets when it loads this file)

COURSE = Path(__file__).resolve().parent

c.CourseDirectory.course_id = "neurons-to-llms"
c.CourseDirectory.root = str(COURSE)
c.CourseDirectory.db_url = f"sqlite:///{COURSE / 'gradebook.db'}"
# Lessons are not graded: only the exercises notebook of each chapter is an assignment file.
c.CourseDirectory.notebook_id = "exercises"

# The default exchange (/srv/nbgrader/exchange) needs root; keep it beside the course.
c.Exchange.root = str(COURSE / "exchange")

# What a learner sees in place of a solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A chapter's exercises train small models on the CPU; no single cell may take longer.
c.ExecutePreprocessor.timeout = 300
c.Execute.timeout = 300
c.Execute.interrupt_on_timeout = True
