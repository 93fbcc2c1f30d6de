"""Server-side cost of one move of the anomaly lab's quantile slider.

The page scores the test set once per (model, protocol, score) and caches it; a slider move only
reruns the threshold fragment: quantile → threshold → predictions, classification report,
confusion matrix, and the histogram / confusion / ROC-PR figures serialised to JSON (what
Streamlit sends). This times exactly that work. Target: <= 100 ms.

    python -m bench.threshold_latency [--moves 50]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from bench.common import REPO, data_root, p50_p95, print_table
from vae.anomaly import METHODS, curves, operating_point, quantile_threshold, score_protocol
from vae.checkpoint import load_checkpoint
from vae.data import load_dataset
from vae.plots import confusion_figure, roc_pr_figure, score_histogram


def one_move(scored, quality, q: float) -> None:
    threshold = quantile_threshold(scored.calibration, q)
    op = operating_point(scored, threshold)
    score_histogram(scored.scores, scored.groups, threshold, 100.0).to_json()
    confusion_figure(op.confusion).to_json()
    roc_pr_figure(
        quality.fpr, quality.tpr, quality.auroc, quality.precision, quality.recall, quality.average_precision,
        op.false_positive_rate, op.true_positive_rate, op.report["anomaly"]["precision"],
    ).to_json()  # fmt: skip


def slider_move_times(
    checkpoint: str, moves: int, method: str = next(iter(METHODS)), noise: int = 0, **protocol
) -> tuple[list[float], int]:
    """Milliseconds of `one_move` at `moves` slider positions from 0.80 to 0.999, and the evaluated images.

    `protocol` goes to `vae.anomaly.score_protocol` (normal_classes=…, reference_class=…), the pipeline the
    page uses; the score is the page's default (the first of METHODS), relative for a conditional model.
    """
    images, labels = load_dataset("mnist", train=False, root=str(data_root()), download=False)
    model, _ = load_checkpoint(REPO / "checkpoints" / f"{checkpoint}.pt")
    scored = score_protocol(model, images, labels, method=method, noise=noise, **protocol)
    quality = curves(scored)
    one_move(scored, quality, 0.95)  # warm-up
    times = []
    for q in np.linspace(0.80, 0.999, moves):
        started = time.perf_counter()
        one_move(scored, quality, float(q))
        times.append((time.perf_counter() - started) * 1000)
    return times, len(scored.scores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=50)
    args = parser.parse_args()
    cases = [
        ("mnist_cvae", "class-conditional, c=7", dict(normal_classes=[7], reference_class=7), 0),
        ("mnist_no9", "novelty (9s) + 1,000 noise", dict(normal_classes=list(range(9))), 1000),
    ]
    rows = []
    for name, protocol, kwargs, noise in cases:
        times, evaluated = slider_move_times(name, args.moves, noise=noise, **kwargs)
        p50, p95 = p50_p95(times)
        rows.append([name, protocol, evaluated, f"{p50:.1f}", f"{p95:.1f}"])
    print(f"torch {torch.__version__}; {args.moves} slider positions from 0.80 to 0.999\n")
    print_table(["checkpoint", "protocol", "evaluated images", "median ms", "p95 ms"], rows)
    print("\ntarget: <= 100 ms per slider move (server-side)")


if __name__ == "__main__":
    main()
