"""Feature visualisation by optimisation: an image that excites one channel strongly.

Follows Olah, Mordvintsev & Schubert, "Feature Visualization" (Distill, 2017): the image
is parameterised in a 1/frequency-scaled Fourier basis and a decorrelated colour space,
and is jittered, scaled and rotated at random each step, so that what emerges is a
pattern the channel responds to rather than high-frequency noise.
"""

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from .gradcam import call_index, split_call

# square root of ImageNet's RGB colour correlation, as published with Lucid (Olah et
# al. 2017); its columns are the decorrelated colour axes, scaled to unit max norm
COLOR_CORRELATION_SQRT = torch.tensor(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]]
)
COLOR_MIX = COLOR_CORRELATION_SQRT / COLOR_CORRELATION_SQRT.norm(dim=0).max()

PAD = 16  # grey border, pixels, so that jitter and rotation do not reveal the edges
JITTER = 8  # largest random shift, pixels
SCALES = (0.9, 1.1)  # random zoom range
DEGREES = 10.0  # largest random rotation
SPECTRUM_STD = 0.01  # spread of the initial Fourier coefficients
LOGIT_SCALE = 4.0  # shrinks the pixel logits, so the sigmoid starts near grey


@dataclass
class DreamResult:
    """The optimised image and how strongly the channel responds to it."""

    image: np.ndarray  # H×W×3 uint8
    activation_start: float  # channel mean on the starting image (nearly grey)
    activation_end: float  # channel mean on the final image, without transforms
    seconds: float  # time spent optimising


def parse_dream(text: str) -> tuple[str, int]:
    """Read "LAYER:CHANNEL" (e.g. "stages.6:49") into a layer name and a channel."""
    layer_name, colon, channel = text.rpartition(":")
    if not colon:
        raise ValueError(
            f"--dream value {text!r} has no colon; write LAYER:CHANNEL, "
            "e.g. stages.6:49"
        )
    if not layer_name:
        raise ValueError(
            f"--dream value {text!r} names no layer; write LAYER:CHANNEL, "
            "e.g. stages.6:49"
        )
    if not channel.strip().isdigit():
        raise ValueError(
            f"--dream value {text!r} has channel {channel!r}, not a whole number "
            "≥ 0; write LAYER:CHANNEL, e.g. stages.6:49"
        )
    return layer_name, int(channel)


class _Spectrum(nn.Module):
    """An image as Fourier coefficients in decorrelated colour, read out as pixels."""

    def __init__(self, size: int, generator: torch.Generator):
        super().__init__()

        # 1/frequency scale, floored at the lowest frequency the image can hold
        fy = torch.fft.fftfreq(size)[:, None]  # size×1, cycles per pixel
        fx = torch.fft.rfftfreq(size)[None, :]  # 1×(size//2 + 1)
        freq = torch.sqrt(fx**2 + fy**2)
        self.register_buffer("scale", 1.0 / freq.clamp(min=1.0 / size))

        shape = (2, 3, *self.scale.shape)  # real and imaginary parts
        init = torch.randn(shape, generator=generator) * SPECTRUM_STD
        self.coeffs = nn.Parameter(init)
        self.register_buffer("mix", COLOR_MIX.clone())
        self.size = size

    def forward(self) -> torch.Tensor:
        spectrum = torch.complex(self.coeffs[0], self.coeffs[1]) * self.scale
        decorrelated = torch.fft.irfft2(
            spectrum, s=(self.size, self.size), norm="ortho"
        )
        rgb = torch.einsum("ij,jhw->ihw", self.mix, decorrelated)  # 3×S×S
        return torch.sigmoid(rgb / LOGIT_SCALE)[None]  # 1×3×S×S, in [0, 1]


