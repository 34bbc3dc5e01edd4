"""Slide-ready figures of what the Boston networks predict and learn.

Every function returns a 16:9 matplotlib Figure drawn with the Agg backend; `save`
writes it at 200 dpi without a timestamp, so the same run gives byte-identical PNGs.
Labels come in English or Chinese (`lang="zh"` needs a CJK font, see labels.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .labels import FIGURE_TEXT, require_cjk_font  # noqa: E402
from .train import TrainResult  # noqa: E402

__all__ = [
    "DPI",
    "linear_weights",
    "loss_curves",
    "mlp_first_layer",
    "prediction_scatter",
    "save",
    "style",
    "test_mse_across_seeds",
    "truth_vs_prediction",
]

DPI = 200
FIGSIZE = (12.8, 7.2)  # inches; 2560 x 1440 pixels at 200 dpi
COLORS = {"linear": "tab:blue", "mlp": "tab:orange", "truth": "black"}


@contextlib.contextmanager
def style(lang: str = "en") -> Iterator[None]:
    """Large fonts for slides; a CJK font first for lang "zh"."""
    rc = {
        "font.size": 18,
        "axes.titlesize": 21,
        "axes.labelsize": 19,
        "xtick.labelsize": 16,
        "ytick.labelsize": 16,
        "legend.fontsize": 15,
        "lines.linewidth": 2.5,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
    }
    if lang == "zh":
        rc["font.family"] = [require_cjk_font(), "DejaVu Sans"]
        rc["axes.unicode_minus"] = False
    with plt.rc_context(rc):
        yield


def save(fig: Figure, path: Path) -> Path:
    """Write the figure as PNG at DPI with no timestamp, and close it."""
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return path


def truth_vs_prediction(
    y_test: np.ndarray, y_pred: np.ndarray, result: TrainResult, lang: str = "en"
) -> Figure:
    """The tutorial's figure: true price and prediction along the test rows.

    Args:
        y_pred: (S, n_test) predictions of every seed; the first is drawn as a line,
            the rest as a band.
    """
    t = FIGURE_TEXT[lang]
    rows = np.arange(len(y_test))
    color = COLORS[result.model_name]
    fig, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    if len(y_pred) > 1:
        band = t["band"].format(n=len(y_pred))
        low, high = y_pred.min(0), y_pred.max(0)
        ax.fill_between(rows, low, high, color=color, alpha=0.2, lw=0, label=band)
    ax.plot(rows, y_test, "o-", color=COLORS["truth"], ms=4, lw=1.5, label=t["truth"])
    ax.plot(
        rows, y_pred[0], color=color, label=t["prediction"].format(seed=result.seeds[0])
    )
    # headroom above the highest price keeps the legend off the curves
    top = 1.2 * max(y_test.max(), y_pred.max())
    ax.set(xlabel=t["test_row"], ylabel=t["price"], xlim=(-1, len(rows)), ylim=(0, top))
    ax.set_title(t["tvp_title"].format(model=t[result.model_name], n=len(rows)))
    ax.legend(loc="upper left", ncols=3)
    return fig


def prediction_scatter(
    y_test: np.ndarray, predictions: dict[str, np.ndarray], seed: int, lang: str = "en"
) -> Figure:
    """One square panel per model: prediction against truth with the y = x line."""
    t = FIGURE_TEXT[lang]
    fig, axes = plt.subplots(
        1, len(predictions), figsize=FIGSIZE, layout="constrained", squeeze=False
    )
    values = np.concatenate([y_test, *predictions.values()])
    lo, hi = np.floor(values.min() / 5) * 5 - 1, np.ceil(values.max() / 5) * 5 + 1
    for ax, (model_name, y_pred) in zip(axes[0], predictions.items(), strict=True):
        mse = float(np.mean((y_pred - y_test) ** 2))
        ax.plot([lo, hi], [lo, hi], "--", color="grey", lw=1.5, label="y = x")
        ax.scatter(y_test, y_pred, s=40, color=COLORS[model_name], alpha=0.8)
        ax.set(xlim=(lo, hi), ylim=(lo, hi), aspect="equal")
        ax.set(xlabel=t["true_price"], ylabel=t["predicted_price"])
        ax.set_title(f"{t[model_name]}\n{t['mse'].format(mse=mse)}", fontsize=18)
        ax.legend(loc="upper left")
    fig.suptitle(t["scatter_title"].format(n=len(y_test), seed=seed), fontsize=21)
    return fig


def linear_weights(
    result: TrainResult,
    feature_names: list[str],
    X_train: np.ndarray,
    coef_lstsq: np.ndarray,
    lang: str = "en",
) -> Figure:
    """Bars of the first seed's weights, dots for every seed, least squares marked.

    Left panel: raw weights. Right panel: weight x train std, comparable across
    features measured in different units.
    """
    t = FIGURE_TEXT[lang]
    coef_all = result.kernels[0][:, :, 0].double().numpy()  # (S, n_features)
    std = X_train.std(axis=0)
    rows = np.arange(len(feature_names))
    fig, axes = plt.subplots(1, 2, figsize=FIGSIZE, layout="constrained", sharey=True)
    for ax, scale, xlabel in zip(
        axes, [1.0, std], [t["raw_weight"], t["std_weight"]], strict=True
    ):
        ax.barh(
            rows,
            coef_all[0] * scale,
            color=COLORS["linear"],
            alpha=0.8,
            label=t["this_seed"].format(seed=result.seeds[0]),
        )
        if len(coef_all) > 1:
            spread = np.broadcast_to(rows, coef_all.shape)
            ax.scatter(
                (coef_all * scale).ravel(),
                spread.ravel(),
                s=12,
                color="dimgrey",
                alpha=0.6,
                zorder=3,
                label=t["all_seeds"].format(n=len(coef_all)),
            )
        ax.scatter(
            coef_lstsq * scale,
            rows,
            marker="D",
            s=70,
            color="black",
            zorder=4,
            label=t["lstsq"],
        )
        ax.axvline(0, color="black", lw=1)
        ax.set_xlabel(xlabel)
        ax.grid(axis="y", visible=False)
    axes[0].set_yticks(rows, feature_names)
    axes[0].invert_yaxis()
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3)
    fig.suptitle(t["weights_title"].format(seed=result.seeds[0]), fontsize=21)
    return fig


def mlp_first_layer(
    result: TrainResult, feature_names: list[str], lang: str = "en"
) -> Figure:
    """Heatmap of the first seed's first-layer kernel W0, features x hidden units."""
    t = FIGURE_TEXT[lang]
    W0 = result.kernels[0][0].double().numpy()  # (n_features, 10)
    vmax = float(np.abs(W0).max())
    fig, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    image = ax.imshow(W0, cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
    for (i, j), w in np.ndenumerate(W0):
        color = "white" if abs(w) > 0.6 * vmax else "black"
        ax.text(j, i, f"{w:.2f}", ha="center", va="center", fontsize=13, color=color)
    ax.set_xticks(range(W0.shape[1]), [f"h{j}" for j in range(W0.shape[1])])
    ax.set_yticks(range(len(feature_names)), feature_names)
    ax.set_xlabel(t["hidden_unit"])
    ax.grid(False)
    fig.colorbar(image, ax=ax, label=t["weight"], pad=0.01)
    ax.set_title(t["heatmap_title"].format(seed=result.seeds[0], vmax=vmax))
    return fig


def test_mse_across_seeds(
    results: list[TrainResult],
    lstsq_mse: float,
    lstsq_intercept_mse: float,
    article: dict[str, float],
    lang: str = "en",
) -> Figure:
    """Box and strip plot of test MSE per model, with least squares and the tutorial."""
    t = FIGURE_TEXT[lang]
    fig, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    positions = np.arange(len(results))
    ax.boxplot(
        [r.test_mse for r in results],
        positions=positions,
        widths=0.5,
        showfliers=False,
        medianprops={"color": "black"},
    )
    for x, result in zip(positions, results, strict=True):
        # spread the points evenly in seed order: deterministic, no random jitter
        offsets = np.linspace(-0.18, 0.18, len(result.test_mse))
        ax.scatter(
            x + offsets,
            result.test_mse,
            s=30,
            alpha=0.7,
            color=COLORS[result.model_name],
            zorder=3,
        )
        ax.scatter(
            x + 0.32,
            article[result.model_name],
            marker="*",
            s=400,
            color="crimson",
            zorder=4,
            label=t["tutorial"] if x == 0 else None,
        )
        ax.annotate(
            f"{article[result.model_name]:.2f}",
            (x + 0.38, article[result.model_name]),
            va="center",
            fontsize=15,
            color="crimson",
        )
    ax.axhline(
        lstsq_mse, color="black", ls="--", lw=2, label=f"{t['lstsq']}: {lstsq_mse:.2f}"
    )
    ax.axhline(
        lstsq_intercept_mse,
        color="grey",
        ls=":",
        lw=2,
        label=f"{t['lstsq_i']}: {lstsq_intercept_mse:.2f}",
    )
    ax.set_xticks(positions, [t[r.model_name] for r in results])
    ax.set_xlim(-0.6, len(results) - 0.2)
    ax.set_ylabel(t["test_mse"])
    ax.set_title(
        t["mse_title"].format(
            n=len(results[0].seeds), epochs=results[0].test_loss.shape[1]
        )
    )
    ax.legend(loc="upper right")
    return fig


def loss_curves(
    results: list[TrainResult], lstsq_mse: float, lang: str = "en"
) -> Figure:
    """Train (solid) and test (dashed) MSE per epoch, mean and min-max over seeds."""
    t = FIGURE_TEXT[lang]
    fig, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    for result in results:
        color = COLORS[result.model_name]
        epochs = np.arange(1, result.train_loss.shape[1] + 1)
        for loss, ls, split in [
            (result.train_loss, "-", t["train"]),
            (result.test_loss, "--", t["test"]),
        ]:
            ax.fill_between(
                epochs, loss.min(0), loss.max(0), color=color, alpha=0.15, lw=0
            )
            ax.plot(
                epochs,
                loss.mean(0),
                ls,
                color=color,
                label=f"{t[result.model_name]}, {split}",
            )
    label = t["lstsq_test"].format(mse=lstsq_mse)
    ax.axhline(lstsq_mse, color="black", ls=":", lw=2, label=label)
    ax.set_yscale("log")
    ax.set(xlabel=t["epoch"], ylabel=t["mse_log"])
    ax.set_title(t["loss_title"].format(n=len(results[0].seeds)))
    ax.legend(loc="upper right")
    return fig
