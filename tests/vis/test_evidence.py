"""Tests for the evidence options of `python -m vis`: --focus, --class, --dream.

The numbers are checked against the library functions run on the saved activations,
and against regions of the bundled photo drawn by looking at it: the bicycle's rear
wheel in dog.jpg is about (380, 240)-(567, 420) in its 768×576 pixels.
"""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from vis.cli import main
from vis.focus import best_by_iou, boxes_to_input, focus_scores

DOG = Path(__file__).resolve().parents[2] / "images" / "dog.jpg"
REAR_WHEEL = "380,240,567,420"
BICYCLE = (124, 120, 567, 420)  # the whole bicycle, in photo pixels
PEERS = Path(__file__).resolve().parents[3] / "shared" / "peers" / "cnn-explainer"


@pytest.fixture(autouse=True)
def _quick(quick_figures, cached_model):
    """Figures at 30 dpi and the session's model: these tests are about numbers."""


def run(*argv) -> int:
    try:
        return main([str(a) for a in argv])
    except SystemExit as exit:  # option errors end in argparse's exit(2)
        return exit.code


def summary_of(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def one_error_line(capsys, *fragments: str) -> None:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("vis: error: "), err
    for fragment in fragments:
        assert fragment in err, err


def test_focus_scores_every_layer_and_rises_with_depth(tmp_path) -> None:
    options = ["--focus", REAR_WHEEL, "--save-activations", "--quiet"]
    assert run(DOG, "--out", tmp_path, *options) == 0
    gallery = tmp_path / "dog"
    summary = summary_of(gallery)
    assert {"focus.png", "focus-iou.png"} <= {p.name for p in gallery.iterdir()}

    # each layer lists its five best channels, the same as scoring the saved maps
    arrays = np.load(gallery / "activations.npz")
    height, width = summary["input"]["size"]
    boxes = boxes_to_input([(380, 240, 567, 420)], (768, 576), (height, width))
    for layer in summary["layers"]:
        scores = focus_scores(
            torch.from_numpy(arrays[layer["name"]]), boxes, (height, width)
        )
        expected = best_by_iou(scores, 5)
        assert [f["channel"] for f in layer["focus"]] == [s.channel for s in expected]
        assert [f["iou"] for f in layer["focus"]] == pytest.approx(
            [s.iou for s in expected], abs=1e-6
        )

    # the "edges to wheels" curve: about 0.1 at the stem, above 0.5 at the end
    curve = summary["focus_iou"]
    assert list(curve) == [layer["name"] for layer in summary["layers"]]
    assert curve["stem"] < 0.2
    assert curve["stages.6"] > 0.5 and curve["head"] > 0.5
    assert curve["head"] > 3 * curve["stem"]


def test_overview_shows_the_focus_channels(tmp_path, monkeypatch) -> None:
    import vis.sections

    shown = {}
    render = vis.sections.render_grid

    def spy(activation, layer_name, channels, scale, cols=None):
        if cols is not None:  # the overview's rows
            shown[layer_name] = channels
        return render(activation, layer_name, channels, scale, cols=cols)

    monkeypatch.setattr(vis.sections, "render_grid", spy)
    options = ["--focus", REAR_WHEEL, "--layers", "stem,head"]
    assert run(DOG, "--out", tmp_path, *options, "--quiet") == 0
    layers = summary_of(tmp_path / "dog")["layers"]
    for layer in layers:
        best = [f["channel"] for f in layer["focus"]]
        assert list(shown[layer["name"]])[:5] == best


def test_gradcam_for_the_top_class_and_a_named_one(tmp_path) -> None:
    options = ["--class", "Mountain Bike", "--layers", "stem,stages.6,head"]
    assert run(DOG, "--out", tmp_path, *options, "--quiet") == 0
    gallery = tmp_path / "dog"
    cams = summary_of(gallery)["gradcam"]
    assert [c["label"] for c in cams] == ["German shepherd", "mountain bike"]
    assert [c["index"] for c in cams] == [235, 671]
    assert all(c["layer"] == "head" for c in cams)

    # the bike's evidence peaks on the bicycle; the dog's does not peak at the same spot
    scale = 224 / 576
    row, col = cams[1]["peak"]
    x0, y0, x1, y1 = (v * scale for v in BICYCLE)
    assert x0 <= col <= x1 and y0 <= row <= y1
    assert cams[0]["peak"] != cams[1]["peak"]
    assert (gallery / "gradcam.png").is_file()


def test_dream_excites_the_channel_it_visualises(tmp_path) -> None:
    options = ["--dream", "stages.6:144", "--dream-steps", "6"]
    assert run(DOG, "--out", tmp_path, *options, "--size", "64", "--quiet") == 0
    gallery = tmp_path / "dog"
    (dream,) = summary_of(gallery)["dreams"]
    assert (dream["layer"], dream["channel"], dream["steps"]) == ("stages.6", 144, 6)
    assert dream["activation_end"] > dream["activation_start"] + 1
    assert (gallery / "dream.png").is_file()


@pytest.mark.parametrize(
    "options, fragments",
    [
        (["--focus", "700,500,900,700"], ["dog.jpg", "focus"]),
        (["--focus", "10,10,10,50"], ["dog.jpg", "area"]),
        (["--focus", "1,2,3"], ["dog.jpg", "has 3 values"]),
        (["--dream", "stages.9:1"], ["unknown layer 'stages.9'", "stages.6"]),
        (["--dream", "stages.6:999"], ["channel 999", "320 channels"]),
        (["--dream", "stages.6"], ["LAYER:CHANNEL"]),
        (["--class", "wheel"], ["unknown class 'wheel'", "car wheel"]),
        (["--dream", "focus"], ["--focus"]),
    ],
)
def test_bad_evidence_options(tmp_path, capsys, options, fragments) -> None:
    out = tmp_path / "out"
    assert run(DOG, "--out", out, "--size", "48", *options, "--quiet") == 2
    one_error_line(capsys, *fragments)
    leftovers = list(out.iterdir()) if out.exists() else []
    assert not [p for p in leftovers if p.name != "index.html"], leftovers


@pytest.mark.skipif(not PEERS.is_dir(), reason=f"CNN Explainer files not in {PEERS}")
def test_tinyvgg_reproduces_cnn_explainers_car(tmp_path) -> None:
    model = PEERS / "model" / "model.json"
    options = [
        "--model",
        "tinyvgg",
        "--weights",
        model,
        "--classes",
        PEERS / "classes.txt",
        "--quiet",
    ]
    assert run(PEERS / "images" / "car_1.jpeg", "--out", tmp_path, *options) == 0
    summary = summary_of(tmp_path / "car_1")
    top = summary["predictions"][0]
    assert (top["label"], top["index"]) == ("sport car", 9)
    assert top["probability"] == pytest.approx(0.9655, abs=1e-4)

    # CNN Explainer's columns, every channel of each, with its published means
    names = [layer["name"] for layer in summary["layers"]]
    assert names == [
        "conv_1_1",
        "relu_1_1",
        "conv_1_2",
        "relu_1_2",
        "max_pool_1",
        "conv_2_1",
        "relu_2_1",
        "conv_2_2",
        "relu_2_2",
        "max_pool_2",
    ]
    assert all(len(layer["channels"]) == 10 for layer in summary["layers"])
    relu_1_1 = next(layer for layer in summary["layers"] if layer["name"] == "relu_1_1")
    means = {c["index"]: c["mean"] for c in relu_1_1["channels"]}
    assert means[4] == pytest.approx(0.613617, abs=1e-4)
    assert means[8] == pytest.approx(0.300538, abs=1e-4)


def test_gradcam_only_when_asked_for(tmp_path) -> None:
    small = ["--size", "48", "--layers", "stem,head", "--quiet"]
    assert run(DOG, "--out", tmp_path / "plain", *small) == 0
    assert run(DOG, "--out", tmp_path / "asked", *small, "--gradcam") == 0
    assert "gradcam" not in summary_of(tmp_path / "plain" / "dog")
    summary = summary_of(tmp_path / "asked" / "dog")
    (cam,) = summary["gradcam"]
    assert cam["layer"] == "head"
    assert cam["index"] == summary["predictions"][0]["index"]
