"""Anomaly detection with a VAE: scores, protocols, quantile thresholds and their metrics.

A VAE trained on "normal" images explains them well; an image unlike them gets a poor score.
The threshold is a quantile q of the scores of held-out *normal* images (calibration), so
1 − q is the false-alarm rate you accept on normal data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import (
    average_precision_score,
    classification_report,
    confusion_matrix,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from vae.data import to_float
from vae.losses import elbo_terms, importance_sampled_log_likelihood, reconstruction_nll
from vae.models import VAE, VAEConfig

Method = Literal["ink", "blurred_ink", "shifted_ink", "elbo", "shifted_elbo", "recon", "iwae", "head", "combined"]
METHODS: dict[str, str] = {
    "ink": "reconstruction error per unit of ink",
    "blurred_ink": "blurred ink error (forgives a stroke a pixel off)",
    "shifted_ink": "blurred ink error averaged over the digit moved a pixel (forgives where it sits)",
    "elbo": "negative ELBO (reconstruction + KL)",
    "shifted_elbo": "negative ELBO of the digit's best placement a pixel apart (forgives where it sits)",
    "recon": "reconstruction error of the posterior mean",
    "iwae": "importance-sampled negative log-likelihood",
    "head": "classifier head's energy (how unlike every known class)",
    "combined": "head's energy + ink error, each in σ of held-out normal images",
}
INK_METHODS = ("ink", "blurred_ink", "shifted_ink")  # fractions of the ink, not nats
# The blur's width in pixels, chosen on a validation split of *training* images (one-class protocol: held-out
# images of the digit against other digits' training images; bench.novelty --split validation), never the test set.
INK_BLUR_SIGMA = 1.0
# Where "shifted_ink" moves an image (rows, columns): nowhere, and a pixel up, down, left and right. Chosen on the
# validation split (bench.novelty --split validation, seed 0): these five 0.9930, adding the four diagonal moves
# 0.9930 at nearly twice the cost, every move of up to 2 pixels (25) 0.9890, rotations by ±10° 0.9899.
SHIFTS = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))
# Where "shifted_elbo" tries an image: every placement at most a pixel away, diagonals too. As a CVAE's class
# score (the lowest of the nine) it names more MNIST test digits right than the −ELBO (bench.generative_classifier's
# recipe, 3 seeds: 98.84% vs 98.55%); screened on one model, the five moves gave 98.94%, the nine's mean 98.61%.
PLACEMENTS = tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
# A pixel is a small move on MNIST's 28 × 28 but an eighth of scikit-learn's 8 × 8 digits, which a model
# trained on centred digits no longer recognises moved (they then score worse than noise): smaller images
# are not offered the shifted scores.
SHIFTED_MIN_SIDE = 28
SHIFTED_METHODS = ("shifted_ink", "shifted_elbo")


def is_calibrated(model: VAE) -> bool:
    """Whether a model's "combined" score has its scale (`calibrate_combined` ran after training)."""
    return bool(model.config.head_classes) and bool((model.novelty_norms[:, 1] > 0).all())


def methods_for(model: VAE | VAEConfig) -> list[str]:
    """The score methods a model offers: "head" only with a classifier head, "combined" only once it is calibrated,
    the shifted scores only on images of at least `SHIFTED_MIN_SIDE` pixels a side.

    Given a config (a recipe, before training), "combined" counts as offered wherever a head is.
    """
    config = model if isinstance(model, VAEConfig) else model.config
    offered = set(METHODS) - {"head", "combined"}
    if min(config.image_shape[1:]) < SHIFTED_MIN_SIDE:
        offered -= set(SHIFTED_METHODS)
    if config.head_classes:
        offered.add("head")
        if isinstance(model, VAEConfig) or is_calibrated(model):
            offered.add("combined")
    return [m for m in METHODS if m in offered]


def score_unit(method: Method) -> str:
    """What a method's scores measure."""
    if method in INK_METHODS:
        return "fraction of the ink"
    return "σ" if method == "combined" else "nats"


def format_score(value: float, method: Method) -> str:
    """A score with its unit: a fraction for the ink scores, σ for "combined", nats for the likelihood-based ones."""
    if method in INK_METHODS:
        return f"{value:.3f}"
    return f"{value:.2f} σ" if method == "combined" else f"{value:.1f} nats"


