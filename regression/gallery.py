"""Write a run's outputs: the figure gallery with index.html, metrics.csv and
summary.json, and the learned weights as a state dict and a readable CSV.

The gallery is built in a temporary folder beside `--out` and moved into place at the
end, so a failed or interrupted run leaves the previous gallery, never half of one.
"""

from __future__ import annotations

import contextlib
import csv
import html
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from . import figures
from .data import Split, describe
from .labels import CAPTIONS, FIGURE_TEXT
from .models import ARTICLE_MSE, LeastSquares
from .settings import Settings
from .train import TrainResult

__all__ = [
    "check_folder",
    "save_weights",
    "staging",
    "summary",
    "write_gallery",
]


def check_folder(path: Path, flag: str) -> None:
    """Raise ValueError if `path` exists as a non-folder or its parent cannot be one."""
    if path.exists() and not path.is_dir():
        raise ValueError(
            f"{flag} {path} is a file, not a folder; pass a folder path "
            "(it is created, or replaced if it holds an earlier run)"
        )
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"{flag} {path}: {parent} is a file, not a folder")
            break


GALLERY_SUFFIXES = {".png", ".html", ".csv", ".json"}


def check_replaceable(out: Path) -> None:
    """Raise ValueError unless `out` is new, empty or an earlier gallery.

    A gallery replaces `out` whole, so a folder of the user's own files (or the
    current folder) must never be taken for one.
    """
    resolved = out.resolve()
    if resolved == Path.cwd() or resolved in Path.cwd().parents:
        raise ValueError(
            f"--out {str(out) or '(empty)'} is the current folder or one above it, "
            "which the gallery would replace; pass a subfolder such as "
            "gallery/regression"
        )
    if not out.is_dir():
        return
    entries = list(out.iterdir())
    foreign = [p.name for p in entries if p.suffix not in GALLERY_SUFFIXES]
    if entries and (foreign or not (out / "summary.json").is_file()):
        example = (foreign or [p.name for p in entries])[0]
        raise ValueError(
            f"--out {out} holds files that are not an earlier regression gallery "
            f"(such as {example}) and would be deleted; pass a new or empty folder"
        )


@contextlib.contextmanager
def staging(out: Path) -> Iterator[Path]:
    """A fresh temporary folder beside `out` that replaces `out` on success.

    On an exception the temporary folder is removed and `out` stays as it was.
    """
    check_folder(out, "--out")
    check_replaceable(out)
    parent = out.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    except OSError as e:
        raise ValueError(
            f"--out {out}: cannot write in {parent} ({e.strerror}); "
            "choose a folder you can write to"
        ) from e
    try:
        yield tmp
        tmp.chmod(0o755)  # mkdtemp makes it private; a gallery is for sharing
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=parent))
            out.rename(old / out.name)
        tmp.rename(out)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _stats(values: np.ndarray) -> dict:
    values = np.asarray(values, dtype=float)
    return {
        "per_seed": [round(float(v), 6) for v in values],
        "mean": round(float(values.mean()), 6),
        "std": round(float(values.std(ddof=1)) if len(values) > 1 else 0.0, 6),
        "min": round(float(values.min()), 6),
        "max": round(float(values.max()), 6),
    }


def summary(
    settings: Settings,
    split: Split,
    results: dict[str, TrainResult],
    lstsq: LeastSquares,
    lstsq_intercept: LeastSquares,
) -> dict:
    """Everything summary.json holds: split, per-model MSE stats, baselines."""
    return {
        "split": {"train": len(split.y_train), "test": len(split.y_test)},
        "features": split.feature_names,
        "standardized": settings.standardize,
        "recipe": {
            "epochs": settings.epochs,
            "lr": settings.lr,
            "batch_size": settings.batch_size,
            "optimizer": "Adam(betas=(0.9, 0.999), eps=1e-7)",
            "init": "glorot_uniform",
        },
        "models": {
            name: {
                "params": sum(W[0].numel() for W in result.kernels),
                "seeds": result.seeds,
                "test_mse": _stats(result.test_mse),
                "train_mse": _stats(result.train_mse),
            }
            for name, result in results.items()
        },
        "least_squares": {
            "test_mse": round(lstsq.test_mse, 6),
            "train_mse": round(lstsq.train_mse, 6),
        },
        "least_squares_intercept": {
            "test_mse": round(lstsq_intercept.test_mse, 6),
            "train_mse": round(lstsq_intercept.train_mse, 6),
        },
        "article": dict(ARTICLE_MSE),
    }


def _write_metrics(
    path: Path, results: dict[str, TrainResult], baselines: dict[str, LeastSquares]
) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["model", "seed", "params", "train_mse", "test_mse"])
        for name, result in results.items():
            params = sum(W[0].numel() for W in result.kernels)
            for k, seed in enumerate(result.seeds):
                train_mse, test_mse = result.train_mse[k], result.test_mse[k]
                writer.writerow(
                    [name, seed, params, f"{train_mse:.6f}", f"{test_mse:.6f}"]
                )
        for name, fit in baselines.items():
            params = len(fit.coef) + (name == "least_squares_intercept")
            writer.writerow(
                [name, "", params, f"{fit.train_mse:.6f}", f"{fit.test_mse:.6f}"]
            )


