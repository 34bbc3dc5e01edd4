"""Tests for vis.models: EfficientNet-Lite0's real weights on scikit-image's photos.

The expected classes are what the photos show (issue 3); the parameter count is the
architecture's (EfficientNet-Lite0, 1000 classes).
"""

import shutil
from pathlib import Path

import pytest
import skimage
import torch
from PIL import Image
from skimage import data
from torchvision.models import mobilenet_v3_small

from vis.layers import default_layers, probe_shapes
from vis.models import load_model

SKIMAGE_DATA = Path(skimage.__file__).parent / "data"


def top1(model, image: Image.Image) -> str:
    """Top-1 class after a plain 224×224 resize (no crop, no aspect kept)."""
    x = model.preprocess(image.convert("RGB").resize((224, 224), Image.BILINEAR), 224)
    with torch.inference_mode():
        logits = model.module(x[None])
    return model.categories[int(logits.argmax())]


@pytest.mark.parametrize(
    ("photo", "classes"),
    [
        ("coffee.png", {"espresso"}),
        ("chelsea.png", {"Egyptian cat", "tabby", "tiger cat"}),
        ("motorcycle_left.png", {"moped", "motor scooter"}),
    ],
)
def test_lite0_recognises_sample_photos(lite0, photo: str, classes: set) -> None:
    with Image.open(SKIMAGE_DATA / photo) as image:
        assert top1(lite0, image) in classes


def test_lite0_size_and_default_layers(lite0) -> None:
    assert sum(p.numel() for p in lite0.module.parameters()) == 4_652_008
    assert lite0.default_layers == ["stem", *(f"stages.{i}" for i in range(7)), "head"]
    assert lite0.first_conv == "stem.conv"
    assert len(lite0.categories) == 1000 and lite0.categories[967] == "espresso"


def test_preprocess_keeps_the_whole_photo(lite0) -> None:
    image = Image.fromarray(data.chelsea())  # 451 wide, 300 high
    x = lite0.preprocess(image, 96)
    assert x.shape == (3, 96, 144)
    assert -127 / 128 <= float(x.min()) and float(x.max()) <= 128 / 128


def test_altered_weights_fail_the_checksum(lite0, tmp_path: Path) -> None:
    altered = tmp_path / "efficientnet-lite0.pth"
    shutil.copyfile(lite0.weights, altered)
    with altered.open("r+b") as file:
        file.seek(-100, 2)
        byte = file.read(1)
        file.seek(-100, 2)
        file.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ValueError, match=r"SHA-256 .*expected 579344248a93…"):
        load_model("efficientnet_lite0", altered)


def test_missing_weights_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="weights file .*nope.pth not found"):
        load_model("efficientnet_lite0", tmp_path / "nope.pth")


def test_torchvision_default_layers_from_a_probe(tmp_path: Path) -> None:
    torch.manual_seed(0)
    weights = tmp_path / "mobilenet.pth"
    torch.save(mobilenet_v3_small().state_dict(), weights)
    model = load_model("mobilenet_v3_small", weights)
    assert model.default_layers == [] and model.first_conv == "features.0.0"

    shapes = probe_shapes(model.module, 64)
    # 13 feature blocks, 9 picked at round(linspace(0, 12, 9)) = 0 2 3 4 6 8 9 10 12
    picks = [0, 2, 3, 4, 6, 8, 9, 10, 12]
    assert default_layers(model.module, shapes) == [f"features.{i}" for i in picks]
    assert shapes["features.12"] == (1, 576, 2, 2)
