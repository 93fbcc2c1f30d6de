"""Working in latent space: encode a dataset, decode a grid, interpolate."""

from __future__ import annotations

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
