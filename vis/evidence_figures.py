"""Figures for the evidence sections: focus panels, the IoU-by-depth curve, Grad-CAM
and feature visualisations beside the channel's map on the photo. Same conventions
as `vis.figures`: 16:9 slides, a title that says what is shown and how it is scaled.
"""

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Rectangle

from . import figures
from .grid import Grid

# Network Dissection's bars for a unit's IoU over a whole data set (Bau et al. 2017)
DETECTOR_IOU = 0.04
CLEAR_DETECTOR_IOU = (0.1, 0.2)
BOX_STYLES = [
    {"edgecolor": "white", "linewidth": 2.5},
    {"edgecolor": "black", "linewidth": 1, "linestyle": "--"},
]


def _panel_grid(count: int, aspect: float = 4 / 3) -> tuple[int, int]:
    """Rows and columns that draw `count` panels of width/height `aspect` largest
    on a 16×9 slide (about 0.7 in of each cell kept for its title)."""
    best = (0.0, 1, count)
    for cols in range(1, count + 1):
        rows = math.ceil(count / cols)
        width, height = 16 / cols, 8.2 / rows - 0.7
        area = min(width, height * aspect) ** 2 / aspect
        best = max(best, (area, rows, cols), key=lambda b: b[0])
    return best[1], best[2]


def focus_figure(
    panels: list[Grid], scores: list, boxes: list, title: str, path: Path, dpi: int
) -> None:
    """One panel per layer: its best channel over the photo, the boxes outlined."""
    height, width = panels[0].image.shape[:2]
    rows, cols = _panel_grid(len(panels), width / height)
    fig, axes = plt.subplots(rows, cols, figsize=(16, 9), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, grid, score in zip(axes.flat, panels, scores, strict=False):
        ax.imshow(grid.image, interpolation="nearest")
        offset = 2  # the grid's white border
        # a white outline with a dashed black one on top: visible on any photo
        for x0, y0, x1, y1 in boxes:
            for style in BOX_STYLES:
                corner = (x0 + offset, y0 + offset)
                ax.add_patch(Rectangle(corner, x1 - x0, y1 - y0, fill=False, **style))
        ax.set_title(
            f"{grid.layer_name} ch {score.channel}\nIoU {score.iou:.2f}, "
            f"inside {score.inside_share:.0%}",
            fontsize=14,
        )
    fig.suptitle(title, fontsize=18)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    figures.save(fig, path, dpi)


def iou_curve_figure(
    layer_names: list[str], ious: list[float], title: str, path: Path, dpi: int
) -> None:
    """Best IoU per layer against depth, with Network Dissection's bars marked."""
    fig, ax = plt.subplots(figsize=(16, 9))
    depth = np.arange(len(layer_names))
    ax.axhspan(*CLEAR_DETECTOR_IOU, color="#c6e5c6", label="clear detector (0.1-0.2)*")
    ax.axhline(
        DETECTOR_IOU,
        color="#888",
        linestyle="--",
        label=f"detector threshold ({DETECTOR_IOU})*",
    )
    ax.plot(
        depth,
        ious,
        marker="o",
        markersize=10,
        linewidth=3,
        color="#c0392b",
        label="best channel of the layer, this photo",
    )
    for x, y in zip(depth, ious, strict=True):
        ax.annotate(
            f"{y:.2f}",
            (x, y),
            textcoords="offset points",
            xytext=(0, 12),
            ha="center",
            fontsize=14,
        )
    ax.set_xticks(depth, layer_names, rotation=20, fontsize=14)
    ax.set_ylim(0, 1)
    ax.set_ylabel("IoU of the channel's top pixels with the box", fontsize=16)
    ax.tick_params(axis="y", labelsize=14)
    ax.set_title(title, fontsize=20)
    ax.legend(fontsize=14, loc="upper left")
    fig.text(
        0.99,
        0.01,
        "* Network Dissection (Bau et al. 2017) sets its bars over a "
        "whole data set; one photo only hints",
        ha="right",
        fontsize=12,
        color="#555",
    )
    figures.save(fig, path, dpi)


def gradcam_figure(
    pixels: torch.Tensor,
    maps: list[torch.Tensor],
    results: list[dict],
    title: str,
    path: Path,
    dpi: int,
) -> None:
    """The photo, then one Grad-CAM per class blended over it (jet, alpha 0.5)."""
    photo = pixels.permute(1, 2, 0).cpu().numpy()
    rows, cols = _panel_grid(len(maps) + 1, photo.shape[1] / photo.shape[0])
    fig, axes = plt.subplots(rows, cols, figsize=(16, 9), squeeze=False)
    axes = axes.flatten()
    axes[0].imshow(photo)
    axes[0].set_title("input", fontsize=16)
    for ax, cam, result in zip(axes[1:], maps, results, strict=False):
        ax.imshow(photo)
        ax.imshow(cam.cpu().numpy(), cmap="jet", alpha=0.5, vmin=0, vmax=1)
        ax.set_title(f"{result['label']}\np = {result['probability']:.1%}", fontsize=16)
    for ax in axes:
        ax.set_axis_off()
    fig.suptitle(title, fontsize=20)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    figures.save(fig, path, dpi)


def dream_figure(panels: list[tuple], path: Path, dpi: int) -> None:
    """One column per channel: its optimised image above, its map on the photo below."""
    cols = min(len(panels), 4)
    rows = 2 * math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(16, 9), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for i, (layer_name, channel, result, overlay) in enumerate(panels):
        row, col = 2 * (i // cols), i % cols
        top, bottom = axes[row, col], axes[row + 1, col]
        top.imshow(result.image)
        top.set_title(
            f"{layer_name}:{channel} wants to see\n(mean activation "
            f"{result.activation_end:.3g})",
            fontsize=14,
        )
        if overlay is not None:
            bottom.imshow(overlay.image, interpolation="nearest")
            bottom.set_title(
                f"on this photo (mean {overlay.means[0]:.3g})", fontsize=14
            )
    fig.suptitle(
        "Feature visualisation: what each channel wants to see (top) and "
        "where it fires on the photo (bottom)",
        fontsize=18,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    figures.save(fig, path, dpi)
