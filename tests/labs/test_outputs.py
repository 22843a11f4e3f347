"""What the executed labs show a student: no bare object repr that reads like a bug."""

import re

import pytest

from tests.labs.labfiles import LABS, released, solved

# `<torch._C.Generator at 0x7f...>`: an expression's value printed by accident (a cell ending in a call).
BARE_REPR = re.compile(r"^<[\w.]+( object)? at 0x[0-9a-f]+>$")
RICH = ("image/png", "image/jpeg", "text/html", "application/vnd.jupyter.widget-view+json")


@pytest.mark.parametrize("lab", LABS)
def test_no_cell_shows_a_bare_object_repr(lab):
    shown = []
    for index, cell in enumerate(solved(lab).cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = output.get("data", {})
            text = data.get("text/plain", "").strip()
            if BARE_REPR.match(text) and not any(kind in data for kind in RICH):
                shown.append(f"cell {index}: {text}")
    assert not shown, f"{lab} shows object reprs (end the cell with a statement, not a call): {shown}"


@pytest.mark.parametrize("lab", LABS)
def test_no_cell_carries_the_recording_machines_timings(lab):
    """A release cell that "took 107 s" where it takes seconds misleads: labs are executed without timings
    (``make solutions``: ``record_timing=False``), so neither the source nor the release has them."""
    for notebook, where in ((solved(lab), "solutions"), (released(lab), "notebooks")):
        timed = [index for index, cell in enumerate(notebook.cells) if "execution" in cell.get("metadata", {})]
        assert not timed, f"{where}/{lab}: cells {timed} carry execution timings; re-execute with make solutions"
