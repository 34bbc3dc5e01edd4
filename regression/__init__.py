"""Reproduce a tutorial's Boston-housing networks in PyTorch and open them up.

`python -m regression compare` trains a linear network and a 13-10-1 ReLU network with
the tutorial's Keras recipe over many seeds at once, compares them with least squares,
prints the linear model as a formula and walks one sample through the MLP by hand.
"""

from .data import FEATURE_NAMES, Split, load_split
from .settings import Settings
from .train import TrainResult, train_batched, train_plain

__all__ = [
    "FEATURE_NAMES",
    "Settings",
    "Split",
    "TrainResult",
    "load_split",
    "train_batched",
    "train_plain",
]
