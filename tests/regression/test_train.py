"""The batched trainer against the plain per-seed PyTorch loop, its oracle."""

import math

import numpy as np
import pytest
import torch

from regression.adam import BETAS, EPS, FlatAdam, _fused_adam_works
from regression.data import load_split
from regression.models import kernels
from regression.train import glorot_uniform, train_batched, train_plain


@pytest.fixture(scope="module")
def split():
    return load_split()


@pytest.fixture
def one_thread():
    """Run the plain loop on one thread: with two, each tiny op waits at a barrier,
    and a busy second core (a parallel test run) makes that take milliseconds."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _train(split, name, seeds, epochs, **kwargs):
    return train_batched(
        name, split.X_train, split.y_train, split.X_test, split.y_test, seeds, epochs,
        **kwargs,
    )  # fmt: skip


@pytest.mark.parametrize("name", ["linear", "mlp"])
def test_batched_seeds_equal_the_plain_loop_per_seed(split, name, one_thread):
    # same Glorot kernels and minibatch order; only float32 summation order differs
    seeds = [0, 7, 42]
    result = _train(split, name, seeds, epochs=3)
    for k, seed in enumerate(seeds):
        plain = train_plain(name, split.X_train, split.y_train, seed, epochs=3)
        for got, expected in zip(kernels(result.model(k)), kernels(plain), strict=True):
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_batched_matches_plain_loop_with_other_recipe_settings(split, one_thread):
    kwargs = {"lr": 0.01, "batch_size": 50}
    result = _train(split, "mlp", [3], epochs=2, **kwargs)
    plain = train_plain("mlp", split.X_train, split.y_train, 3, epochs=2, **kwargs)
    for got, expected in zip(kernels(result.model(0)), kernels(plain), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_a_seeds_result_does_not_depend_on_its_batch_mates(split):
    alone = _train(split, "mlp", [5], epochs=2)
    together = _train(split, "mlp", [1, 5, 9], epochs=2)
    for W_alone, W_together in zip(alone.kernels, together.kernels, strict=True):
        torch.testing.assert_close(W_alone[0], W_together[1])


def test_losses_agree_with_predictions_computed_by_numpy(split):
    result = _train(split, "mlp", [0, 1], epochs=4)
    for X, y, mse in [
        (split.X_test, split.y_test, result.test_mse),
        (split.X_train, split.y_train, result.train_mse),
    ]:
        W0, W1 = (W.double().numpy() for W in result.kernels)
        y_pred = np.stack([np.maximum(X @ W0[k], 0) @ W1[k][:, 0] for k in range(2)])
        np.testing.assert_allclose(mse, ((y_pred - y) ** 2).mean(1), rtol=1e-4)
    assert result.train_loss.shape == result.test_loss.shape == (2, 4)


def test_training_loss_goes_down(split):
    result = _train(split, "linear", [0, 1, 2], epochs=20)
    assert np.all(result.train_loss[:, -1] < result.train_loss[:, 0] / 5)
    assert np.all(result.test_loss[:, -1] < result.test_loss[:, 0] / 5)


def test_glorot_uniform_stays_within_its_limit():
    W = glorot_uniform(13, 10, torch.Generator().manual_seed(0))
    limit = math.sqrt(6 / 23)
    assert W.shape == (13, 10)
    assert W.abs().max() <= limit and W.abs().max() > 0.9 * limit
    assert abs(float(W.mean())) < 0.1


def test_training_restores_the_torch_thread_count(split):
    before = torch.get_num_threads()
    _train(split, "linear", [0], epochs=1)
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("fused", [False, True])
def test_flat_adam_matches_torch_optim_adam(fused):
    if fused and not _fused_adam_works():
        pytest.skip("this torch has no fused Adam kernel for CPU tensors")
    generator = torch.Generator().manual_seed(0)
    start = torch.randn(140, generator=generator)
    adam = FlatAdam(start.clone(), lr=1e-3)
    adam.fused = fused

    param = start.clone().requires_grad_()
    reference = torch.optim.Adam([param], lr=1e-3, betas=BETAS, eps=EPS)
    for step in range(50):
        # gradients over six orders of magnitude, as raw Boston features give
        grad = torch.randn(140, generator=generator) * 10.0 ** (step % 6 - 3)
        adam.step(grad)
        param.grad = grad.clone()
        reference.step()
    torch.testing.assert_close(adam.params, param.detach(), rtol=1e-6, atol=1e-7)
