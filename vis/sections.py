"""What a gallery holds, section by section: overview, filters, layers, overlay.

A section is a function of the writer and one photo's run: it draws its figures into
the run's temporary folder and returns their entries (file and caption, for
index.html) and its keys for summary.json. Later sections (Grad-CAM, …) follow the
same shape and are appended to `GalleryWriter.sections`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from .grid import Grid, render_filters, render_grid, render_overlay
from .images import Photo
from .settings import Settings

if TYPE_CHECKING:
    from .gallery import GalleryWriter

OVERLAY_CHANNELS = 4  # tiles per layer in the overlay figure
SHOW_ALL_UP_TO = 12  # the overview shows every channel when no layer has more
OVERVIEW_DPI = 200  # 16 × 9 in at 200 dpi: 3200×1800, sharp on any projector
FOCUS_LISTED = 5  # best channels by IoU listed per layer in summary.json


@dataclass
class FigureEntry:
    """One PNG of a gallery, with the caption index.html shows under it."""

    file: str  # relative to the photo's gallery folder
    caption: str
    section: str  # heading in index.html, e.g. "Layers"


@dataclass
class PhotoRun:
    """One photo after the forward pass: what every gallery section draws from."""

    photo: Photo
    name: str  # the gallery's folder name under --out
    x: torch.Tensor  # 3×H×W, the exact tensor fed to the model, on the device
    pixels: torch.Tensor  # 3×H×W uint8, the same photo as 8-bit RGB, on the device
    output: torch.Tensor  # number of classes, the model's logits
    activations: dict[str, torch.Tensor]  # layer name -> C×H×W, on the device
    folder: Path | None = None  # the temporary folder, once writing starts
    summary: dict = field(default_factory=dict)
    # with --focus: each layer's best channels by IoU, and the boxes in input pixels
    focus: dict[str, list] = field(default_factory=dict)
    focus_boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    dreams: list[dict] = field(default_factory=list)  # layer, channel, uint8 image


# a section gets the writer and the run, writes its PNGs into run.folder and returns
# their entries plus keys to merge into summary.json
Section = Callable[["GalleryWriter", PhotoRun], tuple[list[FigureEntry], dict]]


def default_sections(settings: Settings) -> list[Section]:
    """Overview, filters, one figure per layer, and the overlay when asked for; then
    the evidence sections: focus (first, as the overview shows its channels),
    Grad-CAM and feature visualisation."""
    from . import evidence

    sections: list[Section] = [overview_section, filters_section, layers_section]
    if settings.focus:
        sections.insert(0, evidence.focus_section)
    if settings.overlay:
        sections.append(overlay_section)
    if settings.gradcam:
        sections.append(evidence.gradcam_section)
    if settings.dream:
        sections.append(evidence.dream_section)
    return sections


def layer_file(index: int, layer_name: str) -> str:
    safe = "".join(c if c.isalnum() or c in "._-" else "-" for c in layer_name)
    return f"layer-{index:02d}-{safe}.png"


def layers_section(writer: "GalleryWriter", run: PhotoRun) -> tuple[list, dict]:
    from .figures import layer_figure, scale_text, shape_text

    settings = writer.settings
    entries, layers = [], []
    grids = [
        render_grid(a, layer_name, settings.channels, settings.scale)
        for layer_name, a in run.activations.items()
    ]
    note_short_layers(writer, grids)
    for i, grid in enumerate(grids, start=1):
        file = layer_file(i, grid.layer_name)
        layer_figure(grid, run.folder / file, settings.dpi)
        shown = ", ".join(map(str, grid.channels))
        caption = (
            f"{grid.layer_name}: activation {shape_text(grid.shape)} (C×H×W); "
            f"channels shown, strongest first: {shown}; scale: {scale_text(grid)}"
        )
        entries.append(FigureEntry(file, caption, "Layers"))
        layers.append(layer_summary(grid, file))
        if run.focus:
            layers[-1]["focus"] = [
                {
                    "channel": f.channel,
                    "iou": round(f.iou, 6),
                    "inside_share": round(f.inside_share, 6),
                }
                for f in run.focus.get(grid.layer_name, [])[:FOCUS_LISTED]
            ]
    return entries, {"layers": layers}


def note_short_layers(writer: "GalleryWriter", grids: list[Grid]) -> None:
    """One note when --channels K asks for more channels than some layers have."""
    wanted = writer.settings.channels
    if not isinstance(wanted, int):
        return
    short = [g.layer_name for g in grids if g.shape[0] < wanted]
    if short:
        default = "" if "channels" in writer.settings.given else " (the default)"
        names = ", ".join(short[:3]) + (
            f" and {len(short) - 3} more" if len(short) > 3 else ""
        )
        verb = "has" if len(short) == 1 else "have"
        writer.note(
            f"{names} {verb} fewer channels than --channels {wanted}{default}: "
            "showing all of them"
        )


def layer_summary(grid: Grid, file: str) -> dict:
    return {
        "name": grid.layer_name,
        "shape": list(grid.shape),
        "channels": [
            {"index": c, "mean": round(m, 6), "max": round(x, 6)}
            for c, m, x in zip(grid.channels, grid.means, grid.maxima, strict=True)
        ],
        "file": file,
        "colormap": grid.cmap,
        "range": [round(grid.vmin, 6), round(grid.vmax, 6)],
    }


def overview_section(writer: "GalleryWriter", run: PhotoRun) -> tuple[list, dict]:
    from .figures import overview_figure

    settings = writer.settings
    # a net as small as Tiny VGG shows every channel, as CNN Explainer does
    widest = max(a.shape[0] for a in run.activations.values())
    k = widest if widest <= SHOW_ALL_UP_TO else settings.overview_channels
    rows = [
        render_grid(
            a, layer_name, overview_channels(run, layer_name, k), settings.scale, cols=k
        )
        for layer_name, a in run.activations.items()
    ]
    predictions = [(p["label"], p["probability"]) for p in run.summary["predictions"]]
    ranking = "best IoU with the focus box" if run.focus else "mean activation"
    which = f"all {k} channels" if k == widest else f"top {k} channels"
    title = (
        f"What {writer.model.name} sees in {run.photo.path.name}: {which} "
        f"per layer by {ranking}"
    )
    photo = run.pixels.permute(1, 2, 0).cpu().numpy()
    overview_figure(
        photo, rows, predictions, title, run.folder / "overview.png", OVERVIEW_DPI
    )
    caption = (
        f"Overview: the photo as the model saw it, the {k} strongest channels of each "
        f"layer from input (top) to output (bottom), and the top "
        f"{len(predictions)} classes. Colours: one range per "
        f"{'layer' if settings.scale == 'layer' else 'channel'}; red/blue "
        "for signed layers (white = 0), viridis for non-negative ones."
    )
    return [FigureEntry("overview.png", caption, "Overview")], {
        "overview": "overview.png"
    }


def overview_channels(run: PhotoRun, layer_name: str, k: int) -> int | tuple[int, ...]:
    """The top k by mean activation, or with --focus the layer's best by IoU."""
    scores = run.focus.get(layer_name)
    if scores:
        return tuple(s.channel for s in scores[:k])
    return k


