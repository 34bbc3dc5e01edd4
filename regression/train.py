"""Train many seeded copies of a network at once with the tutorial's Keras recipe.

All seeds live in one set of tensors: layer l's kernels are (S, in, out) and each
step is a few batched matrix products. The MSE gradients are written out by hand (the
networks are matmuls and one ReLU), and Adam runs on one flat tensor of them all;
Adam is elementwise, so that is exactly S independent Adams. `train_plain` is the
textbook loop (autograd, torch.optim.Adam, one seed) the batched trainer is tested
against and benchmarked with.
"""

from __future__ import annotations

import contextlib
import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from .adam import BETAS, EPS, FlatAdam
from .models import build_model, layer_sizes, load_kernels

__all__ = [
    "TrainResult",
    "forward",
    "glorot_uniform",
    "init_kernels",
    "train_batched",
    "train_plain",
]


def glorot_uniform(
    fan_in: int, fan_out: int, generator: torch.Generator
) -> torch.Tensor:
    """A (fan_in, fan_out) kernel from U(-a, a), a = sqrt(6 / (fan_in + fan_out))."""
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    u = torch.rand(fan_in, fan_out, generator=generator)  # U[0, 1)
    return (2 * u - 1) * limit


def init_kernels(sizes: list[int], generator: torch.Generator) -> list[torch.Tensor]:
    """Glorot-uniform kernels for consecutive widths, drawn in layer order."""
    return [
        glorot_uniform(a, b, generator)
        for a, b in zip(sizes[:-1], sizes[1:], strict=True)
    ]


def forward(kernels: list[torch.Tensor], X: torch.Tensor) -> torch.Tensor:
    """Outputs of every seed's network for the same rows X (n, F): (S, n)."""
    n_rows, n_features = X.shape
    W0 = kernels[0]  # (S, F, out)

    # every seed's first layer in one (n, F) x (F, S * out) product
    h = X @ W0.permute(1, 0, 2).reshape(n_features, -1)
    h = h.view(n_rows, len(W0), -1)  # (n, S, out)
    for W in kernels[1:]:
        h = torch.einsum("nsi,sio->nso", h.relu_(), W)  # (n, S, out)
    return h[..., 0].T  # (S, n)


@dataclass
class TrainResult:
    """Kernels and loss curves of S seeded copies of one model."""

    model_name: str
    seeds: list[int]
    kernels: list[torch.Tensor]  # per layer, (S, in, out) float32 on CPU
    # (S, epochs) mean minibatch MSE during each epoch, what Keras reports as `loss`
    train_loss: np.ndarray
    test_loss: np.ndarray  # (S, epochs) MSE on the test rows after each epoch
    train_mse: np.ndarray  # (S,) MSE on all train rows after the last epoch

    @property
    def test_mse(self) -> np.ndarray:
        """(S,) test MSE after the last epoch, in $1000s squared."""
        return self.test_loss[:, -1]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """(S, n) predictions of every copy for X (n, F)."""
        X = torch.as_tensor(X, dtype=torch.float32)
        with torch.no_grad():
            return forward(self.kernels, X).double().numpy()

    def model(self, index: int = 0) -> nn.Module:
        """Copy `index` as an ordinary LinearNet or MLP module."""
        model = build_model(self.model_name, self.kernels[0].shape[1])
        return load_kernels(model, [W[index] for W in self.kernels])


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Run the tiny training ops on one thread, then restore the thread count.

    Each op here takes microseconds; a second thread only adds a barrier, and when the
    other core is busy that barrier made training 30x slower on a 2-core machine.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _kernel_views(
    flat: torch.Tensor, n_seeds: int, sizes: list[int]
) -> list[torch.Tensor]:
    """Views of a flat (S * P,) tensor as per-layer (S, in, out) kernels.

    Layer-major, so each layer's kernels are one contiguous block: torch.bmm writing
    into a strided view was 3x slower.
    """
    views, start = [], 0
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        stop = start + n_seeds * fan_in * fan_out
        views.append(flat[start:stop].view(n_seeds, fan_in, fan_out))
        start = stop
    assert start == len(flat)
    return views


