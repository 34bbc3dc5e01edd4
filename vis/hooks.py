"""Record what every chosen layer outputs during one forward pass, with forward hooks.

Each capture is a copy (`clone`), so a later in-place op such as torchvision's
`ReLU(inplace=True)` cannot change it, and a module that runs several times in one
forward pass (a ResNet block reuses its ReLU) is recorded once per call, as Captum and
torchlens do and pytorch-grad-cam and Lucent do not.
"""

import difflib
import re
from collections import defaultdict

import torch
from torch import nn


class ActivationRecorder:
    """Forward hooks on `layer_names` for as long as the `with` block lasts.

    After the forward pass, `activations` maps each layer name to a copy of its output
    (N×C×H×W for a convolution). A module called k > 1 times gives `name#1` … `name#k`.
    The handles are removed on exit, errors included, and errors propagate.
    """

    def __init__(self, model: nn.Module, layer_names: list[str], copy: bool = True):
        modules = dict(model.named_modules())
        missing = [name for name in layer_names if name not in modules]
        if missing:
            raise ValueError(_unknown_layer_message(missing[0], list(modules)))
        self.model = model
        self.layer_names = list(layer_names)
        self.copy = copy
        self.handles: list[torch.utils.hooks.RemovableHandle] = []
        self._calls: dict[str, list[torch.Tensor]] = defaultdict(list)

    def _hook(self, name: str):
        def hook(module: nn.Module, inputs, output) -> None:
            if isinstance(output, (tuple, list)):  # e.g. an RNN's (output, state)
                output = output[0]
            if isinstance(output, torch.Tensor):
                self._calls[name].append(
                    output.detach().clone() if self.copy else output
                )

        return hook

    def __enter__(self) -> "ActivationRecorder":
        self._calls.clear()
        modules = dict(self.model.named_modules())
        for name in self.layer_names:
            self.handles.append(modules[name].register_forward_hook(self._hook(name)))
        return self

    def __exit__(self, *exc_info) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles.clear()

    @property
    def activations(self) -> dict[str, torch.Tensor]:
        """Captures in the order the layers ran, one entry per call."""
        out = {}
        for name, calls in self._calls.items():
            if len(calls) == 1:
                out[name] = calls[0]
            else:
                out.update({f"{name}#{i}": t for i, t in enumerate(calls, start=1)})
        return out


def hookable_layers(model: nn.Module) -> list[str]:
    """Every named submodule, in definition order (the model itself is left out)."""
    return [name for name, _ in model.named_modules() if name]


def select_layers(model: nn.Module, patterns: list[str]) -> list[str]:
    """Layer names matching exact names or globs, or `all`.

    In a glob `*` and `?` stay within one dotted part: `stages.*` is the seven
    stages, not every module inside them; `stages.*.*` is their blocks.

    Raises ValueError naming the closest layer names for a pattern that matches none.
    """
    names = hookable_layers(model)
    if patterns == ["all"]:
        return names
    chosen: list[str] = []
    for pattern in patterns:
        base = pattern.split("#")[0]  # `relu#2` selects the module `relu`
        matches = [n for n in names if n == base or _glob(base).fullmatch(n)]
        if not matches:
            raise ValueError(_unknown_layer_message(pattern, names))
        chosen += [n for n in matches if n not in chosen]
    return chosen


def _glob(pattern: str) -> re.Pattern:
    """A layer-name glob as a regex whose wildcards do not cross dots."""
    parts = [re.escape(c) if c not in "*?" else c for c in pattern]
    text = "".join(parts).replace("*", "[^.]*").replace("?", "[^.]")
    return re.compile(text)


def _unknown_layer_message(name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(name, names, n=4, cutoff=0.5)
    hint = f"close names: {', '.join(close)}" if close else "no close names"
    return f"unknown layer {name!r} ({hint}); run with --list-layers to see them all"


def _training_flags(model: nn.Module) -> dict[nn.Module, bool]:
    return {m: m.training for m in model.modules()}


def record(
    model: nn.Module, x: torch.Tensor, layer_names: list[str], copy: bool = True
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Run `model` on the batch `x` in eval and inference mode, recording `layer_names`.

    Returns the model's output and the activations. Every module's train/eval flag is
    put back afterwards, so a caller's model comes back as it went in.
    """
    flags = _training_flags(model)
    model.eval()
    try:
        with ActivationRecorder(model, layer_names, copy) as recorder:
            with torch.inference_mode():
                output = model(x)
        return output, recorder.activations
    finally:
        for module, training in flags.items():
            module.training = training  # not train(): it recurses, O(n²)
