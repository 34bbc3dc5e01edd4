"""Read what the networks learned: the linear weights as a formula, a Keras-style model
summary, and one sample walked through the layers by hand with numpy.

The summary mirrors Keras' `model.summary()` (layer, output shape, parameters) so the
parameter counts can be checked against the tutorial's (13 and 140).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .data import TARGET_NAME, describe
from .models import ARTICLE_MSE, LeastSquares, kernels
from .train import TrainResult

__all__ = [
    "ForwardWalk",
    "comparison",
    "per_seed_table",
    "format_walk",
    "formula_table",
    "forward_walk",
    "keras_summary",
]


def _signed(value: float, decimals: int = 4) -> str:
    return f"{value:+.{decimals}f}"


def formula_table(
    coef: np.ndarray,
    coef_lstsq: np.ndarray,
    feature_names: list[str],
    X_train: np.ndarray,
    standardized: bool = False,
    lang: str = "en",
) -> str:
    """The linear model as a decision formula and a weight table, twice.

    The table comes sorted by |weight| and then in column order. Each row has the
    least-squares weight (no intercept, the same model class), whether the signs agree,
    and weight x train std: the change in predicted price for a one-std step of the
    feature, which, unlike raw weights, can be compared across features.
    """
    std = X_train.std(axis=0)  # (n_features,)
    effect = coef * std
    agrees = np.sign(coef) == np.sign(coef_lstsq)

    # "-0.0950*CRIM + 0.0876*ZN - ...": the first sign hugs its number
    terms = [
        f"{'+' if w >= 0 else '-'} {abs(w):.4f}*{name}"
        for w, name in zip(coef, feature_names, strict=True)
    ]
    terms[0] = terms[0].removeprefix("+ ").replace("- ", "-")
    formula = f"{TARGET_NAME} ($1000s) ≈ {' '.join(terms)}"
    scale = "standardized" if standardized else "raw"
    lines = [
        textwrap.fill(formula, width=88, subsequent_indent=" " * 4),
        f"features: {scale}; a weight is $1000s per unit of its feature"
        + ("" if standardized else ", so compare features by the +1 std column"),
    ]

    header = (
        f"{'feature':<8} {'weight':>9} {'lstsq':>9} {'signs agree':>11} "
        f"{'+1 std':>8}  description"
    )
    rows = [
        f"{name:<8} {_signed(w):>9} {_signed(w_ls):>9} {'yes' if ok else 'NO':>11} "
        f"{_signed(e, 2):>8}  {describe(name, lang)}"
        for name, w, w_ls, ok, e in zip(
            feature_names, coef, coef_lstsq, agrees, effect, strict=True
        )
    ]
    by_size = [rows[i] for i in np.argsort(-np.abs(coef), kind="stable")]

    lines += ["", "sorted by |weight|:", header, *by_size]
    lines += ["", "in column order:", header, *rows]
    lines.append(
        f"signs agreeing with least squares: {int(agrees.sum())} of {len(coef)}"
    )
    return "\n".join(lines)


def keras_summary(model: nn.Module, name: str, n_features: int) -> str:
    """A table like Keras' `model.summary()`: layer, output shape, parameters."""
    rule = "_" * 64
    lines = [
        f'Model: "{name}"',
        rule,
        f" {'Layer (type)':<28}{'Output Shape':<20}{'Param #':>10}",
        "=" * 64,
    ]
    width = n_features
    for layer_name, layer in model.named_children():
        if isinstance(layer, nn.Linear):
            width = layer.out_features
        n_params = sum(p.numel() for p in layer.parameters())
        layer_type = f"{layer_name} ({type(layer).__name__})"
        lines.append(f" {layer_type:<28}{f'(None, {width})':<20}{n_params:>10,}")

    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    lines += [
        "=" * 64,
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
        rule,
    ]
    return "\n".join(lines)


@dataclass
class ForwardWalk:
    """One sample recomputed layer by layer with numpy from the extracted kernels."""

    x: np.ndarray  # (n_features,) the input row
    kernels: list[np.ndarray]  # (in, out) per layer
    activations: list[np.ndarray]  # what each layer outputs, ReLU applied if hidden
    y_hand: float  # the output computed here
    y_model: float  # the output of the PyTorch module for the same row
    label: float  # the true price


