"""Time labkit's attribution methods against Captum / pytorch-grad-cam and against their floor.

    python -m bench.attribution [--model NAME] [--device cpu|cuda] [--batch N] [--size PX]
                                [--rounds R] [--only NAME ...]

One process, one model (default: the offline EfficientNet-Lite0, trained weights;
``--model shapes_resnet18`` is a trained ReLU network, where Captum's ReLU rules apply),
one batch of sample images, the same settings for labkit and its peer. For each method it
prints labkit's time, the peer's (its batch options tuned: the best of a few), peer /
labkit, the *floor* (the bare forward/backward passes the method needs at the same batch
size) and labkit / floor. After one warm-up run of each, labkit, the floor and the peers
run in turn ``--rounds`` times (interleaved, so that a slow spell of the machine hits all
of them), and each time is the best of its rounds.
"""

from __future__ import annotations

import argparse
import math
import os

os.environ.setdefault("TQDM_DISABLE", "1")  # the peers' progress bars would drown the table

import torch
from captum import attr as captum
from pytorch_grad_cam import AblationCAM, GradCAM, GradCAMPlusPlus, LayerCAM, ScoreCAM, XGradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torchvision.models import ResNet
from zennit.attribution import Gradient
from zennit.canonizers import SequentialMergeBatchNorm
from zennit.composites import EpsilonGammaBox, LayerMapComposite, layer_map_base
from zennit.rules import Epsilon
from zennit.torchvision import ResNetCanonizer
from zennit.types import Convolution

import labkit.attribution as lk
from bench.timing import Run, best_times
from labkit import load_model, sample_batch
from labkit.attribution.deeplift import pairs_per_pass
from labkit.batching import auto_batch_size
from labkit.layers import get_layer
from labkit.models import DEFAULT_MODEL

#: Score-CAM / Ablation-CAM layers with a few hundred channels (the CAM layer's 1280 would take minutes).
CHANNEL_LAYERS = {"efficientnet_lite0": "blocks.5", "shapes_resnet18": "layer3"}


def runnable(peers: dict[str, Run]) -> tuple[dict[str, Run], list[str]]:
    """The peer configurations that run on this model, and why the others failed."""
    works, failures = {}, []
    for label, run in peers.items():
        try:
            run()
        except (RuntimeError, TypeError, ValueError) as error:  # Captum's LRP: TypeError for a layer without a rule
            failures.append(f"{label}: {str(error).splitlines()[0][:150]}")
        else:
            works[label] = run
    return works, failures


def in_turn(*runs: Run) -> Run:
    """One run that calls ``runs`` one after the other."""
    return lambda: [run() for run in runs]


