"""Streamlit glue for the anomaly lab: cached protocol scores and scoring one drawn digit."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch
import torch.nn.functional as F

from ui.data import test_set
from ui.models import ModelEntry
from vae.anomaly import (
    METHODS,
    ScoredSet,
    arrange_protocol,
    conformal_p_value,
    flagging_quantile,
    format_score,
    generative_accuracy_key,
    noise_images,
    raw_scores,
    scores_for_class,
)
from vae.data import to_float
from vae.plots import error_heatmap, image_grid

NOISE_IMAGES = 1000
Q_RANGE = (0.80, 0.999)  # the quantile slider's range


def canvas_key() -> str:
    """The drawing canvas's widget key; a new key is a new, empty canvas."""
    return f"canvas_{st.session_state.setdefault('canvas_version', 0)}"


CANVAS_PX = 280  # the drawing square's side: 10 screen pixels per MNIST pixel


def drawing_canvas(key: str):
    """The drawing square, white ink on black like MNIST; its result's `image_data` is what was drawn."""
    from streamlit_drawable_canvas import st_canvas  # declares a component: only inside a running app

    return st_canvas(
        stroke_width=20, stroke_color="#FFFFFF", background_color="#000000", width=CANVAS_PX, height=CANVAS_PX,
        drawing_mode="freedraw", return_image_data=True, key=key,
    )  # fmt: skip


def clear_canvas() -> None:
    """Button callback: swap in an empty canvas."""
    st.session_state.canvas_version = st.session_state.get("canvas_version", 0) + 1


@st.cache_data(show_spinner=False, max_entries=16)
def test_set_scores(model_id: str, _entry: ModelEntry, method: str, k: int, noise: bool) -> np.ndarray:
    """`vae.anomaly.raw_scores` of every test image (or of the noise images), cached per model and method.

    The first time, a progress bar says how far it is (the importance-sampled score of a conditional model
    takes minutes on a CPU); it is removed when done, so a cached result shows nothing.
    """
    model = _entry.model
    if noise:
        x = noise_images(NOISE_IMAGES, model.config.image_shape)
    else:
        images, _, _ = test_set(_entry)
        x = to_float(images)
    what = f"Scoring {len(x):,} {'noise' if noise else 'test'} images by {METHODS[method]} (once per model and score)"
    started = time.perf_counter()
    bar = st.progress(0.0, what + "…")

    def show(done: float) -> None:
        elapsed = time.perf_counter() - started
        left = f", about {elapsed / done - elapsed:.0f} s left" if done > 0.02 and elapsed > 2 else ""
        bar.progress(done, f"{what}: {done:.0%}{left}")

    scores = raw_scores(model, x, method, k, progress=show)
    bar.empty()
    return scores


def scored_protocol(
    entry: ModelEntry,
    normal_classes: list[int],
    reference_class: int | None,
    method: str,
    noise: bool,
    relative: bool,
    k: int = 50,
) -> ScoredSet:
    """The protocol's scores, arranged from the cached test-set scores, so switching protocol is instant."""
    _, labels, _ = test_set(entry)
    scores = test_set_scores(entry.id, entry, method, k, False)
    noise_scores = test_set_scores(entry.id, entry, method, k, True) if noise else None
    return arrange_protocol(scores, labels.numpy(), normal_classes, reference_class, relative, noise_scores)


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
def score_probe(
    entry: ModelEntry, digit: torch.Tensor, reference_class: int | None, method: str, relative: bool, k: int = 50
) -> Probe:
    """Score one digit the way the protocol scores the test set (relative to its best other class if asked)."""
    model = entry.model
    x = fit_to_model(digit, model.config.image_shape)
    y = None if reference_class is None else torch.tensor([reference_class])
    mu, _ = model.encode(x, y)
    reconstruction = model.reconstruct(x, y)
    scores = raw_scores(model, x, method, k)  # the test set's pipeline, on one image
    if model.config.conditional:
        class_scores = scores[0].tolist()
        score = float(scores_for_class(scores, reference_class, relative)[0])
    else:
        class_scores, score = None, float(scores[0])
    error = ((x - reconstruction) ** 2).mean(1)[0].numpy()
    return Probe(x, reconstruction, error, score, mu[0].numpy(), class_scores)


HEAD_SCORE_NAMES = {"head": "head", "ink": "ink", "combined": "head + ink"}


