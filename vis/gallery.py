"""Write one photo's gallery: PNGs per layer, overview, filters, index.html, summary.

Everything is computed first, then written to a hidden temporary folder beside the
destination and renamed into place, so a failed or interrupted run leaves the old
gallery (or nothing), never half of one. More sections (Grad-CAM, …) plug in as
functions that return figures and summary keys.
"""

import io
import json
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import html
from .grid import Grid, render_filters, render_grid, render_overlay
from .hooks import record
from .images import Photo, load_photo
from .models import LoadedModel
from .settings import Settings

OVERLAY_CHANNELS = 4  # tiles per layer in the overlay figure
OVERVIEW_DPI = 200  # 16 × 9 in at 200 dpi: 3200×1800, sharp on any projector


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


# a section gets the writer and the run, writes its PNGs into run.folder and returns
# their entries plus keys to merge into summary.json
Section = Callable[["GalleryWriter", PhotoRun], tuple[list[FigureEntry], dict]]


class GalleryWriter:
    """Runs photos through one loaded model and writes a gallery for each."""

    def __init__(
        self,
        model: LoadedModel,
        settings: Settings,
        layer_names: list[str],
        device: torch.device,
        sections: list[Section] | None = None,
    ):
        self.model = model
        self.settings = settings
        self.layer_names = layer_names
        self.device = device
        self.sections = sections if sections is not None else default_sections(settings)
        self.notes: list[str] = []  # run-wide remarks, each once
        model.module.to(device)

    def note(self, line: str) -> None:
        if line not in self.notes:
            self.notes.append(line)

    def run(self, path: Path, name: str, seconds: dict[str, float]) -> PhotoRun:
        """Decode, preprocess and record one photo; nothing is written."""
        start = time.perf_counter()
        photo = load_photo(path)
        x = self.model.preprocess(photo.image, self.settings.size).to(self.device)
        mean = torch.tensor(self.model.mean, device=self.device).view(3, 1, 1)
        std = torch.tensor(self.model.std, device=self.device).view(3, 1, 1)
        pixels = ((x * std + mean) * 255).round().clamp(0, 255).to(torch.uint8)
        seconds["load"] = time.perf_counter() - start

        start = time.perf_counter()
        output, recorded = record(self.model.module, x[None], self.layer_names)
        activations = {}
        for layer_name, activation in recorded.items():
            if activation.dim() == 4:
                activations[layer_name] = activation[0]  # C×H×W
            else:
                self.note(
                    f"skipping layer {layer_name}: its output "
                    f"{tuple(activation.shape)} is not N×C×H×W feature maps"
                )
        if not activations:
            raise ValueError(
                f"none of the layers {', '.join(self.layer_names)} outputs feature "
                "maps; pick convolutional layers (see --list-layers)"
            )
        seconds["forward"] = time.perf_counter() - start
        return PhotoRun(photo, name, x, pixels, output[0], activations)

    def write(self, path: Path, name: str) -> tuple[Path, PhotoRun]:
        """Write `out/name/` for the photo at `path`; returns the folder and the run."""
        from .figures import finish_saving

        out = self.settings.out
        seconds: dict[str, float] = {}
        run = self.run(path, name, seconds)

        start = time.perf_counter()
        run.folder = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=out))
        try:
            figures: list[FigureEntry] = []
            run.summary = self.base_summary(run)
            try:
                for section in self.sections:
                    entries, keys = section(self, run)
                    figures += entries
                    run.summary.update(keys)
            finally:
                finish_saving()  # every PNG on disk (or its error raised) first
            seconds["render"] = time.perf_counter() - start

            start = time.perf_counter()
            if self.settings.save_activations:
                save_activations(run.folder / "activations.npz", run)
                run.summary["activations"] = "activations.npz"
            run.summary["figures"] = [vars(f) for f in figures]
            html.write_photo_index(run.folder / "index.html", run.summary, figures)
            seconds["write"] = time.perf_counter() - start
            run.summary["seconds"] = {k: round(v, 3) for k, v in seconds.items()}
            text = json.dumps(run.summary, indent=2, ensure_ascii=False)
            (run.folder / "summary.json").write_text(text + "\n", encoding="utf-8")
            destination = out / name
            make_readable(run.folder)
            replace_folder(run.folder, destination)
        except BaseException:
            shutil.rmtree(run.folder, ignore_errors=True)
            raise
        return destination, run

    def predictions(self, run: PhotoRun) -> list[dict]:
        probabilities = run.output.float().softmax(dim=0)
        top = probabilities.topk(min(self.settings.top_classes, len(probabilities)))
        return [
            {"label": self.model.categories[i], "index": i, "probability": round(p, 6)}
            for p, i in zip(
                top.values.cpu().tolist(), top.indices.cpu().tolist(), strict=True
            )
        ]

    def base_summary(self, run: PhotoRun) -> dict:
        height, width = run.x.shape[1:]
        return {
            "model": self.model.name,
            "weights": self.model.weights,
            "device": str(self.device),
            "input": {
                "path": str(run.photo.path),
                "size": [height, width],
                "original_size": [
                    run.photo.original_size[1],
                    run.photo.original_size[0],
                ],
                "notes": run.photo.notes,
            },
            "predictions": self.predictions(run),
            "scale": self.settings.scale,
        }


