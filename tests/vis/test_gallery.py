"""Tests for vis.gallery: the files of a gallery, their contents, and atomic writing.

Runs go through `python -m vis`'s `main()` with the session's model (conftest's
`cached_model`); the expected values come from the model's own preprocess and from
the activation maps recomputed here.
"""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vis.cli import main
from vis.hooks import record

DOG = Path(__file__).resolve().parents[2] / "images" / "dog.jpg"

LAYERS = ["stem", *(f"stages.{i}" for i in range(7)), "head"]
LAYER_FILES = [f"layer-{i:02d}-{name}.png" for i, name in enumerate(LAYERS, start=1)]


def run(*argv) -> int:
    return main([str(a) for a in argv])


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_default_gallery_of_the_dog_photo(cached_model, tmp_path, capsys) -> None:
    assert run(DOG, "--out", tmp_path, "--quiet") == 0
    gallery = tmp_path / "dog"
    expected = {"overview.png", "filters.png", "index.html", "summary.json"}
    assert {p.name for p in gallery.iterdir()} == expected | set(LAYER_FILES)
    assert (tmp_path / "index.html").is_file()

    summary = json.loads((gallery / "summary.json").read_text(encoding="utf-8"))
    assert summary["model"] == "efficientnet_lite0"
    assert summary["weights"].endswith("efficientnet-lite0-57934424.pth")
    assert summary["device"] == "cpu"
    assert summary["input"] == {
        "path": str(DOG),
        "size": [224, 298],  # 576×768 with the short side at 224: nothing cropped
        "original_size": [576, 768],
        "notes": [],
    }
    assert (summary["overview"], summary["filters"]) == ("overview.png", "filters.png")
    assert set(summary["seconds"]) == {"load", "forward", "render", "write"}

    predictions = summary["predictions"]
    assert len(predictions) == 5
    assert predictions[0]["label"] == "German shepherd"
    assert predictions[0]["index"] == 235
    probabilities = [p["probability"] for p in predictions]
    assert probabilities == sorted(probabilities, reverse=True)

    layers = summary["layers"]
    assert [layer["name"] for layer in layers] == LAYERS
    assert [layer["file"] for layer in layers] == LAYER_FILES
    assert layers[0]["shape"] == [32, 112, 149]
    assert layers[-1]["shape"] == [1280, 7, 10]
    assert all(len(layer["channels"]) == 16 for layer in layers)
    means = [c["mean"] for c in layers[0]["channels"]]
    assert means == sorted(means, reverse=True)

    # the stem's channel means recomputed from a fresh forward pass
    with Image.open(DOG) as image:
        x = cached_model.preprocess(image.convert("RGB"))
    _, activations = record(cached_model.module, x[None], ["stem"])
    stem_means = activations["stem"][0].mean(dim=(1, 2))
    top = torch.sort(-stem_means, stable=True).indices[:16].tolist()
    assert [c["index"] for c in layers[0]["channels"]] == top
    assert means == pytest.approx(stem_means[top].tolist(), abs=1e-5)

    page = (gallery / "index.html").read_text(encoding="utf-8")
    for file in ["overview.png", "filters.png", *LAYER_FILES]:
        assert f'src="{file}"' in page
    assert "stages.3: activation 80×14×19 (C×H×W)" in page
    assert "one colour range for the whole layer" in page

    with Image.open(gallery / "overview.png") as overview:
        assert overview.size == (3200, 1800)  # 16:9 at 200 dpi

    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("model: efficientnet_lite0 | weights: ")
    assert "German shepherd: 17.28%" in out
    assert out[-1] == f"galleries: {tmp_path / 'index.html'}"


def test_rerun_is_byte_identical_and_saves_activations(cached_model, tmp_path) -> None:
    options = ["--size", "64", "--overlay", "--save-activations", "--quiet"]
    options += ["--layers", "stem,stages.3,head"]
    assert run(DOG, "--out", tmp_path / "a", *options) == 0
    assert run(DOG, "--out", tmp_path / "b", *options) == 0
    first, second = folder_bytes(tmp_path / "a/dog"), folder_bytes(tmp_path / "b/dog")
    assert set(first) >= {"overlay.png", "activations.npz"}
    summaries = [json.loads(files.pop("summary.json")) for files in (first, second)]
    for summary in summaries:
        summary.pop("seconds")
    assert summaries[0] == summaries[1]
    assert first == second

    # --save-activations: the exact input and one C×H×W array per layer
    summary = summaries[0]
    with np.load(tmp_path / "a/dog/activations.npz") as npz:
        assert list(npz.keys()) == ["input", "stem", "stages.3", "head"]
        with Image.open(DOG) as image:
            x = cached_model.preprocess(image.convert("RGB"), 64)
        np.testing.assert_array_equal(npz["input"], x.numpy())
        for layer in summary["layers"]:
            assert npz[layer["name"]].dtype == np.float32
            assert list(npz[layer["name"]].shape) == layer["shape"]
        assert npz["stem"].shape == (32, 32, 43)


def test_rerun_replaces_the_old_gallery(cached_model, quick_figures, tmp_path) -> None:
    stale = tmp_path / "dog" / "stale.png"
    stale.parent.mkdir()
    stale.write_bytes(b"old")
    (stale.parent / "summary.json").write_text("{}")  # what marks an earlier gallery
    assert run(DOG, "--out", tmp_path, "--size", "48", "--layers", "stem") == 0
    assert not stale.exists()
    assert (tmp_path / "dog" / "layer-01-stem.png").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_same_name_twice_gets_a_suffix(
    cached_model, quick_figures, tmp_path, capsys
) -> None:
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "dog.jpg").write_bytes(DOG.read_bytes())
    out = tmp_path / "out"
    options = ["--out", out, "--size", "48", "--layers", "stem"]
    code = run(tmp_path / "a", tmp_path / "b/dog.jpg", *options)
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["dog", "dog-2", "index.html"]
    summary = json.loads((out / "dog-2" / "summary.json").read_text())
    assert summary["input"]["path"] == str(tmp_path / "b/dog.jpg")
    assert f"{tmp_path / 'b/dog.jpg'} goes to dog-2/" in capsys.readouterr().out

    index = (out / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'href="([^"]+/index.html)"', index) == [
        "dog/index.html",
        "dog-2/index.html",
    ]


def test_failure_leaves_nothing_behind(
    cached_model, quick_figures, tmp_path, capsys
) -> None:
    code = run(DOG, "--out", tmp_path, "--size", "48", "--channels", "3,40")
    assert code == 2
    assert list(tmp_path.iterdir()) == []  # no gallery, no temporary folder
    err = capsys.readouterr().err
    assert err == (
        f"vis: error: {DOG}: --channels 40 is beyond layer stem's 32 channels (0-31); "
        "pick indices below 32, or use --channels K for the top K of every layer\n"
    )


def test_root_index_links_photo_galleries_only(
    cached_model, quick_figures, tmp_path
) -> None:
    other = tmp_path / "regression"  # regression's gallery shares the default folder
    other.mkdir()
    (other / "summary.json").write_text('{"split": {"train": 404, "test": 102}}')
    assert run(DOG, "--out", tmp_path, "--size", "48", "--layers", "stem") == 0
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'href="([^"]+/index.html)"', index) == ["dog/index.html"]
