"""Generating digits: grids of one class, the all-classes table, and samples "like this digit"."""

from __future__ import annotations

import torch

from vae.models import VAE


def _noise(n: int, dim: int, temperature: float, seed: int) -> torch.Tensor:
    if temperature < 0:
        raise ValueError(f"temperature must be non-negative, got {temperature}")
    return temperature * torch.randn(n, dim, generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def sample_grid(
    model: VAE, rows: int, cols: int, y: int | None = None, temperature: float = 1.0, seed: int = 0
) -> torch.Tensor:
    """rows×cols samples from the prior (of class `y` for a conditional model) → [rows*cols, C, H, W]."""
    z = _noise(rows * cols, model.config.latent_dim, temperature, seed)
    return model.decode(z, None if y is None else torch.full((len(z),), y))


@torch.no_grad()
def class_table(model: VAE, cols: int = 8, temperature: float = 1.0, seed: int = 0) -> torch.Tensor:
    """One row per class (a clustering VAE: per cluster), one shared z per column: the label sets the digit,
    z its style.

    Returns [num_classes * cols, C, H, W], row by row (class 0 first).
    """
    if not model.config.decoder_labels:
        raise ValueError("the all-classes table needs a conditional or clustering model")
    n_classes = model.config.decoder_labels
    z = _noise(cols, model.config.latent_dim, temperature, seed).repeat(n_classes, 1)
    y = torch.arange(n_classes).repeat_interleave(cols)
    return model.decode(z, y)


@torch.no_grad()
def samples_like(
    model: VAE,
    x: torch.Tensor,
    n: int,
    y: int | None = None,
    spread: float = 1.0,
    seed: int = 0,
    temperature: float = 1.0,
) -> torch.Tensor:
    """Encode one image and decode n draws from its posterior, widened by `spread` → [n, C, H, W].

    spread=1 samples q(z|x) itself; larger values wander further from the original. `temperature`
    scales the standard-normal draw, as in `sample_grid` (so spread and temperature multiply).
    """
    labels = None if y is None else torch.tensor([y])
    mu, logvar = model.encode(x.reshape(1, *model.config.image_shape), labels)
    z = mu + spread * torch.exp(0.5 * logvar) * _noise(n, model.config.latent_dim, temperature, seed)
    return model.decode(z, None if y is None else torch.full((n,), y))
