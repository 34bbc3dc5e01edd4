"""Score every channel of a layer against a region of the photo, such as a wheel.

The score is Network Dissection's "top-quantile threshold, then IoU" test (Bau et al.,
CVPR 2017), applied to one photo: the threshold keeps as many pixels as the region has.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels, x0 < x1, y0 < y1

# channels upsampled at once; bounds memory at about 128 MB of float32 per chunk
CHUNK_ELEMENTS = 2**25


@dataclass
class ChannelFocus:
    """How well one channel picks out the region."""

    channel: int
    iou: float  # IoU of the channel's top pixels (as many as the region has) and region
    inside_share: (
        float  # share of the channel's activation (clamped at 0) in the region
    )
    silent: bool  # its maximum is under `silent_fraction` of the layer's maximum


def parse_box(text: str, width: int, height: int) -> Box:
    """Read "x0,y0,x1,y1" in pixels of a `width`×`height` photo, or in fractions 0..1.

    When all four numbers are at most 1 they are fractions of the width and height.
    Raises ValueError for a wrong count, non-numbers, zero area or a box outside the
    photo.
    """
    parts = text.split(",")
    if len(parts) != 4:
        raise ValueError(
            f"focus box {text!r} has {len(parts)} values; give four, x0,y0,x1,y1, in "
            "pixels of the photo or as fractions 0..1"
        )
    try:
        values = [float(part) for part in parts]
    except ValueError:
        raise ValueError(
            f"focus box {text!r} is not four numbers; give x0,y0,x1,y1 such as "
            "120,230,280,400 (pixels) or 0.1,0.4,0.4,0.8 (fractions)"
        ) from None
    if not all(math.isfinite(v) for v in values):
        raise ValueError(
            f"focus box {text!r} has a non-finite value; use plain numbers"
        )

    # all four at most 1: fractions of the photo's width and height
    if max(values) <= 1:
        values = [v * s for v, s in zip(values, (width, height) * 2, strict=True)]
    x0, y0, x1, y1 = values
    if x1 <= x0 or y1 <= y0:
        raise ValueError(
            f"focus box {text!r} has zero area; x1 must exceed x0 and y1 exceed y0 "
            "(x0,y0 is the top-left corner)"
        )
    if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
        raise ValueError(
            f"focus box {text!r} reaches outside the photo ({width}×{height} pixels); "
            f"keep 0 ≤ x ≤ {width} and 0 ≤ y ≤ {height}"
        )
    return (x0, y0, x1, y1)


def boxes_to_input(
    boxes: list[Box], photo_size: tuple[int, int], input_hw: tuple[int, int]
) -> list[Box]:
    """Map boxes from the photo (`photo_size` = width, height) to the model's input.

    The photo is resized with its short side to N and not cropped, so this is a pure
    scale per axis; `input_hw` is the input tensor's height and width.
    """
    sx = input_hw[1] / photo_size[0]
    sy = input_hw[0] / photo_size[1]
    return [(x0 * sx, y0 * sy, x1 * sx, y1 * sy) for x0, y0, x1, y1 in boxes]


def region_mask(
    boxes: list[Box], input_hw: tuple[int, int], device: torch.device | str = "cpu"
) -> torch.Tensor:
    """The union of `boxes` as an H×W bool mask: a pixel is in if its centre is."""
    height, width = input_hw
    ys = torch.arange(height, device=device, dtype=torch.float32) + 0.5  # H
    xs = torch.arange(width, device=device, dtype=torch.float32) + 0.5  # W
    mask = torch.zeros(height, width, dtype=torch.bool, device=device)
    for x0, y0, x1, y1 in boxes:
        rows = (ys >= y0) & (ys < y1)
        cols = (xs >= x0) & (xs < x1)
        mask |= rows[:, None] & cols[None, :]
    return mask


def focus_scores(
    activation: torch.Tensor,
    boxes: list[Box],
    input_hw: tuple[int, int],
    silent_fraction: float = 0.05,
) -> list[ChannelFocus]:
    """Score each channel of a C×H×W activation against the union of `boxes`.

    `boxes` are in model-input pixels (see `boxes_to_input`). Each map, clamped at 0,
    is upsampled bilinearly to `input_hw`; the pixels at or above its k-th highest
    value are kept, k being the region's area in pixels (ties are all kept, as a
    threshold keeps them; zeros never are). Runs on the activation's device, one
    interpolation per chunk of channels.
    """
    if activation.dim() == 4 and activation.shape[0] == 1:
        activation = activation[0]
    if activation.dim() != 3:
        raise ValueError(
            f"activation has shape {tuple(activation.shape)}; focus needs one photo's "
            "C×H×W activation of a convolutional layer"
        )
    region = region_mask(boxes, input_hw, activation.device).flatten()  # HW
    area = int(region.sum())
    if area == 0:
        raise ValueError(
            f"focus region {boxes} covers no pixel of the {input_hw[1]}×{input_hw[0]} "
            "model input; draw a larger box"
        )

    # silent channels: their maximum is a small fraction of the layer's maximum
    maps = activation.detach().float().clamp(min=0)  # C×h×w
    channel_max = maps.amax(dim=(1, 2))  # C
    silent = (channel_max < silent_fraction * channel_max.max()) | (channel_max == 0)

    ious, shares = [], []
    region_f = region.float()  # HW; a matrix product counts overlaps fastest on CPU
    chunk = max(1, CHUNK_ELEMENTS // (input_hw[0] * input_hw[1]))
    for start in range(0, maps.shape[0], chunk):
        up = F.interpolate(
            maps[None, start : start + chunk],
            size=input_hw,
            mode="bilinear",
            align_corners=False,
        )[0].flatten(1)  # c×HW

        # keep each channel's `area` highest pixels; ties at the threshold all count,
        # and a tiny floor leaves out pixels at zero
        threshold = up.topk(area, dim=1, sorted=False).values.amin(1)  # c
        threshold = threshold.clamp(min=torch.finfo(up.dtype).tiny)
        kept = (up >= threshold[:, None]).float()  # c×HW
        inter = kept @ region_f  # c
        ious.append(inter / (kept.sum(1) + area - inter))

        total = up.sum(1)
        inside = up @ region_f
        shares.append(torch.where(total > 0, inside / total.clamp(min=1e-30), 0.0))

    iou = torch.cat(ious).tolist()
    share = torch.cat(shares).tolist()
    return [ChannelFocus(c, iou[c], share[c], bool(silent[c])) for c in range(len(iou))]


def best_by_iou(scores: list[ChannelFocus], k: int = 5) -> list[ChannelFocus]:
    """The `k` non-silent channels with the highest IoU, best first (ties by index)."""
    awake = [s for s in scores if not s.silent]
    return sorted(awake, key=lambda s: (-s.iou, s.channel))[:k]
