"""Load and split the Boston housing table the way the Keras loader does.

The table ships in `regression/data/` (provenance and licence in its README); nothing is
downloaded. The split follows `keras.datasets.boston_housing.load_data`: shuffle the row
indices with `numpy.random.RandomState(113)`, first 80 % train, the rest test.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "FEATURE_NAMES",
    "TARGET_NAME",
    "Split",
    "bundled_csv",
    "describe",
    "keras_split",
    "load_split",
    "load_table",
]

FEATURE_NAMES = (
    "CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE",
    "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT",
)  # fmt: skip
TARGET_NAME = "MEDV"

# one line per column, as in the 1978 paper's variable list
_DESCRIPTIONS = {
    "en": {
        "CRIM": "per-capita crime rate by town",
        "ZN": "% of residential land zoned for lots over 25,000 sq ft",
        "INDUS": "% of non-retail business acres per town",
        "CHAS": "1 if the tract bounds the Charles River, else 0",
        "NOX": "nitric-oxide concentration (parts per 10 million)",
        "RM": "average number of rooms per dwelling",
        "AGE": "% of owner-occupied units built before 1940",
        "DIS": "weighted distance to five Boston employment centres",
        "RAD": "index of access to radial highways",
        "TAX": "property-tax rate per $10,000",
        "PTRATIO": "pupil-teacher ratio by town",
        "B": "1000 (Bk - 0.63)^2, Bk = share of Black residents: encodes race",
        "LSTAT": "% lower-status population",
        "MEDV": "median value of owner-occupied homes, $1000s",
    },
    "zh": {
        "CRIM": "城镇人均犯罪率",
        "ZN": "占地超过 25,000 平方英尺的住宅用地比例 (%)",
        "INDUS": "城镇非零售商业用地比例 (%)",
        "CHAS": "地块是否临查尔斯河（是为 1，否为 0）",
        "NOX": "一氧化氮浓度（千万分之一）",
        "RM": "每套住宅的平均房间数",
        "AGE": "1940 年前建成的自住房比例 (%)",
        "DIS": "到波士顿五个就业中心的加权距离",
        "RAD": "放射状公路可达性指数",
        "TAX": "每一万美元的房产税率",
        "PTRATIO": "城镇师生比",
        "B": "1000 (Bk - 0.63)^2，Bk 为黑人居民比例：编码了种族",
        "LSTAT": "低社会地位人口比例 (%)",
        "MEDV": "自住房价格中位数（千美元）",
    },
}

# rows below this leave too few for a train/test split
_MIN_ROWS = 10


def describe(name: str, lang: str = "en") -> str:
    """One-line description of a column, in English ("en") or Chinese ("zh")."""
    return _DESCRIPTIONS[lang][name]


def bundled_csv() -> Path:
    """Path of the Boston table that ships inside the package."""
    return Path(str(resources.files("regression") / "data" / "boston_house_prices.csv"))


@dataclass(frozen=True)
class Split:
    """Train and test arrays with the names of their feature columns."""

    X_train: np.ndarray  # (n_train, n_features) float64
    y_train: np.ndarray  # (n_train,) MEDV in $1000s
    X_test: np.ndarray  # (n_test, n_features)
    y_test: np.ndarray  # (n_test,)
    feature_names: list[str]
    # train-set mean and std per feature when standardised, else None
    mean: np.ndarray | None = None
    std: np.ndarray | None = None


def load_table(path: Path | None = None) -> pd.DataFrame:
    """Read the table and check it has every column, all numeric and finite.

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: a column is missing, or a cell is empty, NaN or not a number.
    """
    path = bundled_csv() if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"--data {path}: no such file; pass a CSV with a header row, "
            "or leave --data out to use the bundled Boston table"
        )
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else "unreadable"
        raise ValueError(f"--data {path}: not a readable CSV ({first_line})") from e

    required = [*FEATURE_NAMES, TARGET_NAME]
    missing = [name for name in required if name not in raw.columns]
    if missing:
        raise ValueError(
            f"--data {path}: missing column(s) {', '.join(missing)}; the header must "
            f"name all of {', '.join(required)}"
        )

    # line numbers count the header as line 1, as an editor shows them
    table = pd.DataFrame(index=raw.index)
    for name in required:
        cells = raw[name].str.strip()
        values = pd.to_numeric(cells, errors="coerce")
        bad = values.isna() & (cells != "") & (cells.str.lower() != "nan")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"--data {path}: non-numeric value {cells.iloc[row]!r} in column "
                f"{name}, line {row + 2}; every cell must be a number"
            )
        empty = ~np.isfinite(values.to_numpy(dtype=float))
        if empty.any():
            row = int(np.flatnonzero(empty)[0])
            raise ValueError(
                f"--data {path}: missing or non-finite value (NaN) in column {name}, "
                f"line {row + 2} ({int(empty.sum())} such cell(s) in that column); "
                "fill them in or remove those rows"
            )
        table[name] = values.astype(float)

    if len(table) < _MIN_ROWS:
        raise ValueError(
            f"--data {path}: {len(table)} data rows, need at least {_MIN_ROWS} "
            "for a train/test split"
        )
    return table


def keras_split(
    X: np.ndarray, y: np.ndarray, seed: int = 113, test_split: float = 0.2
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle rows with RandomState(seed); the first 80 % train, the rest test.

    Returns:
        X_train, y_train, X_test, y_test; 404 and 102 rows for the Boston table.
    """
    indices = np.arange(len(X))
    np.random.RandomState(seed).shuffle(indices)
    X, y = X[indices], y[indices]
    n_train = int(len(X) * (1 - test_split))
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def _check_drop(drop: tuple[str, ...] | list[str]) -> list[str]:
    """Map names given to --drop onto column names, case-insensitively."""
    by_lower = {name.lower(): name for name in FEATURE_NAMES}
    unknown = [name for name in drop if name.lower() not in by_lower]
    if unknown:
        raise ValueError(
            f"--drop: unknown feature(s) {', '.join(map(repr, unknown))}; "
            f"choose from {', '.join(FEATURE_NAMES)}"
        )
    dropped = [by_lower[name.lower()] for name in drop]
    if len(set(dropped)) == len(FEATURE_NAMES):
        raise ValueError("--drop removes every feature; keep at least one")
    return dropped


def load_split(
    path: Path | None = None,
    drop: tuple[str, ...] | list[str] = (),
    standardize: bool = False,
) -> Split:
    """Load the table, drop features, split as Keras does, optionally standardise.

    Standardisation uses the mean and standard deviation of the train rows only, so
    nothing about the test rows leaks into training.
    """
    dropped = _check_drop(drop)
    table = load_table(path)
    feature_names = [name for name in FEATURE_NAMES if name not in dropped]

    X = table[feature_names].to_numpy(dtype=float)  # (n_rows, n_features)
    y = table[TARGET_NAME].to_numpy(dtype=float)  # (n_rows,)
    X_train, y_train, X_test, y_test = keras_split(X, y)
    if not standardize:
        return Split(X_train, y_train, X_test, y_test, feature_names)

    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std[std == 0] = 1.0  # a constant column stays constant (zero) instead of NaN
    return Split(
        (X_train - mean) / std,
        y_train,
        (X_test - mean) / std,
        y_test,
        feature_names,
        mean,
        std,
    )
