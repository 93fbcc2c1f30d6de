"""What the tabular model's latent space says beyond the class (seed 004's two proposals).

1. **Confidence from the latent**: fit a Gaussian per class to the training rows' latent means. A new
   row's Mahalanobis distance to each class says whether it lies "within k σ" of its predicted class,
   per-dimension t-tests give p-values, and a row outside every class's region is out of domain.
   Ranking rows by how clearly they sit in their class's region gives selective accuracy.
2. **Which features can be reconstructed**: per-feature R² of a VAE's reconstruction; removing the
   least reconstructable features round by round, retraining each time, and watching the accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from vae.tabular import TabularConfig, TabularVAE, fit_tabular


@dataclass(frozen=True)
class Confidence:
    """A row-by-row reading of where rows sit among the class regions."""

    distances: np.ndarray  # [N, K] Mahalanobis distance to each class's Gaussian
    predicted: np.ndarray  # [N] the class the reading is about
    sigma: np.ndarray  # [N] distance to the predicted class, in σ
    within: np.ndarray  # [N] bool: sigma <= k
    p_values: np.ndarray  # [N, d] two-sided t-test of each latent dimension against the predicted class
    out_of_domain: np.ndarray  # [N] bool: outside every class's region
    region_probability: np.ndarray  # [N] posterior of the predicted class under the per-class Gaussians


@dataclass(frozen=True)
class LatentRegions:
    """A Gaussian (mean, full covariance) per class, fitted to training latent means."""

    means: np.ndarray  # [K, d]
    covariances: np.ndarray  # [K, d, d]
    counts: np.ndarray  # [K]

    @classmethod
    def fit(cls, codes: np.ndarray, labels: np.ndarray, n_classes: int, ridge: float = 1e-6) -> LatentRegions:
        """Mean and covariance (ddof=1) of each class's codes; `ridge` keeps a covariance invertible."""
        codes = np.asarray(codes, dtype=np.float64)
        labels = np.asarray(labels)
        d = codes.shape[1]
        means, covariances, counts = [], [], []
        for k in range(n_classes):
            own = codes[labels == k]
            if len(own) < 2:
                raise ValueError(f"class {k} has {len(own)} training rows; a region needs at least 2")
            means.append(own.mean(axis=0))
            covariances.append(np.cov(own, rowvar=False).reshape(d, d) + ridge * np.eye(d))
            counts.append(len(own))
        return cls(np.array(means), np.array(covariances), np.array(counts))

    def distances(self, codes: np.ndarray) -> np.ndarray:
        """Mahalanobis distance of every row to every class's Gaussian → [N, K]."""
        codes = np.atleast_2d(np.asarray(codes, dtype=np.float64))
        out = []
        for mean, cov in zip(self.means, self.covariances, strict=True):
            diff = codes - mean
            out.append(np.sqrt(np.einsum("nd,nd->n", diff @ np.linalg.inv(cov), diff)))
        return np.stack(out, axis=1)

    def domain_radius(self, level: float = 0.999) -> float:
        """The distance within which a fraction `level` of a Gaussian's mass lies (√ of a χ² quantile)."""
        return float(np.sqrt(stats.chi2.ppf(level, df=self.means.shape[1])))

    def assess(self, codes: np.ndarray, predicted: np.ndarray | None = None, k: float = 2.0) -> Confidence:
        """Read `codes` against the regions; `predicted` defaults to the nearest region."""
        distances = self.distances(codes)
        predicted = distances.argmin(axis=1) if predicted is None else np.asarray(predicted)
        rows = np.arange(len(distances))
        sigma = distances[rows, predicted]
        # A new point against a class sample of size n: t = (x - mean) / (s·√(1 + 1/n)), n - 1 degrees of freedom.
        codes = np.atleast_2d(np.asarray(codes, dtype=np.float64))
        n = self.counts[predicted][:, None]
        spread = np.sqrt(np.diagonal(self.covariances, axis1=1, axis2=2)[predicted] * (1 + 1 / n))
        t = (codes - self.means[predicted]) / spread
        p_values = 2 * stats.t.sf(np.abs(t), df=n - 1)
        # Posterior of each class under equal priors: Gaussian densities, in logs for stability.
        _, log_dets = np.linalg.slogdet(self.covariances)
        log_density = -0.5 * distances**2 - 0.5 * log_dets[None, :]
        posterior = np.exp(log_density - log_density.max(axis=1, keepdims=True))
        posterior /= posterior.sum(axis=1, keepdims=True)
        return Confidence(
            distances=distances,
            predicted=predicted,
            sigma=sigma,
            within=sigma <= k,
            p_values=p_values,
            out_of_domain=distances.min(axis=1) > self.domain_radius(),
            region_probability=posterior[rows, predicted],
        )


def selective_accuracy(
    confidence: np.ndarray, correct: np.ndarray, coverages: Sequence[float] = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
) -> list[tuple[float, float, int]]:
    """Accuracy on the most confident rows: (coverage, accuracy, rows kept) for each coverage."""
    order = np.argsort(-np.asarray(confidence), kind="stable")
    correct = np.asarray(correct, dtype=bool)[order]
    out = []
    for coverage in coverages:
        kept = max(1, round(coverage * len(correct)))
        out.append((float(coverage), float(correct[:kept].mean()), kept))
    return out


def feature_r2(model: TabularVAE, X: np.ndarray) -> np.ndarray:
    """Per-feature R² of the reconstruction on the standardised scale (1 = perfect, 0 = the mean's worth)."""
    x = model.standardise(X).numpy()
    reconstruction = model.standardise(model.reconstruct(X)).numpy()
    residual = ((x - reconstruction) ** 2).sum(axis=0)
    total = ((x - x.mean(axis=0)) ** 2).sum(axis=0)
    return 1 - residual / np.where(total > 0, total, 1.0)


@dataclass(frozen=True)
class EliminationRound:
    features: list[str]  # the features this round trained on
    r2: np.ndarray  # their R² (test rows), same order
    accuracy: float  # test accuracy of the classifier trained on them
    dropped: list[str]  # removed after this round (the least reconstructable)


def feature_elimination(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    feature_names: Sequence[str],
    config: TabularConfig,
    drop_per_round: int = 3,
    keep_r2: float = 0.5,
    min_features: int = 2,
    seed: int = 0,
) -> list[EliminationRound]:
    """Seed 004's iterative study: each round trains a VAE (mode "vae", `config`'s network) to get each
    feature's R², trains the classifier (`config`'s mode) on the same features for the accuracy, then drops
    the `drop_per_round` least reconstructable. Stops when every feature left has R² ≥ `keep_r2`, or at
    `min_features`."""
    names = list(feature_names)
    keep = np.arange(len(names))
    vae_config = replace(config, mode="vae")
    rounds: list[EliminationRound] = []
    while True:
        vae = fit_tabular(X_train[:, keep], y_train, vae_config, seed=seed)
        r2 = feature_r2(vae, X_test[:, keep])
        head_config = config if config.has_head else replace(config, mode="variational-mlp")
        classifier = fit_tabular(X_train[:, keep], y_train, head_config, seed=seed)
        accuracy = float((classifier.predict(X_test[:, keep]) == y_test).mean())
        worst = np.argsort(r2, kind="stable")[:drop_per_round]
        done = r2.min() >= keep_r2 or len(keep) - len(worst) < min_features
        dropped = [] if done else [names[keep[i]] for i in worst]
        rounds.append(EliminationRound([names[i] for i in keep], r2, accuracy, dropped))
        if done:
            return rounds
        keep = np.delete(keep, worst)
