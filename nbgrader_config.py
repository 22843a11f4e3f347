"""nbgrader settings: solutions/ is the source of each lab, notebooks/ its student release.

Autograding runs the course's own preprocessors (labkit.grader.preprocessors, in nbgrader's process): only the
cells grading needs run, within a time budget per submission, and every hidden test is decided again outside
the student's kernel from the answers it recorded. Deleted test cells are put back and graded. Every kernel
grading starts runs in a bubblewrap sandbox (labkit.grader.sandbox): grading stops where it cannot start,
unless COURSE_GRADING_UNSANDBOXED=1 is set in the environment (the risk accepted explicitly).
"""

c = get_config()  # noqa: F821  (provided by nbgrader)

c.CourseDirectory.course_id = "explaining-cnns"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "__pycache__", "*.pyc"]
# nbgrader validate runs every cell of a lab: minutes per cell on a CPU.
c.ExecutePreprocessor.timeout = 600
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# By import path, so that nbgrader's other commands (and the students' fetch and submit) do not import labkit.
c.Autograde.autograde_preprocessors = [
    "labkit.grader.preprocessors.SnapshotEnvironment",
    "labkit.grader.preprocessors.BoundedExecute",
    "labkit.grader.preprocessors.VerifyChecks",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Grading runs the graded cells and what they need (no demos): a minute per cell and 90 s per submission
# are plenty (on a busy machine, grade with fewer workers); an endless loop costs at most the rest of the
# budget. BoundedExecute.skip_unneeded = False runs every cell (then raise both).
c.BoundedExecute.timeout = 60
c.BoundedExecute.budget = 90
# The sandbox's caps (labkit.grader.sandbox.SandboxedKernelManager): address space and file size in MiB, processes
# and threads, size of each private tmpfs. 12 GiB of address space: lab 10's TensorFlow and PyTorch reserve 6-8.
c.SandboxedKernelManager.memory_mb = 12288
c.SandboxedKernelManager.processes = 512
c.SandboxedKernelManager.file_mb = 256
c.SandboxedKernelManager.disk_mb = 256
# The verdict process has imported labkit while the kernel ran: replaying the checks takes seconds.
c.VerifyChecks.timeout = 60
# A test cell the student deleted is put back (and graded) instead of left for a person to mark.
c.OverwriteCells.add_missing_cells = True