def _back(delta: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """delta @ W.T per seed: the gradient at a layer's input, (S, b, in).

    For a layer with one output unit this is an outer product; as a broadcast
    product it was 6x faster than torch.bmm, which loops over the seeds.
    """
    if W.shape[2] == 1:
        return delta * W.transpose(1, 2)
    return torch.bmm(delta, W.transpose(1, 2))


def _write_gradients(
    kernels: list[torch.Tensor],
    grad_kernels: list[torch.Tensor],
    xb: torch.Tensor,
    yb: torch.Tensor,
) -> torch.Tensor:
    """Write d(minibatch MSE)/d(kernel) of every seed into `grad_kernels`.

    Returns:
        the residuals y_pred - y, (S, b, 1).
    """
    # forward, keeping each layer's input for the backward pass
    inputs, h = [], xb  # (S, b, F)
    for i, W in enumerate(kernels):
        inputs.append(h)
        h = torch.bmm(h, W)  # (S, b, out)
        if i < len(kernels) - 1:
            h.relu_()

    # backward: loss = mean over the b rows of (y_pred - y)^2, per seed
    residual = h - yb  # (S, b, 1)
    delta = residual * (2.0 / yb.shape[1])
    for i in reversed(range(len(kernels))):
        torch.bmm(inputs[i].transpose(1, 2), delta, out=grad_kernels[i])
        if i > 0:
            # through the ReLU, whose slope sign(relu(z)) is 1 where z > 0, else 0;
            # a float mask: multiplying by a bool one was 8x slower
            delta = _back(delta, kernels[i]).mul_(inputs[i].sign())  # (S, b, in)
    return residual


def train_batched(
    model_name: str,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    seeds: list[int],
    epochs: int = 1000,
    lr: float = 1e-3,
    batch_size: int = 32,
    device: str = "cpu",
    progress: bool = False,
) -> TrainResult:
    """Train one copy of `model_name` per seed, all copies in one set of tensors.

    Copy k draws its Glorot kernels and then one permutation per epoch from
    `torch.Generator().manual_seed(seeds[k])`, the same draws as `train_plain`, so its
    result does not depend on which other seeds train beside it.
    """

    def tensor(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, dtype=torch.float32, device=device)

    X_train_t, X_test_t = tensor(X_train), tensor(X_test)  # (n, F)
    y_train_t, y_test_t = tensor(y_train), tensor(y_test)  # (n,)
    n_rows, n_features = X_train_t.shape
    sizes = layer_sizes(model_name, n_features)

    # one flat tensor holds every parameter of every seed; kernels are views into it
    generators = [torch.Generator().manual_seed(seed) for seed in seeds]
    per_seed = [init_kernels(sizes, g) for g in generators]  # S lists of kernels
    layers = [torch.stack(Ws).flatten() for Ws in zip(*per_seed, strict=True)]
    params = torch.cat(layers).to(device)  # (S * P,)
    grads = torch.zeros_like(params)
    n_seeds = len(seeds)
    kernels = _kernel_views(params, n_seeds, sizes)
    grad_kernels = _kernel_views(grads, n_seeds, sizes)
    adam = FlatAdam(params, lr)

    train_loss = torch.empty(epochs, n_seeds, device=device)
    test_loss = torch.empty(epochs, n_seeds, device=device)
    bar = tqdm(
        range(epochs),
        desc=f"{model_name} ({n_seeds} seeds)",
        unit="epoch",
        file=sys.stderr,
        disable=not progress,
    )
    with _one_thread():
        for epoch in bar:
            # each seed reshuffles the rows with its own generator (Keras' shuffle=True)
            order = torch.cat([torch.randperm(n_rows, generator=g) for g in generators])
            order = order.to(device)  # (S * n,)
            # index_select, not X[order]: advanced indexing was 5x slower, and 1-D y
            # 4x faster than a column
            X_epoch = X_train_t.index_select(0, order).view(n_seeds, n_rows, -1)
            y_epoch = y_train_t.index_select(0, order).view(n_seeds, n_rows, 1)

            residuals = []
            batches = zip(
                X_epoch.split(batch_size, 1), y_epoch.split(batch_size, 1), strict=True
            )
            for xb, yb in batches:
                residuals.append(_write_gradients(kernels, grad_kernels, xb, yb))
                adam.step(grads)

            # the epoch's mean minibatch loss, as Keras reports it
            train_loss[epoch] = torch.cat(residuals, 1).square().mean((1, 2))
            y_pred = forward(kernels, X_test_t)  # (S, n_test)
            test_loss[epoch] = (y_pred - y_test_t).square().mean(1)
        train_mse = (forward(kernels, X_train_t) - y_train_t).square().mean(1)

    def numpy(t: torch.Tensor) -> np.ndarray:
        return t.double().cpu().numpy()

    return TrainResult(
        model_name,
        list(seeds),
        [W.detach().cpu().clone() for W in kernels],
        numpy(train_loss.T),
        numpy(test_loss.T),
        numpy(train_mse),
    )


def train_plain(
    model_name: str,
    X_train: np.ndarray,
    y_train: np.ndarray,
    seed: int,
    epochs: int = 1000,
    lr: float = 1e-3,
    batch_size: int = 32,
) -> nn.Module:
    """The textbook loop for one seed: autograd, torch.optim.Adam, a step at a time.

    It draws the same initial kernels and minibatch order as copy `seed` of
    `train_batched`, so the two agree to float32 rounding.
    """
    X = torch.as_tensor(X_train, dtype=torch.float32)  # (n, F)
    y = torch.as_tensor(y_train, dtype=torch.float32)[:, None]  # (n, 1)
    generator = torch.Generator().manual_seed(seed)
    model = build_model(model_name, X.shape[1])
    load_kernels(model, init_kernels(layer_sizes(model_name, X.shape[1]), generator))

    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=BETAS, eps=EPS)
    loss_fn = nn.MSELoss()
    for _ in range(epochs):
        for rows in torch.randperm(len(X), generator=generator).split(batch_size):
            optimizer.zero_grad()
            loss = loss_fn(model(X[rows]), y[rows])
            loss.backward()
            optimizer.step()
    return model