def standing_text(score: float, calibration: np.ndarray, method: str, q_range: tuple[float, float]) -> str:
    """Where a digit's score stands among the normal calibration scores, and its verdict for every q at once."""
    q_star = flagging_quantile(calibration, score)
    text = f"Your digit scores {format_score(score, method)}, stranger than {q_star:.1%} of the normal calibration "
    text += "images: "
    if q_star > q_range[1]:  # flagged at q exactly when q < q_star
        return text + "an **anomaly** at every q."
    if q_star <= q_range[0]:
        return text + "**normal** at every q."
    return text + f"an **anomaly** for any q below {q_star:.3f}, **normal** from there up."


def head_scores_text(meta: dict) -> str:
    """What a classifier-head model's scores catch, with the AUROCs its training measured (its model card's)."""
    text = (
        "This model was also taught to tell its classes apart (a classifier head on its encoder). A reconstruction "
        "score forgives a new digit that looks like a known one, a 9 redrawn as a 4; the head is unsure of it, "
        "because it fits none of the classes well. Head + ink adds both, each in standard deviations of normal "
        "images: better on average over the digits a model can miss, worse on look-alikes such as the 9s."
    )
    metrics = meta.get("metrics", {})
    measured = [(name, metrics.get(f"test_novelty_auroc_{m}")) for m, name in HEAD_SCORE_NAMES.items()]
    if all(isinstance(v, float) for _, v in measured):
        text += (
            " On its test set, the classes it never saw against the others, AUROC: "
            + ", ".join(f"{name} {v:.3f}" for name, v in measured)
            + " (its model card)."
        )
    return text


def class_guess_text(guess: str, meta: dict, method: str, better: tuple[str, dict] | None = None) -> str:
    """A conditional model's guess for a digit by `method`, with how often such guesses are right (its model card's
    figure for that score, else its −ELBO's, said so).

    `better`: (name, meta) of a shipped model to point to if it names more of the same test set right.
    """
    members = meta.get("members")
    networks = f" by each of its {len(members)} networks (their mean)" if isinstance(members, list) else ""
    text = f"Scored under every class{networks}, the model explains it best as a **{guess}**"
    metrics = meta.get("metrics", {})
    key = generative_accuracy_key(method)
    way = "this way"
    if not isinstance(metrics.get(key), float):
        key, way = generative_accuracy_key("elbo"), "by its −ELBO"
    accuracy = metrics.get(key)
    if not isinstance(accuracy, float):
        return text + ":"
    text += f" ({way} it names {accuracy:.1%} of its test set right"
    same_data = better is not None and better[1].get("dataset") == meta.get("dataset")
    other = better[1].get("metrics", {}).get(key) if same_data else None
    if isinstance(other, float) and other > accuracy:
        text += f"; **{better[0]}** names {other:.1%}"
    return text + "):"


def conformal_text(score: float, calibration: np.ndarray, q: float) -> str:
    """The same verdict read as a conformal p-value, with the guarantee it carries."""
    n = len(calibration)
    as_bad = int(np.sum(np.asarray(calibration) >= score))
    p = conformal_p_value(calibration, score)
    return (
        f"**Conformal reading**: p-value = (1 + {as_bad:,} calibration scores at least as high) / ({n:,} + 1) = "
        f"**{p:.3f}**; flag when p ≤ 1 − q = {1 - q:.3f} (up to interpolation, the threshold's rule): "
        f"{'**flagged**' if p <= 1 - q else '**not flagged**'}. The guarantee: on normal images like the calibration "
        f"images, this rule raises a false alarm at most {1 - q:.1%} of the time, whatever the model."
    )


def show_pictures(probe: Probe, width_px: int = 140) -> None:
    """What the model sees, its reconstruction and where they differ, side by side with crisp pixels."""
    scale = max(1, width_px // probe.image.shape[-1])
    width = scale * probe.image.shape[-1]
    heat = error_heatmap(probe.error, max(0.05, float(probe.error.max())), scale)
    row = st.container(horizontal=True)  # side by side, wrapping onto a second row when the page is narrow
    for picture, caption in (
        (image_grid(probe.image, scale=scale), "what the model sees"),
        (image_grid(probe.reconstruction, scale=scale), "its reconstruction"),
        (heat, "where they differ (squared error)"),
    ):
        row.image(picture, caption=caption, width=width)


def show_report(report: dict) -> None:
    """sklearn's classification report (as a dict) as a table, and the accuracy under it."""
    st.markdown("**Classification report** (evaluated images)")
    columns = ("precision", "recall", "f1-score", "support")
    rows = ("normal", "anomaly", "macro avg", "weighted avg")
    st.dataframe(
        {"": list(rows), **{k: [report[r][k] for r in rows] for k in columns}},
        hide_index=True,
        column_config={k: st.column_config.NumberColumn(format="%.3f") for k in columns[:3]},
    )
    st.caption(f"Accuracy {report['accuracy']:.3f}")
