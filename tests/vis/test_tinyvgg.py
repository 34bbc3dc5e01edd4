"""Tests for the CNN Explainer Tiny VGG loader.

The reference numbers come from the README and expected_outputs.json beside the
TF.js files in ../shared/peers/cnn-explainer (an independent numpy forward pass); the
error tests and the layout oracle build small models of their own in tmp_path.
"""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vis.models.tinyvgg import (
    ModelFileError,
    load_tinyvgg,
    read_classes,
    tinyvgg_preprocess,
)

PEERS = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "peers" / "cnn-explainer"
)
needs_peers = pytest.mark.skipif(
    not (PEERS / "model" / "model.json").is_file(),
    reason=f"CNN Explainer reference files not found in {PEERS.resolve()}",
)

LAYER_NAMES = [
    "conv_1_1", "relu_1_1", "conv_1_2", "relu_1_2", "max_pool_1",
    "conv_2_1", "relu_2_1", "conv_2_2", "relu_2_2", "max_pool_2",
    "flatten", "output",
]  # fmt: skip

# the images CNN Explainer offers in its picker, each predicted as its own class
PICKER_IMAGES = [
    "boat_1.jpeg", "bug_1.jpeg", "pizza_1.jpeg", "pepper_1.jpeg", "bus_1.jpeg",
    "koala_1.jpeg", "espresso_1.jpeg", "panda_1.jpeg", "orange_1.jpeg", "car_1.jpeg",
]  # fmt: skip


@pytest.fixture(scope="module")
def model() -> torch.nn.Sequential:
    return load_tinyvgg(PEERS / "model" / "model.json")


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads((PEERS / "expected_outputs.json").read_text())


def _load_image(name: str) -> torch.Tensor:
    return tinyvgg_preprocess(Image.open(PEERS / "images" / name))


@pytest.fixture(scope="module")
def car_activations(model: torch.nn.Sequential) -> dict[str, torch.Tensor]:
    """Every child's output for the car, applying the children one at a time."""
    x, activations = _load_image("car_1.jpeg")[None], {}
    with torch.no_grad():
        for layer_name, layer in model.named_children():
            x = layer(x)
            activations[layer_name] = x[0]
    return activations


@needs_peers
def test_structure_and_first_weight(model: torch.nn.Sequential) -> None:
    assert [name for name, _ in model.named_children()] == LAYER_NAMES
    assert sum(p.numel() for p in model.parameters()) == 19_920
    kernel = model.conv_1_1.weight
    assert kernel[0, 0, 0, 0].item() == pytest.approx(-0.30161652, abs=1e-8)
    # conv_1_1/kernel[0, 0, :, 0] in HWIO is output 0, all inputs, row 0, column 0
    expected = [-0.30161652, -0.20131032, -0.00192215]
    assert kernel[0, :, 0, 0].tolist() == pytest.approx(expected, abs=1e-8)
    assert model.output.bias[0].item() == pytest.approx(-0.08599038, abs=1e-8)


@needs_peers
def test_car_is_sport_car(model: torch.nn.Sequential, expected: dict) -> None:
    with torch.no_grad():
        probs = model(_load_image("car_1.jpeg")[None]).softmax(1)[0]

    classes = read_classes(PEERS / "classes.txt")
    assert probs.argmax().item() == 9 and classes[9] == "sport car"
    assert probs[9].item() == pytest.approx(0.9655, abs=1e-4)
    reference = expected["images"]["car_1.jpeg"]["probs"]
    assert probs.tolist() == pytest.approx(reference, abs=1e-4)


@needs_peers
@pytest.mark.parametrize("image_name", PICKER_IMAGES)
def test_picker_image_top1(
    model: torch.nn.Sequential, expected: dict, image_name: str
) -> None:
    with torch.no_grad():
        probs = model(_load_image(image_name)[None]).softmax(1)[0]

    reference = expected["images"][image_name]
    assert probs.argmax().item() == reference["top1_index"]
    assert probs.max().item() == pytest.approx(reference["top1_prob"], abs=1e-3)


@needs_peers
def test_all_images_full_softmax(model: torch.nn.Sequential, expected: dict) -> None:
    names = sorted(expected["images"])
    assert len(names) == 20
    with torch.no_grad():
        probs = model(torch.stack([_load_image(name) for name in names])).softmax(1)

    reference = torch.tensor([expected["images"][name]["probs"] for name in names])
    assert (probs - reference).abs().max().item() < 1e-4


