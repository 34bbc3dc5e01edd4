"""Parameter counts and the least-squares baseline, checked against sklearn.

(The file name carries the package name because tests/vis has a test_models.py and
the test folders are not packages.)
"""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LinearRegression

from regression.data import load_split
from regression.models import (
    build_model,
    kernels,
    layer_sizes,
    least_squares,
    load_kernels,
)


@pytest.fixture(scope="module")
def split():
    return load_split()


@pytest.mark.parametrize(("name", "expected"), [("linear", 13), ("mlp", 140)])
def test_parameter_counts_match_the_tutorials_summary(name, expected):
    model = build_model(name, 13)
    assert sum(p.numel() for p in model.parameters()) == expected
    assert all(not hasattr(m, "bias") or m.bias is None for m in model.modules())


def test_layer_sizes_and_unknown_model():
    assert layer_sizes("linear", 13) == [13, 1]
    assert layer_sizes("mlp", 11) == [11, 10, 1]
    with pytest.raises(ValueError, match="unknown model 'cnn'"):
        layer_sizes("cnn", 13)


def test_kernels_round_trip_as_keras_in_out_matrices():
    model = build_model("mlp", 13)
    W0, W1 = torch.arange(130.0).view(13, 10), torch.arange(10.0).view(10, 1)
    load_kernels(model, [W0, W1])
    assert torch.equal(model.hidden.weight, W0.T)
    got = kernels(model)
    np.testing.assert_array_equal(got[0], W0.numpy())
    np.testing.assert_array_equal(got[1], W1.numpy())


def test_least_squares_without_intercept_matches_lstsq(split):
    fit = least_squares(split.X_train, split.y_train, split.X_test, split.y_test, False)
    coef, *_ = np.linalg.lstsq(split.X_train, split.y_train, rcond=None)
    np.testing.assert_allclose(fit.coef, coef)
    assert fit.intercept == 0.0
    assert fit.test_mse == pytest.approx(23.83, abs=0.005)


def test_least_squares_with_intercept_matches_sklearn(split):
    fit = least_squares(split.X_train, split.y_train, split.X_test, split.y_test, True)
    sk = LinearRegression().fit(split.X_train, split.y_train)
    np.testing.assert_allclose(fit.coef, sk.coef_, rtol=1e-6)
    assert fit.intercept == pytest.approx(sk.intercept_)
    mse = np.mean((sk.predict(split.X_test) - split.y_test) ** 2)
    assert fit.test_mse == pytest.approx(mse)
    assert fit.test_mse == pytest.approx(23.20, abs=0.005)
    assert fit.train_mse == pytest.approx(
        np.mean((sk.predict(split.X_train) - split.y_train) ** 2)
    )
