"""The verdict outside the kernel, without nbgrader: record each exercise's answers, replay the checks.

For every exercise of every lab: the model answer's recorded answers pass the replayed check (with the global
random state moved, as in a fresh process), and its first usual mistake's answers fail it. Then the
tampering that fools an in-process check: the check run in this process passes a wrong answer, the verdict
process (``python -m labkit.grader.verdict``) fails it. The same attempts through nbgrader's command line are
in ``test_class_grading.py``.
"""

import json
import subprocess
import sys

import pytest
import torch

import labkit
from labkit.checks import lab04
from labkit.grader import record
from labkit.grader.course import model_answers
from labkit.grader.integrity import scan_source
from labkit.grader.needed import cells_to_run
from labkit.grader.preprocessors import checks_called
from labkit.grader.verdict import replay
from tests.labs.labfiles import LABS, ROOT, solved
from tests.labs.mistakes import MISTAKES, plant
from tests.labs.test_exercises import graded_test_source, run_exercise

EXERCISES = [(lab, exercise) for lab in LABS for exercise in model_answers(solved(lab))]


def recorded(run) -> dict[str, list[str]]:
    """check -> the answers recorded while ``run()`` ran (exceptions of the run are swallowed)."""
    answers: list[dict] = []
    record.publisher, record._calls = answers.append, {}
    try:
        run()
    except Exception:
        pass
    finally:
        record.publisher = None
    by_check: dict[str, list[str]] = {}
    for item in answers:
        by_check.setdefault(item["check"], []).append(item["answer"])
    return by_check


