"""Streamlit glue for the anomaly lab: cached protocol scores and scoring one drawn digit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch
import torch.nn.functional as F

from ui.data import test_set
from ui.models import ModelEntry
from vae.anomaly import ScoredSet, anomaly_scores, score_protocol

NOISE_IMAGES = 1000


@st.cache_data(show_spinner="Scoring the test set (once per model, protocol and score)…", max_entries=32)
def scored_protocol(
    model_id: str,
    _entry: ModelEntry,
    normal_classes: tuple[int, ...],
    reference_class: int | None,
    method: str,
    noise: bool,
    k: int,
) -> ScoredSet:
    """The protocol's scores, computed once and shared (the slider only re-thresholds them)."""
    images, labels, _ = test_set(_entry)
    return score_protocol(
        _entry.model, images, labels, list(normal_classes), reference_class, method,
        noise=NOISE_IMAGES if noise else 0, k=k,
    )  # fmt: skip


@dataclass
class Probe:
    """One user-supplied digit, scored."""

    image: torch.Tensor  # [1, C, H, W] as the model sees it
    reconstruction: torch.Tensor  # [1, C, H, W]
    error: np.ndarray  # per-pixel squared error (H, W)
    score: float
    mu: np.ndarray  # posterior mean
    class_scores: list[float] | None  # conditional models: the score under every class


def fit_to_model(digit: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor:
    """A 28×28 MNIST-style digit → the model's image size (area-averaged, e.g. 8×8 for `digits`)."""
    if tuple(digit.shape[1:]) == shape:
        return digit
    resized = F.interpolate(digit, size=shape[1:], mode="area")
    return resized.repeat(1, shape[0], 1, 1) if shape[0] > 1 else resized


@torch.no_grad()
def score_probe(entry: ModelEntry, digit: torch.Tensor, reference_class: int | None, method: str, k: int) -> Probe:
    model = entry.model
    x = fit_to_model(digit, model.config.image_shape)
    y = None if reference_class is None else torch.tensor([reference_class])
    reconstruction = model.reconstruct(x, y)
    mu, _ = model.encode(x, y)
    class_scores = None
    if model.config.conditional:
        batch = x.repeat(model.config.num_classes, 1, 1, 1)
        class_scores = anomaly_scores(model, batch, torch.arange(model.config.num_classes), method, k=k).tolist()
    score = float(anomaly_scores(model, x, y, method, k=k)[0])
    error = ((x - reconstruction) ** 2).mean(1)[0].numpy()
    return Probe(x, reconstruction, error, score, mu[0].numpy(), class_scores)
