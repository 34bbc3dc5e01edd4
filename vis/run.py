"""One run of `python -m vis`: device, model and layers once, then every photo.

Results go to stdout as `label: value` lines (settings first, gallery path last);
a photo that fails is one line on stderr and the others still finish.
"""

import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from .gallery import GalleryWriter
from .hooks import hookable_layers
from .html import write_root_index
from .images import find_photos
from .layers import layer_table, parameter_count, probe_shapes, resolve_layers
from .models import LoadedModel, load_model
from .settings import Settings


@dataclass
class Session:
    """What every photo of a run shares."""

    settings: Settings
    model: LoadedModel
    device: torch.device
    size: int  # short side in pixels
    layer_names: list[str]
    notes: list[str]  # defaults that decided something, one line each
    shapes: dict[str, tuple[int, ...]] | None = None  # from the shape probe, if run


def resolve_device(name: str) -> torch.device:
    """`auto` is CUDA when available; an unavailable CUDA device is a ValueError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        why = "built without CUDA" if torch.version.cuda is None else "finds no GPU"
        raise ValueError(
            f"--device {name}: CUDA is not available on this machine (torch "
            f"{torch.__version__} {why}); use --device cpu or --device auto"
        )
    device = torch.device(name)
    count = torch.cuda.device_count()
    if device.index is not None and device.index >= count:
        raise ValueError(
            f"--device {name}: this machine has {count} CUDA device(s), "
            f"cuda:0 to cuda:{count - 1}; pick one of those"
        )
    return device


def prepare(settings: Settings, probe: bool = False) -> Session:
    """Pick the device, load the model once and decide which layers to record."""
    notes = []
    device = resolve_device(settings.device)
    if "device" not in settings.given:
        why = "a CUDA device is present" if device.type == "cuda" else "no CUDA device"
        notes.append(f"--device auto chose {device} ({why})")

    model = load_model(settings.model, settings.weights, settings.classes)
    model.module.to(device)
    size = settings.size or model.default_size
    if settings.size is None:
        notes.append(f"no --size: short side resized to {size} px, the model's default")

    shapes = None
    if probe or not (settings.layers or model.default_layers):
        shapes = probe_shapes(model.module, size, device)
    layer_names = resolve_layers(
        model.module, settings.layers, model.default_layers, shapes
    )
    if not settings.layers:
        how = "the model's" if model.default_layers else "evenly spaced by a probe:"
        notes.append(f"no --layers: {how} default progression of {len(layer_names)}")
    check_evidence(settings, model, size, device)
    settings.size = size
    return Session(settings, model, device, size, layer_names, notes, shapes)


def check_evidence(
    settings: Settings, model: LoadedModel, size: int, device: torch.device
) -> None:
    """Fail before any photo on an unknown --class, --cam-layer or --dream target."""
    from .dream import _probe, parse_dream
    from .gradcam import class_index, split_call

    for name in settings.cam_classes:
        class_index(name, model.categories)
    if settings.cam_layer:
        split_call(model.module, settings.cam_layer)
    for text in settings.dream:
        if text != "focus":
            layer_name, channel = parse_dream(text)
            _probe(model.module, layer_name, channel, size, device)


def settings_line(session: Session) -> str:
    s = session.settings
    channels = s.channels if not isinstance(s.channels, int) else f"top {s.channels}"
    if isinstance(channels, tuple):
        channels = ",".join(map(str, channels))
    return (
        f"model: {session.model.name} | weights: {session.model.weights} | "
        f"device: {session.device} | size: {session.size} px short side | "
        f"layers: {', '.join(session.layer_names)} | channels: {channels} | "
        f"scale: {s.scale}"
    )


def list_layers(session: Session) -> int:
    """Print every hookable layer with its output shape and parameters."""
    module = session.model.module
    print(settings_line(session))
    print(f"input: 1×3×{session.size}×{session.size} (a square probe)")
    for line in layer_table(module, session.shapes):
        print(line)
    print(f"layers: {len(hookable_layers(module))}")
    print(f"parameters: {parameter_count(module):,}")
    return 0


def unique_names(paths: list[Path]) -> list[str]:
    """Gallery folder names: the photo's stem, `stem-2`, `stem-3` … on a clash."""
    names: list[str] = []
    for path in paths:
        name, k = path.stem, 1
        while name in names:
            k += 1
            name = f"{path.stem}-{k}"
        names.append(name)
    return names


def check_out(out: Path) -> None:
    """Create --out, or raise a one-line error when it cannot be written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".vis-write-test"
        probe.mkdir(exist_ok=True)
        probe.rmdir()
    except OSError as err:
        raise ValueError(
            f"--out {out}: cannot write there ({err.strerror or err}); pass --out a "
            "writable folder"
        ) from None


def write_galleries(session: Session, inputs: list[Path]) -> int:
    """A gallery per photo; exit status 0, 1 (some failed) or 2 (all failed)."""
    settings = session.settings
    check_out(settings.out)
    paths, failures = find_photos(inputs)
    for error in failures:
        print(f"vis: error: {error}", file=sys.stderr)

    print(settings_line(session))
    if not settings.quiet:
        for note in session.notes:
            print(f"note: {note}")
    writer = GalleryWriter(session.model, settings, session.layer_names, session.device)
    names = unique_names(paths)
    for path, name in zip(paths, names, strict=True):
        if name != path.stem and not settings.quiet:
            print(f"note: another photo is named {path.stem}: {path} goes to {name}/")

    from tqdm import tqdm

    progress = tqdm(
        list(zip(paths, names, strict=True)),
        desc="photos",
        unit="photo",
        file=sys.stderr,
        disable=settings.quiet or len(paths) < 2,
    )
    done = 0
    for path, name in progress:
        try:
            folder, run = writer.write(path, name)
        except (ValueError, OSError, RuntimeError) as err:
            message = str(err).splitlines()[0] if str(err) else type(err).__name__
            if str(path) not in message:
                message = f"{path}: {message}"
            tqdm.write(f"vis: error: {message}", file=sys.stderr)
            failures.append(err)
            continue
        done += 1
        lines = [f"photo: {path}"]
        lines += [f"note: {note}" for note in run.photo.notes]
        lines += [
            f"{p['label']}: {p['probability']:.2%}" for p in run.summary["predictions"]
        ]
        lines.append(f"gallery: {folder / 'index.html'}")
        new_notes = [n for n in writer.notes if n not in session.notes]
        session.notes += new_notes
        if not settings.quiet:
            lines += [f"note: {note}" for note in new_notes]
        tqdm.write("\n".join(lines), file=sys.stdout)

    if done:
        print(f"galleries: {write_root_index(settings.out)}")
    if not failures:
        return 0
    return 1 if done else 2