@needs_peers
def test_layer_output_shapes(car_activations: dict[str, torch.Tensor]) -> None:
    sides = {"conv_1_1": 62, "conv_1_2": 60, "max_pool_1": 30}
    sides |= {"conv_2_1": 28, "conv_2_2": 26, "max_pool_2": 13}
    for layer_name, side in sides.items():
        assert car_activations[layer_name].shape == (10, side, side), layer_name
        relu_name = layer_name.replace("conv", "relu")
        assert car_activations[relu_name].shape == (10, side, side), relu_name
    assert car_activations["flatten"].shape == (1690,)
    assert car_activations["output"].shape == (10,)


@needs_peers
def test_car_channel_means(
    car_activations: dict[str, torch.Tensor], expected: dict
) -> None:
    reference = expected["car_1_conv_channel_means_after_relu"]
    for conv_name, strongest in [
        ("conv_1_1", 4), ("conv_1_2", 8), ("conv_2_1", 8), ("conv_2_2", 0),
    ]:  # fmt: skip
        relu_name = reference[conv_name]["after"]
        means = car_activations[relu_name].mean(dim=(1, 2))  # C
        assert means.tolist() == pytest.approx(
            reference[conv_name]["channel_means"], abs=1e-4
        )
        assert means.argmax().item() == strongest


@needs_peers
def test_flatten_is_keras_channels_last(
    car_activations: dict[str, torch.Tensor],
) -> None:
    pooled = car_activations["max_pool_2"]  # 10×13×13
    h, w, c = 4, 7, 3
    assert car_activations["flatten"][(h * 13 + w) * 10 + c] == pooled[c, h, w]


@needs_peers
def test_preprocess_car_matches_reference_pixels() -> None:
    x = _load_image("car_1.jpeg")
    assert x.shape == (3, 64, 64) and x.dtype == torch.float32
    assert x.mean(dim=(1, 2)).tolist() == pytest.approx(
        [0.15219, 0.25529, 0.36911], abs=1e-5
    )
    assert (x[:, 0, 0] * 255).round().tolist() == [20, 76, 101]


@needs_peers
def test_grayscale_panda_is_replicated_to_rgb() -> None:
    image = Image.open(PEERS / "images" / "panda_3.jpeg")
    assert image.mode == "L"
    x = tinyvgg_preprocess(image)
    assert x.shape == (3, 64, 64)
    gray = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255)
    for channel in x:
        assert torch.equal(channel, gray)


def test_preprocess_crops_centre_and_resizes_shorter_side() -> None:
    # 130×64: no resize, the centre 64 columns are green
    image = Image.new("RGB", (130, 64), (255, 0, 0))
    image.paste((0, 255, 0), (33, 0, 97, 64))
    x = tinyvgg_preprocess(image)
    assert x.shape == (3, 64, 64)
    assert torch.equal(
        x, torch.tensor([0.0, 1.0, 0.0])[:, None, None].expand(3, 64, 64)
    )

    # a flat 256×128 image stays flat after resizing to 128×64 and cropping
    x = tinyvgg_preprocess(Image.new("RGB", (256, 128), (51, 102, 204)))
    assert x.shape == (3, 64, 64)
    assert x.mean(dim=(1, 2)).tolist() == pytest.approx([0.2, 0.4, 0.8], abs=1e-6)


def test_read_classes_skips_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "classes.txt"
    path.write_text("lifeboat\n\nsport car\n  \n")
    assert read_classes(path) == ["lifeboat", "sport car"]

    path.write_text("\n \n")
    with pytest.raises(ModelFileError, match="has no class names"):
        read_classes(path)


# a small Sequential written by the tests: Conv2D (relu) -> Flatten -> Dense (softmax)
def _layers(padding: str = "valid") -> list[dict]:
    conv = {"name": "conv", "batch_input_shape": [None, 3, 3, 2], "filters": 2}
    conv |= {"kernel_size": [2, 2], "strides": [1, 1], "padding": padding}
    conv |= {"activation": "relu", "use_bias": True, "data_format": "channels_last"}
    dense = {"name": "dense", "units": 3, "activation": "softmax", "use_bias": True}
    return [
        {"class_name": "Conv2D", "config": conv},
        {"class_name": "Flatten", "config": {"name": "flatten"}},
        {"class_name": "Dense", "config": dense},
    ]


