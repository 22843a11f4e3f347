"""The verdict on a submission's hidden tests, decided in a process the student's code never ran in.

Each check of ``labkit.checks.labNN`` builds its hidden inputs, computes labkit's reference, calls the
student's function (through :func:`labkit.checks.common.call_student`) and compares. Here it runs again,
freshly imported from the installed package, with the student's function replaced by the answers the
kernel recorded (:mod:`labkit.grader.record`), in the order they were given. Inputs, reference and comparison
are the check's own; the student controls only the answers, which is what is graded. An answer missing
(the check was switched off, the function raised, the kernel died), an answer too many (records forged or
the check run twice) or a wrong answer fails the check.

Command line (used by :mod:`labkit.grader.preprocessors`): ``python -P -m labkit.grader.verdict [module ...]``
imports the named check modules at once (while the kernel runs), then reads
``[{"check": "labkit.checks.lab04.check_grad_cam", "answers": ["<base64>", ...]}, ...]`` as JSON on stdin
and writes a JSON list with, for each, ``null`` (passed) or the failure message.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import Callable

from labkit.grader.record import decode, surrogate

#: The checks a verdict may run: ``labkit.checks.labNN.check_name``.
CHECK_NAME = re.compile(r"^labkit\.checks\.lab\d\d\.check_\w+$")


def resolve(check: str) -> Callable:
    """The check function named ``labkit.checks.labNN.check_name``."""
    if not CHECK_NAME.match(check):
        raise ValueError(f"not a check of labkit.checks: {check!r}")
    module_name, function_name = check.rsplit(".", 1)
    return getattr(importlib.import_module(module_name), function_name)


def replay(check: str, answers: list[str]) -> str | None:
    """Run ``check`` with the recorded ``answers`` as the student's function: None if it passes, else why not."""
    function = resolve(check)
    try:
        decoded = [decode(answer) for answer in answers]
    except Exception as error:
        return f"A recorded answer could not be read ({type(error).__name__}: {error})."
    used = 0

    def student(*args):
        nonlocal used
        if used >= len(decoded):
            raise AssertionError(
                f"Your function gave {len(decoded)} answer(s) to the hidden tests, which ask {used + 1} or more: "
                "it raised, the hidden test did not run to its end, or the kernel stopped."
            )
        answer = decoded[used]
        used += 1
        return surrogate(answer["value"], answer["grads"], args)

    try:
        function(student)
    except AssertionError as error:
        return str(error) or "the hidden test failed"
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    if used != len(decoded):
        return f"{len(decoded)} answers were recorded for {used} calls: the hidden test was not run as written."
    return None


def main() -> None:
    for module in sys.argv[1:]:  # warm up while the student's kernel runs
        if re.match(r"^labkit\.checks\.lab\d\d$", module):
            importlib.import_module(module)
    requests = json.load(sys.stdin)
    json.dump([replay(request["check"], list(request["answers"])) for request in requests], sys.stdout)


if __name__ == "__main__":
    main()
