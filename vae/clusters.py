"""Clusters found without labels: scoring them against the labels, and the pieces the clustering VAE trains with.

The clustering VAE (`VAEConfig(clusters=K)`) has a categorical latent y of K values beside its continuous z.
Its encoder gives q(y|x) (`VAE.cluster_probs`); during training y is drawn with the Gumbel-softmax
relaxation (`gumbel_softmax`) at a temperature that falls over the run (`gumbel_temperature`). The labels
are never used to train it, only to score the clusters afterwards (`cluster_scores`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

# The Gumbel-softmax temperature falls exponentially from TAU_START to TAU_END over the run (Jang et al., 2017,
# anneal it the same way): soft, low-variance samples early; nearly one-hot ones, like the hard y, at the end.
TAU_START, TAU_END = 1.0, 0.5


def gumbel_temperature(progress: float) -> float:
    """The temperature when `progress` (0 at the first step, 1 at the last) of the run is done."""
    progress = min(max(progress, 0.0), 1.0)
    return TAU_START * (TAU_END / TAU_START) ** progress


def gumbel_softmax(logits: torch.Tensor, temperature: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """A relaxed one-hot sample of Cat(softmax(logits)): softmax((logits + Gumbel noise) / temperature).

    Differentiable in `logits`; as the temperature goes to 0 the sample becomes one-hot. (Torch's own
    `F.gumbel_softmax` draws from the global RNG; this one takes a generator, so runs repeat exactly.)
    """
    if not temperature > 0:
        raise ValueError(f"the Gumbel-softmax temperature must be positive, got {temperature}")
    uniform = torch.rand(logits.shape, generator=generator, dtype=logits.dtype, device=logits.device)
    gumbel = -torch.log(-torch.log(uniform.clamp(1e-10, 1.0 - 1e-7)))
    return F.softmax((logits + gumbel) / temperature, dim=-1)


def random_affine(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Each image slightly rotated (±12°), scaled (±10%) and shifted (±2.5 pixels of a 28-pixel image).

    A person still reads the same digit: the clustering objective asks the cluster to stay the same too.
    """
    n = len(x)

    def uniform(*shape: int) -> torch.Tensor:
        return 2 * torch.rand(*shape, generator=generator, device=x.device) - 1

    angle = uniform(n) * math.radians(12)
    scale = 1 + 0.1 * uniform(n)
    shift = uniform(n, 2) * (2.5 / 14)  # affine_grid's coordinates run from -1 to 1 across the image
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")


class ClusterScores(NamedTuple):
    """How well clusters match the labels: NMI, and the accuracy of the best one-to-one matching."""

    nmi: float
    accuracy: float
    mapping: dict[int, int]  # cluster -> the label it is matched to (clusters left unmatched are absent)


def contingency(clusters: np.ndarray, labels: np.ndarray, n_clusters: int, n_labels: int) -> np.ndarray:
    """counts[k, c]: how many items of label c fell in cluster k."""
    counts = np.zeros((n_clusters, n_labels), dtype=np.int64)
    np.add.at(counts, (np.asarray(clusters), np.asarray(labels)), 1)
    return counts