def _write_index(
    path: Path,
    title: str,
    notes: list[str],
    entries: list[tuple[str, str]],
    texts: list[tuple[str, str]],
) -> None:
    parts = [
        "<!doctype html>",
        '<html><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;}"
        "img{width:100%;}figure{margin:0 0 3em 0;}pre{font-size:13px;overflow-x:auto;}"
        "</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        *[f"<p>{html.escape(note)}</p>" for note in notes],
    ]
    for filename, caption in entries:
        parts.append(
            f'<figure><img src="{filename}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    for heading, text in texts:
        parts.append(f"<h2>{html.escape(heading)}</h2><pre>{html.escape(text)}</pre>")
    parts.append("</body></html>\n")
    path.write_text("\n".join(parts), encoding="utf-8")


def write_gallery(
    folder: Path,
    settings: Settings,
    split: Split,
    results: dict[str, TrainResult],
    lstsq: LeastSquares,
    lstsq_intercept: LeastSquares,
    texts: list[tuple[str, str]],
) -> list[Path]:
    """Write every figure, index.html, metrics.csv and summary.json into `folder`.

    Args:
        texts: (heading, preformatted text) shown below the figures in index.html.
    """
    lang = settings.lang
    captions = CAPTIONS[lang]
    seed = settings.seed
    entries: list[tuple[str, str]] = []

    def add(fig, stem: str, **fields) -> None:
        figures.save(fig, folder / f"{stem}.png")
        key = stem.removesuffix("_linear").removesuffix("_mlp")
        entries.append((f"{stem}.png", captions[key].format(seed=seed, **fields)))

    with figures.style(lang):
        predictions = {name: r.predict(split.X_test) for name, r in results.items()}
        for name, result in results.items():
            fig = figures.truth_vs_prediction(
                split.y_test, predictions[name], result, lang
            )
            add(fig, f"truth_vs_prediction_{name}", model=FIGURE_TEXT[lang][name])
        first = {name: y_pred[0] for name, y_pred in predictions.items()}
        add(
            figures.prediction_scatter(split.y_test, first, seed, lang),
            "prediction_scatter",
        )
        if "linear" in results:
            fig = figures.linear_weights(
                results["linear"], split.feature_names, split.X_train, lstsq.coef, lang
            )
            add(fig, "linear_weights")
        if "mlp" in results:
            add(
                figures.mlp_first_layer(results["mlp"], split.feature_names, lang),
                "mlp_first_layer",
            )
        runs = list(results.values())
        fig = figures.test_mse_across_seeds(
            runs, lstsq.test_mse, lstsq_intercept.test_mse, ARTICLE_MSE, lang
        )
        add(fig, "test_mse_across_seeds")
        add(figures.loss_curves(runs, lstsq.test_mse, lang), "loss_curves")

    baselines = {"least_squares": lstsq, "least_squares_intercept": lstsq_intercept}
    _write_metrics(folder / "metrics.csv", results, baselines)
    data = summary(settings, split, results, lstsq, lstsq_intercept)
    (folder / "summary.json").write_text(
        json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    title = "Boston housing: " + " and ".join(results) + f", {settings.seeds} seeds"
    notes = [CAPTIONS[lang]["caveat_b"]] if "B" in split.feature_names else []
    _write_index(folder / "index.html", title, notes, entries, texts)
    return sorted(folder.iterdir())


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def save_weights(
    weights_dir: Path, result: TrainResult, feature_names: list[str], lang: str = "en"
) -> list[Path]:
    """Save copy 0's weights as `boston_<model>.pt` (state dict) and `.csv`.

    The linear CSV lists feature, weight, description. The MLP CSV is W0 with one
    column per hidden unit, then a row `output` holding W1, each hidden unit's weight
    into the output.
    """
    # saved from memory: torch.save names the archive after the file it writes
    state = io.BytesIO()
    torch.save(result.model(0).state_dict(), state)

    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    kernels = [W[0].double().numpy() for W in result.kernels]
    if result.model_name == "linear":
        writer.writerow(["feature", "weight", "description"])
        for name, w in zip(feature_names, kernels[0][:, 0], strict=True):
            writer.writerow([name, f"{w:.6f}", describe(name, lang)])
    else:
        W0, W1 = kernels
        writer.writerow(["kernel", "row", *[f"h{j}" for j in range(W0.shape[1])]])
        for name, row in zip(feature_names, W0, strict=True):
            writer.writerow(["W0", name, *[f"{w:.6f}" for w in row]])
        writer.writerow(["W1", "output", *[f"{w:.6f}" for w in W1[:, 0]]])

    stem = weights_dir / f"boston_{result.model_name}"
    paths = [stem.with_suffix(".pt"), stem.with_suffix(".csv")]
    try:
        weights_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write(paths[0], state.getvalue())
        _atomic_write(paths[1], rows.getvalue().encode("utf-8"))
    except OSError as e:
        raise ValueError(
            f"--weights-dir {weights_dir}: cannot write ({e.strerror}); "
            "choose a folder you can write to"
        ) from e
    return paths
