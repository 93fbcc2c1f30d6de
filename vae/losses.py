"""ELBO terms and an importance-sampled log-likelihood, all per sample and in nats."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F

from vae.models import VAE, VAEOutput


class ElboTerms(NamedTuple):
    """Per-sample terms of the negative ELBO: recon + KL (both [N], in nats)."""

    recon: torch.Tensor
    kl: torch.Tensor

    @property
    def total(self) -> torch.Tensor:
        return self.recon + self.kl


def reconstruction_nll(model: VAE, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) summed over pixels → [N].

    Bernoulli: binary cross-entropy computed from logits (stable, no sigmoid then log).
    Gaussian: fixed standard deviation `config.gaussian_std` around sigmoid(logits).
    """
    if model.config.likelihood == "bernoulli":
        nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    else:
        std = model.config.gaussian_std
        nll = 0.5 * ((x - torch.sigmoid(logits)) / std) ** 2 + math.log(std) + 0.5 * math.log(2 * math.pi)
    return nll.flatten(1).sum(1)


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) in closed form → [N]."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)


def kl_to_uniform(logits: torch.Tensor) -> torch.Tensor:
    """KL(Cat(softmax(logits)) || uniform over the K values) = log K − entropy → [N]."""
    log_q = torch.log_softmax(logits, dim=1)
    return (log_q.exp() * log_q).sum(1) + math.log(logits.shape[1])


def elbo_terms(
    model: VAE, x: torch.Tensor, y: torch.Tensor | None = None, generator: torch.Generator | None = None
) -> ElboTerms:
    """One-sample estimate of the negative-ELBO terms for a batch (differentiable); z's noise from `generator`.

    A clustering VAE's KL is that of both latents: KL(q(z|x) || N(0, I)) + KL(q(y|x) || uniform).
    """
    return output_terms(model, model(x, y, generator), x)


def output_terms(model: VAE, out: VAEOutput, x: torch.Tensor) -> ElboTerms:
    """The negative-ELBO terms of a forward pass `out` of `model` on `x`."""
    kl = kl_to_standard_normal(out.mu, out.logvar)
    if out.cluster_logits is not None:
        kl = kl + kl_to_uniform(out.cluster_logits)
    return ElboTerms(reconstruction_nll(model, out.logits, x), kl)


def _log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, exp(logvar)) summed over the last dimension."""
    return -0.5 * (((z - mu) ** 2) / logvar.exp() + logvar + math.log(2 * math.pi)).sum(-1)


@torch.no_grad()
def importance_sampled_log_likelihood(
    model: VAE,
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    k: int = 100,
    chunk: int = 25,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Estimate log p(x) with K samples from q(z|x): log-mean-exp of p(x|z)p(z)/q(z|x) → [N].

    A tighter bound than the ELBO (K=1 gives the ELBO back); samples are drawn `chunk` at a time
    to keep memory flat. A clustering VAE draws its cluster y from q(y|x) with each z, and weighs by
    p(y)/q(y|x) too.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    mu, logvar = model.encode(x, y)
    n = len(x)
    log_q_y = torch.log_softmax(model.cluster_logits(x), 1) if model.config.clusters else None
    log_weights = []
    for start in range(0, k, chunk):
        kk = min(chunk, k - start)
        eps = torch.randn(kk, *mu.shape, generator=generator).to(mu.device)
        z = mu + torch.exp(0.5 * logvar) * eps  # [kk, N, D]
        z_flat = z.reshape(kk * n, -1)
        y_rep = None if y is None else torch.as_tensor(y).reshape(-1).expand(n).repeat(kk)
        log_prior_over_q = torch.zeros(kk, n, device=mu.device)
        if log_q_y is not None:  # y ~ q(y|x), weighted by p(y) / q(y|x) with p(y) = 1/K
            y_rep = torch.multinomial(log_q_y.exp().cpu(), kk, replacement=True, generator=generator).to(mu.device)
            log_prior_over_q = -math.log(log_q_y.shape[1]) - log_q_y.gather(1, y_rep).t()
            y_rep = y_rep.t().reshape(-1)
        logits = model.decode_logits(z_flat, y_rep)
        log_px_z = -reconstruction_nll(model, logits, x.repeat(kk, 1, 1, 1)).reshape(kk, n)
        log_pz = _log_normal(z, torch.zeros_like(mu), torch.zeros_like(logvar))
        log_qz = _log_normal(z, mu, logvar)
        log_weights.append(log_px_z + log_pz - log_qz + log_prior_over_q)
    return torch.logsumexp(torch.cat(log_weights), dim=0) - math.log(k)