def forward_walk(model: nn.Module, x: np.ndarray, label: float) -> ForwardWalk:
    """Walk one input row through the network by hand: a = relu(W.T @ a) per layer."""
    Ws = kernels(model)
    a = np.asarray(x, dtype=np.float64)
    activations = []
    for i, W in enumerate(Ws):
        a = W.T @ a  # (out,)
        if i < len(Ws) - 1:
            a = np.maximum(a, 0.0)
        activations.append(a)

    with torch.no_grad():
        y_model = model(torch.as_tensor(x, dtype=torch.float32)[None])
    return ForwardWalk(
        np.asarray(x, dtype=np.float64),
        Ws,
        activations,
        float(a[0]),
        float(y_model[0, 0]),
        float(label),
    )


def _matrix(W: np.ndarray, row_names: list[str], col_prefix: str) -> list[str]:
    header = " " * 8 + "".join(f"{f'{col_prefix}{j}':>9}" for j in range(W.shape[1]))
    return [header] + [
        f"{name:<8}" + "".join(f"{v:>9.4f}" for v in row)
        for name, row in zip(row_names, W, strict=True)
    ]


def format_walk(walk: ForwardWalk, feature_names: list[str]) -> str:
    """The walk as text: x0, then each kernel and what it produces, then the label."""
    lines = ["x0 (train row 0, as the network sees it):"]
    lines += [
        f"  {name:<8} {v:>10.4f}" for name, v in zip(feature_names, walk.x, strict=True)
    ]

    inputs = feature_names
    for i, (W, a) in enumerate(zip(walk.kernels, walk.activations, strict=True)):
        is_hidden = i < len(walk.kernels) - 1
        lines += ["", f"W{i} ({W.shape[0]} x {W.shape[1]}), kernel of layer {i}:"]
        lines += ["  " + line for line in _matrix(W, inputs, "h" if is_hidden else "y")]
        previous = "x0" if i == 0 else "h"
        if is_hidden:
            lines.append(f"h = relu(W{i}.T @ {previous}), one value per hidden unit:")
            lines.append("  " + " " * 8 + "".join(f"{v:>9.4f}" for v in a))
            inputs = [f"h{j}" for j in range(W.shape[1])]
        else:
            lines.append(f"output = W{i}.T @ {previous}: {a[0]:.4f}")

    lines += [
        "",
        f"output by hand (numpy): {walk.y_hand:.4f} ($1000s)",
        f"output of the model (torch): {walk.y_model:.4f} ($1000s)",
        f"label {TARGET_NAME}: {walk.label:.1f} ($1000s)",
    ]
    return "\n".join(lines)


def comparison(
    results: dict[str, TrainResult], lstsq: LeastSquares, lstsq_intercept: LeastSquares
) -> str:
    """Test MSE per model over seeds beside the tutorial and least squares."""
    lines = []
    for name, result in results.items():
        mse = result.test_mse
        std = mse.std(ddof=1) if len(mse) > 1 else 0.0
        lines.append(
            f"{name} test MSE: {mse.mean():.2f} ± {std:.2f} ($1000s², mean ± std "
            f"over {len(mse)} seeds), min {mse.min():.2f}, max {mse.max():.2f}; "
            f"tutorial {ARTICLE_MSE[name]:.2f}"
        )
    lines.append(f"least squares test MSE, no intercept: {lstsq.test_mse:.2f}")
    lines.append(
        f"least squares test MSE, with intercept: {lstsq_intercept.test_mse:.2f}"
    )
    if "linear" in results:
        # on the train rows least squares is the linear network's exact optimum
        train = results["linear"].train_mse
        lines.append(
            f"linear train MSE: {train.mean():.2f} against {lstsq.train_mse:.2f} at "
            f"the least-squares optimum: Adam is {train.mean() - lstsq.train_mse:.2f} "
            "above it after the last epoch, not converged"
        )
    return "\n".join(lines)


def per_seed_table(results: dict[str, TrainResult]) -> str:
    """Test MSE of every seed, one row per seed, one column per model."""
    names = list(results)
    lines = ["test MSE per seed:", "seed  " + "".join(f"{n:>9}" for n in names)]
    seeds = next(iter(results.values())).seeds
    for k, seed in enumerate(seeds):
        values = "".join(f"{results[n].test_mse[k]:>9.2f}" for n in names)
        lines.append(f"{seed:<6}{values}")
    return "\n".join(lines)
