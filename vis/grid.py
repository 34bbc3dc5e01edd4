"""Turn one layer's activation into a colour-mapped grid of its feature maps.

Channels are ranked by mean activation and scaled with one range for the layer (as
CNN Explainer does, so that sparse deep layers look sparse) or one range per channel.
Every step runs on the activation's device; only the finished uint8 grid is copied
to the host. Tiles are laid out by torchvision's `make_grid`.
"""

import math
from dataclasses import dataclass

import numpy as np
import torch
from torchvision.utils import make_grid

from .settings import Channels, Scale

SEQUENTIAL_CMAP = "viridis"  # activations >= 0 (after ReLU, ReLU6)
DIVERGING_CMAP = "RdBu_r"  # signed activations: blue < 0 < red, white at 0
MIN_TILE = 48  # smaller feature maps are enlarged (nearest) to about this many pixels
PADDING = 2  # pixels between tiles
PAD_VALUE = 255  # white gaps


@dataclass
class Grid:
    """A layer's chosen feature maps, colour-mapped and tiled, ready to draw."""

    image: np.ndarray  # rows*tile_h + pads × cols*tile_w + pads × 3, uint8
    layer_name: str
    shape: tuple[int, int, int]  # the layer's activation, C×H×W
    channels: list[int]  # channel index of each tile, row by row
    means: list[float]  # mean activation of each shown channel
    maxima: list[float]  # max activation of each shown channel
    rows: int
    cols: int
    tile: tuple[int, int]  # tile height and width in pixels, after enlarging
    scale: Scale
    cmap: str
    signed: bool  # the layer has negative values: diverging map, symmetric range
    vmin: float  # the colour bar's range: the layer's, or per-channel fractions
    vmax: float

    def tile_origin(self, i: int) -> tuple[int, int]:
        """Pixel (x, y) of the top-left corner of tile `i` in `image`."""
        row, col = divmod(i, self.cols)
        height, width = self.tile
        return PADDING + col * (width + PADDING), PADDING + row * (height + PADDING)


def rank_channels(activation: torch.Tensor) -> torch.Tensor:
    """Channel indices by decreasing mean activation; ties keep the lower index first.

    Args:
        activation: C×H×W.
    """
    means = activation.flatten(1).mean(dim=1)  # C
    return torch.sort(-means, stable=True).indices  # stable: ties in index order


def choose_channels(
    activation: torch.Tensor, channels: Channels, layer_name: str
) -> torch.Tensor:
    """The channel indices to show: top K, every channel in rank order, or a list.

    A K above the layer's channel count shows every channel; an explicit index
    beyond it is a ValueError that names the layer and its count.
    """
    count = activation.shape[0]
    if channels == "all":
        return rank_channels(activation)
    if isinstance(channels, int):
        return rank_channels(activation)[:channels]
    too_big = [c for c in channels if not 0 <= c < count]
    if too_big:
        raise ValueError(
            f"--channels {too_big[0]} is beyond layer {layer_name}'s {count} channels "
            f"(0-{count - 1}); pick indices below {count}, or use --channels K for "
            "the top K of every layer"
        )
    return torch.tensor(channels, dtype=torch.long, device=activation.device)


