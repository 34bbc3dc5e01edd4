"""Grad-CAM: where a class score's evidence lies in the photo (Selvaraju et al., 2017).

The layer's activation is weighted by the spatial mean of the class score's gradient,
summed over channels and clamped at 0. Gradients come from a tensor hook on the layer's
output, so in-place ReLUs and modules called more than once work.
"""

import difflib

import torch
import torch.nn.functional as F
from torch import nn

from .hooks import _unknown_layer_message


def split_call(model: nn.Module, layer_name: str) -> tuple[str, nn.Module, int | None]:
    """Resolve "name" or "name#k" to (name, module, k); k is None for "the last call".

    Raises ValueError for an unknown layer or a call number that is not a positive
    integer.
    """
    name, _, call = layer_name.partition("#")
    modules = dict(model.named_modules())
    if not name or name not in modules:
        raise ValueError(_unknown_layer_message(layer_name, list(modules)))
    if not call:
        return name, modules[name], None
    if not call.isdigit() or int(call) < 1:
        raise ValueError(
            f"layer {layer_name!r} has call number {call!r}; write name#k with k = 1 "
            "for the module's first call in the forward pass, 2 for the second, …"
        )
    return name, modules[name], int(call)


def call_index(layer_name: str, n_calls: int, call: int | None) -> int:
    """0-based index of the `call`-th of `n_calls` calls, or of the last for None."""
    if n_calls == 0:
        raise ValueError(
            f"layer {layer_name!r} did not run in the forward pass; choose a layer "
            "the model uses"
        )
    if call is None:
        return n_calls - 1
    if call > n_calls:
        raise ValueError(
            f"layer {layer_name!r} asks for call {call}, but the module ran "
            f"{n_calls} time(s); use #1 … #{n_calls}"
        )
    return call - 1


def grad_cam(
    model: nn.Module, x: torch.Tensor, layer_name: str, class_index: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Grad-CAM of class `class_index` at `layer_name` for the 1×3×H×W input `x`.

    A module that runs several times in one forward pass (a ResNet block's ReLU) is
    taken at its last call unless the name says `name#k` (k-th call, from 1). Runs in
    eval mode with gradients enabled; the train/eval flags are restored, hooks
    removed, and no `.grad` is left on the model's parameters.

    Returns the CAM (H'×W' at the layer's resolution, in [0, 1]; all zeros when no
    evidence is positive) and the model's 1×N logits, both detached.
    """
    _, module, call = split_call(model, layer_name)
    activations: list[torch.Tensor] = []  # each call's output, as it was then
    gradients: dict[int, torch.Tensor] = {}  # call index -> gradient of the score

    # the tensor hook is registered while the output is fresh, so a later in-place
    # op (ReLU(inplace=True), `out += identity`) cannot change what it reports
    def forward_hook(module: nn.Module, inputs, output) -> None:
        output = output[0] if isinstance(output, (tuple, list)) else output
        index = len(activations)
        activations.append(output.detach().clone())
        if output.requires_grad:
            output.register_hook(lambda grad: gradients.__setitem__(index, grad))

    flags = {m: m.training for m in model.modules()}
    handle = module.register_forward_hook(forward_hook)
    try:
        model.eval()
        with torch.inference_mode(False), torch.enable_grad():
            # differentiate w.r.t. the input, not the weights: no .grad lands on them
            x = x.detach().clone().requires_grad_(True)
            logits = model(x)  # 1×N
            n_classes = logits.shape[1]
            if not 0 <= class_index < n_classes:
                raise ValueError(
                    f"class index {class_index} is out of range; the model has "
                    f"{n_classes} classes (0 … {n_classes - 1})"
                )
            torch.autograd.grad(logits[0, class_index], x)
    finally:
        handle.remove()
        for m, training in flags.items():
            m.train(training)

    # weights = spatially averaged gradients; cam = relu of the weighted sum
    index = call_index(layer_name, len(activations), call)
    if index not in gradients:
        raise ValueError(
            f"the class score does not depend on layer {layer_name!r}; choose a "
            "layer on the path to the classifier"
        )
    activation = activations[index][0]  # C×H'×W'
    gradient = gradients[index][0]  # C×H'×W'
    weights = gradient.mean(dim=(1, 2))  # C
    cam = torch.relu((weights[:, None, None] * activation).sum(0))  # H'×W'
    peak = cam.max()
    cam = cam / peak if peak > 0 else torch.zeros_like(cam)
    return cam.detach(), logits.detach()


def upsample_cam(cam: torch.Tensor, input_hw: tuple[int, int]) -> torch.Tensor:
    """An H'×W' CAM resized bilinearly to the input's H×W, kept in [0, 1]."""
    up = F.interpolate(
        cam[None, None].float(), size=input_hw, mode="bilinear", align_corners=False
    )
    return up[0, 0].clamp(0, 1)  # H×W


def class_index(name: str, categories: list[str]) -> int:
    """Index of the class called `name` (case-insensitive; the first if repeated).

    Raises ValueError naming close class names for an unknown one.
    """
    lowered = [c.lower() for c in categories]
    wanted = name.strip().lower()
    if wanted in lowered:
        return lowered.index(wanted)

    # suggest names that contain the word, then names that merely look alike
    containing = [c for c in categories if wanted and wanted in c.lower()]
    alike = difflib.get_close_matches(wanted, lowered, n=5, cutoff=0.6)
    close = list(
        dict.fromkeys(containing + [categories[lowered.index(a)] for a in alike])
    )
    hint = f"close names: {', '.join(close[:6])}" if close else "no close names"
    raise ValueError(
        f"unknown class {name!r} ({hint}); give a class name exactly as the model's "
        "class list spells it"
    )
