"""Matplotlib figures for slides: one per layer, the overview, the filters, overlays.

Each takes finished uint8 grids from `vis.grid` and only lays them out, labels them
and saves a PNG. matplotlib draws each figure to pixels; Pillow encodes them on a
background thread (zlib releases the GIL), so one figure is encoded while the next is
drawn. The PNGs carry no version stamp or date: the same grids give the same bytes.
"""

import io
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import patheffects  # noqa: E402
from matplotlib.cm import ScalarMappable  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402

from .grid import Grid  # noqa: E402

ENCODER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vis-png")
PENDING: list[Future] = []  # PNGs being encoded; `finish_saving` waits for them
LABEL_STYLE = dict(
    color="white",
    fontweight="bold",
    ha="left",
    va="top",
    path_effects=[patheffects.withStroke(linewidth=2, foreground="black")],
)


def shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(s) for s in shape)


def scale_text(grid: Grid) -> str:
    """How a grid's colours map to values, for titles and captions."""
    if grid.scale == "layer":
        symmetric = ", symmetric around 0" if grid.signed else ""
        return (
            f"one colour range for the whole layer [{grid.vmin:.3g}, {grid.vmax:.3g}]"
            f"{symmetric}"
        )
    if grid.signed:
        return "one range per channel: ± the channel's largest |value|"
    return "one range per channel: the channel's min to max"


def save(fig: plt.Figure, path: Path, dpi: int) -> None:
    """Draw `fig` at `dpi` and close it; its PNG is written in the background."""
    fig.set_dpi(dpi)
    width, height = fig.canvas.get_width_height(physical=True)
    raw = io.BytesIO()
    fig.savefig(raw, format="rgba", dpi=dpi, facecolor="white")
    plt.close(fig)
    pixels = np.frombuffer(raw.getbuffer(), np.uint8).reshape(height, width, 4)
    PENDING.append(ENCODER.submit(write_png, pixels[..., :3].copy(), path))


def write_png(pixels: np.ndarray, path: Path) -> None:
    # zlib level 1: about twice as fast as the default 6, files about 20% larger
    Image.fromarray(pixels).save(path, format="PNG", compress_level=1)


def finish_saving() -> None:
    """Wait until every PNG passed to `save` is on disk; raise the first error."""
    while PENDING:
        PENDING.pop(0).result()


def add_colour_bar(fig: plt.Figure, cax, grid: Grid) -> None:
    mappable = ScalarMappable(Normalize(grid.vmin, grid.vmax), cmap=grid.cmap)
    # five ticks, ends and middle included (0 for signed layers): enough to read,
    # and matplotlib's ticks are a large share of a figure's drawing time
    ticks = np.linspace(grid.vmin, grid.vmax, 5)
    bar = fig.colorbar(mappable, cax=cax, ticks=ticks, format="%.3g")
    if grid.scale == "layer":
        bar.set_label("activation")
    else:
        bar.set_label("fraction of each channel's range")


def label_tiles(ax, grid: Grid, fontsize: float) -> None:
    """Write each tile's channel index in its top-left corner."""
    for i, channel in enumerate(grid.channels):
        x, y = grid.tile_origin(i)
        ax.text(x + 2, y + 2, str(channel), fontsize=fontsize, **LABEL_STYLE)


def layer_figure(grid: Grid, path: Path, dpi: int = 200) -> None:
    """A layer's grid with channel labels, a colour bar and a title giving the scale."""
    # inches per grid pixel: tiles up to 1.6 in, the grid within 9.5 × 6 in
    height, width = grid.image.shape[:2]
    scale = min(1.6 / grid.tile[1], 9.5 / width, 6.0 / height)
    grid_w, grid_h = width * scale, height * scale
    fig_w, fig_h = max(grid_w + 1.7, 7.6), grid_h + 0.85

    # a fixed layout (no constrained layout): grid, then colour bar, centred
    left = (fig_w - grid_w - 1.5) / 2
    fig = plt.figure(figsize=(fig_w, fig_h))
    ax = fig.add_axes((left / fig_w, 0.2 / fig_h, grid_w / fig_w, grid_h / fig_h))
    ax.imshow(grid.image, interpolation="nearest")
    ax.set_axis_off()
    bar = (
        (left + grid_w + 0.15) / fig_w,
        (0.2 + 0.05 * grid_h) / fig_h,
        0.18 / fig_w,
        0.9 * grid_h / fig_h,
    )
    add_colour_bar(fig, fig.add_axes(bar), grid)

    # labels scale with the tiles; below 5 pt they would be unreadable, so leave them
    fontsize = min(11.0, grid.tile[1] * scale * 72 / 5)
    labelled = fontsize >= 5
    if labelled:
        label_tiles(ax, grid, fontsize)

    count, total = len(grid.channels), grid.shape[0]
    shown = f"all {total}" if count == total else f"{count} of {total}"
    fig.suptitle(
        f"{grid.layer_name}: activation {shape_text(grid.shape)} (C×H×W), "
        f"{shown} channels by mean activation\n{scale_text(grid)}"
        + ("" if labelled else "; too many tiles to label: order in summary.json"),
        fontsize=12,
        y=1 - 0.08 / fig_h,
        va="top",
    )
    save(fig, path, dpi)


