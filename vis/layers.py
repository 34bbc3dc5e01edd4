"""Which layers to draw: a shape probe, the default progression, `--list-layers`.

A model without its own list of default layers (any torchvision classifier) gets about
nine evenly spaced layers that output feature maps, found by one forward pass on a
blank input, like torchlens' summary table but with plain forward hooks.
"""

import numpy as np
import torch
from torch import nn

from .hooks import hookable_layers, record, select_layers

DEFAULT_COUNT = 9  # layers in the default progression of a model without its own


def probe_shapes(
    model: nn.Module, size: int, device: torch.device | str = "cpu"
) -> dict[str, tuple[int, ...]]:
    """Output shape of every hookable layer for one blank size×size photo.

    A module that runs k > 1 times appears as `name#1` … `name#k`; a module that
    never runs (such as an unused branch) is absent.
    """
    x = torch.zeros(1, 3, size, size, device=device)
    _, activations = record(model, x, hookable_layers(model), copy=False)
    return {name: tuple(a.shape) for name, a in activations.items()}


def is_feature_map(shape: tuple[int, ...]) -> bool:
    """N×C×H×W with more than one pixel: something to draw as a grid of tiles."""
    return len(shape) == 4 and shape[2] * shape[3] > 1


def default_layers(model: nn.Module, shapes: dict[str, tuple[int, ...]]) -> list[str]:
    """About nine evenly spaced layers that output feature maps, input to output.

    Candidates are the children of `features` where the model has one (VGG, AlexNet,
    MobileNet, EfficientNet, DenseNet) and the top-level children otherwise (ResNet).
    """
    children = dict(model.named_children())
    if isinstance(children.get("features"), nn.Module):
        names = [f"features.{n}" for n, _ in children["features"].named_children()]
    else:
        names = list(children)
    candidates = [n for n in names if n in shapes and is_feature_map(shapes[n])]
    if len(candidates) <= DEFAULT_COUNT + 1:
        return candidates
    picks = np.linspace(0, len(candidates) - 1, DEFAULT_COUNT).round().astype(int)
    return [candidates[i] for i in dict.fromkeys(picks.tolist())]


def resolve_layers(
    model: nn.Module,
    patterns: list[str] | None,
    defaults: list[str],
    shapes: dict[str, tuple[int, ...]] | None = None,
) -> list[str]:
    """The layer names to record: the user's patterns, the model's list, or a probe's.

    Args:
        shapes: a `probe_shapes` result, needed only when both `patterns` and
            `defaults` are empty.
    """
    if patterns:
        return select_layers(model, patterns)
    if defaults:
        return list(defaults)
    assert shapes is not None, "a model without default layers needs a shape probe"
    return default_layers(model, shapes)


def parameter_count(module: nn.Module) -> int:
    """Parameters of `module` and everything inside it."""
    return sum(p.numel() for p in module.parameters())


def layer_table(model: nn.Module, shapes: dict[str, tuple[int, ...]]) -> list[str]:
    """One line per hookable layer: name, type, output shape (N×C×H×W), parameters."""
    modules = dict(model.named_modules())
    width = max(len(name) for name in modules) + 3  # room for a `#k` suffix
    lines = [f"{'layer':<{width}} {'type':<18} {'output':<20} {'parameters':>10}"]
    for name in hookable_layers(model):
        calls = [k for k in shapes if k == name or k.startswith(f"{name}#")] or [name]
        for key in calls:
            shape = "×".join(map(str, shapes[key])) if key in shapes else "(not run)"
            kind = type(modules[name]).__name__
            params = parameter_count(modules[name])
            lines.append(f"{key:<{width}} {kind:<18} {shape:<20} {params:>10,}")
    return lines
