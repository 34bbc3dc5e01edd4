"""`python -m regression` end to end: outputs, byte-identical reruns, bad input.

(The file name carries the package name because tests/vis has a test_cli.py and the
test folders are not packages.)
"""

import hashlib
import json
import re

import pytest

from regression import cli, gallery, labels
from regression import run as pipeline
from regression.data import bundled_csv

FAST = ["--epochs", "3", "--seeds", "2", "--quiet"]
FIGURES = [
    "linear_weights.png",
    "loss_curves.png",
    "mlp_first_layer.png",
    "prediction_scatter.png",
    "test_mse_across_seeds.png",
    "truth_vs_prediction_linear.png",
    "truth_vs_prediction_mlp.png",
]


def _hashes(folder):
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()
    }


def _run(tmp_path, *args, out="gallery"):
    argv = [*args, "--out", str(tmp_path / out), "--weights-dir", str(tmp_path / "w")]
    return cli.main(argv)


@pytest.fixture(scope="module")
def compare_run(tmp_path_factory):
    """One small `compare` run, then a rerun into the same --out."""
    tmp_path = tmp_path_factory.mktemp("compare")
    assert _run(tmp_path, "compare", *FAST) == 0
    first = _hashes(tmp_path / "gallery")
    weights = _hashes(tmp_path / "w")
    (tmp_path / "gallery" / "stale.png").write_bytes(b"a figure an earlier run drew")
    assert _run(tmp_path, "compare", *FAST) == 0
    return tmp_path, first, weights


def test_compare_writes_every_figure_and_table(compare_run):
    tmp_path, first, _ = compare_run
    assert sorted(first) == sorted(
        [*FIGURES, "index.html", "metrics.csv", "summary.json"]
    )
    html = (tmp_path / "gallery" / "index.html").read_text()
    for name in FIGURES:
        assert f'src="{name}"' in html
    assert html.count("<figcaption>") == len(FIGURES)
    assert "Feature B encodes race" in html


def test_summary_json_has_the_issues_fields(compare_run):
    tmp_path, _, _ = compare_run
    summary = json.loads((tmp_path / "gallery" / "summary.json").read_text())
    assert summary["split"] == {"train": 404, "test": 102}
    assert summary["models"]["linear"]["params"] == 13
    assert summary["models"]["mlp"]["params"] == 140
    mse = summary["models"]["mlp"]["test_mse"]
    assert len(mse["per_seed"]) == 2
    assert mse["min"] <= mse["mean"] <= mse["max"]
    assert summary["least_squares"]["test_mse"] == pytest.approx(23.83, abs=0.005)
    assert summary["least_squares_intercept"]["test_mse"] == pytest.approx(
        23.20, abs=0.005
    )
    assert summary["article"] == {"linear": 31.94, "mlp": 27.40}

    metrics = (tmp_path / "gallery" / "metrics.csv").read_text().splitlines()
    assert metrics[0] == "model,seed,params,train_mse,test_mse"
    assert len(metrics) == 1 + 2 * 2 + 2


def test_rerun_is_byte_identical_and_replaces_the_old_gallery(compare_run):
    tmp_path, first, weights = compare_run
    assert _hashes(tmp_path / "gallery") == first  # stale.png is gone too
    assert _hashes(tmp_path / "w") == weights
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_weights_are_saved_per_model_and_readable(compare_run):
    tmp_path, _, weights = compare_run
    assert sorted(weights) == [
        "boston_linear.csv", "boston_linear.pt", "boston_mlp.csv", "boston_mlp.pt",
    ]  # fmt: skip
    linear = (tmp_path / "w" / "boston_linear.csv").read_text().splitlines()
    assert linear[0] == "feature,weight,description" and len(linear) == 14
    mlp = (tmp_path / "w" / "boston_mlp.csv").read_text().splitlines()
    assert mlp[0].startswith("kernel,row,h0,") and mlp[-1].startswith("W1,output,")

    import torch

    state = torch.load(tmp_path / "w" / "boston_mlp.pt")
    assert state["hidden.weight"].shape == (10, 13)
    assert state["output.weight"].shape == (1, 10)


def test_stdout_starts_with_settings_and_ends_with_the_gallery(tmp_path, capsys):
    assert _run(tmp_path, "linear", *FAST, "--drop", "B", "--standardize") == 0
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert lines[0].startswith("regression linear: models=linear seeds=2 (0..1)")
    assert "features=standardized drop=B" in lines[0]
    assert "warning: --standardize centres the features" in captured.err
    assert lines[-1] == f"gallery: {tmp_path / 'gallery' / 'index.html'}"
    assert any(
        line.startswith("least squares test MSE, no intercept:") for line in lines
    )
    summary = json.loads((tmp_path / "gallery" / "summary.json").read_text())
    assert list(summary["models"]) == ["linear"] and "B" not in summary["features"]
    assert not (tmp_path / "gallery" / "mlp_first_layer.png").exists()
    assert "encodes race" not in (tmp_path / "gallery" / "index.html").read_text()


