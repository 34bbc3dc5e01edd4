"""The tutorial's two networks in PyTorch, and the closed-form least-squares baseline.

`linear` is one Dense unit without bias (13 parameters); `mlp` is Dense(10, relu) then
Dense(1), both without bias (140 parameters). Weights are kept Keras-style as kernels of
shape (in, out), so `W0.T @ x` reads as in the tutorial.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

__all__ = [
    "ARTICLE_MSE",
    "HIDDEN_UNITS",
    "LeastSquares",
    "MLP",
    "LinearNet",
    "build_model",
    "kernels",
    "layer_sizes",
    "least_squares",
    "load_kernels",
]

HIDDEN_UNITS = 10

# the tutorial's single Keras runs: test MSE after 1000 epochs, in $1000s squared
ARTICLE_MSE = {"linear": 31.94, "mlp": 27.40}


def layer_sizes(model_name: str, n_features: int) -> list[int]:
    """Widths from input to output: [13, 1] for linear, [13, 10, 1] for mlp."""
    if model_name == "linear":
        return [n_features, 1]
    if model_name == "mlp":
        return [n_features, HIDDEN_UNITS, 1]
    raise ValueError(f"unknown model {model_name!r}; choose linear or mlp")


class LinearNet(nn.Module):
    """One unit, no bias: y_pred = x . w."""

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.output = nn.Linear(n_features, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(x)  # (N, 1)


class MLP(nn.Module):
    """n_features -> 10 ReLU -> 1, no biases."""

    def __init__(self, n_features: int, hidden_units: int = HIDDEN_UNITS) -> None:
        super().__init__()
        self.hidden = nn.Linear(n_features, hidden_units, bias=False)
        self.relu = nn.ReLU()
        self.output = nn.Linear(hidden_units, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.relu(self.hidden(x))  # (N, 10)
        return self.output(h)  # (N, 1)


def build_model(model_name: str, n_features: int) -> nn.Module:
    """A fresh LinearNet or MLP for `n_features` inputs."""
    layer_sizes(model_name, n_features)  # raises for an unknown name
    return LinearNet(n_features) if model_name == "linear" else MLP(n_features)


def _linear_layers(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def kernels(model: nn.Module) -> list[np.ndarray]:
    """The weight matrices as Keras kernels, each (in, out) float64."""
    return [
        layer.weight.detach().cpu().double().numpy().T
        for layer in _linear_layers(model)
    ]


def load_kernels(model: nn.Module, kernel_list: list[torch.Tensor]) -> nn.Module:
    """Copy (in, out) kernels into the model's layers (stored there as (out, in))."""
    layers = _linear_layers(model)
    assert len(layers) == len(kernel_list)
    with torch.no_grad():
        for layer, kernel in zip(layers, kernel_list, strict=True):
            layer.weight.copy_(torch.as_tensor(kernel).T)
    return model


@dataclass(frozen=True)
class LeastSquares:
    """A closed-form least-squares fit and its errors on the split."""

    coef: np.ndarray  # (n_features,)
    intercept: float  # 0.0 for the fit without intercept
    train_mse: float  # $1000s squared
    test_mse: float


def least_squares(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    intercept: bool,
) -> LeastSquares:
    """The best linear fit on train: without intercept it is the linear network's
    optimum, the weights Adam would reach if it converged."""
    A = np.c_[X_train, np.ones(len(X_train))] if intercept else X_train
    solution, *_ = np.linalg.lstsq(A, y_train, rcond=None)
    coef, b = (solution[:-1], float(solution[-1])) if intercept else (solution, 0.0)
    return LeastSquares(
        coef,
        b,
        float(np.mean((X_train @ coef + b - y_train) ** 2)),
        float(np.mean((X_test @ coef + b - y_test) ** 2)),
    )
