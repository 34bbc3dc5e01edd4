"""Gallery sections that turn the activation picture into evidence (issue 4).

Region focus scores each channel against boxes drawn on the photo (Network Dissection's
top-quantile-then-IoU test, Bau et al. 2017, on one photo); Grad-CAM (Selvaraju et al.
2017) shows what a class decision rests on; feature visualisation (Olah et al. 2017)
shows what a channel wants to see. Each section plugs into `GalleryWriter`.
"""

from typing import TYPE_CHECKING

from torch import nn

from .dream import dream, parse_dream
from .focus import best_by_iou, boxes_to_input, focus_scores, parse_box
from .gradcam import class_index, grad_cam, upsample_cam
from .grid import render_overlay
from .sections import FigureEntry, PhotoRun

if TYPE_CHECKING:
    from .gallery import GalleryWriter

FOCUS_KEPT = 16  # best channels by IoU kept per layer (the overview shows up to 8)
DREAMS_FROM_FOCUS = 3  # `--dream focus`: the best channel of this many layers


def compute_focus(writer: "GalleryWriter", run: PhotoRun) -> None:
    """Score every recorded layer's channels against the --focus boxes, on `run`."""
    width, height = run.photo.original_size
    boxes = [parse_box(text, width, height) for text in writer.settings.focus]
    input_hw = tuple(run.x.shape[1:])
    run.focus_boxes = boxes_to_input(boxes, (width, height), input_hw)
    run.focus = {
        layer_name: best_by_iou(
            focus_scores(activation, run.focus_boxes, input_hw), FOCUS_KEPT
        )
        for layer_name, activation in run.activations.items()
    }


def focus_section(writer: "GalleryWriter", run: PhotoRun) -> tuple[list, dict]:
    """Per layer, the best channel over the photo with the region outlined, and the
    best IoU against depth: the "edges to wheels" curve."""
    from .evidence_figures import focus_figure, iou_curve_figure

    if not run.focus:
        compute_focus(writer, run)
    best = {name: scores[0] for name, scores in run.focus.items() if scores}
    panels = [
        render_overlay(run.activations[name], run.pixels, name, (s.channel,), "channel")
        for name, s in best.items()
    ]
    title = (
        f"Focus on {run.photo.path.name}: the channel of each layer whose strongest "
        "pixels best match the box (IoU)"
    )
    dpi = writer.settings.dpi
    focus_figure(
        panels,
        list(best.values()),
        run.focus_boxes,
        title,
        run.folder / "focus.png",
        dpi,
    )
    iou_curve_figure(
        list(run.focus),
        [s[0].iou if s else 0.0 for s in run.focus.values()],
        f"Best IoU with the focus region by depth, {run.photo.path.name}",
        run.folder / "focus-iou.png",
        dpi,
    )
    entries = [
        FigureEntry(
            "focus.png",
            "Focus: for each layer, the channel whose top pixels (as many as the box "
            "holds) overlap the box best, blended over the photo; the box in white",
            "Focus",
        ),
        FigureEntry(
            "focus-iou.png",
            "Best IoU per layer from input to output; Network Dissection calls a unit "
            "a detector above 0.04 over a whole data set, a clear one at 0.1-0.2",
            "Focus",
        ),
    ]
    return entries, {
        "focus_boxes": [list(map(float, b)) for b in run.focus_boxes],
        "focus_iou": {
            name: round(s[0].iou, 6) if s else 0.0 for name, s in run.focus.items()
        },
    }


def gradcam_section(writer: "GalleryWriter", run: PhotoRun) -> tuple[list, dict]:
    """Grad-CAM at the last recorded layer for the top class and each --class."""
    from .evidence_figures import gradcam_figure

    categories = writer.model.categories
    top = run.summary["predictions"][0]["index"]
    wanted = [top] + [class_index(n, categories) for n in writer.settings.cam_classes]
    wanted = list(dict.fromkeys(wanted))
    layer_name = writer.settings.cam_layer or list(run.activations)[-1]
    probabilities = run.output.float().softmax(0)

    maps, results = [], []
    for index in wanted:
        cam, _ = grad_cam(writer.model.module, run.x[None], layer_name, index)
        up = upsample_cam(cam, tuple(run.x.shape[1:]))  # H×W in [0, 1]
        maps.append(up)
        peak = divmod(int(up.argmax()), up.shape[1])
        results.append(
            {
                "label": categories[index],
                "index": index,
                "probability": round(float(probabilities[index]), 6),
                "layer": layer_name,
                "peak": list(peak),  # row, column in model-input pixels
            }
        )
    title = f"Grad-CAM at {layer_name}: where the evidence for each class lies"
    gradcam_figure(
        run.pixels,
        maps,
        results,
        title,
        run.folder / "gradcam.png",
        writer.settings.dpi,
    )
    caption = (
        f"Grad-CAM at {layer_name} for "
        + ", ".join(f"{r['label']} ({r['probability']:.1%})" for r in results)
        + ": each map scaled to its own maximum (red = most evidence)"
    )
    entries = [FigureEntry("gradcam.png", caption, "Grad-CAM")]
    for r in results:
        r["file"] = "gradcam.png"
    return entries, {"gradcam": results}


