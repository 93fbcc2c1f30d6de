"""Generating digits: grids of one class, the all-classes table, and samples "like this digit".

A conditional VAE's codes can come from the prior N(0, I) or from where its class's training digits lie
(`fit_class_codes`): the KL term pulls each class's codes towards N(0, I) but never all the way, so the
prior also draws codes where no training digit of that class lies, and their images are often unclear.
"""

from __future__ import annotations

from typing import Literal

import torch

from vae.data import to_float
from vae.models import VAE

CodeSource = Literal["prior", "class"]
CODE_SOURCES: tuple[CodeSource, ...] = ("prior", "class")


def _noise(n: int, dim: int, temperature: float, seed: int) -> torch.Tensor:
    if temperature < 0:
        raise ValueError(f"temperature must be non-negative, got {temperature}")
    return temperature * torch.randn(n, dim, generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def fit_class_codes(model: VAE, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> None:
    """Fit where each class's codes lie, in place: the mean and covariance of q(z|x, y) over the class's uint8
    training images [N, C, H, W] (the moment-matched Gaussian of the class's aggregate posterior: the covariance of
    the posterior means plus their mean variance). A class without images is left unfitted."""
    if not model.config.conditional:
        raise ValueError("class codes belong to a conditional VAE: it is given each image's class")
    n_classes, dim = model.config.num_classes, model.config.latent_dim
    count, total = torch.zeros(n_classes, dtype=torch.float64), torch.zeros(n_classes, dim, dtype=torch.float64)
    outer, variance = torch.zeros(n_classes, dim, dim, dtype=torch.float64), torch.zeros_like(total)
    for start in range(0, len(images), batch_size):
        y = labels[start : start + batch_size].long()
        x = to_float(images[start : start + batch_size]).to(model.device)
        mu, logvar = (t.cpu().double() for t in model.encode(x, y))
        count += torch.bincount(y, minlength=n_classes)
        total.index_add_(0, y, mu)
        outer.index_add_(0, y, mu[:, :, None] * mu[:, None, :])
        variance.index_add_(0, y, logvar.exp())
    seen = count > 0
    n = count[seen, None]
    mean = total[seen] / n
    covariance = outer[seen] / n[..., None] - mean[:, :, None] * mean[:, None, :] + torch.diag_embed(variance[seen] / n)
    model.class_code_means[seen] = mean.to(model.class_code_means)
    model.class_code_covariances[seen] = covariance.to(model.class_code_covariances)


def has_class_codes(model: VAE) -> bool:
    """Whether every class of a conditional VAE has fitted codes (a positive-definite covariance)."""
    if not model.config.conditional:
        return False
    return bool((torch.linalg.cholesky_ex(model.class_code_covariances.double().cpu()).info == 0).all())


def _codes(model: VAE, noise: torch.Tensor, y: torch.Tensor | None, source: CodeSource) -> torch.Tensor:
    """Standard-normal draws [n, latent_dim] → codes: themselves (the prior), or placed where class `y` lies."""
    if source not in CODE_SOURCES:
        raise ValueError(f"codes come from one of {', '.join(CODE_SOURCES)}, got {source!r}")
    if source == "prior":
        return noise
    if y is None or not has_class_codes(model):
        raise ValueError("codes from the classes need a conditional VAE whose class codes were fitted")
    scale = torch.linalg.cholesky(model.class_code_covariances.cpu())[y]
    return model.class_code_means.cpu()[y] + (scale @ noise[:, :, None]).squeeze(2)


@torch.no_grad()
def sample_grid(
    model: VAE,
    rows: int,
    cols: int,
    y: int | None = None,
    temperature: float = 1.0,
    seed: int = 0,
    codes: CodeSource = "prior",
) -> torch.Tensor:
    """rows×cols samples (of class `y` for a conditional model) → [rows*cols, C, H, W]; `codes` from the prior,
    or (a conditional VAE with fitted class codes) from where class `y`'s training digits lie."""
    labels = None if y is None else torch.full((rows * cols,), y)
    z = _codes(model, _noise(rows * cols, model.config.latent_dim, temperature, seed), labels, codes)
    return model.decode(z, labels)


@torch.no_grad()
def class_table(
    model: VAE, cols: int = 8, temperature: float = 1.0, seed: int = 0, codes: CodeSource = "prior"
) -> torch.Tensor:
    """One row per class (a clustering VAE: per cluster), one shared draw per column: the label sets the digit,
    the draw its style (with `codes="class"` the draw is placed where each row's class lies).

    Returns [num_classes * cols, C, H, W], row by row (class 0 first).
    """
    if not model.config.decoder_labels:
        raise ValueError("the all-classes table needs a conditional or clustering model")
    n_classes = model.config.decoder_labels
    y = torch.arange(n_classes).repeat_interleave(cols)
    z = _codes(model, _noise(cols, model.config.latent_dim, temperature, seed).repeat(n_classes, 1), y, codes)
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
