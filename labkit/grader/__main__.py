"""``python -m labkit.grader grade LAB`` / ``demo``: see :mod:`labkit.grader.course`."""

from labkit.grader.course import main

main()
