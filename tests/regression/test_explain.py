"""The formula table, the Keras-style summary and the forward pass by hand."""

import numpy as np
import pytest
import torch

from regression.data import FEATURE_NAMES, load_split
from regression.explain import (
    comparison,
    format_walk,
    formula_table,
    forward_walk,
    keras_summary,
    per_seed_table,
)
from regression.models import least_squares
from regression.train import train_batched


@pytest.fixture(scope="module")
def split():
    return load_split()


@pytest.fixture(scope="module")
def results(split):
    return {
        name: train_batched(
            name, split.X_train, split.y_train, split.X_test, split.y_test, [0, 1], 3
        )
        for name in ["linear", "mlp"]
    }


def test_hand_walk_equals_the_model_output(split, results):
    model = results["mlp"].model(1)
    walk = forward_walk(model, split.X_train[0], split.y_train[0])
    with torch.no_grad():
        expected = float(model(torch.tensor(split.X_train[:1], dtype=torch.float32)))
    assert walk.y_hand == pytest.approx(expected, rel=1e-5)
    assert walk.y_model == expected
    assert walk.label == 15.2
    np.testing.assert_allclose(walk.x, split.X_train[0])

    # relu(W0.T x0) recomputed from the batched kernels themselves
    W0 = results["mlp"].kernels[0][1].double().numpy()
    np.testing.assert_allclose(
        walk.activations[0], np.maximum(W0.T @ walk.x, 0), rtol=1e-6
    )


def test_walk_text_shows_each_step_and_the_label(split, results):
    walk = forward_walk(results["mlp"].model(0), split.X_train[0], split.y_train[0])
    text = format_walk(walk, split.feature_names)
    for piece in [
        "x0",
        "W0 (13 x 10)",
        "relu(W0.T @ x0)",
        "W1 (10 x 1)",
        "label MEDV: 15.2",
    ]:
        assert piece in text
    assert f"output by hand (numpy): {walk.y_hand:.4f}" in text


@pytest.mark.parametrize(("name", "total"), [("linear", 13), ("mlp", 140)])
def test_keras_summary_counts_parameters(results, name, total):
    text = keras_summary(results[name].model(0), name, 13)
    assert f"Total params: {total}" in text
    if name == "mlp":
        assert "(None, 10)" in text and "130" in text


def test_formula_table_sorts_by_size_and_checks_signs(split, results):
    coef = results["linear"].kernels[0][0, :, 0].double().numpy()
    lstsq = least_squares(
        split.X_train, split.y_train, split.X_test, split.y_test, False
    )
    text = formula_table(coef, lstsq.coef, split.feature_names, split.X_train)

    sorted_part = text.split("sorted by |weight|:")[1].split("in column order:")[0]
    rows = [line.split()[0] for line in sorted_part.strip().splitlines()[1:]]
    assert rows == [
        split.feature_names[i] for i in np.argsort(-np.abs(coef), kind="stable")
    ]
    agree = int((np.sign(coef) == np.sign(lstsq.coef)).sum())
    assert f"signs agreeing with least squares: {agree} of 13" in text
    assert "encodes race" in text


def test_formula_table_in_chinese_uses_chinese_descriptions(split):
    coef = np.ones(13)
    text = formula_table(coef, coef, list(FEATURE_NAMES), split.X_train, lang="zh")
    assert "每套住宅的平均房间数" in text
    assert "signs agreeing with least squares: 13 of 13" in text


def test_comparison_reports_mean_std_and_the_baselines(split, results):
    lstsq = least_squares(
        split.X_train, split.y_train, split.X_test, split.y_test, False
    )
    lstsq_i = least_squares(
        split.X_train, split.y_train, split.X_test, split.y_test, True
    )
    text = comparison(results, lstsq, lstsq_i)
    mse = results["mlp"].test_mse
    assert f"mlp test MSE: {mse.mean():.2f} ± {mse.std(ddof=1):.2f}" in text
    assert "tutorial 27.40" in text and "tutorial 31.94" in text
    assert "least squares test MSE, no intercept: 23.83" in text
    assert "least squares test MSE, with intercept: 23.20" in text
    assert len(per_seed_table(results).splitlines()) == 2 + 2