class Floors:
    """The bare passes a method needs: forwards (no grad) or forward+backward to the input or a layer."""

    def __init__(self, model: torch.nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> None:
        self.model, self.inputs, self.targets = model, inputs, targets

    def _chunks(self, copies: int, batch: int) -> list[torch.Tensor]:
        image = self.inputs[:1]
        return [image.expand(min(batch, copies - s), -1, -1, -1).contiguous() for s in range(0, copies, batch)]

    def forwards(self, copies: int, batch: int) -> Run:
        chunks = self._chunks(copies, batch)

        def run() -> None:
            with torch.no_grad():
                for chunk in chunks:
                    self.model(chunk)

        return run

    def backwards(self, copies: int, batch: int, layer: str | None = None) -> Run:
        chunks = self._chunks(copies, batch)
        module = get_layer(self.model, layer) if layer else None

        def run() -> None:
            for chunk in chunks:
                store: list[torch.Tensor] = []

                def cut(_module: torch.nn.Module, _inputs: tuple, output: torch.Tensor, kept=store) -> torch.Tensor:
                    kept.append(output.detach().requires_grad_())
                    return kept[-1]

                handle = module.register_forward_hook(cut) if module is not None else None
                leaf = chunk.detach().requires_grad_() if module is None else chunk
                try:
                    score = self.model(leaf)[:, 0].sum()
                    torch.autograd.grad(score, store[-1] if store else leaf)
                finally:
                    if handle is not None:
                        handle.remove()

        return run

    def reference_pairs(self, pairs: int, batch: int) -> Run:
        """DeepLIFT's passes: the references forward (no grad), then the inputs forward and backward."""
        return in_turn(self.forwards(pairs, batch), self.backwards(pairs, batch))

    def above_layer(self, layer: str, copies: int, batch: int) -> Run:
        """Per image and chunk: the layers below ``layer`` on one image, the layers above on the chunk."""
        module = get_layer(self.model, layer)
        sizes = [min(batch, copies - s) for s in range(0, copies, batch)]

        def run() -> None:
            with torch.no_grad():
                for image in self.inputs:
                    for size in sizes:
                        handle = module.register_forward_hook(lambda m, i, o, n=size: o.expand(n, -1, -1, -1))
                        try:
                            self.model(image[None])
                        finally:
                            handle.remove()

        return run


def grad_cam_library(cls, model, layer, inputs, targets, **attributes) -> Run:
    def run() -> None:
        method = cls(model=model, target_layers=[get_layer(model, layer)])
        for name, value in attributes.items():
            setattr(method, name, value)
        method(input_tensor=inputs, targets=[ClassifierOutputTarget(int(t)) for t in targets])

    return run


def zennit_lrp(model, inputs, targets, composite: str, bounds: tuple[torch.Tensor, torch.Tensor]) -> Run:
    """zennit's LRP with the relevance S_c at the target, the canonizers of its model (``ResNetCanonizer`` or
    ``SequentialMergeBatchNorm``) and a composite equal to labkit's ``composite`` (its stabilizers 1e-6)."""
    canonizers = [ResNetCanonizer()] if isinstance(model, ResNet) else [SequentialMergeBatchNorm()]
    index = targets[:, None]

    def make() -> LayerMapComposite:
        if composite == "epsilon":
            rules = [(Convolution, Epsilon(1e-6)), (torch.nn.Linear, Epsilon(1e-6))]
            return LayerMapComposite(layer_map_base(1e-6) + rules, canonizers=canonizers)
        low, high = (bound.expand_as(inputs) for bound in bounds)
        return EpsilonGammaBox(low=low, high=high, canonizers=canonizers)

    def run() -> None:
        with Gradient(model=model, composite=make()) as attributor:
            attributor(inputs, lambda output: torch.zeros_like(output).scatter(1, index, output.gather(1, index)))

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=2, help="images per call (sample photos, repeated)")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--steps", type=int, default=16, help="IG steps and SmoothGrad samples")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="a name labkit.load_model knows (offline ones only)")
    parser.add_argument("--channels-layer", help="layer of Score-CAM and Ablation-CAM (default: per model)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timed rounds (after a warm-up round)")
    parser.add_argument("--only", nargs="*", help="method names to run (default: all)")
    args = parser.parse_args()

    device = torch.device(args.device)
    clf = load_model(args.model, device=device)
    model = clf.model
    names = ["chelsea", "coffee", "rocket", "astronaut", "motorcycle", "cat_and_coffee"]
    images = sample_batch([names[i % len(names)] for i in range(args.batch)], size=args.size)
    x = clf.preprocess(images).to(device)
    with torch.no_grad():
        t = model(x).argmax(dim=1)
    b, n, cam_layer = len(x), args.steps, clf.cam_layer
    channel_layer = args.channels_layer or CHANNEL_LAYERS.get(args.model, cam_layer)
    layer = get_layer(model, cam_layer)
    floors = Floors(model, x, t)
    bs = {
        "grad": lambda copies: auto_batch_size(model, x[:1], with_grad=True, limit=copies),
        "plain": lambda copies: auto_batch_size(model, x[:1], limit=copies),
        "pairs": lambda pairs: pairs_per_pass(model, x[:1], pairs),
    }
    channels = get_layer(model, channel_layer)
    store: list[torch.Tensor] = []
    handle = channels.register_forward_hook(lambda m, i, o: store.append(o))
    with torch.no_grad():
        model(x[:1])
    handle.remove()
    k = store[0].shape[1]
    references = torch.stack([x.mean(0), torch.zeros_like(x[0]), x[0].flip(-1), x[-1].flip(-2)])
    bounds = (clf.preprocess(torch.zeros(3, 1, 1)).to(device), clf.preprocess(torch.ones(3, 1, 1)).to(device))
    patch = 32
    windows = (math.ceil((args.size - patch) / patch) + 1) ** 2
    sigma = 0.15 * float(x.amax() - x.amin())

    def nt(batch):
        sal = captum.Saliency(model)
        return lambda: captum.NoiseTunnel(sal).attribute(
            x, nt_type="smoothgrad", nt_samples=n, stdevs=sigma, target=t, nt_samples_batch_size=batch
        )

    rows = [
        (
            "saliency",
            lambda: lk.saliency(model, x, t),
            {"Saliency": lambda: captum.Saliency(model).attribute(x, target=t)},
            floors.backwards(b, b),
        ),
        (
            "gradient_x_input",
            lambda: lk.gradient_x_input(model, x, t),
            {"InputXGradient": lambda: captum.InputXGradient(model).attribute(x, target=t)},
            floors.backwards(b, b),
        ),
        (
            "smoothgrad",
            lambda: lk.smoothgrad(model, x, t, n_samples=n),
            {"NoiseTunnel all": nt(None), "NoiseTunnel 4": nt(4)},
            floors.backwards(b * n, bs["grad"](b * n)),
        ),
        (
            "guided_backprop",
            lambda: lk.guided_backprop(model, x, t),
            {"GuidedBackprop*": lambda: captum.GuidedBackprop(model).attribute(x, target=t)},
            floors.backwards(b, b),
        ),
        (
            "deconvnet",
            lambda: lk.deconvnet(model, x, t),
            {"Deconvolution*": lambda: captum.Deconvolution(model).attribute(x, target=t)},
            floors.backwards(b, b),
        ),
        (
            "integrated_gradients",
            lambda: lk.integrated_gradients(model, x, t, n_steps=n),
            {
                f"IG ibs={c}": (
                    lambda c=c: captum.IntegratedGradients(model).attribute(
                        x, target=t, n_steps=n, internal_batch_size=c
                    )
                )
                for c in (None, 8)
            },
            floors.backwards(b * n, bs["grad"](b * n)),
        ),
        (
            "deeplift",
            lambda: lk.deeplift(model, x, t),
            {"DeepLift*": lambda: captum.DeepLift(model).attribute(x, target=t)},
            floors.reference_pairs(b, bs["pairs"](b)),
        ),
        (
            "deeplift_shap",
            lambda: lk.deeplift_shap(model, x, t, references=references),
            {"DeepLiftShap*": lambda: captum.DeepLiftShap(model).attribute(x, baselines=references, target=t)},
            floors.reference_pairs(b * len(references), bs["pairs"](b * len(references))),
        ),
        (
            "deeplift_reveal_cancel",
            lambda: lk.deeplift(model, x, t, rule="reveal_cancel"),
            {},
            floors.reference_pairs(b, bs["pairs"](b)),
        ),
        (
            "lrp",
            lambda: lk.lrp(model, x, t),
            {
                "zennit epsilon": zennit_lrp(model, x, t, "epsilon", bounds),
                "LRP (Captum)\u2020": lambda: captum.LRP(model).attribute(x, target=t),
            },
            floors.backwards(b, b),
        ),
        (
            "lrp_gamma_box",
            lambda: lk.lrp(model, x, t, composite="epsilon_gamma_box", bounds=bounds),
            {"zennit EpsilonGammaBox": zennit_lrp(model, x, t, "epsilon_gamma_box", bounds)},
            floors.backwards(b, b),
        ),
        ("cam", lambda: lk.cam(model, x, t, layer=cam_layer), {}, floors.forwards(b, b)),
        (
            "grad_cam",
            lambda: lk.grad_cam(model, x, t, layer=cam_layer),
            {
                "GradCAM": grad_cam_library(GradCAM, model, cam_layer, x, t),
                "LayerGradCam": lambda: captum.LayerGradCam(model, layer).attribute(
                    x, target=t, relu_attributions=True
                ),
            },
            floors.backwards(b, b, cam_layer),
        ),
        (
            "grad_cam_pp",
            lambda: lk.grad_cam_pp(model, x, t, layer=cam_layer),
            {"GradCAMPlusPlus": grad_cam_library(GradCAMPlusPlus, model, cam_layer, x, t)},
            floors.backwards(b, b, cam_layer),
        ),
        (
            "xgrad_cam",
            lambda: lk.xgrad_cam(model, x, t, layer=cam_layer),
            {"XGradCAM": grad_cam_library(XGradCAM, model, cam_layer, x, t)},
            floors.backwards(b, b, cam_layer),
        ),
        (
            "layer_cam",
            lambda: lk.layer_cam(model, x, t, layer=cam_layer),
            {"LayerCAM": grad_cam_library(LayerCAM, model, cam_layer, x, t)},
            floors.backwards(b, b, cam_layer),
        ),
        (
            "guided_grad_cam",
            lambda: lk.guided_grad_cam(model, x, t, layer=cam_layer),
            {"GuidedGradCam*": lambda: captum.GuidedGradCam(model, layer).attribute(x, target=t)},
            in_turn(floors.backwards(b, b, cam_layer), floors.backwards(b, b)),
        ),
        (
            "score_cam",
            lambda: lk.score_cam(model, x, t, layer=channel_layer),
            {
                f"ScoreCAM bs={c}": grad_cam_library(ScoreCAM, model, channel_layer, x, t, batch_size=c)
                for c in (16, 64)
            },
            floors.forwards(b * k, bs["plain"](b * k)),
        ),
        (
            "ablation_cam",
            lambda: lk.ablation_cam(model, x, t, layer=channel_layer),
            {
                f"AblationCAM bs={c}": grad_cam_library(AblationCAM, model, channel_layer, x, t, batch_size=c)
                for c in (32, 64)
            },
            floors.above_layer(channel_layer, k, bs["plain"](k)),
        ),
        (
            "occlusion",
            lambda: lk.occlusion(model, x, t, patch=patch, stride=patch, score="logit"),
            {
                f"Occlusion ppe={c}": (
                    lambda c=c: captum.Occlusion(model).attribute(
                        x,
                        sliding_window_shapes=(3, patch, patch),
                        strides=(3, patch, patch),
                        target=t,
                        perturbations_per_eval=c,
                    )
                )
                for c in (8, windows)
            },
            floors.forwards(b * windows, bs["plain"](b * windows)),
        ),
    ]
    print(
        f"device={device} model={clf.name} batch={b} size={args.size} steps/samples={n} cam_layer={cam_layer} "
        f"channel_layer={channel_layer} (K={k}) occlusion patch=stride={patch} references={len(references)} "
        f"rounds={args.rounds} torch={torch.__version__} threads={torch.get_num_threads()}"
    )
    columns = ("labkit s", "peer s", "peer/labkit", "floor s", "labkit/floor")
    header = f"{'method':22s} " + " ".join(f"{c:>{max(9, len(c))}s}" for c in columns) + "  peer"
    print(header)
    print("-" * len(header))
    floors.backwards(b, b)()  # warm up the model
    for name, ours, peers, floor in rows:
        if args.only and name not in args.only:
            continue
        try:
            ours()
        except ValueError as error:  # e.g. CAM on a model without a GAP + linear head, LRP on timm's fused layers
            print(f"{name:22s} not run: {error}")
            continue
        peers, failures = runnable(peers)
        times = best_times({"labkit": ours, "floor": floor, **peers}, args.rounds, device)
        ours_s, floor_s = times["labkit"], times["floor"]
        if peers:
            label = min(peers, key=times.get)
            peer_cols = f"{times[label]:9.3f} {times[label] / ours_s:11.2f}"
        else:
            label, peer_cols = "(none)", f"{'-':>9s} {'-':>11s}"
        print(f"{name:22s} {ours_s:9.3f} {peer_cols} {floor_s:9.3f} {ours_s / floor_s:12.2f}  {label}", flush=True)
        for failure in failures:
            print(f"{'':22s} peer failed: {failure}")
    print("* Captum has no rule for ReLU6 (Hardtanh): on a network that has them, such as EfficientNet-Lite0,")
    print("  it computes something cheaper (the plain gradient through each ReLU6).")
    print("\u2020 Captum's LRP runs on ResNets but copies relevance to both branches of each residual sum and has no")
    print("  batch-norm merging: its relevance no longer sums to the score there (labkit's and zennit's do).")
    print("  zennit has no canonizer for timm's BatchNormAct2d: on EfficientNet-Lite0 it runs, but its relevance no")
    print("  longer sums to the score (labkit's does), so its time there is that of another computation.")


if __name__ == "__main__":
    main()
