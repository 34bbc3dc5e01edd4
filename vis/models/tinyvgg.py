"""CNN Explainer's Tiny VGG, loaded from its TensorFlow.js files into PyTorch.

CNN Explainer (Wang et al., "CNN Explainer: Learning Convolutional Neural Networks with
Interactive Visualization", IEEE TVCG 2020) ships a Keras model as a TF.js layers-model:
`model.json` holds the Sequential topology and a manifest, and the shard beside it holds
the float32 weights. Two layout differences must be undone, or the network runs but
answers nonsense. Keras stores a conv kernel as height, width, in, out (HWIO) while
PyTorch wants out, in, height, width (OIHW); both compute a cross-correlation, so
permuting the axes is enough and no kernel flip is needed. Keras flattens the last map
with the channel varying fastest (HWC), so the Dense kernel's rows come in that order;
our `flatten` child permutes NCHW to NHWC before flattening, which keeps
`output.weight` simply the transposed kernel and the `flatten` vector equal to Keras's.
"""

import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

SOURCE_HINT = (
    "CNN Explainer's files are public/assets/data/model.json and "
    "public/assets/data/group1-shard1of1.bin in github.com/poloclub/cnn-explainer"
)


class ModelFileError(ValueError):
    """A model, weight or class file that cannot be read as CNN Explainer's Tiny VGG."""


class KerasFlatten(nn.Module):
    """Flatten N×C×H×W in Keras's channels-last order: index (h * W + w) * C + c."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 2, 3, 1).flatten(1)  # N×(H·W·C)


class _ReLUConv2d(nn.Conv2d):
    """Conv2D with activation="relu" fused in, so the child keeps its Keras name."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(super().forward(x))


