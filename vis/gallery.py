"""Write one photo's gallery: PNGs per layer, overview, filters, index.html, summary.

Everything is computed first, then written to a hidden temporary folder beside the
destination and renamed into place, so a failed or interrupted run leaves the old
gallery (or nothing), never half of one. What goes in is up to the sections
(`vis.sections`); more can be appended to `GalleryWriter.sections`.
"""

import io
import json
import os
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import torch

from .explorer import write_explorer
from .hooks import record
from .images import load_photo
from .models import LoadedModel
from .sections import FigureEntry, PhotoRun, Section, default_sections
from .settings import Settings


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
        self.dream_cache: dict = {}  # (layer, channel, steps) -> DreamResult
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
            write_explorer(run.folder / "index.html", run, figures, self.settings.scale)
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
    """Move `source` to `destination`, replacing an older gallery there.

    Anything else at `destination` (a file, a folder of the user's) is left alone.
    """
    if (destination.exists() or destination.is_symlink()) and not (
        destination.is_dir() and (destination / "summary.json").is_file()
    ):
        raise ValueError(
            f"{destination} exists and is not an earlier gallery; move it away or "
            "pass another --out"
        )
    if destination.exists() or destination.is_symlink():
        old = Path(
            tempfile.mkdtemp(prefix=f".{destination.name}.old.", dir=source.parent)
        )
        os.replace(destination, old / "gallery")
        os.replace(source, destination)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(source, destination)
