"""nbgrader settings: solutions/ is the source of each lab, notebooks/ its student release."""

c = get_config()  # noqa: F821  (provided by nbgrader)

c.CourseDirectory.course_id = "explaining-cnns"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "__pycache__", "*.pyc"]
# The labs run real networks on a CPU: allow minutes per cell, not nbgrader's 30 s.
c.ExecutePreprocessor.timeout = 600
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