def ink_relative_error(x: torch.Tensor, reconstruction: torch.Tensor) -> torch.Tensor:
    """Σ (x − x̂)² / Σ max(x, x̂) per image: 0 = perfect, 1 = every bit of ink wrong.

    Likelihoods favour simple images: a thin 1 has little ink to get wrong, so it costs few nats
    whatever it is. Dividing by the ink of the image and its reconstruction puts a thin 1 and a
    bold 8 on one scale; the denominator stays away from 0 because a reconstruction is never blank.
    """
    dims = tuple(range(1, x.dim()))
    error = ((x - reconstruction) ** 2).sum(dims)
    return error / torch.maximum(x, reconstruction).sum(dims).clamp_min(1e-6)


def gaussian_blur(x: torch.Tensor, sigma: float = INK_BLUR_SIGMA) -> torch.Tensor:
    """Images [N, C, H, W] blurred by a Gaussian of `sigma` pixels (same size; zero padding).

    Written here rather than taken from torchvision: importing it costs the app's server ~160 MB.
    """
    radius = max(1, round(2 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-(offsets**2) / (2 * sigma**2))
    kernel = (kernel / kernel.sum()).repeat(x.shape[1], 1, 1, 1)  # one kernel per channel
    rows = F.conv2d(x, kernel.reshape(-1, 1, 1, len(offsets)), padding=(0, radius), groups=x.shape[1])
    return F.conv2d(rows, kernel.reshape(-1, 1, len(offsets), 1), padding=(radius, 0), groups=x.shape[1])


def blurred_ink_error(x: torch.Tensor, reconstruction: torch.Tensor) -> torch.Tensor:
    """`ink_relative_error` of the image and its reconstruction both blurred by `INK_BLUR_SIGMA` pixels.

    A stroke drawn a pixel beside where the model puts it costs the plain ink score twice (ink missing
    here, extra ink there) although the digit is the same; blurred, the two strokes overlap and cost
    little, while a stroke that is not there at all still costs its whole ink.
    """
    return ink_relative_error(gaussian_blur(x), gaussian_blur(reconstruction))


def shift(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Images [N, C, H, W] moved `dy` pixels down and `dx` right (|dy|, |dx| ≤ 1); what comes in is blank."""
    padded = F.pad(x, (1, 1, 1, 1))
    height, width = x.shape[-2:]
    return padded[..., 1 - dy : 1 - dy + height, 1 - dx : 1 - dx + width]


def shifted_ink_error(model: VAE, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """`blurred_ink_error` of x and its reconstruction, averaged over x moved to each of the five `SHIFTS`.

    A test-time augmentation: a digit of the trained kind is reconstructed well wherever it sits a pixel
    away, while one of another kind is reconstructed badly in every place, so the average keeps the
    difference and loses the luck of one reconstruction. Five reconstructions per image instead of one.
    """
    moved = [shift(x, dy, dx) for dy, dx in SHIFTS]
    return torch.stack([blurred_ink_error(xs, model.reconstruct(xs, y)) for xs in moved]).mean(0)


def shifted_elbo(
    model: VAE, x: torch.Tensor, y: torch.Tensor | None = None, generator: torch.Generator | None = None
) -> torch.Tensor:
    """The lowest negative ELBO of x placed at each of the nine `PLACEMENTS` (one z sample each).

    A digit drawn a pixel off the centre the training digits share is judged where it fits best, so a
    CVAE's classes compete on shape, not on position. Nine ELBOs per image instead of one.
    """
    return torch.stack([elbo_terms(model, shift(x, dy, dx), y, generator).total for dy, dx in PLACEMENTS]).amin(0)


def head_energy(model: VAE, x: torch.Tensor) -> torch.Tensor:
    """A classifier head's energy −log Σ_c exp(logit_c) per image, in nats (higher = no known class fits)."""
    return -torch.logsumexp(model.class_logits(x), 1)


def combined_parts(model: VAE, x: torch.Tensor) -> torch.Tensor:
    """The "combined" score's parts per image, [N, 2]: the head's energy and the ink score (`novelty_norms`' rows)."""
    return torch.stack([head_energy(model, x), ink_relative_error(x, model.reconstruct(x))], 1)


def default_calibration_images(train_images: int) -> int:
    """How many training images a classifier-head model sets aside to calibrate "combined": 5,000, or a tenth."""
    return max(1, min(5000, train_images // 10))


@torch.no_grad()
def calibrate_combined(model: VAE, normal: torch.Tensor) -> None:
    """Give a head model's "combined" score its scale: each part's mean and sd on held-out normal float images
    (images the model did not train on: on its own training images the head is overconfident)."""
    if not model.config.head_classes:
        raise ValueError("only a VAE with a classifier head has a combined score")
    if len(normal) < 2:
        raise ValueError("calibrating the combined score needs at least 2 held-out images")
    parts = torch.cat([combined_parts(model, normal[i : i + 500]) for i in range(0, len(normal), 500)])
    model.novelty_norms.copy_(torch.stack([parts.mean(0), parts.std(0).clamp_min(1e-6)], 1))


@torch.no_grad()
def anomaly_scores(
    model: VAE,
    x: torch.Tensor,
    y: torch.Tensor | int | None = None,
    method: Method = "elbo",
    k: int = 50,
    batch_size: int = 500,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> torch.Tensor:
    """Score float images [N, C, H, W] in [0, 1] → [N], higher = more anomalous.

    - "ink": the squared reconstruction error of the posterior mean per unit of ink (a fraction);
    - "blurred_ink": the same of both images blurred by a pixel: a stroke a pixel off is no anomaly;
    - "shifted_ink": "blurred_ink" averaged over the image as it is and moved a pixel each way (5 times slower);
    - "recon": −log p(x | z = μ(x)), the reconstruction error of the posterior mean;
    - "elbo": the negative ELBO (one z sample; reconstruction + KL);
    - "shifted_elbo": the lowest "elbo" of the image placed at most a pixel away each way (9 times slower);
    - "iwae": −log p(x) estimated with `k` importance samples (tighter, k times slower);
    - "head": a VAE with a classifier head's energy −log Σ_c exp(logit_c), in nats: low when the head
      is sure of some class it was taught, high when no class fits (Liu et al. 2020, energy-based OOD);
    - "combined": "head" + "ink", each standardised by its mean and sd on held-out normal images
      (`calibrate_combined`): the head catches a new digit that looks like a known one (a 9 for a 4),
      the ink score one that the head confidently mistakes for a known class.
    For a conditional model `y` is the class each image is tested against. `progress`, if given, is
    called with the fraction done after every batch.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if method == "combined" and not is_calibrated(model):
        raise ValueError(
            "the combined score needs a model with a classifier head, calibrated after training (the CLI's "
            "`--model classifier` does it on held-out training images)"
        )
    if model.config.conditional and y is not None:
        y = torch.as_tensor(y, dtype=torch.long).reshape(-1).expand(len(x))
    generator = torch.Generator().manual_seed(seed)  # the scores' own noise: never the global RNG
    scores = []
    for start in range(0, len(x), batch_size):
        xb = x[start : start + batch_size]
        yb = None if y is None else y[start : start + batch_size]
        if method == "ink":
            scores.append(ink_relative_error(xb, model.reconstruct(xb, yb)))
        elif method == "blurred_ink":
            scores.append(blurred_ink_error(xb, model.reconstruct(xb, yb)))
        elif method == "shifted_ink":
            scores.append(shifted_ink_error(model, xb, yb))
        elif method == "recon":
            scores.append(reconstruction_nll(model, model.reconstruction_logits(xb, yb), xb))
        elif method == "head":
            scores.append(head_energy(model, xb))
        elif method == "combined":
            mean, sd = model.novelty_norms.unbind(1)
            scores.append(((combined_parts(model, xb) - mean) / sd).sum(1))
        elif method == "elbo":
            scores.append(elbo_terms(model, xb, yb, generator=generator).total)
        elif method == "shifted_elbo":
            scores.append(shifted_elbo(model, xb, yb, generator))
        else:
            scores.append(-importance_sampled_log_likelihood(model, xb, yb, k=k, generator=generator))
        if progress is not None:
            progress(min(1.0, (start + len(xb)) / len(x)))
    return torch.cat(scores) if scores else torch.zeros(0)


@torch.no_grad()
def class_score_matrix(
    model: VAE,
    x: torch.Tensor,
    method: Method = "elbo",
    k: int = 50,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> torch.Tensor:
    """A conditional model's score of every image under every class → [N, num_classes].

    An ensemble's (`VAEConfig.members`) is the mean of its networks' scores, each drawn with the same seed.
    """
    if not model.config.conditional:
        raise ValueError("class scores need a conditional model")
    networks = model.networks()
    parts = len(networks) * model.config.num_classes

    def for_part(part: int) -> Callable[[float], None] | None:
        return None if progress is None else lambda done: progress((part + done) / parts)

    classes = range(model.config.num_classes)
    return torch.stack(
        [
            torch.stack(
                [
                    anomaly_scores(net, x, c, method, k=k, seed=seed, progress=for_part(m * len(classes) + c))
                    for c in classes
                ],
                1,
            )
            for m, net in enumerate(networks)
        ]
    ).mean(0)


# The scores a conditional model's card measures it as a classifier by (the CLI; "shifted_elbo" where offered).
CLASSIFIER_METHODS = ("elbo", "shifted_elbo")


def generative_accuracy_key(method: str) -> str:
    """Where a model card's metrics keep a conditional model's test accuracy as a classifier by `method`."""
    return "test_generative_accuracy" if method == "elbo" else f"test_generative_accuracy_{method}"


def generative_accuracy(model: VAE, images: torch.Tensor, labels: torch.Tensor, method: Method = "elbo") -> float:
    """A conditional model as a classifier: how often the class whose score explains a uint8 image best is its label."""
    return (class_score_matrix(model, to_float(images), method).argmin(1) == labels).float().mean().item()


@torch.no_grad()
def novelty_scores(
    model: VAE,
    x: torch.Tensor,
    method: Method = "elbo",
    classes: Sequence[int] | None = None,
    k: int = 50,
    seed: int = 0,
) -> np.ndarray:
    """How novel each float image [N, C, H, W] is → [N], higher = more anomalous.

    An unconditional model gives its plain score. A conditional one gives the best (lowest) score over
    `classes` (default: every class it knows): an image is novel when no known class explains it.
    """
    if not model.config.conditional:
        if classes is not None:
            raise ValueError("classes are for a conditional model; an unconditional one has none")
        return anomaly_scores(model, x, None, method, k=k, seed=seed).numpy()
    known = list(range(model.config.num_classes)) if classes is None else [int(c) for c in classes]
    if not known or any(not 0 <= c < model.config.num_classes for c in known):
        raise ValueError(f"classes must be a non-empty list of classes from 0 to {model.config.num_classes - 1}")
    return class_score_matrix(model, x, method, k, seed)[:, known].min(1).values.numpy()


def relative_to_best_other(matrix: np.ndarray, reference_class: int) -> np.ndarray:
    """How much worse `reference_class` explains each image than the best of the *other* classes.

    Negative when c explains the image best (the more negative, the clearer), positive when another
    class explains it better. Raw scores favour simple images (a thin 1 is cheap to explain under
    any label); the difference cancels the image's own complexity and leaves only the label's fit.
    Comparing with the other classes, not with all of them, keeps the scores continuous: most
    normal images would otherwise tie at exactly 0 and a quantile threshold could not split them.
    """
    others = np.delete(matrix, reference_class, axis=1)
    return matrix[:, reference_class] - others.min(axis=1)


def scores_for_class(matrix: np.ndarray, reference_class: int, relative: bool = True) -> np.ndarray:
    """The class-conditional score "is this a c?": relative to the best other class, or raw."""
    return relative_to_best_other(matrix, reference_class) if relative else matrix[:, reference_class]


@torch.no_grad()
def head_report(
    model: VAE, images: torch.Tensor, labels: torch.Tensor, novel_images: torch.Tensor | None = None
) -> dict[str, float]:
    """A classifier head's test accuracy on uint8 `images` of its classes; with `novel_images` (classes it never
    saw) also the AUROC of telling them from `images` by the head's energy, by "ink" and (calibrated) by both."""
    x = to_float(images)
    predicted = torch.cat([model.class_logits(x[i : i + 1000]).argmax(1) for i in range(0, len(x), 1000)])
    report = {"test_head_accuracy": (predicted == labels).float().mean().item()}
    if novel_images is not None:
        both = torch.cat([x, to_float(novel_images)])
        is_novel = np.r_[np.zeros(len(x), bool), np.ones(len(novel_images), bool)]
        for method in (m for m in methods_for(model) if m in ("ink", "head", "combined")):
            auroc = roc_auc_score(is_novel, anomaly_scores(model, both, None, method).numpy())
            report[f"test_novelty_auroc_{method}"] = float(auroc)
    return report


@dataclass
class ScoredSet:
    """Scores of one protocol: calibration (normal, held out) and evaluation (normal + anomalies)."""

    calibration: np.ndarray  # scores of normal images used only to set thresholds
    scores: np.ndarray  # evaluated images
    is_anomaly: np.ndarray  # bool, per evaluated image
    groups: np.ndarray  # str per evaluated image: "normal", "anomaly" or "noise"
    labels: np.ndarray  # original class per evaluated image (-1 for noise)
    description: str


def split_calibration(n: int, fraction: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle indices 0..n-1 into (calibration, evaluation) parts."""
    order = np.random.default_rng(seed).permutation(n)
    cut = round(n * fraction)
    return order[:cut], order[cut:]


def noise_images(n: int, shape: tuple[int, int, int], seed: int = 0) -> torch.Tensor:
    """Uniform-noise images, the "random" group of the Keras lab."""
    return torch.rand(n, *shape, generator=torch.Generator().manual_seed(seed))


def split_protocol(
    scores: np.ndarray,
    labels: np.ndarray,
    normal_classes: list[int],
    noise_scores: np.ndarray | None = None,
    description: str = "",
    seed: int = 0,
) -> ScoredSet:
    """Arrange one score per test image into a protocol.

    Images of `normal_classes` are normal, all others anomalies; half of the normal images
    (seeded) calibrate the threshold and are not evaluated. `noise_scores` join the anomalies.
    """
    normal_mask = np.isin(labels, normal_classes)
    if not normal_mask.any() or normal_mask.all():
        raise ValueError("the protocol needs both normal and anomalous images")
    normal_idx = np.flatnonzero(normal_mask)
    calib_part, eval_part = split_calibration(len(normal_idx), seed=seed)
    eval_idx = np.concatenate([normal_idx[eval_part], np.flatnonzero(~normal_mask)])
    evaluated = scores[eval_idx]
    groups = np.where(normal_mask[eval_idx], "normal", "anomaly")
    eval_labels = labels[eval_idx]
    if noise_scores is not None and len(noise_scores):
        evaluated = np.concatenate([evaluated, noise_scores])
        groups = np.concatenate([groups, np.full(len(noise_scores), "noise")])
        eval_labels = np.concatenate([eval_labels, np.full(len(noise_scores), -1)])
    return ScoredSet(scores[normal_idx[calib_part]], evaluated, groups != "normal", groups, eval_labels, description)


def raw_scores(
    model: VAE,
    x: torch.Tensor,
    method: Method = "elbo",
    k: int = 50,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """Every image's score: [N], or for a conditional model [N, num_classes], its score under every class.

    The expensive step of a protocol: compute it once per model and method (the app caches it), then
    `arrange_protocol` any choice of normal classes or reference class from it, instantly.
    """
    if model.config.conditional:
        return class_score_matrix(model, x, method, k, seed, progress).numpy()
    return anomaly_scores(model, x, None, method, k=k, seed=seed, progress=progress).numpy()


def arrange_protocol(
    scores: np.ndarray,
    labels: np.ndarray,
    normal_classes: list[int],
    reference_class: int | None = None,
    relative: bool = True,
    noise_scores: np.ndarray | None = None,
    seed: int = 0,
) -> ScoredSet:
    """`raw_scores` of a labelled test set (and of noise images, if any) → one protocol's ScoredSet.

    A conditional model's score matrix is read as "is this a c?" for `reference_class`, by default
    relative to the best other class (see `relative_to_best_other`).
    """
    if scores.ndim == 2:
        if reference_class is None:
            raise ValueError("a conditional model needs the reference class each image is tested against")
        scores = scores_for_class(scores, reference_class, relative)
        noise_scores = None if noise_scores is None else scores_for_class(noise_scores, reference_class, relative)
        description = f"normal: class {reference_class}; every image tested as a {reference_class}"
        description += " (relative to its best other class)" if relative else ""
    else:
        description = f"normal classes {', '.join(map(str, normal_classes))}"
    return split_protocol(scores, labels, normal_classes, noise_scores, description, seed)


def score_protocol(
    model: VAE,
    images: torch.Tensor,
    labels: torch.Tensor,
    normal_classes: list[int],
    reference_class: int | None = None,
    method: Method = "elbo",
    noise: int = 0,
    k: int = 50,
    seed: int = 0,
    relative: bool = True,
) -> ScoredSet:
    """Score a labelled test set (uint8 images) under one protocol, in one call: `raw_scores`, then
    `arrange_protocol`. `noise` adds that many uniform-noise images to the anomalies."""
    scores = raw_scores(model, to_float(images), method, k, seed)
    noise_scores = (
        raw_scores(model, noise_images(noise, model.config.image_shape, seed), method, k, seed) if noise else None
    )
    return arrange_protocol(scores, labels.numpy(), normal_classes, reference_class, relative, noise_scores, seed)


def is_flagged(score: np.ndarray | float, threshold: float) -> np.ndarray | bool:
    """The threshold rule, everywhere: a score strictly above the threshold is an anomaly."""
    return score > threshold


def quantile_threshold(calibration_scores: np.ndarray, q: float) -> float:
    """The score below which a fraction q of normal calibration images fall."""
    if not 0 < q < 1:
        raise ValueError(f"the quantile must lie strictly between 0 and 1, got {q}")
    if len(calibration_scores) == 0:
        raise ValueError("no calibration scores")
    return float(np.quantile(calibration_scores, q))


def flagging_quantile(calibration_scores: np.ndarray, score: float) -> float:
    """The q at which `score` meets the threshold: it is flagged for every q below this, normal above.

    The inverse of `quantile_threshold` (linear interpolation between sorted calibration scores), so it
    says where an image stands among normal images without choosing a threshold first.
    """
    if len(calibration_scores) == 0:
        raise ValueError("no calibration scores")
    ranked = np.sort(np.asarray(calibration_scores, dtype=np.float64))
    return float(np.interp(score, ranked, np.linspace(0.0, 1.0, len(ranked))))


def conformal_p_value(calibration_scores: np.ndarray, score: float) -> float:
    """The share of normal calibration images that score at least as badly, counting this one (Vovk et al.).

    (1 + #{calibration ≥ score}) / (n + 1): flagging when p ≤ 1 − q is, up to interpolation, the q-quantile rule.
    """
    calibration_scores = np.asarray(calibration_scores)
    if len(calibration_scores) == 0:
        raise ValueError("no calibration scores")
    return float((1 + np.sum(calibration_scores >= score)) / (len(calibration_scores) + 1))


@dataclass
class Operating:
    """What a threshold does on the evaluated images."""

    threshold: float
    predicted: np.ndarray  # bool: flagged as anomalous
    confusion: np.ndarray  # 2×2: rows truth (normal, anomaly), columns prediction
    report: dict  # sklearn classification_report(output_dict=True)
    false_positive_rate: float
    true_positive_rate: float


def operating_point(scored: ScoredSet, threshold: float) -> Operating:
    """Predictions, confusion matrix and classification report at one threshold."""
    predicted = is_flagged(scored.scores, threshold)
    truth = scored.is_anomaly
    confusion = confusion_matrix(truth, predicted, labels=[False, True])
    report = classification_report(
        truth, predicted, labels=[False, True], target_names=["normal", "anomaly"], output_dict=True, zero_division=0
    )
    (tn, fp), (fn, tp) = confusion
    return Operating(threshold, predicted, confusion, report, fp / max(tn + fp, 1), tp / max(tp + fn, 1))


def best_f1_threshold(scored: ScoredSet) -> tuple[float, float]:
    """The threshold with the highest F1 on the evaluated images → (threshold, F1).

    It needs the anomalies' labels, which a real deployment does not have: a reference point for how
    far the label-free quantile threshold is from the best one could do, not a way to choose it.
    """
    precision, recall, thresholds = precision_recall_curve(scored.is_anomaly, scored.scores)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    best = int(np.argmax(f1))
    # precision_recall_curve counts a score >= threshold as flagged; is_flagged wants > threshold:
    # step just below the chosen score so both rules flag the same images.
    return float(np.nextafter(thresholds[best], -np.inf)), float(f1[best])


@dataclass
class Curves:
    """Threshold-free quality: ROC and precision-recall curves with their areas."""

    fpr: np.ndarray
    tpr: np.ndarray
    auroc: float
    precision: np.ndarray
    recall: np.ndarray
    average_precision: float


def curves(scored: ScoredSet) -> Curves:
    fpr, tpr, _ = roc_curve(scored.is_anomaly, scored.scores)
    precision, recall, _ = precision_recall_curve(scored.is_anomaly, scored.scores)
    return Curves(
        fpr,
        tpr,
        float(roc_auc_score(scored.is_anomaly, scored.scores)),
        precision,
        recall,
        float(average_precision_score(scored.is_anomaly, scored.scores)),
    )