def colour_range(
    activation: torch.Tensor, chosen: torch.Tensor, scale: Scale, signed: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Low and high end of the colour scale for each chosen channel (two K tensors).

    Signed layers get a range symmetric around 0, so that white means zero.
    """
    maps = activation[chosen].flatten(1)  # K×HW
    if scale == "layer":
        whole = activation.flatten()
        low, high = whole.min().expand(len(chosen)), whole.max().expand(len(chosen))
    else:
        low, high = maps.min(dim=1).values, maps.max(dim=1).values
    if signed:
        high = torch.maximum(low.abs(), high.abs())
        low = -high
    return low, high


def normalise(
    feature_maps: torch.Tensor,
    low: torch.Tensor,
    high: torch.Tensor,
    signed: bool = False,
) -> torch.Tensor:
    """Scale each K×H×W feature map to [0, 1] by its range; no range gives a flat map.

    A dead or constant channel under `--scale channel` has low == high: it becomes a
    flat tile, never NaN: at the bottom of a non-negative scale (a dead ReLU is 0),
    and at the white middle of a signed one.
    """
    span = (high - low).view(-1, 1, 1)
    scaled = (feature_maps - low.view(-1, 1, 1)) / span.clamp_min(1e-12)
    flat = torch.full_like(scaled, 0.5 if signed else 0.0)
    return torch.where(span > 0, scaled, flat).clamp(0, 1)  # K×H×W


def colormap_lut(name: str, device: torch.device | str) -> torch.Tensor:
    """Matplotlib's colormap `name` as a 256×3 uint8 lookup table on `device`."""
    import matplotlib

    rgba = matplotlib.colormaps[name].resampled(256)(np.arange(256), bytes=True)
    return torch.from_numpy(np.ascontiguousarray(rgba[:, :3])).to(device)


def apply_colormap(scaled: torch.Tensor, lut: torch.Tensor) -> torch.Tensor:
    """K×H×W values in [0, 1] to K×3×H×W uint8 colours, binned as matplotlib does."""
    index = (scaled * lut.shape[0]).long().clamp(0, lut.shape[0] - 1)  # K×H×W
    return lut[index].permute(0, 3, 1, 2)  # K×3×H×W


def grid_shape(count: int, aspect: float = 1.0) -> tuple[int, int]:
    """Rows and columns for `count` tiles, about `aspect` times wider than tall."""
    cols = max(1, math.ceil(math.sqrt(count * aspect)))
    rows = math.ceil(count / cols)
    cols = math.ceil(count / rows)  # balance: 7 tiles as 3+3+1 → 3 cols, not 4+3
    return rows, cols


@dataclass
class Scaled:
    """The chosen feature maps of one layer, scaled to [0, 1] for the colormap."""

    activation: torch.Tensor  # C×H×W, float
    chosen: torch.Tensor  # K channel indices
    maps: torch.Tensor  # K×H×W in [0, 1]
    signed: bool
    low: torch.Tensor  # K: the value drawn at 0
    high: torch.Tensor  # K: the value drawn at 1
    scale: Scale

    @property
    def cmap(self) -> str:
        return DIVERGING_CMAP if self.signed else SEQUENTIAL_CMAP


def scale_channels(
    activation: torch.Tensor, layer_name: str, channels: Channels, scale: Scale
) -> Scaled:
    """Rank and choose the channels of a C×H×W activation and scale them to [0, 1]."""
    if activation.dim() != 3:
        raise ValueError(
            f"layer {layer_name} gives a {activation.dim()}-D activation per photo "
            f"{tuple(activation.shape)}, not C×H×W feature maps; pick a convolutional "
            "layer (see --list-layers)"
        )
    activation = activation.float()
    chosen = choose_channels(activation, channels, layer_name)  # K
    signed = bool(activation.min() < 0)
    low, high = colour_range(activation, chosen, scale, signed)
    maps = normalise(activation[chosen], low, high, signed)  # K×H×W
    return Scaled(activation, chosen, maps, signed, low, high, scale)


def tile(tiles: torch.Tensor, cols: int) -> torch.Tensor:
    """K×3×h×w uint8 tiles as one padded 3×H×W grid, `cols` tiles a row."""
    image = make_grid(tiles, nrow=cols, padding=PADDING, pad_value=PAD_VALUE)
    if len(tiles) == 1:  # make_grid returns a lone tile unpadded; pad it like the rest
        image = torch.nn.functional.pad(image, [PADDING] * 4, value=PAD_VALUE)
    return image


def finish(
    scaled: Scaled, image: torch.Tensor, layer_name: str, cols: int, size
) -> Grid:
    """Copy the finished grid and the shown channels' numbers to the host."""
    maps = scaled.activation[scaled.chosen]
    stats = torch.stack([maps.mean(dim=(1, 2)), maps.amax(dim=(1, 2))]).cpu()  # 2×K
    if scaled.scale == "layer":
        vmin, vmax = float(scaled.low[0]), float(scaled.high[0])
    else:  # the colour bar shows each channel's range as fractions of its extremes
        vmin, vmax = (-1.0 if scaled.signed else 0.0), 1.0
    count = len(scaled.chosen)
    return Grid(
        image=image.permute(1, 2, 0).cpu().numpy(),
        layer_name=layer_name,
        shape=tuple(scaled.activation.shape),
        channels=scaled.chosen.cpu().tolist(),
        means=stats[0].tolist(),
        maxima=stats[1].tolist(),
        rows=math.ceil(count / cols),
        cols=cols,
        tile=tuple(size),
        scale=scaled.scale,
        cmap=scaled.cmap,
        signed=scaled.signed,
        vmin=vmin,
        vmax=vmax,
    )


def render_grid(
    activation: torch.Tensor,
    layer_name: str,
    channels: Channels = 16,
    scale: Scale = "layer",
    cols: int | None = None,
    aspect: float = 1.0,
    min_tile: int = MIN_TILE,
) -> Grid:
    """Rank, choose, scale, colour and tile the feature maps of one C×H×W activation.

    Args:
        cols: tiles per row; None picks a layout about `aspect` times wider than tall.
        min_tile: maps smaller than this many pixels are enlarged (nearest) to it.
    """
    scaled = scale_channels(activation, layer_name, channels, scale)

    # enlarge small maps so that every layer's tiles are drawn at a similar size
    height, width = scaled.maps.shape[1:]
    factor = max(1, math.ceil(min_tile / max(height, width)))
    lut = colormap_lut(scaled.cmap, activation.device)
    tiles = apply_colormap(scaled.maps, lut)  # K×3×H×W
    tiles = tiles.repeat_interleave(factor, 2).repeat_interleave(factor, 3)

    count = len(scaled.chosen)
    cols = min(cols or grid_shape(count, aspect)[1], count)
    size = (height * factor, width * factor)
    return finish(scaled, tile(tiles, cols), layer_name, cols, size)


def render_overlay(
    activation: torch.Tensor,
    photo: torch.Tensor,
    layer_name: str,
    count: int = 4,
    scale: Scale = "layer",
    alpha: float = 0.75,
) -> Grid:
    """The top `count` feature maps, upsampled bilinearly and blended over the photo.

    Where a channel is strong its colour covers the photo (up to `alpha`); where it
    is near zero (or near white, for signed layers) the photo shows through. The
    tiles form one column: the overlay figure puts the layers side by side.

    Args:
        activation: C×h×w.
        photo: 3×H×W uint8, the exact pixels fed to the model, on the same device.
    """
    scaled = scale_channels(activation, layer_name, count, scale)

    # align_corners=False: each feature map covers the photo edge to edge
    size = photo.shape[1:]
    maps = torch.nn.functional.interpolate(
        scaled.maps[:, None], size=size, mode="bilinear", align_corners=False
    )[:, 0].clamp(0, 1)  # K×H×W
    colours = apply_colormap(maps, colormap_lut(scaled.cmap, photo.device)).float()
    strength = (2 * maps - 1).abs() if scaled.signed else maps  # K×H×W
    weight = (alpha * strength)[:, None]  # K×1×H×W
    tiles = (photo.float() * (1 - weight) + colours * weight).round().to(torch.uint8)
    return finish(scaled, tile(tiles, 1), layer_name, 1, size)


def render_filters(weight: torch.Tensor, enlarge: int = 12) -> tuple[np.ndarray, int]:
    """First-layer filters as small RGB images, each scaled symmetrically around 0.

    Each filter is divided by twice its largest absolute weight and shifted by 0.5,
    so grey is 0 and colour shows which input channels it weighs. Filters with other
    than 3 input channels are drawn as the grey mean over their inputs.

    Args:
        weight: out×in×k×k convolution weights.

    Returns:
        The uint8 grid (H×W×3) and its number of columns.
    """
    weight = weight.detach().float()
    if weight.shape[1] != 3:
        weight = weight.mean(dim=1, keepdim=True).expand(-1, 3, -1, -1)
    peak = weight.flatten(1).abs().amax(dim=1).clamp_min(1e-12).view(-1, 1, 1, 1)
    scaled = (weight / (2 * peak) + 0.5).clamp(0, 1)  # out×3×k×k
    tiles = (scaled * 255).round().to(torch.uint8)
    tiles = tiles.repeat_interleave(enlarge, 2).repeat_interleave(enlarge, 3)
    cols = grid_shape(len(tiles), aspect=2.0)[1]
    return tile(tiles, cols).permute(1, 2, 0).cpu().numpy(), cols
