"""Settings of one `python -m regression` run, in one typed dataclass.

The defaults are the tutorial's Keras recipe (Adam, lr 1e-3, minibatches of 32, 1000
epochs); the CLI fills the dataclass in and `validate()` rejects what cannot run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["MODEL_NAMES", "Settings"]

MODEL_NAMES = ("linear", "mlp")


@dataclass
class Settings:
    """Everything that decides what a run trains and writes."""

    # which networks to train: "linear" (13 -> 1) and/or "mlp" (13 -> 10 ReLU -> 1)
    models: tuple[str, ...] = MODEL_NAMES
    # number of independently seeded copies of each model, trained as one batch
    seeds: int = 20
    # first seed; copy k uses seed + k for its initial weights and minibatch order
    seed: int = 0
    # passes over the 404 training rows (the tutorial trains for 1000)
    epochs: int = 1000
    # Adam step size; betas 0.9/0.999 and eps 1e-7 are fixed to the Keras defaults
    lr: float = 1e-3
    # rows per minibatch; the last minibatch of an epoch holds the remainder
    batch_size: int = 32
    # the CSV to read; None means the Boston table bundled in regression/data/
    data: Path | None = None
    # feature names to remove before training, e.g. ("B",)
    drop: tuple[str, ...] = ()
    # scale features to zero mean, unit variance with train-set statistics
    standardize: bool = False
    # language of feature descriptions and figure labels: "en" or "zh"
    lang: str = "en"
    # gallery folder (figures, index.html, metrics.csv, summary.json); replaced whole
    out: Path = Path("gallery/regression")
    # folder for the learned weights (.pt state dict and .csv per model)
    weights_dir: Path = Path("weights")
    # torch device for training: "cpu" or "cuda"
    device: str = "cpu"
    # no progress bar on stderr
    quiet: bool = False

    @property
    def seed_list(self) -> list[int]:
        """The seeds of the copies, `seed` to `seed + seeds - 1`."""
        return list(range(self.seed, self.seed + self.seeds))

    def validate(self) -> None:
        """Raise ValueError for settings that cannot train, naming the flag."""
        unknown = [name for name in self.models if name not in MODEL_NAMES]
        if unknown or not self.models:
            raise ValueError(
                f"unknown model(s) {unknown}; choose from {', '.join(MODEL_NAMES)}"
            )
        if self.seeds < 1:
            raise ValueError(
                f"--seeds must be at least 1, got {self.seeds}; "
                "pass the number of seeded copies to train, e.g. --seeds 20"
            )
        if self.epochs < 1:
            raise ValueError(
                f"--epochs must be at least 1, got {self.epochs}; "
                "the tutorial trains for 1000"
            )
        if not self.lr > 0:
            raise ValueError(
                f"--lr must be a positive number, got {self.lr}; "
                "the tutorial uses 0.001"
            )
        if self.batch_size < 1:
            raise ValueError(
                f"--batch-size must be at least 1, got {self.batch_size}; "
                "the tutorial uses 32"
            )
        if self.lang not in ("en", "zh"):
            raise ValueError(f"--lang must be en or zh, got {self.lang!r}")
        if self.device not in ("cpu", "cuda"):
            raise ValueError(f"--device must be cpu or cuda, got {self.device!r}")