def dream_targets(writer: "GalleryWriter", run: PhotoRun) -> list[tuple[str, int]]:
    """The (layer, channel) pairs to visualise: explicit ones and `focus` picks."""
    targets: list[tuple[str, int]] = []
    for text in writer.settings.dream:
        if text != "focus":
            targets.append(parse_dream(text))
            continue
        if not run.focus:
            raise ValueError(
                "--dream focus needs a --focus region to pick channels from; add "
                "--focus x0,y0,x1,y1 or name channels as LAYER:CHANNEL"
            )
        ranked = sorted(
            (s[0].iou, name, s[0].channel) for name, s in run.focus.items() if s
        )[::-1]
        targets += [(name, channel) for _, name, channel in ranked[:DREAMS_FROM_FOCUS]]
    return list(dict.fromkeys(targets))


def pre_activation(model: nn.Module, layer_name: str) -> str:
    """The layer to optimise for `layer_name`: a block ending in ReLU or ReLU6 is
    taken just before it (as Lucid overrides ReLU's gradient, for the same reason)."""
    module = dict(model.named_modules()).get(layer_name)
    if isinstance(module, nn.Sequential) and len(module) > 1:
        *_, (before, _), (_, last) = module.named_children()
        if isinstance(last, (nn.ReLU, nn.ReLU6)):
            return f"{layer_name}.{before}"
    return layer_name


def dream_section(writer: "GalleryWriter", run: PhotoRun) -> tuple[list, dict]:
    """What each chosen channel wants to see, beside its activation on the photo."""
    from .evidence_figures import dream_figure

    settings = writer.settings
    targets = dream_targets(writer, run)
    if settings.dream_steps and writer.device.type == "cpu":
        writer.note(
            f"feature visualisation on CPU: about 0.08 s a step, so roughly "
            f"{0.08 * settings.dream_steps:.0f} s per --dream channel at 224 px"
        )
    cache = writer.dream_cache  # dreams depend on the model, not on the photo
    results, panels = [], []
    for layer_name, channel in targets:
        key = (layer_name, channel, settings.dream_steps)
        target = pre_activation(writer.model.module, layer_name)
        if target != layer_name:
            writer.note(
                f"--dream {layer_name}:{channel} optimises {target}, the same channel "
                "before the block's final ReLU, whose gradient is zero where it is off"
            )
        if key not in cache:
            cache[key] = dream(
                writer.model.module,
                target,
                channel,
                writer.model.mean,
                writer.model.std,
                steps=settings.dream_steps,
                progress=not settings.quiet,
            )
        result = cache[key]
        activation = run.activations.get(layer_name)
        overlay = None
        if activation is not None:
            overlay = render_overlay(
                activation, run.pixels, layer_name, (channel,), "channel"
            )
        panels.append((layer_name, channel, result, overlay))
        results.append(
            {
                "layer": layer_name,
                "channel": channel,
                "steps": settings.dream_steps,
                "activation_start": round(result.activation_start, 6),
                "activation_end": round(result.activation_end, 6),
                "seconds": round(result.seconds, 3),
                "file": "dream.png",
            }
        )
    dream_figure(panels, run.folder / "dream.png", settings.dpi)
    run.dreams = [
        {"layer": layer, "channel": channel, "image": result.image}
        for layer, channel, result, _ in panels
    ]
    caption = (
        "Feature visualisation: an image optimised to excite each channel (Fourier "
        f"parameterised, decorrelated colour, jitter/scale/rotation, "
        f"{settings.dream_steps} Adam steps), beside the channel on this photo"
    )
    return [FigureEntry("dream.png", caption, "What the channels want to see")], {
        "dreams": results
    }