def _write_model(
    folder: Path,
    padding: str = "valid",
    layers: list[dict] | None = None,
    class_name: str = "Sequential",
    dtype: str = "float32",
    drop_bytes: int = 0,
) -> tuple[Path, dict[str, np.ndarray]]:
    side = 2 if padding == "valid" else 3
    shapes = {"conv/kernel": [2, 2, 2, 2], "conv/bias": [2]}
    shapes |= {"dense/kernel": [side * side * 2, 3], "dense/bias": [3]}
    rng = np.random.default_rng(0)
    arrays = {k: rng.normal(size=s).astype("<f4") for k, s in shapes.items()}
    spec = {
        "format": "layers-model",
        "modelTopology": {
            "model_config": {
                "class_name": class_name,
                "config": {"name": "tiny", "layers": layers or _layers(padding)},
            }
        },
        "weightsManifest": [
            {
                "paths": ["tiny.bin"],
                "weights": [
                    {"name": k, "shape": s, "dtype": dtype} for k, s in shapes.items()
                ],
            }
        ],
    }
    (folder / "model.json").write_text(json.dumps(spec))
    data = b"".join(a.tobytes() for a in arrays.values())
    (folder / "tiny.bin").write_bytes(data[: len(data) - drop_bytes])
    return folder / "model.json", arrays


# PyTorch warns that an even kernel with padding="same" pads a copy of the input
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_layouts_against_numpy_oracle(tmp_path: Path, padding: str) -> None:
    model_json, arrays = _write_model(tmp_path, padding)
    model = load_tinyvgg(model_json)
    x_hwc = np.random.default_rng(1).normal(size=(3, 3, 2)).astype(np.float32)

    # numpy forward in Keras's layout: HWC input, HWIO kernel, HWC flatten
    if padding == "same":
        x_hwc = np.pad(x_hwc, ((0, 1), (0, 1), (0, 0)))  # TF pads bottom/right
    side = x_hwc.shape[0] - 1
    kernel = arrays["conv/kernel"]
    conv = np.zeros((side, side, 2))
    for i in range(side):
        for j in range(side):
            conv[i, j] = np.einsum("abc,abco->o", x_hwc[i : i + 2, j : j + 2], kernel)
    flat = np.maximum(conv + arrays["conv/bias"], 0).reshape(-1)
    logits = flat @ arrays["dense/kernel"] + arrays["dense/bias"]

    x = torch.from_numpy(x_hwc[:3, :3]).permute(2, 0, 1)[None]
    with torch.no_grad():
        assert model(x)[0].tolist() == pytest.approx(logits.tolist(), abs=1e-5)


def test_error_not_json(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text("<html>not found</html>")
    with pytest.raises(ModelFileError, match=r"model\.json is not JSON"):
        load_tinyvgg(path)


def test_error_not_sequential(tmp_path: Path) -> None:
    model_json, _ = _write_model(tmp_path, class_name="Model")
    with pytest.raises(
        ModelFileError, match="Keras Sequential, got class_name 'Model'"
    ):
        load_tinyvgg(model_json)


def test_error_missing_shard(tmp_path: Path) -> None:
    model_json, _ = _write_model(tmp_path)
    (tmp_path / "tiny.bin").unlink()
    with pytest.raises(
        ModelFileError,
        match=r"tiny\.bin is missing: model\.json and its shard must sit in the same "
        r"folder; .*public/assets/data/group1-shard1of1\.bin",
    ):
        load_tinyvgg(model_json)


def test_error_shard_wrong_size(tmp_path: Path) -> None:
    model_json, _ = _write_model(tmp_path, drop_bytes=4)
    with pytest.raises(ModelFileError, match="expected 180 bytes .* got 176 bytes"):
        load_tinyvgg(model_json)


def test_error_unsupported_layer(tmp_path: Path) -> None:
    layers = _layers()
    layers.insert(1, {"class_name": "Dropout", "config": {"name": "drop", "rate": 0.5}})
    model_json, _ = _write_model(tmp_path, layers=layers)
    with pytest.raises(ModelFileError, match=r"'drop' \(Dropout\) has unsupported"):
        load_tinyvgg(model_json)


def test_error_unsupported_dtype(tmp_path: Path) -> None:
    model_json, _ = _write_model(tmp_path, dtype="float16")
    with pytest.raises(ModelFileError, match="dtype 'float16'; only plain float32"):
        load_tinyvgg(model_json)
