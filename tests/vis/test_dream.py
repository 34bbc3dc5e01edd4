"""Tests for vis.dream: the optimised image must excite its channel far more than a
photo or noise does, the same seed must give the same image, and bad input one line.
"""

from pathlib import Path

import numpy as np
import pytest
import skimage.data
import torch
import torchvision
from PIL import Image

from vis.dream import COLOR_MIX, dream, parse_dream
from vis.hooks import record

MOTORCYCLE = Path(skimage.data.__file__).parent / "motorcycle_left.png"
WHEEL_CHANNEL = ("stages.6", 49)  # best IoU with the motorcycle's rear wheel


def channel_mean(lite0, x: torch.Tensor, layer_name: str, channel: int) -> float:
    _, activations = record(lite0.module, x, [layer_name])
    return activations[layer_name][0, channel].mean().item()


def test_parse_dream():
    assert parse_dream("stages.6:49") == ("stages.6", 49)
    assert parse_dream("layer4.1.relu#2:7") == ("layer4.1.relu#2", 7)


@pytest.mark.parametrize(
    "text, match",
    [
        ("stages.6", r"--dream value 'stages.6' has no colon; write LAYER:CHANNEL"),
        (":3", r"--dream value ':3' names no layer"),
        ("stages.6:x", r"has channel 'x', not a whole number ≥ 0"),
        ("stages.6:-1", r"has channel '-1', not a whole number"),
    ],
)
def test_parse_dream_errors(text, match):
    with pytest.raises(ValueError, match=match):
        parse_dream(text)


def test_colour_mix_has_unit_largest_column():
    assert COLOR_MIX.norm(dim=0).max().item() == pytest.approx(1.0)


def test_optimised_image_excites_the_channel(lite0):
    layer_name, channel = WHEEL_CHANNEL
    result = dream(
        lite0.module,
        layer_name,
        channel,
        lite0.mean,
        lite0.std,
        steps=24,
        size=96,
        progress=False,
    )
    assert result.image.shape == (96, 96, 3) and result.image.dtype == np.uint8

    # the channel's mean on the photo the channel was found on, and on noise
    photo = Image.open(MOTORCYCLE).convert("RGB")
    on_photo = channel_mean(lite0, lite0.preprocess(photo)[None], *WHEEL_CHANNEL)
    noise = torch.rand(1, 3, 96, 96, generator=torch.Generator().manual_seed(0))
    mean = torch.tensor(lite0.mean).view(1, 3, 1, 1)
    std = torch.tensor(lite0.std).view(1, 3, 1, 1)
    on_noise = channel_mean(lite0, (noise - mean) / std, *WHEEL_CHANNEL)
    assert result.activation_end > 5 * max(on_photo, on_noise, 1.0)
    assert result.activation_end > result.activation_start + 5

    # activation_end is the channel on the returned image, up to 8-bit rounding
    pixels = torch.from_numpy(result.image).permute(2, 0, 1)[None] / 255
    on_image = channel_mean(lite0, (pixels - mean) / std, *WHEEL_CHANNEL)
    assert on_image == pytest.approx(result.activation_end, rel=0.05)


def test_same_seed_same_image(lite0):
    def run(seed: int) -> np.ndarray:
        return dream(
            lite0.module,
            "stages.2",
            5,
            lite0.mean,
            lite0.std,
            steps=3,
            size=48,
            seed=seed,
            progress=False,
        ).image

    first = run(0)
    np.testing.assert_array_equal(run(0), first)
    assert not np.array_equal(run(1), first)


@pytest.mark.parametrize(
    "layer_name, channel, match",
    [
        ("stages.9", 0, r"unknown layer 'stages.9' \(close names: stages.6"),
        (
            "stages.6",
            320,
            r"channel 320 is out of range for layer 'stages.6', which "
            r"has 320 channels \(0 … 319\)",
        ),
        ("classifier", 0, r"outputs shape \(1, 1000\), not N×C×H×W"),
        ("stem#2", 0, r"asks for call 2, but the module ran 1 time\(s\)"),
    ],
)
def test_bad_layer_or_channel(lite0, layer_name, channel, match):
    with pytest.raises(ValueError, match=match):
        dream(
            lite0.module,
            layer_name,
            channel,
            lite0.mean,
            lite0.std,
            steps=1,
            size=32,
            progress=False,
        )


def test_reused_module_leaves_model_as_it_was():
    torch.manual_seed(0)
    net = torchvision.models.resnet18(num_classes=10).train()
    state = {k: v.clone() for k, v in net.state_dict().items()}
    result = dream(
        net,
        "layer4.1.relu#1",
        3,
        (0.5,) * 3,
        (0.25,) * 3,
        steps=2,
        size=64,
        progress=False,
    )
    assert result.image.shape == (64, 64, 3)
    assert all(m.training for m in net.modules())
    assert all(not m._forward_hooks for m in net.modules())
    assert all(p.grad is None for p in net.parameters())
    for key, value in net.state_dict().items():  # batch-norm statistics included
        torch.testing.assert_close(value, state[key])
