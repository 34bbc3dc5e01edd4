"""`python -m vis PHOTO...`: activation galleries of a pretrained CNN for slides.

Parses the options into `Settings`, loads the model once, writes one gallery per photo
and rebuilds `OUT/index.html`. torch and matplotlib are imported only after the
arguments are parsed, so `--help` and option errors are instant.
"""

import argparse
import os
import re
import signal
import sys
from pathlib import Path

from .settings import DEFAULT_CHANNELS, DEFAULT_OUT, Channels, Settings

EPILOG = """\
exit status: 0 when every photo's gallery was written; 1 when some photos failed
(one line each on stderr) and the others' galleries were written; 2 when nothing
was done (a bad option, model or --out, or every photo failed).

known limitations:
  - channels are ranked by mean activation, which favours channels that fire
    everywhere (colour, brightness) over small part detectors such as wheels
  - EfficientNet-Lite's stage outputs have no ReLU: they are signed and drawn
    blue-white-red around 0; the stem and head (ReLU6) are drawn in viridis
  - --channels K above a layer's channel count shows all of them; an explicit
    index above it is an error
  - two photos with the same name in one run: the second goes to NAME-2/
  - layers whose output is not N×C×H×W (such as the classifier) are skipped
  - summary.json's "seconds" differ from run to run; every other file is
    byte-identical for the same photo and options on the same machine
  - torchvision models need --weights FILE or torchvision's cached weights
    (downloaded when online)
  - photos run one at a time; the model is loaded once per run
"""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        """One line on stderr and exit status 2, instead of usage plus error."""
        self.exit(2, f"vis: error: {message} (see python -m vis --help)\n")


def parse_channels(text: str) -> Channels:
    """`16` (top 16), `all`, or a comma list of indices `0,5,7` (`5,` is one)."""
    text = text.strip()
    if text == "all":
        return "all"
    if re.fullmatch(r"\d+", text):
        if int(text) < 1:
            raise argparse.ArgumentTypeError("K must be at least 1")
        return int(text)
    if re.fullmatch(r"\d+(,\d+)*,?", text):
        return tuple(int(c) for c in text.split(",") if c)
    raise argparse.ArgumentTypeError(
        f"{text!r} is not K, 'all' or a comma list of channel indices such as 0,5,7"
    )


def parse_layers(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


MAX_SIZE = 2048  # 5000 px took 3 minutes and 14 GB of memory on two cores


def parse_size(text: str) -> int:
    if not re.fullmatch(r"\d+", text) or not 8 <= int(text) <= MAX_SIZE:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number of pixels from 8 to {MAX_SIZE}"
        )
    return int(text)


