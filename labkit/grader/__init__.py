"""Grading a class with nbgrader: verdicts the student's code cannot forge, bounded execution, integrity flags.

Everything that grades is here ("how is a submission graded" starts at :mod:`labkit.grader.course`):

- :mod:`labkit.grader.course`: the course's labs as nbgrader sees them (model answers, points, filled-in
  releases) and the commands ``python -m labkit.grader grade LAB`` (``make grade``) and ``demo``
  (``make grading-demo``);
- :mod:`labkit.grader.references`: the ``@reference`` switch that keeps an answer from calling labkit's own
  implementation of the exercise (:func:`~labkit.grader.references.forbid`, used by ``labkit.checks``);

- :mod:`labkit.grader.record`: the hidden tests record what the student's function returned on the hidden
  inputs (and nothing else), as outputs of the test cell;
- :mod:`labkit.grader.verdict`: a fresh process re-runs each check of ``labkit.checks`` with those recorded
  answers in place of the student's function and decides pass or fail, away from the kernel;
- :mod:`labkit.grader.preprocessors`: nbgrader preprocessors (they run in nbgrader's process): execution
  with a time budget per submission that runs only the cells grading needs, and the verification;
- :mod:`labkit.grader.sandbox`: every kernel grading starts runs in a bubblewrap sandbox that sees its own
  copy of the submission and nothing else of the course (:mod:`labkit.grader.launch` starts it inside);
- :mod:`labkit.grader.needed`: which cells grading needs (the graded cells and what they depend on);
- :mod:`labkit.grader.integrity`: a static scan of the student's code for tampering;
- :mod:`labkit.grader.classroom`: grade every submission of a lab in parallel, a CSV and feedback.
"""

#: The MIME type of a recorded answer in a test cell's outputs (here, so that nbgrader's process reads it
#: without importing PyTorch).
MIME = "application/vnd.labkit.answer+json"
