"""Anomaly detection on real MNIST: a table per protocol, AUROC per score method.

1. Class-conditional (mnist_cvae.pt, mnist_cvae_z8.pt): each test image scored as "a c?" (by default relative to
   the class that explains it best); images of other classes are the anomalies. AUROC per
   reference class c and the mean (target mean >= 0.98).
2. Leave-one-digit-out: one model per held-out digit, trained here with the CLI (cached in
   bench/.cache/loo/); the held-out digit is the anomaly. AUROC per digit and the mean
   (published VAE reference, Tonnaer thesis table 3.3: 0.855 at z=2; target >= 0.86).
3. Time to score the 10,000 test images with each method.

Every protocol is scored with every method its model offers (`vae.anomaly.methods_for`). The "ink" score (squared
reconstruction error per unit of ink) exists because the likelihood scores rank a thin held-out 1
as more normal than almost any digit the model knows.

Every AUROC is computed on the evaluation half of the normal test images (the other half is the
calibration set the app uses for thresholds) plus all anomalous test images.

    python -m bench.anomaly [--loo-epochs 10] [--k 50] [--skip-loo] [--conditional mnist_cvae mnist_cvae_z8]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np
import torch

from bench.common import REPO, data_root, print_table, scoring_seconds
from vae.anomaly import (
    METHODS,
    class_score_matrix,
    curves,
    methods_for,
    relative_to_best_other,
    score_protocol,
    split_protocol,
)
from vae.checkpoint import load_checkpoint
from vae.data import load_dataset, to_float
from vae.models import VAEConfig

LOO_DIR = REPO / "bench" / ".cache" / "loo"


def class_conditional(
    name: str, images: torch.Tensor, labels: torch.Tensor, k: int, methods: list[str] | None = None
) -> None:
    """AUROC per reference class; each method's image × class score matrix is computed once."""
    model, _ = load_checkpoint(REPO / "checkpoints" / f"{name}.pt")
    x, y = to_float(images), labels.numpy()
    columns, table = [], {c: [c] for c in range(10)}
    for method in [m for m in methods_for(model) if methods is None or m in methods]:
        matrix = class_score_matrix(model, x, method, k).numpy()
        for relative in (True, False):
            columns.append(f"{method}{'' if relative else ' (raw)'}")
            for c in range(10):
                scores = relative_to_best_other(matrix, c) if relative else matrix[:, c]
                table[c].append(curves(split_protocol(scores, y, [c])).auroc)
    means = np.mean([table[c][1:] for c in range(10)], axis=0)
    rows = [[c, *(f"{a:.4f}" for a in table[c][1:])] for c in range(10)]
    rows.append(["mean", *(f"{m:.4f}" for m in means)])
    print(f"## 1. Class-conditional protocol, {name}.pt: AUROC per reference class (target mean >= 0.98)")
    print("Default score: relative to the image's best other class; (raw) = the score under class c alone.")
    print_table(["class c", *columns], rows)


def train_loo_models(epochs: int, root: str) -> None:
    """One unconditional z=2 model per held-out digit, trained by the project's CLI (cached)."""
    LOO_DIR.mkdir(parents=True, exist_ok=True)
    for digit in range(10):
        out = LOO_DIR / f"no{digit}_e{epochs}.pt"
        if out.exists():
            continue
        command = [
            sys.executable, "-m", "vae", "train", "--dataset", "mnist", "--latent-dim", "2", "--hidden", "512", "256",
            "--epochs", str(epochs), "--exclude-classes", str(digit), "--seed", "0", "--eval-k", "10",
            "--data-dir", root, "--quiet", "--out", str(out),
        ]  # fmt: skip
        started = time.perf_counter()
        subprocess.run(command, check=True, cwd=REPO, capture_output=True)
        print(f"trained {out.name} in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def leave_one_out(images: torch.Tensor, labels: torch.Tensor, epochs: int, k: int) -> None:
    methods = methods_for(VAEConfig())  # the leave-one-out models have no classifier head
    rows, aurocs = [], {m: [] for m in methods}
    for digit in range(10):
        model, _ = load_checkpoint(LOO_DIR / f"no{digit}_e{epochs}.pt")
        normal = [c for c in range(10) if c != digit]
        row = [digit]
        for method in methods:
            auroc = curves(score_protocol(model, images, labels, normal, method=method, k=k)).auroc
            aurocs[method].append(auroc)
            row.append(f"{auroc:.4f}")
        rows.append(row)
    means = {m: float(np.mean(v)) for m, v in aurocs.items()}
    rows.append(["mean", *(f"{means[m]:.4f}" for m in methods)])
    print(f"\n## 2. Leave-one-digit-out: z=2 MLP 512-256, {epochs} epochs each; AUROC per held-out digit")
    print("(reference: VAE 0.855 mean at z=2, Tonnaer thesis table 3.3; target mean >= 0.86)")
    print_table(["held-out digit", *methods], rows)
    best = max(means, key=means.get)
    print(f"best score method: {best} ({METHODS[best]}), mean AUROC {means[best]:.4f}")


def scoring_time(images: torch.Tensor, k: int) -> None:
    model, _ = load_checkpoint(REPO / "checkpoints" / "mnist_z2.pt")
    x = to_float(images)
    rows = []
    for method in methods_for(model):
        seconds = scoring_seconds(model, x, method, k)
        rows.append([method, METHODS[method], f"{seconds:.2f}", f"{len(x) / seconds:,.0f}"])
    print(f"\n## 3. Scoring all {len(x):,} test images with mnist_z2.pt (iwae: K={k})")
    print_table(["method", "score", "seconds", "images / s"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loo-epochs", type=int, default=10, help="epochs per leave-one-out model")
    parser.add_argument("--k", type=int, default=50, help="importance samples for the iwae score")
    parser.add_argument("--skip-loo", action="store_true", help="skip the leave-one-digit-out models")
    parser.add_argument("--conditional", nargs="+", default=["mnist_cvae", "mnist_cvae_z8"], help="shipped CVAEs")
    parser.add_argument("--methods", nargs="+", default=None, help="class-conditional scores (default: every one)")
    args = parser.parse_args()
    root = str(data_root())
    images, labels = load_dataset("mnist", train=False, root=root, download=False)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, MNIST test set from {root}\n")
    for name in args.conditional:
        class_conditional(name, images, labels, args.k, args.methods)
    if not args.skip_loo:
        train_loo_models(args.loo_epochs, root)
        leave_one_out(images, labels, args.loo_epochs, args.k)
    scoring_time(images, args.k)


if __name__ == "__main__":
    main()
