"""Load a CNN by name, with its class names and the preprocessing its weights expect.

Every model comes back as a `LoadedModel`: the module in eval mode plus what the gallery
needs to feed it a photo and name its outputs. EfficientNet-Lite0 is the default and
needs no network; torchvision architectures take a state dict or torchvision's cache.
"""

import contextlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image
from torch import nn

DEFAULT_MODEL = "efficientnet_lite0"


@dataclass
class LoadedModel:
    name: str
    module: nn.Module
    weights: str  # where the weights came from, for the settings line and summary.json
    categories: list[str]  # class names in output order
    mean: tuple[float, float, float]  # per-channel input = (pixel / 255 - mean) / std
    std: tuple[float, float, float]
    default_size: int  # short side of the input, in pixels
    default_layers: list[str] = field(default_factory=list)  # empty: pick after a probe
    first_conv: str = ""  # layer name of the first convolution, for the filters figure
    crop: bool = False  # centre-crop to a square (Tiny VGG was trained on 64×64 crops)

    def preprocess(self, image: Image.Image, size: int | None = None) -> torch.Tensor:
        """An RGB photo as the 3×H×W float tensor the model expects."""
        return preprocess(
            image, size or self.default_size, self.mean, self.std, self.crop
        )


def preprocess(
    image: Image.Image,
    size: int,
    mean: tuple[float, float, float],
    std: tuple[float, float, float],
    crop: bool = False,
) -> torch.Tensor:
    """Resize the short side to `size` (whole photo, no crop unless asked) and scale."""
    from torchvision.transforms import v2

    resize = [v2.Resize(size, antialias=True)]
    if crop:
        resize.append(v2.CenterCrop(size))
    pixels = v2.Compose([v2.PILToTensor(), *resize])(
        image.convert("RGB")
    )  # 3×H×W uint8

    # scale in float64 so that (p - 127) / 128 comes out exact for EfficientNet-Lite0
    mean_255 = torch.tensor(mean, dtype=torch.float64).view(3, 1, 1) * 255
    std_255 = torch.tensor(std, dtype=torch.float64).view(3, 1, 1) * 255
    return ((pixels.double() - mean_255) / std_255).float()


def imagenet_categories() -> list[str]:
    """The 1000 ImageNet class names, from torchvision's weights metadata."""
    from torchvision.models import ResNet18_Weights

    return list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


def _efficientnet_lite0(weights: Path | None) -> LoadedModel:
    from .efficientnet_lite import efficientnet_lite0, weights_path

    path = weights or weights_path()
    stages = [f"stages.{i}" for i in range(7)]
    return LoadedModel(
        name=DEFAULT_MODEL,
        module=efficientnet_lite0(path),
        weights=str(path),
        categories=imagenet_categories(),
        mean=(127 / 255,) * 3,
        std=(128 / 255,) * 3,
        default_size=224,
        default_layers=["stem", *stages, "head"],
        first_conv="stem.conv",
    )


# Tiny VGG layers whose output is a stack of maps, named as in its model.json
SPATIAL = ("conv", "relu", "max")


def _tinyvgg(weights: Path | None, classes: Path | None) -> LoadedModel:
    from .tinyvgg import load_tinyvgg, read_classes

    if weights is None:
        raise ValueError(
            "--model tinyvgg needs --weights PATH/model.json: CNN Explainer's "
            "public/assets/data/model.json with group1-shard1of1.bin beside it"
        )
    module = load_tinyvgg(weights)
    n_out = module.output.out_features
    names = read_classes(classes) if classes else [f"class {i}" for i in range(n_out)]
    if len(names) != n_out:
        raise ValueError(
            f"{classes} lists {len(names)} classes but the model has {n_out} outputs; "
            "give one class name per line, in output order"
        )
    return LoadedModel(
        name="tinyvgg",
        module=module,
        weights=str(weights),
        categories=names,
        mean=(0.0, 0.0, 0.0),
        std=(1.0, 1.0, 1.0),
        default_size=64,
        # CNN Explainer's columns: every conv, ReLU and pool layer
        default_layers=[
            n for n, _ in module.named_children() if n.split("_")[0] in SPATIAL
        ],
        first_conv="conv_1_1",
        crop=True,
    )


