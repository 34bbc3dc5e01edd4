"""Tests for `python -m vis`: options, stdout lines, and every broken input of issue 3.

Each broken input must give one line on stderr naming the file and the problem, exit
status 2, no traceback, and nothing written for that photo.
"""

import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vis.cli import build_parser, main

DOG = Path(__file__).resolve().parents[2] / "images" / "dog.jpg"
SMALL = ["--size", "48", "--layers", "stem,stages.6", "--quiet"]


@pytest.fixture(autouse=True)
def _quick(quick_figures):
    """Every test here is about messages and files, not pixels."""


def run(*argv) -> int:
    return main([str(a) for a in argv])


def one_error_line(capsys, *fragments: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("vis: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err
    return err


def png_header_only(path: Path, width: int, height: int) -> None:
    """A grey PNG whose header claims width×height; Pillow refuses it on opening."""
    chunks = [
        (b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)),
        (b"IDAT", zlib.compress(b"\x00\x00")),
        (b"IEND", b""),
    ]
    data = b"\x89PNG\r\n\x1a\n"
    for kind, body in chunks:
        crc = zlib.crc32(kind + body)
        data += struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)
    path.write_bytes(data)


def test_help_lists_exit_status_and_limitations_without_torch() -> None:
    text = build_parser().format_help()
    assert "1 when some photos failed" in text
    assert "known limitations:" in text
    for option in ["--layers", "--list-layers", "--channels", "--scale", "--overlay"]:
        assert option in text
    code = "import sys, vis.cli; vis.cli.build_parser(); print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_list_layers(cached_model, capsys) -> None:
    assert run("--list-layers", "--size", "64") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("model: efficientnet_lite0 | ")
    assert out[1] == "input: 1×3×64×64 (a square probe)"
    rows = {line.split()[0]: line.split()[1:] for line in out[3:-2]}
    assert rows["stem.conv"] == ["Conv2dSame", "1×32×32×32", "864"]
    assert rows["stages.6"] == ["Sequential", "1×320×2×2", "605,440"]
    assert rows["classifier"] == ["Linear", "1×1000", "1,281,000"]
    assert out[-1] == "parameters: 4,652,008"


def test_stdout_settings_first_predictions_then_path_last(
    cached_model, tmp_path, capsys
) -> None:
    assert run(DOG, "--out", tmp_path, "--size", "96", "--layers", "stem") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"model: efficientnet_lite0 | weights: {cached_model.weights} | device: cpu | "
        "size: 96 px short side | layers: stem | channels: top 16 | scale: layer"
    )
    # defaults the user did not choose are announced, one line each
    assert "note: --device auto chose cpu (no CUDA device)" in out
    assert f"photo: {DOG}" in out
    labels = out[out.index(f"photo: {DOG}") + 1 : out.index(f"photo: {DOG}") + 6]
    assert all(line.endswith("%") and ": " in line for line in labels)
    assert out[-2] == f"gallery: {tmp_path / 'dog' / 'index.html'}"
    assert out[-1] == f"galleries: {tmp_path / 'index.html'}"


def broken_inputs(folder: Path) -> dict[str, tuple[Path, str]]:
    """Each broken photo of issue 3 and a fragment its error line must contain."""
    empty_dir = folder / "empty folder"
    empty_dir.mkdir()
    (folder / "notes.txt").write_text("not an image")
    (folder / "empty.jpg").write_bytes(b"")
    data = DOG.read_bytes()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 2])
    png_header_only(folder / "bomb.png", 20_000, 20_000)
    return {
        "missing": (folder / "missing.jpg", "no such file"),
        "empty folder": (empty_dir, "folder has no images"),
        "not an image": (folder / "notes.txt", "not an image"),
        "truncated": (folder / "truncated.jpg", "corrupt or truncated"),
        "empty file": (folder / "empty.jpg", "file is empty"),
        "bomb": (folder / "bomb.png", "decompression-bomb limit"),
    }


@pytest.mark.parametrize(
    "kind",
    ["missing", "empty folder", "not an image", "truncated", "empty file", "bomb"],
)
def test_broken_photo(cached_model, tmp_path, capsys, kind: str) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    path, fragment = broken_inputs(inputs)[kind]
    out = tmp_path / "out"
    assert run(path, "--out", out, *SMALL) == 2
    one_error_line(capsys, str(path), fragment)
    assert list(out.iterdir()) == []


def test_several_photos_one_bad(cached_model, tmp_path, capsys) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"")
    code = run(bad, DOG, "--out", tmp_path / "out", *SMALL)
    assert code == 1
    one_error_line(capsys, f"{bad}: file is empty")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["dog", "index.html"]
    assert (tmp_path / "out" / "dog" / "summary.json").is_file()


