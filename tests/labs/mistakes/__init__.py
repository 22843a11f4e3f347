"""The usual mistakes of each exercise, planted into the model answers by text substitution.

One module per lab (``lab01.py`` for ``01_occlusion``, ...), each with a ``MISTAKES`` dict:
exercise grade_id -> [(what the mistake is, text in the model answer, replacement)], or the same with a
fourth item ``VISIBLE``: the release's visible test cell alone (what a student runs before submitting)
must fail that mistake too, with a message that says what to look at.
Every mistake must make that exercise's hidden tests fail; the graded round trip plants the first
mistake of the first exercise and checks that exactly that exercise's points are lost.
"""

import importlib

from tests.labs.labfiles import LABS

#: Marks a mistake the visible tests must catch: ``(what, old, new, VISIBLE)``.
VISIBLE = "visible"


def _mistakes(lab: str) -> dict[str, list[tuple]]:
    try:
        module = importlib.import_module(f"tests.labs.mistakes.lab{lab[:2]}")
    except ModuleNotFoundError:
        return {}
    return module.MISTAKES


#: lab -> exercise grade_id -> [(what, old, new) or (what, old, new, VISIBLE)]
MISTAKES = {lab: _mistakes(lab) for lab in LABS}


def plant(answer: str, old: str | None, new: str) -> str:
    """``answer`` with ``old`` replaced by ``new`` everywhere (``old=None``: the whole answer replaced)."""
    if old is None:
        return new
    assert old in answer, f"the model answer no longer contains {old!r}: update tests/labs/mistakes/"
    return answer.replace(old, new)
