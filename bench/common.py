"""Helpers shared by the benchmarks: the data root, a plain-text table, timings."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import torch

from vae.anomaly import anomaly_scores
from vae.data import DATA_DIR_ENV, resolve_data_root
from vae.models import VAE

REPO = Path(__file__).resolve().parents[1]


def data_root() -> Path:
    """$VAE_DATA_DIR if set, else ../shared/data beside the repo when present, else ./data."""
    shared = REPO.parent / "shared" / "data"
    if not os.environ.get(DATA_DIR_ENV) and shared.exists():
        return shared
    return resolve_data_root()


def print_table(headers: list[str], rows: list[list]) -> None:
    """A markdown table, so results paste straight into notes and model cards."""
    cells = [[f"{c:.2f}" if isinstance(c, float) else str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def p50_p95(values: list[float]) -> tuple[float, float]:
    """Median and 95th percentile (linear interpolation)."""
    p50, p95 = np.percentile(values, [50, 95])
    return float(p50), float(p95)


def load_average() -> str:
    """The machine's load (1, 5, 15 min), to print beside timings taken on a shared machine."""
    return "load average " + ", ".join(f"{load:.2f}" for load in os.getloadavg())


def scoring_seconds(model: VAE, x: torch.Tensor, method: str, k: int = 50) -> float:
    """Seconds to score every image of float `x` by `method`, after a warm-up call (the first pays one-off costs)."""
    anomaly_scores(model, x[:500], method=method, k=k)
    started = time.perf_counter()
    anomaly_scores(model, x, method=method, k=k)
    return time.perf_counter() - started
