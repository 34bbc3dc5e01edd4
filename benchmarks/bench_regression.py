"""How fast `regression`'s batched trainer is, against the plain PyTorch loop.

Measures in one run, on CPU, with the tutorial's recipe (1000 epochs, minibatches of
32, Adam lr 1e-3) on the bundled Boston split:
  (a) the plain loop: a Python step at a time, autograd, torch.optim.Adam, one seed,
      for each model (`regression.train.train_plain`);
  (b) the batched trainer with one seed of each model;
  (c) the batched trainer with 100 seeds of each model, as `compare --seeds 100` runs.
Prints seconds, the ratios against (a) and the targets of issue 2 (one seed <= 1.5 s;
100 seeds of both models <= 15 s). Both run on one thread: the batched trainer always
does (see train._one_thread), and the plain loop is timed the same way because with
torch's two default threads every tiny op waits at a barrier, which on a shared 2-core
machine made it 10-20x slower and the ratios meaningless. Each line gives
wall-clock seconds and, in brackets, this process's CPU seconds: on a shared machine the
wall clock also counts time spent waiting for a core, the CPU time does not.
Usage: python benchmarks/bench_regression.py [--epochs N] [--seeds N]
"""

import argparse
import os
import time

import torch

from regression.data import load_split
from regression.train import train_batched, train_plain


def _seconds(fn) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _fmt(seconds: tuple[float, float]) -> str:
    return f"{seconds[0]:.2f} s [cpu {seconds[1]:.2f} s]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=100)
    args = parser.parse_args()

    torch.set_num_threads(1)
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
        base = plain[name][0]
        print(f"{name} plain loop, 1 seed: {_fmt(plain[name])}")
        print(
            f"{name} batched, 1 seed: {_fmt(one[name])}, "
            f"{base / one[name][0]:.1f}x faster than the plain loop"
        )
        print(
            f"{name} batched, {args.seeds} seeds: {_fmt(many[name])}, "
            f"{args.seeds * base / many[name][0]:.0f}x faster than {args.seeds} plain "
            f"loops, {many[name][0] / one[name][0]:.1f}x one batched seed"
        )
    slowest = max(one.values())
    both = tuple(a + b for a, b in zip(many["linear"], many["mlp"], strict=True))
    print(f"one seed, slower model: {_fmt(slowest)} (target <= 1.5 s)")
    print(f"{args.seeds} seeds of both models: {_fmt(both)} (target <= 15 s)")
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
