"""Server-side time to generate what the Generate page shows, for each shipped model.

Times the library calls the page makes (decode + the PNG-ready grid), median and p95 over
repeated runs. Target: a 10×10 grid in < 100 ms.

    python -m bench.generate_speed [--repeats 50]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from bench.common import REPO, print_table
from vae.checkpoint import load_checkpoint
from vae.generation import class_table, sample_grid
from vae.plots import image_grid


def timed_ms(fn, repeats: int) -> tuple[float, float]:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    rows = []
    for name in ("mnist_z2", "mnist_cvae", "mnist_no9"):
        model, _ = load_checkpoint(REPO / "checkpoints" / f"{name}.pt")
        y = 7 if model.config.conditional else None
        jobs = {"10×10 grid": lambda m=model, y=y: image_grid(sample_grid(m, 10, 10, y=y, seed=1), nrow=10, scale=2)}
        if model.config.conditional:
            jobs["all-classes table 10×8"] = lambda m=model: image_grid(class_table(m, 8, seed=1), nrow=8, scale=2)
        for job, fn in jobs.items():
            median, p95 = timed_ms(fn, args.repeats)
            rows.append([name, job, f"{median:.1f}", f"{p95:.1f}"])
    print_table(["checkpoint", "what", "median ms", "p95 ms"], rows)
    print("\ntarget: 10×10 grid < 100 ms")


if __name__ == "__main__":
    main()
