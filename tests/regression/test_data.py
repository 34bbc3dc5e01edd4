"""The bundled Boston table, the Keras split, --drop, --standardize and bad CSVs."""

import numpy as np
import pandas as pd
import pytest

from regression.data import (
    FEATURE_NAMES,
    bundled_csv,
    describe,
    keras_split,
    load_split,
    load_table,
)

TRAIN_ROW_0 = [
    1.23247,
    0,
    8.14,
    0,
    0.538,
    6.142,
    91.7,
    3.9769,
    4,
    307,
    21,
    396.9,
    18.72,
]


@pytest.fixture(scope="module")
def table():
    return load_table()


def test_bundled_table_has_506_rows_and_14_columns(table):
    assert table.shape == (506, 14)
    assert list(table.columns) == [*FEATURE_NAMES, "MEDV"]


def test_keras_split_reproduces_the_loaders_rows():
    split = load_split()
    assert split.X_train.shape == (404, 13) and split.X_test.shape == (102, 13)
    np.testing.assert_allclose(split.X_train[0], TRAIN_ROW_0)
    assert split.y_train[0] == 15.2
    np.testing.assert_allclose(split.y_test[:5], [7.2, 18.8, 19.0, 27.0, 22.2])


def test_keras_split_is_a_permutation_of_the_rows(table):
    X = table[list(FEATURE_NAMES)].to_numpy()
    y = table["MEDV"].to_numpy()
    X_train, y_train, X_test, y_test = keras_split(X, y)
    assert sorted(np.r_[y_train, y_test]) == sorted(y)
    assert len(np.unique(np.r_[X_train, X_test], axis=0)) == 506


def test_every_column_has_an_english_and_a_chinese_description():
    for name in [*FEATURE_NAMES, "MEDV"]:
        assert describe(name, "en").isascii()
        assert any("\u4e00" <= ch <= "\u9fff" for ch in describe(name, "zh"))
    assert "race" in describe("B", "en")
    assert describe("RM", "zh") == "每套住宅的平均房间数"


def test_drop_removes_features_case_insensitively():
    split = load_split(drop=["b", "LSTAT"])
    assert split.feature_names == [n for n in FEATURE_NAMES if n not in ("B", "LSTAT")]
    assert split.X_train.shape == (404, 11)
    np.testing.assert_allclose(split.X_train[0], TRAIN_ROW_0[:11])


def test_drop_unknown_feature_names_it_and_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"--drop: unknown feature\(s\) 'BOGUS'; "
                       "choose from CRIM, ZN"):  # fmt: skip
        load_split(drop=["B", "BOGUS"])


def test_drop_every_feature_is_refused():
    with pytest.raises(ValueError, match="removes every feature"):
        load_split(drop=list(FEATURE_NAMES))


def test_standardize_uses_train_statistics_only():
    raw, scaled = load_split(), load_split(standardize=True)
    mean, std = raw.X_train.mean(0), raw.X_train.std(0)
    np.testing.assert_allclose(scaled.X_train.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(scaled.X_train.std(0), 1)
    np.testing.assert_allclose(scaled.X_test, (raw.X_test - mean) / std)
    np.testing.assert_allclose(scaled.mean, mean)
    np.testing.assert_array_equal(scaled.y_test, raw.y_test)


def _set_cell(df, column, row, text):
    df.loc[row, column] = text
    return df


@pytest.fixture
def write_csv(tmp_path):
    """Write the bundled table, as `edit` returns it, to a CSV in tmp_path."""

    def write(edit):
        df = edit(pd.read_csv(bundled_csv(), dtype=str))
        path = tmp_path / "edited.csv"
        df.to_csv(path, index=False)
        return path

    return write


def test_csv_with_missing_columns_names_them(write_csv):
    path = write_csv(lambda df: df.drop(columns=["NOX", "MEDV"]))
    with pytest.raises(ValueError, match=r"missing column\(s\) NOX, MEDV; the header"):
        load_table(path)


def test_csv_with_a_non_numeric_cell_names_value_column_and_line(write_csv):
    path = write_csv(lambda df: _set_cell(df, "TAX", 3, "n/a"))
    with pytest.raises(
        ValueError, match=r"non-numeric value 'n/a' in column TAX, line 5;"
    ):
        load_table(path)


def test_csv_with_nan_names_column_and_line(write_csv):
    path = write_csv(lambda df: _set_cell(df, "RM", 9, "NaN"))
    with pytest.raises(ValueError, match=r"\(NaN\) in column RM, line 11"):
        load_table(path)


def test_csv_with_an_empty_cell_is_reported_as_missing(write_csv):
    path = write_csv(lambda df: _set_cell(df, "AGE", 0, ""))
    with pytest.raises(
        ValueError, match=r"missing or non-finite value \(NaN\) in column AGE, line 2"
    ):
        load_table(path)


def test_missing_csv_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_table(tmp_path / "absent.csv")


def test_csv_with_too_few_rows_is_refused(write_csv):
    path = write_csv(lambda df: df.head(5))
    with pytest.raises(ValueError, match="5 data rows, need at least 10"):
        load_table(path)