def test_unwritable_out(cached_model, tmp_path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    assert run(DOG, "--out", blocker / "gallery", *SMALL) == 2
    one_error_line(capsys, f"--out {blocker / 'gallery'}: cannot write there")


def test_unknown_layer_lists_close_names(cached_model, tmp_path, capsys) -> None:
    assert run(DOG, "--out", tmp_path, "--layers", "stages.3,haed") == 2
    one_error_line(capsys, "unknown layer 'haed' (close names: head")
    assert list(tmp_path.iterdir()) == []


def test_channels_beyond_a_layers_count(cached_model, tmp_path, capsys) -> None:
    assert run(DOG, "--out", tmp_path, *SMALL, "--channels", "0,100") == 2
    one_error_line(capsys, f"{DOG}: --channels 100 is beyond layer stem's 32 channels")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda(tmp_path, capsys) -> None:
    assert run(DOG, "--out", tmp_path, "--device", "cuda") == 2
    one_error_line(capsys, "--device cuda: CUDA is not available", "--device cpu")


def test_option_errors_are_one_line(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--channels", "many", str(DOG)])
    assert exit_info.value.code == 2
    one_error_line(capsys, "'many' is not K, 'all' or a comma list")


def test_odd_photo_kinds_end_to_end(cached_model, tmp_path, capsys) -> None:
    with Image.open(DOG) as image:
        dog = image.convert("RGB").resize((160, 120))
    photos = tmp_path / "photos"
    photos.mkdir()
    dog.convert("L").save(photos / "grey.jpg")
    rgba = dog.copy()
    rgba.putalpha(Image.new("L", dog.size, 128))
    rgba.save(photos / "rgba.png")
    deep = (np.asarray(dog.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
    Image.fromarray(deep).save(photos / "deep.png")
    assert Image.open(photos / "deep.png").mode.startswith("I;16")
    dog.save(photos / "Hund im Garten – Straße.jpg")

    out = tmp_path / "out"
    assert run(photos, "--out", out, "--size", "48", "--layers", "stem") == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["Hund im Garten – Straße", "deep", "grey", "index.html", "rgba"]
    stdout = capsys.readouterr().out
    assert "note: transparent pixels composited on white" in stdout
    assert "note: 16-bit PNG scaled by 65535 to 8-bit" in stdout
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="Hund%20im%20Garten%20%E2%80%93%20Stra%C3%9Fe/index.html"' in index


def test_list_layers_into_a_closed_pipe_is_quiet() -> None:
    shell = f"{sys.executable} -m vis --list-layers --device cpu | head -n 2"
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", shell],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.startswith("model: efficientnet_lite0")
    assert len(result.stdout.splitlines()) == 2
    assert result.stderr == "" and result.returncode == 0


def test_bad_weights_files_for_a_torchvision_model(tmp_path, capsys) -> None:
    text, wrong, listed = tmp_path / "t.pt", tmp_path / "k.pt", tmp_path / "l.pt"
    text.write_text("not weights")
    torch.save({"fc.weight": torch.zeros(1)}, wrong)
    torch.save([1, 2], listed)
    cases = [
        (text, "is not a PyTorch weights file (UnpicklingError)"),
        (wrong, "121 of its tensors missing"),
        (listed, "holds a list, not a state dict"),
    ]
    for path, fragment in cases:
        code = run(DOG, "--model", "resnet18", "--weights", path, "--out", tmp_path)
        assert code == 2
        one_error_line(capsys, str(path), fragment)


def test_out_keeps_what_is_not_a_gallery(cached_model, tmp_path, capsys) -> None:
    mine = tmp_path / "dog"
    mine.write_text("the user's own file, named like the photo")
    assert run(DOG, "--out", tmp_path, *SMALL) == 2
    one_error_line(capsys, "exists and is not an earlier gallery")
    assert mine.read_text() == "the user's own file, named like the photo"


@pytest.mark.parametrize(
    "option, fragment",
    [(["--out", ""], "empty folder name"), (["--size", "5000"], "from 8 to 2048")],
)
def test_out_and_size_limits(tmp_path, capsys, option, fragment) -> None:
    with pytest.raises(SystemExit) as exit:
        run(DOG, *option)
    assert exit.value.code == 2
    one_error_line(capsys, fragment)


def test_classes_only_for_tinyvgg(tmp_path, capsys) -> None:
    names = tmp_path / "names.txt"
    names.write_text("a\nb\n")
    assert run(DOG, "--classes", names, "--out", tmp_path) == 2
    one_error_line(capsys, "--classes is for tinyvgg")