def cluster_scores(clusters: np.ndarray, labels: np.ndarray, n_clusters: int | None = None) -> ClusterScores:
    """Score cluster assignments against true labels (used for scoring only, never for training).

    Accuracy matches clusters to labels one-to-one so that the most items agree (the Hungarian
    algorithm, `scipy.optimize.linear_sum_assignment`); an item in an unmatched cluster counts as wrong.
    """
    from scipy.optimize import linear_sum_assignment
    from sklearn.metrics import normalized_mutual_info_score

    clusters, labels = np.asarray(clusters), np.asarray(labels)
    if len(clusters) != len(labels) or len(labels) == 0:
        raise ValueError(
            f"need as many cluster ids as labels (and at least one), got {len(clusters)} and {len(labels)}"
        )
    n_clusters = n_clusters or int(clusters.max()) + 1
    counts = contingency(clusters, labels, n_clusters, int(labels.max()) + 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return ClusterScores(
        nmi=float(normalized_mutual_info_score(labels, clusters)),
        accuracy=float(counts[rows, cols].sum() / len(labels)),
        mapping={int(k): int(c) for k, c in zip(rows, cols, strict=True)},
    )


# The training objective's weights, per image and in nats like the ELBO's terms (chosen on MNIST, see the
# model card of checkpoints/mnist_clusters.pt). The ELBO's KL(q(y|x) || uniform) is, averaged over the
# data, the mutual information I(x; y) plus KL(q(y) || uniform), q(y) the clusters' overall shares. Kept
# as it is, it pays for every nat that y says about x and the decoder learns to do without y; so the
# objective rewards that information instead, insists on balanced clusters, and asks a cluster to
# survive a small rotation, scaling or shift of the image (which never changes the digit).
BALANCE = 15.0  # × KL(q(y) || uniform) over the batch: use every cluster
INFORMATION = 5.0  # × I(x; y) over the batch, rewarded: each image confidently in one cluster
CONSISTENCY = 50.0  # × KL(q(y|x) || q(y|x')), x' = x slightly rotated, scaled and shifted


def batch_information(probs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(KL(q(y) || uniform), I(x; y)) over a batch of q(y|x) rows, q(y) their mean."""
    mean = probs.mean(0)
    entropy_of_mean = -(mean * mean.clamp_min(1e-12).log()).sum()
    mean_entropy = -(probs * probs.clamp_min(1e-12).log()).sum(1).mean()
    return math.log(probs.shape[1]) - entropy_of_mean, entropy_of_mean - mean_entropy


def clustering_objective(model, x: torch.Tensor, kl_weight: float, generator: torch.Generator | None = None):
    """The clustering VAE's training loss for a batch, and its ELBO terms (`vae.losses.ElboTerms`, for reporting).

    loss = mean(reconstruction + kl_weight · KL(q(z|x) || N(0, I)))
           + BALANCE · KL(q(y) || uniform) − INFORMATION · I(x; y) + CONSISTENCY · KL(q(y|x) || q(y|x'))
    """
    from vae.losses import ElboTerms, kl_to_standard_normal, kl_to_uniform, reconstruction_nll

    out = model(x, None, generator)
    recon = reconstruction_nll(model, out.logits, x)
    kl_z = kl_to_standard_normal(out.mu, out.logvar)
    probs = torch.softmax(out.cluster_logits, 1)
    balance, information = batch_information(probs)
    moved = torch.log_softmax(model.cluster_logits(random_affine(x, generator)), 1)
    consistency = F.kl_div(moved, probs.detach(), reduction="batchmean")
    loss = (recon + kl_weight * kl_z).mean() + BALANCE * balance - INFORMATION * information
    loss = loss + CONSISTENCY * consistency
    return loss, ElboTerms(recon, kl_z + kl_to_uniform(out.cluster_logits))


@torch.no_grad()
def assign_clusters(model, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Each uint8 image's most probable cluster → int64 [N]."""
    from vae.data import to_float

    was_training = model.training
    model.eval()
    chosen = [
        model.cluster_probs(to_float(images[s : s + batch_size].to(model.device))).argmax(1).cpu()
        for s in range(0, len(images), batch_size)
    ]
    model.train(was_training)
    return torch.cat(chosen)


def cluster_report(model, images: torch.Tensor, labels: torch.Tensor) -> tuple[dict, dict]:
    """(metrics, cluster meta) of a clustering VAE on labelled held-out images; the labels only score.

    metrics: `test_nmi`, `test_cluster_accuracy`. Cluster meta: per cluster, the label it is matched to,
    the label most of its images carry and that label's share, and its size (for names like "cluster 3: mostly 7s").
    """
    assigned = assign_clusters(model, images).numpy()
    truth = labels.numpy()
    n_clusters = model.config.clusters
    scores = cluster_scores(assigned, truth, n_clusters)
    counts = contingency(assigned, truth, n_clusters, int(truth.max()) + 1)
    sizes = counts.sum(1)
    metrics = {"test_nmi": round(scores.nmi, 4), "test_cluster_accuracy": round(scores.accuracy, 4)}
    meta = {
        "matched_label": [scores.mapping.get(k, -1) for k in range(n_clusters)],
        "majority_label": [int(row.argmax()) for row in counts],
        "majority_share": [round(float(row.max() / max(size, 1)), 4) for row, size in zip(counts, sizes, strict=True)],
        "size": [int(s) for s in sizes],
    }
    return metrics, meta


def pick_seed(config, images: torch.Tensor, settings, candidates: list[int], probe_epochs: int = 3):
    """Restarts, as k-means does them: train each candidate seed for `probe_epochs` epochs (of the full run's
    schedule) and keep the seed with the lowest training −ELBO. No label is used.

    Returns (the chosen seed, {seed: its training −ELBO after the probe}). A clustering VAE's outcome depends
    on its seed (a bad start can merge two digits for good); the ELBO tells the worse starts apart early.
    """
    from dataclasses import replace

    from vae.models import VAE
    from vae.training import train

    if not candidates:
        raise ValueError("pick_seed needs at least one candidate seed")
    losses = {}
    for seed in candidates:
        model = VAE(config, seed=seed)
        for event in train(model, images, None, replace(settings, seed=seed)):
            if event.kind == "epoch" and event.epoch >= min(probe_epochs, settings.epochs):
                losses[seed] = event.train.total
                break
    return min(losses, key=losses.get), losses