def verdict_process(requests: list[dict]) -> list[str | None]:
    result = subprocess.run(
        [sys.executable, "-P", "-m", "labkit.grader.verdict"],
        input=json.dumps(requests),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.parametrize(("lab", "exercise"), EXERCISES)
def test_replayed_model_answer_passes_and_usual_mistake_fails(lab, exercise):
    checks = checks_called(graded_test_source(lab, exercise))
    assert checks, "every test cell calls a check of labkit.checks"
    answer = model_answers(solved(lab))[exercise]
    good = recorded(lambda: run_exercise(lab, exercise, answer))
    torch.manual_seed(12345)  # the verdict's process does not share the kernel's random state
    for check in checks:
        assert replay(check, good[check]) is None
    _what, old, new, *_ = MISTAKES[lab][exercise][0]
    bad = recorded(lambda: run_exercise(lab, exercise, plant(answer, old, new)))
    assert all(replay(check, bad.get(check, [])) is not None for check in checks)


ZEROS = "def grad_cam(model, layer, x, target):\n    return torch.zeros(x.shape[0], *x.shape[2:])\n"
#: Tampering that makes the in-process check pass a wrong answer (all zeros).
IN_PROCESS_TAMPERING = {
    "assert_close replaced": "lab04.assert_close = lambda *args, **kwargs: None",
    "torch.Tensor.abs replaced": "torch.Tensor.abs = lambda self: torch.zeros_like(self)",
    "builtins.float replaced": (
        "import builtins, sys\n_float = builtins.float\n"
        "class Meta(type):\n    def __instancecheck__(cls, obj):\n        return isinstance(obj, _float)\n"
        "class Zero(_float, metaclass=Meta):\n    def __new__(cls, value=0.0):\n"
        "        caller = sys._getframe(1).f_globals.get('__name__')\n"
        "        return _float(0.0 if caller == 'labkit.checks.common' else value)\n"
        "builtins.float = Zero"
    ),
}


def test_tampering_fools_the_kernel_not_the_verdict(monkeypatch):
    import builtins

    check = "labkit.checks.lab04.check_grad_cam"
    requests = []
    for patch in IN_PROCESS_TAMPERING.values():
        namespace = {"torch": torch, "labkit": labkit, "lab04": lab04}
        for target, name in [(lab04, "assert_close"), (torch.Tensor, "abs"), (builtins, "float")]:
            monkeypatch.setattr(target, name, getattr(target, name))  # undone below
        exec(ZEROS, namespace)
        exec(patch, namespace)
        student = namespace["grad_cam"]
        answers = recorded(lambda student=student: lab04.check_grad_cam(student))
        lab04.check_grad_cam(student)  # the in-process check is fooled
        monkeypatch.undo()
        requests.append({"check": check, "answers": answers[check]})
    verdicts = verdict_process(requests)  # one fresh process for all
    assert all(verdict is not None and "grad_cam" in verdict for verdict in verdicts), verdicts


def test_verdict_fails_missing_extra_and_malformed_answers():
    check = "labkit.checks.lab04.check_confidence_metrics"
    answer = model_answers(solved("04_grad_cam"))["confidence_metrics"]
    namespace = {"torch": torch}
    exec(answer, namespace)
    good = recorded(lambda: lab04.check_confidence_metrics(namespace["confidence_metrics"]))[check]
    assert replay(check, good) is None
    assert "answer" in replay(check, good[:-1])
    assert "calls" in replay(check, [*good, good[0]])
    assert "could not be read" in replay(check, ["bm90IGEgdGVuc29y"])
    with pytest.raises(ValueError, match="not a check"):
        replay("os.system", [])


def test_differentiable_answer_keeps_its_gradients():
    """Lab 8's loss is checked through backward(): the replayed answer has the student's gradients."""
    model = torch.nn.Linear(3, 2)
    x = torch.randn(4, 3)
    loss = model(x).pow(2).mean()
    payload = record.decode(record.encode(loss, (model, x)))
    rebuilt = record.surrogate(payload["value"], payload["grads"], (model, x))
    expected = torch.autograd.grad(loss, list(model.parameters()))
    rebuilt.backward()
    assert torch.equal(rebuilt.detach(), loss.detach())
    for parameter, gradient in zip(model.parameters(), expected):
        assert torch.allclose(parameter.grad, gradient)


def test_only_plain_data_is_recorded():
    class Liar(torch.Tensor):
        def __sub__(self, other):
            return torch.zeros(())

    value = {"map": torch.ones(2).as_subclass(Liar), "n": torch.tensor(3).item(), "f": print, "t": (1, [2.0])}
    restored = record.decode(record.encode(value, ()))["value"]
    assert type(restored["map"]) is torch.Tensor and restored["n"] == 3 and restored["t"] == (1, [2.0])
    assert isinstance(restored["f"], record.Opaque)


def test_grading_runs_the_graded_cells_and_what_they_need():
    notebook = solved("04_grad_cam")
    run = cells_to_run(notebook.cells)
    ids = {cell.metadata.get("nbgrader", {}).get("grade_id"): index for index, cell in enumerate(notebook.cells)}
    assert {ids["grad_cam"], ids["test_grad_cam"], ids["confidence_metrics"], ids["test_confidence_metrics"]} <= run
    assert any("class_explorer(" in notebook.cells[index].source for index in set(range(len(notebook.cells))) - run)
    # a helper the student's answer reads from an earlier cell is kept
    helper = notebook.cells[ids["grad_cam"]].copy()
    helper.source, helper.metadata = "SCALE = 2\nprint('demo')\n", {}
    answer = notebook.cells[ids["grad_cam"]].copy()
    answer.source = "def grad_cam(model, layer, x, target):\n    return SCALE * x\n"
    cells = [helper, answer]
    assert cells_to_run(cells) == {0, 1}
    helper.source = "OTHER = 2\n"
    assert cells_to_run(cells) == {1}
    # a demo that only calls a module's functions (seeds, style) is not needed; one that assigns into it is
    setup = helper.copy()
    setup.source = "import torch\nimport matplotlib.pyplot as plt\n"
    answer.source = "def grad_cam(model, layer, x, target):\n    return torch.relu(x)\n"
    for demo, needed in [
        ("torch.manual_seed(0)\nplt.rcParams.update({'figure.dpi': 72})\nslow = torch.randn(9)\n", False),
        ("torch.relu = abs\n", True),
        ("from torch import nn\nnn.init.zeros_(layer)\n", False),
        ("layer = torch.nn.Linear(2, 2)\nlayer.weight.data.zero_()\n", False),
        ("torch = __import__('numpy')\n", True),
    ]:
        helper.source = demo
        assert (1 in cells_to_run([setup, helper, answer])) is needed, demo


def test_integrity_scan_flags_tampering():
    flags = scan_source(
        "import sys, torch\nfrom labkit.checks import lab04\ntorch.allclose = None\nsetattr(lab04, 'x', 1)\n"
        "sys.modules['labkit.checks.lab04'] = None\ndef f():\n    return sys._getframe(2).f_locals['expected']\n"
    )
    lines = {flag.line for flag in flags}
    assert lines == {2, 3, 4, 5, 7}, flags
    assert scan_source("import torch\n\ndef grad_cam(model, layer, x, target):\n    return torch.relu(x)\n") == []
