"""The settings of one `python -m vis` run, in one typed dataclass.

The CLI fills it in from its arguments; the gallery writer and the figures read it.
Importing this module imports neither torch nor matplotlib, so `--help` stays fast.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Channels = int | Literal["all"] | tuple[int, ...]
Scale = Literal["layer", "channel"]

DEFAULT_CHANNELS = 16
DEFAULT_OUT = Path("gallery")


@dataclass
class Settings:
    """What to load, what to record and how to draw it; defaults are the CLI's."""

    # model: efficientnet_lite0, tinyvgg or a torchvision classification model
    model: str = "efficientnet_lite0"
    weights: Path | None = None  # None: the model's own weights (package or cache)
    classes: Path | None = None  # one class name a line, for models without a list

    # layer names or globs, or ["all"]; None: the model's default progression
    layers: list[str] | None = None

    # per layer: the top K channels by mean activation, every channel ("all"), or
    # these channel indices in this order
    channels: Channels = DEFAULT_CHANNELS
    # "layer": one colour range shared by a layer's channels (shows sparsity);
    # "channel": one range per channel (shows each channel's pattern)
    scale: Scale = "layer"
    overlay: bool = False  # also blend each layer's top channels over the photo
    overview_channels: int = 8  # tiles per layer row in the overview
    top_classes: int = 5  # predictions printed and drawn

    # evidence (issue 4): boxes "x0,y0,x1,y1" (pixels or 0..1 fractions) to score
    # channels against; LAYER:CHANNEL pairs (or "focus") to visualise by optimisation;
    # extra class names for Grad-CAM beside the top class, and the layer it reads
    focus: list[str] = field(default_factory=list)
    dream: list[str] = field(default_factory=list)
    dream_steps: int = 256
    cam_classes: list[str] = field(default_factory=list)
    cam_layer: str | None = None  # None: the last recorded layer
    gradcam: bool = False  # the CLI turns it on with any evidence option

    size: int | None = None  # short side in pixels; None: the model's default
    device: str = "auto"  # auto, cpu, cuda or cuda:N
    out: Path = DEFAULT_OUT  # each photo's gallery goes to out/<photo stem>/
    save_activations: bool = False  # also write activations.npz
    quiet: bool = False  # no progress bar and no notes on defaults
    # resolution of the per-layer, filter and overlay PNGs; the overview is always
    # 200 dpi (3200×1800). 150 keeps a gallery at about a second of drawing.
    dpi: int = 150

    # which options the user gave, so that a default that decides something
    # can be announced in one line
    given: set[str] = field(default_factory=set)