def filters_section(writer: "GalleryWriter", run: PhotoRun) -> tuple[list, dict]:
    from .figures import filters_figure

    layer_name = writer.model.first_conv
    if not layer_name:
        return [], {}
    weight = dict(writer.model.module.named_modules())[layer_name].weight
    image, cols = render_filters(weight)
    kernel = tuple(weight.shape[1:])
    path = run.folder / "filters.png"
    filters_figure(
        image, cols, len(weight), layer_name, kernel, path, writer.settings.dpi
    )
    caption = (
        f"{layer_name}: the {len(weight)} filters of the first convolution "
        f"({'×'.join(map(str, kernel))}), each scaled symmetrically around 0 so "
        "that grey is 0 and colour shows which input colours it weighs"
    )
    return [FigureEntry("filters.png", caption, "First-layer filters")], {
        "filters": "filters.png"
    }


def overlay_section(writer: "GalleryWriter", run: PhotoRun) -> tuple[list, dict]:
    from .figures import overlay_figure

    scale = writer.settings.scale
    columns = [
        render_overlay(a, run.pixels, layer_name, OVERLAY_CHANNELS, scale)
        for layer_name, a in run.activations.items()
    ]
    title = (
        f"Top {OVERLAY_CHANNELS} channels of each layer, upsampled bilinearly and "
        f"blended over {run.photo.path.name} ({scale} scale)"
    )
    overlay_figure(columns, title, run.folder / "overlay.png", writer.settings.dpi)
    caption = (
        f"Overlay: each layer's {OVERLAY_CHANNELS} strongest channels upsampled to the "
        "photo and blended over it; where a channel is strong its colour covers "
        "the photo"
    )
    return [FigureEntry("overlay.png", caption, "Overlay")], {"overlay": "overlay.png"}
