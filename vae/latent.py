"""Working in latent space: encode a dataset, decode a grid, interpolate, traverse, project, cluster."""

from __future__ import annotations

from typing import NamedTuple

import torch

from vae.data import to_float
from vae.models import VAE


@torch.no_grad()
def encode_dataset(
    model: VAE, images: torch.Tensor, labels: torch.Tensor | None = None, batch_size: int = 2000
) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior means and log-variances for uint8 images → two [N, latent_dim] tensors."""
    mus, logvars = [], []
    for start in range(0, len(images), batch_size):
        y = labels[start : start + batch_size] if model.config.conditional else None
        mu, logvar = model.encode(to_float(images[start : start + batch_size]), y)
        mus.append(mu)
        logvars.append(logvar)
    return torch.cat(mus), torch.cat(logvars)


def prior_grid(n: int, low: float = 0.05, high: float = 0.95) -> tuple[torch.Tensor, torch.Tensor]:
    """Coordinates of an n×n grid evenly spaced in the prior's *probability* (not in z).

    Each axis takes `Normal(0, 1).icdf` of n evenly spaced quantiles in [low, high], so the grid
    is dense where the prior has its mass. Returns (axis values [n], z [n*n, 2]); rows run from
    high z₂ (top) to low z₂ (bottom), so the grid reads like a plot.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not 0 < low < high < 1:
        raise ValueError(f"quantiles must satisfy 0 < low < high < 1, got {low}, {high}")
    axis = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(low, high, n))
    z2, z1 = torch.meshgrid(axis.flip(0), axis, indexing="ij")
    return axis, torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=1)


@torch.no_grad()
def manifold(model: VAE, n: int = 15, low: float = 0.05, high: float = 0.95, y: int | None = None) -> torch.Tensor:
    """Decode the n×n prior grid of a 2-D latent space → images [n*n, C, H, W], row by row."""
    if model.config.latent_dim != 2:
        raise ValueError(f"the manifold grid needs a 2-D latent space; this model has {model.config.latent_dim}")
    _, z = prior_grid(n, low, high)
    return model.decode(z, None if y is None else torch.full((len(z),), y))


@torch.no_grad()
def interpolate(
    model: VAE,
    z_start: torch.Tensor,
    z_end: torch.Tensor,
    steps: int = 10,
    y: int | None = None,
    y_ends: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Decode `steps` points on the straight line from z_start to z_end → images [steps, C, H, W].

    `y`: the class (or cluster) every frame is decoded as. `y_ends`, which takes precedence: a clustering
    VAE's q(y|x) at both ends ([K] each), mixed along the line with z, so one digit turns into the other.
    """
    if steps < 2:
        raise ValueError(f"an interpolation needs at least 2 steps, got {steps}")
    t = torch.linspace(0, 1, steps).unsqueeze(1)
    z = (1 - t) * z_start.reshape(1, -1) + t * z_end.reshape(1, -1)
    if y_ends is not None:
        return model.decode(z, (1 - t) * y_ends[0].reshape(1, -1) + t * y_ends[1].reshape(1, -1))
    return model.decode(z, None if y is None else torch.full((steps,), y))


@torch.no_grad()
def traversal(
    model: VAE, z: torch.Tensor, values: torch.Tensor, dims: list[int] | None = None, y: int | None = None
) -> torch.Tensor:
    """One row per latent dimension: that dimension swept through `values`, the others held at z.

    Returns images [len(dims) * len(values), C, H, W], row by row.
    """
    dims = list(range(model.config.latent_dim)) if dims is None else dims
    codes = z.reshape(1, -1).repeat(len(dims) * len(values), 1)
    for row, d in enumerate(dims):
        codes[row * len(values) : (row + 1) * len(values), d] = values
    return model.decode(codes, None if y is None else torch.full((len(codes),), y))


class Projection(NamedTuple):
    """A 2-D PCA projection of latent means, with what it keeps."""

    points: torch.Tensor  # [N, 2]
    mean: torch.Tensor  # [D]
    components: torch.Tensor  # [2, D]: rows are the principal directions
    explained: tuple[float, float]  # fraction of the variance along each


def pca_2d(codes: torch.Tensor) -> Projection:
    """Project latent codes [N, D] (D ≥ 2) onto their two principal directions."""
    if codes.shape[1] < 2:
        raise ValueError("PCA to 2-D needs at least 2 latent dimensions")
    mean = codes.mean(0)
    centred = codes - mean
    _, s, vh = torch.linalg.svd(centred, full_matrices=False)
    variance = s**2
    explained = (variance[:2] / variance.sum()).tolist()
    return Projection(centred @ vh[:2].T, mean, vh[:2], (explained[0], explained[1]))


def clustering_nmi(codes: torch.Tensor, labels: torch.Tensor, seed: int = 0) -> float:
    """k-means on latent means (k = number of classes) scored against the labels by NMI (0..1)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import normalized_mutual_info_score

    k = len(torch.unique(labels))
    clusters = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(codes.numpy())
    return float(normalized_mutual_info_score(labels.numpy(), clusters))