def test_help_states_the_b_caveat_and_known_limitations(capsys):
    text = cli.build_parser().format_help()
    assert "feature B encodes race" in text and "--drop B removes it" in text
    assert "known limitations" in text

    assert cli.main(["compare", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ["--seeds", "--epochs", "--lr", "--drop", "--standardize", "--lang"]:
        assert option in out
    assert "feature B encodes race" in out and "(default: 1000)" in out


def _bad_csv(tmp_path, column, line, text):
    """The bundled CSV with one cell replaced; lines count from 1, the header is 1."""
    lines = bundled_csv().read_text().splitlines()
    header = [name.strip('"') for name in lines[0].split(",")]
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = text
    lines[line - 1] = ",".join(cells)
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


BAD_INPUTS = [
    (["--drop", "B,XYZ"], r"--drop: unknown feature\(s\) 'XYZ'; choose from CRIM"),
    (["--seeds", "0"], "--seeds must be at least 1, got 0"),
    (["--epochs", "0"], "--epochs must be at least 1, got 0"),
    (["--lr", "-0.01"], "--lr must be a positive number, got -0.01"),
    (["--seeds", "two"], "argument --seeds: invalid int value: 'two'"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUTS)
def test_bad_option_is_one_line_status_2_and_nothing_written(
    tmp_path, capsys, args, message
):
    assert _run(tmp_path, "compare", *args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert re.search(message, err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("column", "line", "text", "message"),
    [
        ("MEDV", 1, "PRICE", r"missing column\(s\) MEDV; the header must name all of"),
        ("B", 4, "abc", r"non-numeric value 'abc' in column B, line 4;"),
        ("B", 3, "nan", r"\(NaN\) in column B, line 3"),
        ("TAX", 7, "", r"\(NaN\) in column TAX, line 7"),
    ],
)
def test_bad_data_csv_is_one_line_status_2(
    tmp_path, capsys, column, line, text, message
):
    csv_path = _bad_csv(tmp_path, column, line, text)
    assert _run(tmp_path, "mlp", *FAST, "--data", csv_path) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --data {csv_path}: ") and err.count("\n") == 1
    assert re.search(message, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "gallery").write_text("not a folder")
    assert _run(tmp_path, "linear", *FAST) == 2
    err = capsys.readouterr().err
    assert err == f"error: --out {tmp_path / 'gallery'} is a file, not a folder; " + (
        "pass a folder path (it is created, or replaced if it holds an earlier run)\n"
    )
    assert (tmp_path / "gallery").read_text() == "not a folder"


def test_weights_dir_inside_a_file_is_refused_before_training(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    file, weights_dir = tmp_path / "file", tmp_path / "file" / "w"
    argv = ["linear", "--out", str(tmp_path / "g"), "--weights-dir", str(weights_dir)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert (
        err == f"error: --weights-dir {weights_dir}: {file} is a file, not a folder\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_unwritable_weights_dir_keeps_the_previous_gallery(
    tmp_path, capsys, monkeypatch
):
    def refuse(path, data):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(gallery, "_atomic_write", refuse)
    assert _run(tmp_path, "linear", "--epochs", "1", "--seeds", "1", "--quiet") == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: --weights-dir {tmp_path / 'w'}: cannot write (Permission denied); "
        "choose a folder you can write to\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w"]  # created, empty
    assert list((tmp_path / "w").iterdir()) == []


def test_out_in_an_unwritable_place_is_refused(tmp_path, capsys, monkeypatch):
    # root can write anywhere, so make the temporary folder fail the way chmod would
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(gallery.tempfile, "mkdtemp", refuse)
    assert _run(tmp_path, "linear", *FAST) == 2
    err = capsys.readouterr().err
    assert "cannot write in" in err and "Permission denied" in err
    assert list(tmp_path.iterdir()) == []


def test_failure_while_writing_keeps_the_previous_gallery(
    tmp_path, capsys, monkeypatch
):
    (tmp_path / "gallery").mkdir()
    (tmp_path / "gallery" / "summary.json").write_text('{"previous": "run"}')

    def fail(folder, *args):
        (folder / "half.png").write_bytes(b"half")
        raise ValueError("disk full (simulated)")

    monkeypatch.setattr(pipeline, "write_gallery", fail)
    assert _run(tmp_path, "linear", "--epochs", "1", "--seeds", "1", "--quiet") == 2
    assert "disk full" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "gallery").iterdir()] == ["summary.json"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_chinese_without_a_cjk_font_names_the_package(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(labels, "find_cjk_font", lambda: None)
    assert _run(tmp_path, "mlp", *FAST, "--lang", "zh") == 2
    err = capsys.readouterr().err
    assert "fonts-noto-cjk" in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(
    labels.find_cjk_font() is None,
    reason="no CJK font installed (Debian: apt-get install fonts-noto-cjk)",
)
def test_chinese_gallery_has_chinese_captions(tmp_path):
    assert (
        _run(
            tmp_path,
            "linear",
            "--epochs",
            "2",
            "--seeds",
            "1",
            "--quiet",
            "--lang",
            "zh",
        )
        == 0
    )
    html = (tmp_path / "gallery" / "index.html").read_text()
    assert "线性网络" in html and "每套住宅的平均房间数" in html
    weights_csv = (tmp_path / "w" / "boston_linear.csv").read_text()
    assert "每套住宅的平均房间数" in weights_csv


def test_out_holding_other_files_is_left_alone(tmp_path, capsys):
    mine = tmp_path / "gallery" / "thesis.txt"
    mine.parent.mkdir()
    mine.write_text("the user's own work")
    assert _run(tmp_path, "compare", *FAST) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not an earlier regression gallery" in err
    assert "thesis.txt" in err
    assert mine.read_text() == "the user's own work"


def test_out_must_not_be_the_current_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["compare", *FAST, "--out", "", "--weights-dir", str(tmp_path / "w")]
    assert cli.main(argv) == 2
    assert "is the current folder or one above it" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_diverging_training_is_an_error_not_a_figure(tmp_path, capsys):
    assert _run(tmp_path, "linear", *FAST, "--lr", "1e30") == 2
    err = capsys.readouterr().err
    assert "linear training diverged" in err and "lower --lr" in err
    assert not (tmp_path / "gallery").exists()