def parse_out(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty folder name; pass --out DIR")
    return Path(text)


def parse_device(text: str) -> str:
    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", text):
        raise argparse.ArgumentTypeError(f"{text!r}; use auto, cpu, cuda or cuda:N")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="python -m vis",
        description="Record every chosen layer of a pretrained CNN on your photos and\n"
        "write a gallery of activation grids: edges and colours in early layers,\n"
        "parts further down. Each photo gets OUT/<photo name>/index.html.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("photos", nargs="*", type=Path, help="photo files or folders of photos")
    add(
        "--model",
        default="efficientnet_lite0",
        help="efficientnet_lite0 (default), "
        "tinyvgg or a torchvision classifier name (resnet18, vgg16, …)",
    )
    add(
        "--weights",
        type=Path,
        help="state dict (torchvision) or model.json "
        "(tinyvgg); default: the model's own weights",
    )
    add("--classes", type=Path, help="class names, one a line (tinyvgg)")
    add(
        "--layers",
        type=parse_layers,
        action="extend",
        metavar="NAMES",
        help="comma list of layer names or globs ('stages.*'), or 'all'; "
        "default: the model's progression of about 9 layers",
    )
    add(
        "--list-layers",
        action="store_true",
        help="print every hookable layer with output shape and parameters, and exit",
    )
    add(
        "--channels",
        type=parse_channels,
        default=DEFAULT_CHANNELS,
        metavar="K",
        help=f"top K channels by mean activation (default {DEFAULT_CHANNELS}), "
        "'all', or indices such as 0,5,7 ('5,' for one)",
    )
    add(
        "--scale",
        choices=["layer", "channel"],
        default="layer",
        help="colour range shared by a layer's channels (default) or one per channel",
    )
    add(
        "--overlay",
        action="store_true",
        help="also blend each layer's top channels over the photo",
    )
    add(
        "--size",
        type=parse_size,
        metavar="N",
        help="resize the photo's short side to N pixels (default: the model's, 224)",
    )
    add(
        "--device",
        type=parse_device,
        default="auto",
        help="auto (CUDA when present, default), cpu, cuda or cuda:N",
    )
    add(
        "--out",
        type=parse_out,
        default=DEFAULT_OUT,
        metavar="DIR",
        help="galleries go to DIR/<photo name>/ (default gallery/)",
    )
    add(
        "--save-activations",
        action="store_true",
        help="also write activations.npz: the input and every recorded layer",
    )
    add("--quiet", action="store_true", help="no progress bar and no notes")

    evidence = parser.add_argument_group("evidence: part detectors and decisions")
    add = evidence.add_argument
    add(
        "--focus",
        action="append",
        default=[],
        metavar="X0,Y0,X1,Y1",
        help="a region of the photo in pixels (or fractions 0..1), e.g. around a "
        "wheel; repeat for several. Scores every channel against it (IoU, share "
        "inside) and shows the best channels",
    )
    add(
        "--dream",
        action="append",
        default=[],
        metavar="LAYER:CHANNEL",
        help="feature visualisation of a channel by optimisation, or 'focus' for "
        "the best focus channels; repeatable. About 20 s each on a 2-core CPU",
    )
    add(
        "--dream-steps",
        type=parse_steps,
        default=256,
        metavar="N",
        help="optimisation steps per --dream image (default 256)",
    )
    add(
        "--class",
        dest="cam_classes",
        action="append",
        default=[],
        metavar="NAME",
        help="also show Grad-CAM for this class (e.g. 'car wheel'); the top class "
        "is always shown",
    )
    add(
        "--cam-layer",
        metavar="LAYER",
        help="layer Grad-CAM reads (default: the last recorded layer)",
    )
    add(
        "--gradcam",
        action="store_true",
        help="add Grad-CAM for the top class; implied by --class, --cam-layer, "
        "--focus and --dream",
    )
    return parser


def parse_steps(text: str) -> int:
    if not re.fullmatch(r"\d+", text) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number ≥ 1")
    return int(text)


def settings_from(args: argparse.Namespace, argv: list[str]) -> Settings:
    given = {
        a.lstrip("-").split("=")[0].replace("-", "_") for a in argv if a[:2] == "--"
    }
    return Settings(
        model=args.model,
        weights=args.weights,
        classes=args.classes,
        layers=args.layers,
        channels=args.channels,
        scale=args.scale,
        overlay=args.overlay,
        size=args.size,
        device=args.device,
        out=args.out,
        save_activations=args.save_activations,
        quiet=args.quiet,
        focus=args.focus,
        dream=args.dream,
        dream_steps=args.dream_steps,
        cam_classes=args.cam_classes,
        cam_layer=args.cam_layer,
        gradcam=any(
            [args.gradcam, args.cam_classes, args.cam_layer, args.focus, args.dream]
        ),
        given=given,
    )


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = settings_from(args, argv)
    if not args.photos and not args.list_layers:
        parser.error("give at least one photo or folder, or --list-layers")
    if "focus" in args.dream and not args.focus:
        parser.error("--dream focus picks channels by --focus; add --focus X0,Y0,X1,Y1")

    from .run import list_layers, prepare, write_galleries

    # `kill` (SIGTERM) cleans up like Ctrl-C: no hidden temporary gallery left behind
    signal.signal(signal.SIGTERM, _interrupt)

    try:
        session = prepare(settings, probe=args.list_layers)
        if args.list_layers:
            return list_layers(session)
        return write_galleries(session, args.photos)
    except BrokenPipeError:
        # stdout closed early (`--list-layers | head`): no error, no flush at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ValueError, OSError) as err:
        print(f"vis: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vis: interrupted; nothing half-written was left behind", file=sys.stderr)
        return 130