class _ReLULinear(nn.Linear):
    """Dense with activation="relu" fused in."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(super().forward(x))


def _build_layer(
    layer: dict, shape: tuple[int, ...], is_last: bool, source: Path
) -> tuple[nn.Module, tuple[int, ...]]:
    """One Keras layer as a PyTorch module, and its output shape (C×H×W or features)."""
    kind, cfg = layer.get("class_name"), layer.get("config", {})
    name, act = cfg.get("name"), cfg.get("activation", "linear")

    def unsupported(what: str) -> ModelFileError:
        return ModelFileError(
            f"{source}: layer {name!r} ({kind}) has unsupported {what}; this loader "
            "reads Sequential models of Conv2D, Activation, MaxPooling2D, Flatten and "
            "Dense layers such as CNN Explainer's Tiny VGG"
        )

    if cfg.get("data_format", "channels_last") != "channels_last":
        raise unsupported(f"data_format {cfg['data_format']!r}")
    # a final softmax is dropped so the network always ends in logits (Grad-CAM and
    # class comparisons need them); callers apply softmax themselves
    if act not in ("linear", "relu") and not (act == "softmax" and is_last):
        raise unsupported(f"activation {act!r}")
    relu = act == "relu"
    rank = {"Conv2D": 3, "MaxPooling2D": 3, "Dense": 1}.get(kind, len(shape))
    if len(shape) != rank:
        raise unsupported(f"input shape {list(shape)}")

    if kind == "Conv2D":
        (kh, kw), (sh, sw) = cfg["kernel_size"], cfg["strides"]
        c, h, w = shape
        if tuple(cfg.get("dilation_rate", (1, 1))) != (1, 1):
            raise unsupported(f"dilation_rate {cfg['dilation_rate']}")
        if cfg["padding"] == "same" and (sh, sw) == (1, 1):
            padding, out_hw = "same", (h, w)
        elif cfg["padding"] == "valid":
            padding, out_hw = 0, ((h - kh) // sh + 1, (w - kw) // sw + 1)
        else:
            raise unsupported(f"padding {cfg['padding']!r} with strides {[sh, sw]}")
        conv = (_ReLUConv2d if relu else nn.Conv2d)(
            c, cfg["filters"], (kh, kw), (sh, sw), padding, bias=cfg["use_bias"]
        )
        return conv, (cfg["filters"], *out_hw)
    if kind == "Activation":
        return (nn.ReLU() if relu else nn.Identity()), shape
    if kind == "MaxPooling2D":
        (ph, pw), (sh, sw) = cfg["pool_size"], cfg.get("strides") or cfg["pool_size"]
        if cfg.get("padding", "valid") != "valid":
            raise unsupported(f"padding {cfg['padding']!r}")
        c, h, w = shape
        pool = nn.MaxPool2d((ph, pw), (sh, sw))
        return pool, (c, (h - ph) // sh + 1, (w - pw) // sw + 1)
    if kind == "Flatten":
        return KerasFlatten(), (math.prod(shape),)
    if kind == "Dense":
        dense = (_ReLULinear if relu else nn.Linear)(
            shape[0], cfg["units"], bias=cfg["use_bias"]
        )
        return dense, (cfg["units"],)
    raise unsupported("layer class")


def _read_weights(manifest: list[dict], folder: Path, source: Path) -> dict:
    """Every tensor of the manifest as float32 numpy arrays, keyed "layer/kernel"."""
    weights = {}
    for group in manifest:
        for entry in group["weights"]:
            dtype = entry.get("dtype")
            if dtype != "float32" or "quantization" in entry:
                quantised = " quantised" if "quantization" in entry else ""
                raise ModelFileError(
                    f"{source}: weight {entry['name']!r} has{quantised} dtype "
                    f"{dtype!r}; only plain float32 weights load: export the model "
                    "without quantisation"
                )

        # a group's shards are one buffer cut into files; tensors follow back to back
        shards = [folder / p for p in group["paths"]]
        for shard in shards:
            if not shard.is_file():
                raise ModelFileError(
                    f"weight shard {shard} is missing: model.json and its shard must "
                    f"sit in the same folder; {SOURCE_HINT}"
                )
        buffer = b"".join(shard.read_bytes() for shard in shards)
        sizes = [math.prod(entry["shape"]) for entry in group["weights"]]
        if len(buffer) != 4 * sum(sizes):
            raise ModelFileError(
                f"{', '.join(map(str, shards))}: expected {4 * sum(sizes)} bytes for "
                f"the shapes in {source.name}, got {len(buffer)} bytes; download both "
                "files again from the same commit"
            )

        flat, offset = np.frombuffer(buffer, dtype="<f4"), 0  # little-endian float32
        for entry, size in zip(group["weights"], sizes, strict=True):
            weights[entry["name"]] = flat[offset : offset + size].reshape(
                entry["shape"]
            )
            offset += size
    return weights


def load_tinyvgg(model_json: Path) -> nn.Sequential:
    """Build the Keras Sequential in `model_json` with the weights of its shard.

    Returns a Sequential in eval mode whose children carry the Keras layer names
    (`conv_1_1`, `relu_1_1`, ..., `output`); it maps N×3×H×W inputs in [0, 1] to logits.
    """
    model_json = Path(model_json)
    try:
        spec = json.loads(model_json.read_text())
    except FileNotFoundError:
        raise ModelFileError(f"{model_json} not found; {SOURCE_HINT}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelFileError(
            f"{model_json} is not JSON ({err}); give the model.json of a TF.js "
            f"layers-model: {SOURCE_HINT}"
        ) from None

    topology = spec.get("modelTopology", {}) if isinstance(spec, dict) else {}
    config = topology.get("model_config", topology)
    if config.get("class_name") != "Sequential":
        raise ModelFileError(
            f"{model_json}: expected the TF.js layers-model of a Keras Sequential, got "
            f"class_name {config.get('class_name')!r}; functional models and "
            f"graph-models do not load. {SOURCE_HINT}"
        )
    layers = config["config"]
    layers = layers["layers"] if isinstance(layers, dict) else layers
    input_shape = layers[0]["config"].get("batch_input_shape") if layers else None
    if "weightsManifest" not in spec or not input_shape or len(input_shape) != 4:
        raise ModelFileError(
            f"{model_json}: needs a weightsManifest and a first layer with a "
            f"batch_input_shape [N, H, W, C]; {SOURCE_HINT}"
        )

    # walk the topology, tracking the C×H×W shape from the declared input
    _, h, w, c = input_shape
    shape: tuple[int, ...] = (c, h, w)
    model = nn.Sequential()
    for i, layer in enumerate(layers):
        module, shape = _build_layer(layer, shape, i == len(layers) - 1, model_json)
        model.add_module(layer["config"]["name"], module)

    # fill parameters by Keras weight name
    weights = _read_weights(spec["weightsManifest"], model_json.parent, model_json)
    for name, param in model.named_parameters():
        layer_name, kind = name.split(".")
        key = f"{layer_name}/{'kernel' if kind == 'weight' else 'bias'}"
        if key not in weights:
            raise ModelFileError(f"{model_json}: no weight {key!r} in weightsManifest")
        value = torch.from_numpy(weights[key].copy())
        if value.ndim == 4:
            value = value.permute(3, 2, 0, 1)  # HWIO -> OIHW
        elif value.ndim == 2:
            value = value.T  # (in, out) -> (out, in)
        if value.shape != param.shape:
            raise ModelFileError(
                f"{model_json}: weight {key!r} has shape {list(weights[key].shape)}, "
                f"which does not fit layer {layer_name!r}"
            )
        with torch.no_grad():
            param.copy_(value)
    return model.eval()


def tinyvgg_preprocess(image: Image.Image, size: int = 64) -> torch.Tensor:
    """CNN Explainer's input: RGB, shorter side to `size`, centre crop, pixels / 255.

    Returns a 3×size×size float32 tensor in [0, 1]. Grayscale photos become R=G=B, as a
    browser canvas does. CNN Explainer itself resizes to 65 then crops 64; its sample
    photos are 64×64 already, for which this is a no-op either way.
    """
    image = image.convert("RGB")
    if min(image.size) != size:
        scale = size / min(image.size)
        new_size = (
            max(size, round(image.width * scale)),
            max(size, round(image.height * scale)),
        )
        image = image.resize(new_size, Image.Resampling.BILINEAR)

    left, top = (image.width - size) // 2, (image.height - size) // 2
    image = image.crop((left, top, left + size, top + size))
    pixels = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0)
    return pixels.permute(2, 0, 1).contiguous()  # 3×size×size


def read_classes(path: Path) -> list[str]:
    """Class names, one per line in output-index order; blank lines are skipped."""
    try:
        lines = Path(path).read_text().splitlines()
    except FileNotFoundError:
        raise ModelFileError(
            f"classes file {path} not found; give a text file with one class name per "
            "line, in the order of the model's outputs"
        ) from None
    classes = [line.strip() for line in lines if line.strip()]
    if not classes:
        raise ModelFileError(
            f"classes file {path} has no class names; write one name per line, in the "
            "order of the model's outputs"
        )
    return classes
