"""One run of `python -m regression`: train, report, write the gallery and weights.

The steps a command takes, in order: check everything a user can get wrong before
training; train each model over all seeds at once; print the comparison, the formula
and the forward walk; write the gallery to a temporary folder and move it into place.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch

from .data import Split, bundled_csv, load_split
from .explain import (
    comparison,
    format_walk,
    formula_table,
    forward_walk,
    keras_summary,
    per_seed_table,
)
from .gallery import check_folder, save_weights, staging, write_gallery
from .labels import require_cjk_font
from .models import LeastSquares, least_squares
from .settings import Settings
from .train import TrainResult, train_batched

__all__ = ["run"]


def _check(settings: Settings) -> None:
    """Raise ValueError for settings that would fail after training."""
    settings.validate()
    if settings.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA device is available; use --device cpu")
    if settings.lang == "zh":
        require_cjk_font()
    check_folder(settings.weights_dir, "--weights-dir")


def _announce(command: str, settings: Settings, split: Split) -> None:
    """The settings line, then one line per default or caveat that decides something."""
    s = settings
    print(
        f"regression {command}: models={','.join(s.models)} "
        f"seeds={s.seeds} ({s.seed}..{s.seed + s.seeds - 1}) epochs={s.epochs} "
        f"lr={s.lr:g} batch_size={s.batch_size} "
        f"features={'standardized' if s.standardize else 'raw'} "
        f"drop={','.join(s.drop) or 'none'} device={s.device} lang={s.lang}"
    )
    if s.data is None:
        print(f"no --data given: using the bundled Boston table {bundled_csv()}")
    if s.standardize and "linear" in s.models:
        print(
            "warning: --standardize centres the features and the linear network "
            "has no bias, so it cannot fit the mean price (test MSE ~500)",
            file=sys.stderr,
        )
    n_train, n_test = len(split.y_train), len(split.y_test)
    print(
        f"data: {n_train + n_test} rows -> {n_train} train / {n_test} test "
        f"(Keras split, RandomState(113)), {len(split.feature_names)} features"
    )


def _train(settings: Settings, split: Split) -> dict[str, TrainResult]:
    results = {}
    for name in settings.models:
        start = time.perf_counter()
        results[name] = train_batched(
            name, split.X_train, split.y_train, split.X_test, split.y_test,
            settings.seed_list, settings.epochs, settings.lr, settings.batch_size,
            settings.device, progress=not settings.quiet,
        )  # fmt: skip
        seconds = time.perf_counter() - start
        print(f"{name} training time: {seconds:.1f} s, {settings.seeds} seeds at once")
        diverged = int((~np.isfinite(results[name].test_mse)).sum())
        if diverged:
            raise ValueError(
                f"{name} training diverged: the loss became inf or NaN for {diverged} "
                f"of {settings.seeds} seeds at --lr {settings.lr:g}; lower --lr "
                "(the tutorial uses 0.001)"
            )
    return results


def _texts(
    settings: Settings,
    split: Split,
    results: dict[str, TrainResult],
    lstsq: LeastSquares,
    lstsq_intercept: LeastSquares,
) -> list[tuple[str, str]]:
    """(heading, text) blocks for stdout and index.html."""
    n_features = len(split.feature_names)
    texts = [
        ("comparison", comparison(results, lstsq, lstsq_intercept)),
        ("per seed", per_seed_table(results)),
    ]
    for name, result in results.items():
        model = result.model(0)
        texts.append((f"{name} summary", keras_summary(model, name, n_features)))
        if name == "linear":
            coef = result.kernels[0][0, :, 0].double().numpy()
            table = formula_table(
                coef, lstsq.coef, split.feature_names, split.X_train,
                settings.standardize, settings.lang,
            )  # fmt: skip
            texts.append(("linear network as a formula", table))
        if name == "mlp":
            walk = forward_walk(model, split.X_train[0], split.y_train[0])
            text = format_walk(walk, split.feature_names)
            texts.append(("train row 0 through the MLP by hand", text))
    return texts


def run(command: str, settings: Settings) -> int:
    """Train, print the results, write weights and gallery; return the exit status."""
    _check(settings)
    split = load_split(settings.data, settings.drop, settings.standardize)

    with staging(settings.out) as folder:
        _announce(command, settings, split)
        results = _train(settings, split)

        data = (split.X_train, split.y_train, split.X_test, split.y_test)
        lstsq = least_squares(*data, intercept=False)
        lstsq_intercept = least_squares(*data, intercept=True)
        texts = _texts(settings, split, results, lstsq, lstsq_intercept)
        print(
            f"formula, summaries, walk and weights below are of seed {settings.seed}, "
            f"the first of {settings.seeds} copies"
        )
        for heading, text in texts:
            print(f"\n== {heading}\n{text}")

        write_gallery(folder, settings, split, results, lstsq, lstsq_intercept, texts)
        print()
        for result in results.values():
            paths = save_weights(
                settings.weights_dir, result, split.feature_names, settings.lang
            )
            print(f"weights: {', '.join(str(p) for p in paths)}")
    print(f"gallery: {settings.out / 'index.html'}")
    return 0
