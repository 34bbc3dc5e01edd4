"""How fast `regression`'s batched trainer is, against the plain PyTorch loop.

Measures in one run, on CPU, with the tutorial's recipe (1000 epochs, minibatches of
32, Adam lr 1e-3) on the bundled Boston split:
  (a) the plain loop: a Python step at a time, autograd, torch.optim.Adam, one seed,
      for each model (`regression.train.train_plain`);
  (b) the batched trainer with one seed of each model;
  (c) the batched trainer with 100 seeds of each model, as `compare --seeds 100` runs.
Prints seconds, the ratios against (a) and the targets of issue 2 (one seed <= 1.5 s;
100 seeds of both models <= 15 s). The plain loop runs with torch's default thread
count; the batched trainer runs on one thread (see train._one_thread).
Usage: python benchmarks/bench_regression.py [--epochs N] [--seeds N]
"""

import argparse
import os
import time

import torch

from regression.data import load_split
from regression.train import train_batched, train_plain


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=100)
    args = parser.parse_args()

    split = load_split()
    data = (split.X_train, split.y_train, split.X_test, split.y_test)
    print(
        f"bench_regression: epochs={args.epochs} seeds={args.seeds} "
        f"torch={torch.__version__} threads={torch.get_num_threads()} "
        f"cpus={os.cpu_count()} load_average={os.getloadavg()[0]:.2f}"
    )

    # warm-up: first calls pay for lazy imports and allocator growth
    train_plain("mlp", split.X_train, split.y_train, 0, epochs=1)
    train_batched("mlp", *data, [0, 1], epochs=1)

    plain, one, many = {}, {}, {}
    for name in ["linear", "mlp"]:
        plain[name] = _seconds(
            lambda n=name: train_plain(n, split.X_train, split.y_train, 0, args.epochs)
        )
        one[name] = _seconds(lambda n=name: train_batched(n, *data, [0], args.epochs))
        many[name] = _seconds(
            lambda n=name: train_batched(n, *data, list(range(args.seeds)), args.epochs)
        )

    for name in ["linear", "mlp"]:
        print(f"{name} plain loop, 1 seed: {plain[name]:.2f} s")
        print(
            f"{name} batched, 1 seed: {one[name]:.2f} s "
            f"({plain[name] / one[name]:.1f}x faster than the plain loop)"
        )
        print(
            f"{name} batched, {args.seeds} seeds: {many[name]:.2f} s "
            f"({args.seeds * plain[name] / many[name]:.0f}x faster than "
            f"{args.seeds} plain loops, {many[name] / one[name]:.1f}x one seed)"
        )
    both = many["linear"] + many["mlp"]
    print(
        f"one seed, slower model: {max(one.values()):.2f} s (target <= 1.5 s "
        f"for {args.epochs} epochs)"
    )
    print(f"{args.seeds} seeds of both models: {both:.2f} s (target <= 15 s)")


if __name__ == "__main__":
    main()