def _random_transform(pixels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Pad with grey, then shift, scale and rotate at random in one resampling."""
    padded = F.pad(pixels, (PAD,) * 4, value=0.5)  # 1×3×(S+2P)×(S+2P)
    side = padded.shape[-1]

    # draw on the CPU generator, so a seed gives the same transforms on any device
    shift = (torch.rand(2, generator=generator) * 2 - 1) * JITTER * 2 / side
    zoom = SCALES[0] + (SCALES[1] - SCALES[0]) * torch.rand(1, generator=generator)
    angle = math.radians(DEGREES) * (torch.rand(1, generator=generator) * 2 - 1)

    # affine_grid maps output to input coordinates, so divide by the zoom
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack(
        [torch.cat([cos, -sin, shift[:1]]), torch.cat([sin, cos, shift[1:]])]
    )[None].to(pixels)  # 1×2×3
    grid = F.affine_grid(theta, list(padded.shape), align_corners=False)
    return F.grid_sample(padded, grid, padding_mode="border", align_corners=False)


class _ChannelHook:
    """Forward hook taking one channel's mean at the chosen call of one module.

    The mean is taken inside the hook, so an in-place op on the output later in the
    forward pass cannot change it, and gradients flow back through the call's graph.
    """

    def __init__(self, module: nn.Module, call: int, channel: int):
        self.call = call  # 0-based
        self.channel = channel
        self.count = 0
        self.value: torch.Tensor | None = None
        self.handle = module.register_forward_hook(self._hook)

    def _hook(self, module: nn.Module, inputs, output) -> None:
        output = output[0] if isinstance(output, (tuple, list)) else output
        if self.count == self.call:
            self.value = output[0, self.channel].mean()
        self.count += 1

    def reset(self) -> None:
        self.count, self.value = 0, None


def _probe(
    model: nn.Module, layer_name: str, channel: int, size: int, device: torch.device
) -> tuple[nn.Module, int]:
    """Check the layer runs and has `channel`; return its module and 0-based call."""
    _, module, call = split_call(model, layer_name)
    calls: list[torch.Size] = []
    handle = module.register_forward_hook(
        lambda m, i, o: calls.append((o[0] if isinstance(o, tuple) else o).shape)
    )
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, size, size, device=device))
    finally:
        handle.remove()

    index = call_index(layer_name, len(calls), call)
    shape = calls[index]
    if len(shape) != 4:
        raise ValueError(
            f"layer {layer_name!r} outputs shape {tuple(shape)}, not N×C×H×W; "
            "choose a convolutional layer"
        )
    if not 0 <= channel < shape[1]:
        raise ValueError(
            f"channel {channel} is out of range for layer {layer_name!r}, which has "
            f"{shape[1]} channels (0 … {shape[1] - 1})"
        )
    return module, index


def dream(
    model: nn.Module,
    layer_name: str,
    channel: int,
    mean: tuple[float, float, float],
    std: tuple[float, float, float],
    steps: int = 256,
    size: int = 224,
    seed: int = 0,
    lr: float = 0.05,
    progress: bool = True,
) -> DreamResult:
    """Optimise a `size`×`size` image to maximise `channel`'s mean at `layer_name`.

    `mean` and `std` are the model's input scaling (input = (pixel - mean) / std,
    pixels in 0..1). Runs on the model's device; the same seed gives the same image
    on the same device. A module called several times is taken at its last call
    unless the name says `name#k`. Raises ValueError for an unknown layer or a channel
    out of range. The model's train/eval flags are restored and its parameters get no
    `.grad`.
    """
    device = next(model.parameters()).device
    flags = {m: m.training for m in model.modules()}
    hook = None
    try:
        model.eval()
        module, call = _probe(model, layer_name, channel, size, device)
        hook = _ChannelHook(module, call, channel)
        with torch.inference_mode(False), torch.enable_grad():
            label = f"dream {layer_name}:{channel}"
            return _ascend(
                model, hook, mean, std, steps, size, seed, lr, progress, label
            )
    finally:
        if hook is not None:
            hook.handle.remove()
        for m, training in flags.items():
            m.train(training)


def _ascend(
    model: nn.Module,
    hook: _ChannelHook,
    mean: tuple[float, float, float],
    std: tuple[float, float, float],
    steps: int,
    size: int,
    seed: int,
    lr: float,
    progress: bool,
    label: str,
) -> DreamResult:
    """Gradient ascent on the channel's mean, with `hook` already in place."""
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    shift = torch.tensor(mean, device=device).view(1, 3, 1, 1)
    scale = torch.tensor(std, device=device).view(1, 3, 1, 1)
    image = _Spectrum(size, generator).to(device)
    optimizer = torch.optim.Adam(image.parameters(), lr=lr)

    def channel_mean(pixels: torch.Tensor) -> torch.Tensor:
        hook.reset()
        model((pixels - shift) / scale)
        return hook.value

    with torch.no_grad():
        start = channel_mean(image()).item()

    # gradients w.r.t. the coefficients only: the model's weights get no .grad
    began = time.perf_counter()
    bar = tqdm(range(steps), desc=label, disable=not progress)
    for _ in bar:
        objective = channel_mean(_random_transform(image(), generator))
        (image.coeffs.grad,) = torch.autograd.grad(-objective, image.coeffs)
        optimizer.step()
        bar.set_postfix(activation=f"{objective.item():.3g}", refresh=False)
    seconds = time.perf_counter() - began

    with torch.no_grad():
        pixels = image()
        end = channel_mean(pixels).item()
    array = (pixels[0] * 255).round().clamp(0, 255).byte().permute(1, 2, 0)  # S×S×3
    return DreamResult(array.cpu().numpy(), start, end, seconds)
