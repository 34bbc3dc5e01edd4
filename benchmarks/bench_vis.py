"""How fast `python -m vis` is, against a bare forward pass and against torchlens.

Measures in one run, on CPU, with images/dog.jpg at the default size (224×298):
  (a) a bare forward pass of EfficientNet-Lite0;
  (b) the same with the default layers recorded by forward hooks;
  (c) a whole default gallery for one photo, in-process (warm);
  (d) torchlens (`torchlens.trace`) plus one matplotlib subplot per channel, for the
      same layers and the same 16 channels a layer, and (d') for every channel;
  and the whole `python -m vis` process against a floor: importing torch and
  torchvision, loading the weights and one forward pass, each in a fresh process.
Prints seconds and the ratios against the targets of issue 3. Needs the `bench` extra
(torchlens) for (d). Usage: python benchmarks/bench_vis.py [--repeats N]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image

from vis.gallery import GalleryWriter
from vis.hooks import record
from vis.models import load_model
from vis.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "images" / "dog.jpg"

FLOOR = """
import torch, torchvision
from PIL import Image
from vis.models import load_model
model = load_model()
x = model.preprocess(Image.open({photo!r}).convert("RGB"))
with torch.inference_mode():
    model.module(x[None])
"""


def seconds(function, repeats: int) -> float:
    """Fastest of `repeats` calls, after one warm-up call.

    The minimum, not the mean: on a shared machine other processes only ever add
    time, and OpenMP threads that wait for a busy core add a lot of it.
    """
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def interleaved(functions: list, repeats: int) -> list[float]:
    """Fastest call of each function, taking turns so that load hits all alike."""
    for function in functions:
        function()
    times = [[] for _ in functions]
    for _ in range(repeats):
        for function, spent in zip(functions, times, strict=True):
            start = time.perf_counter()
            function()
            spent.append(time.perf_counter() - start)
    return [min(spent) for spent in times]


def process_seconds(argv: list[str], repeats: int) -> float:
    """Fastest of `repeats` runs of a fresh Python process (after one warm-up)."""
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return min(times[1:])


def torchlens_and_subplots(
    model, x, layer_names: list[str], out: Path, channels: int | None
) -> None:
    """What a user would otherwise write: trace everything, then a subplot a channel.

    Args:
        channels: the top `channels` by mean activation per layer (what the gallery
            shows), or None for every channel of the layer.
    """
    import math

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torchlens

    trace = torchlens.trace(model, x[None])
    for layer_name in layer_names:
        activation = trace[layer_name].tensor[0].detach()  # C×H×W
        order = activation.mean(dim=(1, 2)).argsort(descending=True)[:channels]
        side = math.ceil(math.sqrt(len(order)))
        fig, axes = plt.subplots(side, side, figsize=(10, 8), squeeze=False)
        for ax in axes.flat:
            ax.axis("off")
        for ax, channel in zip(axes.flat, order.tolist(), strict=False):
            ax.imshow(activation[channel].numpy(), cmap="viridis")
            ax.set_title(str(channel), fontsize=6)
        fig.suptitle(layer_name)
        fig.savefig(out / f"{layer_name}.png", dpi=150)
        plt.close(fig)


def ratio_line(label: str, value: float, target: str, ok: bool) -> str:
    return f"{label}: {value:.2f} (target {target}: {'met' if ok else 'NOT met'})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--threads",
        type=int,
        help="torch threads, here and in the subprocesses (default: torch's); 1 "
        "gives steadier numbers on a machine that other processes keep busy",
    )
    args = parser.parse_args()
    repeats = args.repeats
    if args.threads:
        torch.set_num_threads(args.threads)
        os.environ["OMP_NUM_THREADS"] = str(args.threads)  # for the subprocesses

    print(
        f"machine: {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, load average "
        f"{os.getloadavg()[0]:.2f} (other processes slow every number down)"
    )
    model = load_model()
    with Image.open(PHOTO) as image:
        x = model.preprocess(image.convert("RGB"))  # 3×224×298
    layers = model.default_layers

    def forward():
        with torch.inference_mode():
            model.module(x[None])

    def recorded():
        record(model.module, x[None], layers)

    a, b = interleaved([forward, recorded], 6 * repeats)
    print(f"(a) bare forward {tuple(x.shape)}: {a:.3f} s")
    print(f"(b) forward + {len(layers)} hooks recording: {b:.3f} s")

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(out=Path(folder), quiet=True)
        writer = GalleryWriter(model, settings, layers, torch.device("cpu"))
        c = seconds(lambda: writer.write(PHOTO, "dog"), repeats)
    print(f"(c) whole default gallery, in-process: {c:.3f} s")

    try:
        import torchlens  # noqa: F401
    except ImportError:
        d = d_all = None
        print("(d) torchlens + subplots: skipped (pip install -e '.[bench]')")
    else:
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder)
            d = seconds(
                lambda: torchlens_and_subplots(model.module, x, layers, out, 16),
                max(1, repeats // 2),
            )
            start = time.perf_counter()
            torchlens_and_subplots(model.module, x, layers, out, None)
            d_all = time.perf_counter() - start
        print(f"(d) torchlens.trace + a subplot per channel, top 16 a layer: {d:.3f} s")
        print(f"(d') the same for every channel of the layers: {d_all:.3f} s")

    with tempfile.TemporaryDirectory() as folder:
        vis = [sys.executable, "-m", "vis", str(PHOTO), "--out", folder, "--quiet"]
        process = process_seconds(vis, 2)
    floor = process_seconds([sys.executable, "-c", FLOOR.format(photo=str(PHOTO))], 2)
    print(f"process: python -m vis {PHOTO.name}: {process:.2f} s")
    print(f"floor: import torch+torchvision, load weights, one forward: {floor:.2f} s")

    print(ratio_line("(b)/(a)", b / a, "<= 1.2", b / a <= 1.2))
    print(ratio_line("(c) - (a) in s", c - a, "<= 1.5", c - a <= 1.5))
    if d is not None:
        print(ratio_line("(d)/(c)", d / c, ">= 5", d / c >= 5))
        print(ratio_line("(d')/(c)", d_all / c, ">= 5", d_all / c >= 5))
    print(ratio_line("process/floor", process / floor, "<= 2", process / floor <= 2))


if __name__ == "__main__":
    main()