def _torchvision(name: str, weights: Path | None) -> LoadedModel:
    import torchvision.models as tvm

    if name not in tvm.list_models(module=tvm):
        raise ValueError(
            f"unknown model {name!r}; use efficientnet_lite0, tinyvgg or a torchvision "
            "classification model such as resnet18, vgg16, alexnet, mobilenet_v3_small"
        )
    enum = tvm.get_model_weights(name)
    meta = next(iter(enum))  # the first ImageNet weights: their classes and scaling
    module = tvm.get_model(name, weights=None)
    if weights is not None:
        state, source = _read_state_dict(weights), str(weights)
    else:
        state, source = _torchvision_pretrained(name, enum.DEFAULT)
    missing, unexpected = _key_mismatch(module, state)
    if missing or unexpected:
        raise ValueError(
            f"{source} is not a state dict for {name}: {len(missing)} of its tensors "
            f"missing (first {missing[:1]}), {len(unexpected)} unknown (first "
            f"{unexpected[:1]}); pass the weights saved from "
            f"torchvision.models.{name}()"
        )
    try:
        module.load_state_dict(state)
    except RuntimeError as err:  # same names, other shapes
        first = str(err).splitlines()[-1].strip()
        raise ValueError(
            f"{source} does not fit {name} ({first}); pass the weights saved from "
            f"torchvision.models.{name}()"
        ) from None

    transforms = meta.transforms()
    first_conv = next(n for n, m in module.named_modules() if isinstance(m, nn.Conv2d))
    return LoadedModel(
        name=name,
        module=module.eval(),
        weights=source,
        categories=list(meta.meta["categories"]),
        mean=tuple(transforms.mean),
        std=tuple(transforms.std),
        default_size=transforms.crop_size[0],
        first_conv=first_conv,
    )


def _read_state_dict(path: Path) -> dict:
    """A state dict from `path`, or a one-line ValueError saying what it is not."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle, zip and EOF errors all mean "not a state dict"
        raise ValueError(
            f"--weights {path} is not a PyTorch weights file ({type(err).__name__}); "
            "pass a file written by torch.save(model.state_dict(), path)"
        ) from None
    if not isinstance(state, dict):
        raise ValueError(
            f"--weights {path} holds a {type(state).__name__}, not a state dict; pass "
            "a file written by torch.save(model.state_dict(), path)"
        )
    return state


def _key_mismatch(module: nn.Module, state: dict) -> tuple[list[str], list[str]]:
    expected = set(module.state_dict())
    return sorted(expected - set(state)), sorted(set(state) - expected)


def _torchvision_pretrained(name: str, weights_enum) -> tuple[dict, str]:
    """torchvision's own pretrained weights: from the cache, or downloaded if online."""
    from torch.hub import get_dir

    cached = Path(get_dir()) / "checkpoints" / Path(weights_enum.url).name
    try:
        # torch.hub announces every download attempt on stderr; keep errors one line
        with contextlib.redirect_stderr(io.StringIO()):
            state = weights_enum.get_state_dict(progress=False, check_hash=True)
    except Exception as err:  # offline: URLError, socket errors, HTTP errors
        raise FileNotFoundError(
            f"pretrained weights for {name} are not cached at {cached} and could not "
            f"be downloaded ({type(err).__name__}); download {weights_enum.url} on a "
            "machine with internet, then copy it there or pass --weights FILE"
        ) from None
    return state, str(cached)


def load_model(
    name: str = DEFAULT_MODEL,
    weights: Path | None = None,
    classes: Path | None = None,
) -> LoadedModel:
    """Load `name` (efficientnet_lite0, tinyvgg or a torchvision model) in eval mode."""
    if weights is not None and not Path(weights).is_file():
        raise FileNotFoundError(f"weights file {weights} not found; check the path")
    if classes is not None and name != "tinyvgg":
        raise ValueError(
            f"--classes is for tinyvgg; {name} names its ImageNet classes itself, "
            "so leave out --classes"
        )
    if name == DEFAULT_MODEL:
        return _efficientnet_lite0(weights)
    if name == "tinyvgg":
        return _tinyvgg(weights, classes)
    return _torchvision(name, weights)


__all__ = ["DEFAULT_MODEL", "LoadedModel", "load_model", "preprocess"]