def default_sections(settings: Settings) -> list[Section]:
    """Overview, filters, one figure per layer, and the overlay when asked for."""
    sections: list[Section] = [overview_section, filters_section, layers_section]
    if settings.overlay:
        sections.append(overlay_section)
    return sections


def layer_file(index: int, layer_name: str) -> str:
    safe = "".join(c if c.isalnum() or c in "._-" else "-" for c in layer_name)
    return f"layer-{index:02d}-{safe}.png"


def layers_section(writer: GalleryWriter, run: PhotoRun) -> tuple[list, dict]:
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
    return entries, {"layers": layers}


def note_short_layers(writer: GalleryWriter, grids: list[Grid]) -> None:
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


def overview_section(writer: GalleryWriter, run: PhotoRun) -> tuple[list, dict]:
    from .figures import overview_figure

    settings = writer.settings
    k = settings.overview_channels
    rows = [
        render_grid(a, layer_name, k, settings.scale, cols=k)
        for layer_name, a in run.activations.items()
    ]
    predictions = [(p["label"], p["probability"]) for p in run.summary["predictions"]]
    title = (
        f"What {writer.model.name} sees in {run.photo.path.name}: top {k} channels "
        f"per layer by mean activation"
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


def filters_section(writer: GalleryWriter, run: PhotoRun) -> tuple[list, dict]:
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


def overlay_section(writer: GalleryWriter, run: PhotoRun) -> tuple[list, dict]:
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


def save_activations(path: Path, run: PhotoRun) -> None:
    """`input` and one float32 C×H×W array per layer, as a reproducible .npz.

    numpy's own savez stamps each member with the current time; fixed timestamps
    keep the file byte-identical from run to run.
    """
    arrays = {"input": run.x}
    arrays.update(run.activations)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for key, tensor in arrays.items():
            buffer = io.BytesIO()
            array = tensor.detach().float().cpu().numpy()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array))
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, buffer.getvalue())


def make_readable(folder: Path) -> None:
    """Give the folder and its files the usual modes (mkdtemp makes them private)."""
    umask = os.umask(0o022)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    for path in folder.iterdir():
        path.chmod(0o666 & ~umask)


def replace_folder(source: Path, destination: Path) -> None:
    """Move `source` to `destination`, replacing an older folder there."""
    if destination.exists() or destination.is_symlink():
        old = Path(
            tempfile.mkdtemp(prefix=f".{destination.name}.old.", dir=source.parent)
        )
        os.replace(destination, old / "gallery")
        os.replace(source, destination)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(source, destination)