def overview_figure(
    photo,
    rows: list[Grid],
    predictions: list[tuple[str, float]],
    title: str,
    path: Path,
    dpi: int = 200,
) -> None:
    """The CNN Explainer picture: photo → one row per layer → top classes; 16:9.

    Args:
        photo: H×W×3 uint8, the pixels the model saw.
        predictions: (label, probability) pairs, most likely first.
    """
    fig = plt.figure(figsize=(16, 9))
    # photo | row labels | one row of tiles per layer | class probabilities
    outer = fig.add_gridspec(
        1, 4, width_ratios=[3.2, 1.3, 8.0, 3.2], left=0.01, right=0.985
    )
    outer.update(top=0.88, bottom=0.07, wspace=0.04)
    fig.suptitle(title, fontsize=20, y=0.985)
    fig.text(0.5, 0.915, colour_key(rows), ha="center", fontsize=13, color="#444")

    ax = fig.add_subplot(outer[0])
    ax.imshow(photo)
    ax.set_title(f"input {photo.shape[0]}×{photo.shape[1]}", fontsize=14)
    ax.set_axis_off()

    middle = outer[2].subgridspec(len(rows), 1, hspace=0.2)
    for i, grid in enumerate(rows):
        ax = fig.add_subplot(middle[i])
        ax.imshow(grid.image, interpolation="nearest")
        ax.set_axis_off()
        ax.text(
            -0.02,
            0.5,
            f"{grid.layer_name}\n{shape_text(grid.shape)}",
            transform=ax.transAxes,
            ha="right",
            va="center",
            fontsize=13,
        )

    ax = fig.add_subplot(outer[3])
    probability_bars(ax, predictions)
    save(fig, path, dpi)


def colour_key(rows: list[Grid]) -> str:
    """One line saying what the colours of the overview's rows mean."""
    parts = []
    if any(grid.signed for grid in rows):
        parts.append("signed layers: blue < 0 (white) < red")
    if not all(grid.signed for grid in rows):
        parts.append("non-negative layers: dark 0 → yellow high")
    scale = (
        "one colour range per layer"
        if rows[0].scale == "layer"
        else ("one colour range per channel")
    )
    return f"{scale}; " + "; ".join(parts)


def probability_bars(ax, predictions: list[tuple[str, float]]) -> None:
    """Horizontal bars, most likely class on top, each named above its bar."""
    count = len(predictions)
    for rank, (label, value) in enumerate(predictions):
        y = count - 1 - rank
        ax.barh(y, value, height=0.45, color="#d62728")
        ax.text(0, y + 0.27, label, fontsize=14, va="bottom")
        ax.text(value + 0.02, y, f"{value:.1%}", fontsize=13, va="center")
    ax.set_xlim(0, 1.2)
    ax.set_ylim(-0.5, count)
    ax.set_yticks([])
    ax.set_xticks([0, 0.5, 1])
    ax.set_xlabel("probability", fontsize=13)
    ax.tick_params(labelsize=12)
    ax.set_title(f"top-{count} classes", fontsize=14)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def filters_figure(
    image,
    cols: int,
    count: int,
    layer_name: str,
    kernel: tuple[int, ...],
    path: Path,
    dpi: int = 150,
) -> None:
    """The first convolution's filters as small RGB images with their indices.

    Args:
        kernel: the weight's in×kh×kw.
    """
    height, width = image.shape[:2]
    fig, ax = plt.subplots(
        figsize=(12, 12 * height / width + 1.1), layout="constrained"
    )
    ax.imshow(image, interpolation="nearest")
    ax.set_axis_off()
    tile = (width - 2) // cols
    for i in range(count):
        row, col = divmod(i, cols)
        x, y = 2 + col * tile, 2 + row * tile
        ax.text(x + 2, y + 2, str(i), fontsize=11, **LABEL_STYLE)
    inputs = "RGB" if kernel[0] == 3 else f"the mean of {kernel[0]} inputs, grey"
    ax.set_title(
        f"{layer_name}: the {count} filters of the first layer, "
        f"{kernel[1]}×{kernel[2]} over {inputs}\n"
        "each scaled symmetrically around 0: grey = 0, colour = the input colour "
        "it responds to",
        fontsize=14,
    )
    save(fig, path, dpi)


def overlay_figure(columns: list[Grid], title: str, path: Path, dpi: int = 200) -> None:
    """Each layer's top channels blended over the photo, one column per layer."""
    height, width = columns[0].image.shape[:2]
    column_inches = 16 / len(columns)
    fig, axes = plt.subplots(
        1,
        len(columns),
        figsize=(16, column_inches * height / width + 0.9),
        squeeze=False,
        layout="constrained",
    )
    for ax, grid in zip(axes[0], columns, strict=True):
        ax.imshow(grid.image, interpolation="bilinear")
        label_tiles(ax, grid, fontsize=10)
        ax.set_axis_off()
        ax.set_title(f"{grid.layer_name}\n{shape_text(grid.shape)}", fontsize=11)
    fig.suptitle(title, fontsize=15)
    save(fig, path, dpi)
