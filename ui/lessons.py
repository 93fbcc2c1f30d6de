"""Lessons: short explanations beside live parts of the app, on the shipped models.

A lesson is a few steps. A step is an explanation (≤ 120 words), a live element (`show`), a "try
this" prompt and a question with a hidden answer. `show` draws the element and returns the link
that opens the full page in the same state: (page, query parameters).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch
from sklearn.metrics import roc_auc_score

from ui.anomaly import CANVAS_PX, drawing_canvas, scored_protocol, test_set_scores
from ui.data import encoded_test_set, test_set
from ui.images import show_grid
from ui.latent import clustering_score, decode_point
from ui.models import ModelEntry, shipped_entry, shipped_names
from vae.anomaly import (
    ScoredSet,
    conformal_p_value,
    curves,
    flagging_quantile,
    is_flagged,
    operating_point,
    quantile_threshold,
)
from vae.data import to_float
from vae.generation import class_table, sample_grid
from vae.latent import interpolate, manifold
from vae.losses import elbo_terms, importance_sampled_log_likelihood
from vae.plots import add_posterior_ellipse, latent_scatter
from vae.preprocess import BlankImageError, drawing_to_mnist

Link = tuple[str, dict[str, str]]  # (page file, query parameters)
EXPLORE, GENERATE, ANOMALY, COMPARE = (
    "app_pages/explore.py",
    "app_pages/generate.py",
    "app_pages/anomaly.py",
    "app_pages/compare.py",
)
BETA_MODELS = ("mnist_ae", "mnist_z2", "mnist_beta4")  # β = 0, 1, 4: lesson 3


@dataclass(frozen=True)
class Step:
    title: str
    text: str  # markdown, at most 120 words
    show: Callable[[str], Link]  # draws the live element (widget keys start with the argument)
    try_this: str
    question: str
    answer: str


@dataclass(frozen=True)
class Lesson:
    slug: str  # the `lesson=` URL value: stable
    title: str
    steps: tuple[Step, ...]


# --- helpers for the live elements --------------------------------------------------------------------
def _model(name: str) -> ModelEntry | None:
    if name not in shipped_names():
        st.info(f"This step needs the shipped model `{name}`, which this copy of VAE Lab does not have.")
        return None
    return shipped_entry(name)


def _digit(key: str, default: int, narrow: bool = True) -> int:
    """A test-digit chooser (a third of the width unless already inside a column)."""
    where = st.columns(3)[0] if narrow else st
    chosen = where.number_input("Test digit #", 0, 9_999, default, key=key, help="Any of the 10,000 MNIST test images")
    return int(chosen)


def _scatter(entry: ModelEntry, height: int = 380) -> go.Figure:
    _, labels, _ = test_set(entry)
    mu, _ = encoded_test_set(entry.id, entry)
    fig = latent_scatter(mu, labels.numpy(), [str(c) for c in range(10)], marker_size=3)
    fig.update_layout(height=height, legend={"font": {"size": 11}})
    return fig


def _link_explore(model: str, **params: object) -> Link:
    return EXPLORE, {"model": model, **{k: str(v) for k, v in params.items()}}


# --- lesson 1: the latent space ---------------------------------------------------------------------------
def _every_digit_is_a_point(key: str) -> Link:
    entry = _model("mnist_z2")
    if entry:
        st.plotly_chart(_scatter(entry), key=f"{key}_scatter")
    return _link_explore("mnist_z2")


def _every_point_is_a_digit(key: str) -> Link:
    entry = _model("mnist_z2")
    n = st.slider("Grid size", 5, 20, 12, key=f"{key}_n")
    if entry:
        show_grid(manifold(entry.model, n), nrow=n, target_px=max(14, 360 // n))
    return _link_explore("mnist_z2", n=n)


def _one_digit(key: str) -> Link:
    entry = _model("mnist_z2")
    index = _digit(f"{key}_digit", 7)
    if entry:
        images, labels, _ = test_set(entry)
        mu, logvar = encoded_test_set(entry.id, entry)
        fig = add_posterior_ellipse(_scatter(entry, 340), mu[index], logvar[index], f"#{index}")
        left, right = st.columns([3, 2])
        left.plotly_chart(fig, key=f"{key}_scatter")
        x = to_float(images[index : index + 1])
        right.image(x[0, 0].numpy(), caption=f"test #{index}: a {int(labels[index])}", width=112, clamp=True)
        right.image(entry.model.reconstruct(x)[0, 0].numpy(), caption="its reconstruction", width=112, clamp=True)
        right.caption(f"μ = ({mu[index][0]:.2f}, {mu[index][1]:.2f})")
    return _link_explore("mnist_z2", digit=index)  # the explorer decodes the chosen digit's code


def _walk(key: str) -> Link:
    entry = _model("mnist_z2")
    a, b = st.columns(2)
    start = int(a.number_input("From test digit #", 0, 9_999, 3, key=f"{key}_from"))
    end = int(b.number_input("To test digit #", 0, 9_999, 2, key=f"{key}_to"))
    if entry:
        mu, _ = encoded_test_set(entry.id, entry)
        path = interpolate(entry.model, torch.from_numpy(mu[start]), torch.from_numpy(mu[end]), 10)
        show_grid(path, nrow=10, target_px=48)
    return _link_explore("mnist_z2", **{"from": start, "to": end})


# --- lesson 2: the ELBO and the reparameterization trick ---------------------------------------------------
def _posterior(key: str) -> Link:
    entry = _model("mnist_z2")
    drawn = st.radio("Digit", ["a test digit", "one you draw"], horizontal=True, key=f"{key}_source") != "a test digit"
    x, label, link = None, "", _link_explore("mnist_z2")
    if drawn:
        row = st.container(horizontal=True)
        with row.container(width=CANVAS_PX + 10):  # never narrower than the canvas
            st.space(32)  # the canvas's toolbar slides up into this while the pointer is over the canvas
            canvas = drawing_canvas(f"{key}_canvas")
        try:
            if canvas.image_data is None:
                raise BlankImageError("nothing drawn")
            x, label = drawing_to_mnist(canvas.image_data, canvas=True), "your digit"
        except BlankImageError:
            st.info("Draw a digit in the black square (white ink, like MNIST): its q(z|x) appears here.")
        where = row.container(width="stretch")
        link = ANOMALY, {"model": "mnist_z2"}  # the full page where a drawing is scored
    else:
        index = _digit(f"{key}_digit", 0)
        where, label, link = st, f"#{index}", _link_explore("mnist_z2", digit=index)
        if entry:
            images, _, _ = test_set(entry)
            x = to_float(images[index : index + 1])
    if entry and x is not None:
        with torch.no_grad():
            mu, logvar = (t[0].numpy() for t in entry.model.encode(x))
        sigma = np.exp(0.5 * logvar)
        fig = add_posterior_ellipse(_scatter(entry, 360), mu, logvar, label)
        where.markdown(
            f"q(z | x = {label}) = N(μ, σ²) with **μ = ({mu[0]:.2f}, {mu[1]:.2f})** and "
            f"**σ = ({sigma[0]:.3f}, {sigma[1]:.3f})**: the black ellipse is μ ± 2σ."
        )
        st.plotly_chart(fig, key=f"{key}_scatter")
    return link


def _reparameterize(key: str) -> Link:
    entry = _model("mnist_z2")
    row = st.columns([2, 1], vertical_alignment="bottom")
    with row[0]:
        index = _digit(f"{key}_digit", 0, narrow=False)
    draws_key = f"{key}_draw"
    if row[1].button("Draw ε again", key=f"{key}_again", icon=":material/casino:"):
        st.session_state[draws_key] = st.session_state.get(draws_key, 0) + 1
    seed = st.session_state.get(draws_key, 0)
    if entry:
        images, _, _ = test_set(entry)
        x = to_float(images[index : index + 1])
        with torch.no_grad():
            mu, logvar = entry.model.encode(x)
            eps = torch.randn(6, 2, generator=torch.Generator().manual_seed(seed))
            z = mu + torch.exp(0.5 * logvar) * eps
            decoded = entry.model.decode(z)
        st.dataframe(
            {
                "ε₁": eps[:, 0].numpy(),
                "ε₂": eps[:, 1].numpy(),
                "z₁ = μ₁ + σ₁ε₁": z[:, 0].numpy(),
                "z₂ = μ₂ + σ₂ε₂": z[:, 1].numpy(),
            },
            hide_index=True,
            column_config={
                c: st.column_config.NumberColumn(format="%.3f")
                for c in ("ε₁", "ε₂", "z₁ = μ₁ + σ₁ε₁", "z₂ = μ₂ + σ₂ε₂")
            },
        )
        show_grid(torch.cat([x, decoded]), nrow=7, target_px=56, caption=f"#{index}, then the decoder at each z")
    return _link_explore("mnist_z2", digit=index)


def _elbo_numbers(key: str) -> Link:
    entry = _model("mnist_z2")
    index = _digit(f"{key}_digit", 0)
    if entry:
        images, _, _ = test_set(entry)
        x = to_float(images[index : index + 1]).repeat(200, 1, 1, 1)  # 200 draws of z average the expectation
        with torch.no_grad():
            terms = elbo_terms(entry.model, x, None, torch.Generator().manual_seed(0))
            log_px = importance_sampled_log_likelihood(
                entry.model, x[:1], k=1000, generator=torch.Generator().manual_seed(0)
            )
        recon, kl = terms.recon.mean().item(), terms.kl.mean().item()
        cols = st.columns(4)
        # the unit goes in the caption: "83.4 nats" in a quarter of a 1024-px projector's page is cut to "83.4 n…"
        cols[0].metric("reconstruction", f"{recon:.1f}", help="E_q[−log p(x|z)], averaged over 200 draws of z")
        cols[1].metric("KL(q ‖ p)", f"{kl:.2f}", help="Exact: both are Gaussians")
        cols[2].metric("−ELBO", f"{recon + kl:.1f}", help="reconstruction + KL")
        cols[3].metric("−log p(x) ≈", f"{-log_px.item():.1f}", help="Importance sampled, K = 1000")
        gap = recon + kl + log_px.item()
        st.caption(
            f"In nats. −log p(x) ≤ −ELBO: the gap ({gap:.2f} nats) is how far q(z|x) is from the true posterior."
        )
    return ANOMALY, {"model": "mnist_z2", "method": "iwae"}


# --- lesson 3: what β does --------------------------------------------------------------------------------
def _beta_entries() -> list[ModelEntry]:
    missing = [name for name in BETA_MODELS if name not in shipped_names()]
    if missing:
        st.info(f"This step needs the shipped models {', '.join(missing)}, which this copy of VAE Lab lacks.")
        return []
    return [shipped_entry(name) for name in BETA_MODELS]


def _beta_label(entry: ModelEntry) -> str:
    beta = entry.model.config.beta
    kind = "autoencoder" if beta == 0 else "VAE" if beta == 1 else "β-VAE"
    return f"{kind} (β = {beta:g})"


def _compare_link() -> Link:
    return COMPARE, {"models": ",".join(BETA_MODELS)}


def _beta_spaces(key: str) -> Link:
    for column, entry in zip(st.columns(3), _beta_entries(), strict=False):
        with column:
            st.markdown(f"**{_beta_label(entry)}**")
            fig = _scatter(entry, 300)
            fig.update_layout(showlegend=False)
            st.plotly_chart(fig, key=f"{key}_{entry.id}")
    return _compare_link()


def _beta_prior_samples(key: str) -> Link:
    seed = st.columns(3)[0].number_input("Seed", 0, 1000, 0, key=f"{key}_seed")
    for column, entry in zip(st.columns(3), _beta_entries(), strict=False):
        with column:
            st.markdown(f"**{_beta_label(entry)}**")
            show_grid(sample_grid(entry.model, 5, 5, seed=int(seed)), nrow=5, target_px=52)
    return _compare_link()


def _beta_numbers(key: str) -> Link:
    rows = []
    for entry in _beta_entries():
        _, labels, _ = test_set(entry)
        mu, _ = encoded_test_set(entry.id, entry)
        metrics = entry.meta.get("metrics", {})
        rows.append(
            {
                "model": _beta_label(entry),
                "−ELBO": metrics.get("test_neg_elbo"),
                "reconstruction": metrics.get("test_recon"),
                "KL": metrics.get("test_kl"),
                "NMI (k-means on z)": clustering_score(entry.id, mu, labels.numpy()),
            }
        )
    if rows:
        nmi_format = {"NMI (k-means on z)": st.column_config.NumberColumn(format="%.2f")}
        st.dataframe(rows, hide_index=True, column_config=nmi_format)
        st.caption("Test set, nats per image, from each model's card; the −ELBO is the β = 1 bound for every model.")
    return _compare_link()


# --- lesson 4: conditional generation -----------------------------------------------------------------------
def _one_z_ten_classes(key: str) -> Link:
    entry = _model("mnist_cvae")
    seed = int(st.columns(3)[0].number_input("Seed", 0, 1000, 0, key=f"{key}_seed"))
    if entry:
        table = class_table(entry.model, cols=6, seed=seed)  # row = class, column = one shared z
        show_grid(table.reshape(10, 6, *table.shape[1:]).transpose(0, 1).reshape(-1, *table.shape[1:]), nrow=10,
                  target_px=52, caption="Each row: one z decoded as 0, 1, …, 9.")  # fmt: skip
    return GENERATE, {"model": "mnist_cvae", "seed": str(seed)}


def _style_in_z(key: str) -> Link:
    entry = _model("mnist_cvae")
    a, b = st.columns(2)
    z1 = a.slider("z₁", -3.0, 3.0, 0.0, 0.1, key=f"{key}_z1")
    z2 = b.slider("z₂", -3.0, 3.0, 0.0, 0.1, key=f"{key}_z2")
    if entry:
        digits = torch.stack([torch.from_numpy(decode_point(entry.model, [z1, z2], c)) for c in range(10)])
        show_grid(digits.unsqueeze(1), nrow=10, target_px=56, caption=f"z = ({z1:.1f}, {z2:.1f}) as every class")
    return _link_explore("mnist_cvae", z1=z1, z2=z2)


def _cvae_scatter(key: str) -> Link:
    entry = _model("mnist_cvae")
    if entry:
        _, labels, _ = test_set(entry)
        mu, _ = encoded_test_set(entry.id, entry)
        st.plotly_chart(_scatter(entry), key=f"{key}_scatter")
        st.caption(f"NMI of k-means on these codes: **{clustering_score(entry.id, mu, labels.numpy()):.2f}**.")
    return _link_explore("mnist_cvae")


def _clusters_found(key: str) -> Link:
    entry = _model("mnist_clusters")
    seed = int(st.columns(3)[0].number_input("Seed", 0, 1000, 0, key=f"{key}_seed"))
    if entry:
        k = entry.model.config.clusters
        table = class_table(entry.model, cols=6, seed=seed)  # row = cluster, column = one shared z
        majority = entry.meta.get("clusters", {}).get("majority_label", [])
        mostly = ", ".join(str(label) for label in majority) if len(majority) == k else "unknown"
        caption = f"Each row: one z decoded as cluster 0, 1, …, {k - 1} (mostly: {mostly})."
        by_z = table.reshape(k, 6, *table.shape[1:]).transpose(0, 1).reshape(-1, *table.shape[1:])
        show_grid(by_z, nrow=k, target_px=52, caption=caption)
        metrics = entry.meta.get("metrics", {})
        if "test_nmi" in metrics:
            st.caption(
                f"Scored afterwards against the test labels it never saw: NMI **{metrics['test_nmi']:.2f}**, "
                f"accuracy **{metrics['test_cluster_accuracy']:.0%}** (k-means on lesson 1's codes: NMI about 0.6)."
            )
    return GENERATE, {"model": "mnist_clusters", "seed": str(seed)}


# --- lesson 5: what a VAE can and cannot flag ---------------------------------------------------------------
# The novelty protocol of the Anomaly lab, with the same cached scores and the same calibration half, so
# every number here is one the full page shows too.
NOVELTY = list(range(9))  # mnist_no9's normal classes: it never saw a 9


def _novelty(entry: ModelEntry, method: str = "elbo", noise: bool = False) -> ScoredSet:
    return scored_protocol(entry, NOVELTY, None, method, noise, relative=False)


def _group_auroc(scored: ScoredSet, group: str) -> float:
    """AUROC of one group of anomalies ("anomaly": the 9s, or "noise") against the evaluated normal digits."""
    keep = np.isin(scored.groups, ("normal", group))
    return float(roc_auc_score(scored.groups[keep] == group, scored.scores[keep]))


def _flagged(scored: ScoredSet, group: str, threshold: float) -> float:
    return float(np.mean(is_flagged(scored.scores[scored.groups == group], threshold)))


def _noise_is_easy(key: str) -> Link:
    entry = _model("mnist_no9")
    if entry:
        scored = _novelty(entry, noise=True)
        cols = st.columns(3)
        cols[0].metric("digits 0–8: median −ELBO", f"{np.median(scored.scores[scored.groups == 'normal']):.0f} nats")
        cols[1].metric("noise images: median −ELBO", f"{np.median(scored.scores[scored.groups == 'noise']):.0f} nats")
        cols[2].metric("AUROC, noise vs 0–8", f"{_group_auroc(scored, 'noise'):.3f}")
    return ANOMALY, {"model": "mnist_no9", "noise": "1", "method": "elbo"}


def _nines(key: str) -> Link:
    entry = _model("mnist_no9")
    names = {"elbo": "−ELBO", "ink": "ink score", "head": "classifier head"}
    method = st.radio("Score", list(names), horizontal=True, key=f"{key}_method", format_func=names.get)
    if entry:
        scored = _novelty(entry, method)
        at_95 = operating_point(scored, quantile_threshold(scored.calibration, 0.95))
        cols = st.columns(3)
        cols[0].metric("AUROC, 9s vs 0–8", f"{curves(scored).auroc:.3f}")
        cols[1].metric("9s flagged at q = 0.95", f"{at_95.true_positive_rate:.0%}")
        cols[2].metric("0–8 flagged at q = 0.95", f"{at_95.false_positive_rate:.0%}")
        images, labels, _ = test_set(entry)
        first = np.flatnonzero(labels.numpy() == 9)[:8]
        x = to_float(images[first])
        show_grid(torch.cat([x, entry.model.reconstruct(x)]), nrow=8, target_px=44,
                  caption="Test 9s (top) and how the model that never saw a 9 redraws them (bottom).")  # fmt: skip
    return ANOMALY, {"model": "mnist_no9", "method": method, "normal": "0,1,2,3,4,5,6,7,8", "q": "0.95"}


def _simple_images(key: str) -> Link:
    entry = _model("mnist_z2")
    if entry:
        _, labels, _ = test_set(entry)
        y = labels.numpy()
        table = {"digit": list(range(10))}
        for method, name in (("elbo", "median −ELBO (nats)"), ("ink", "median ink score")):
            scores = test_set_scores(entry.id, entry, method, 50, False)
            table[name] = [float(np.median(scores[y == c])) for c in range(10)]
        st.dataframe(table, hide_index=True, column_config={
            "median −ELBO (nats)": st.column_config.NumberColumn(format="%.0f"),
            "median ink score": st.column_config.NumberColumn(format="%.2f"),
        })  # fmt: skip
    return ANOMALY, {"model": "mnist_z2", "method": "ink"}


# --- lesson 6: the threshold is a false-alarm budget ----------------------------------------------------------
def _budget(key: str) -> Link:
    entry = _model("mnist_no9")
    q = st.slider("Quantile q", 0.80, 0.999, 0.95, 0.001, format="%.3f", key=f"{key}_q")
    if entry:
        scored = _novelty(entry)
        threshold = quantile_threshold(scored.calibration, q)
        normal = int(np.sum(scored.groups == "normal"))
        cols = st.columns(3)
        cols[0].metric("threshold", f"{threshold:.1f} nats")
        cols[1].metric("budget 1 − q", f"{1 - q:.1%}")
        cols[2].metric("false alarms measured", f"{_flagged(scored, 'normal', threshold):.1%}",
                       help=f"Of {normal:,} normal test digits (0–8) the threshold never saw")  # fmt: skip
    return ANOMALY, {"model": "mnist_no9", "q": f"{q:.3f}", "method": "elbo"}


def _trade_off(key: str) -> Link:
    entry = _model("mnist_no9")
    if entry:
        scored = _novelty(entry, noise=True)
        rows = []
        for q in (0.8, 0.9, 0.95, 0.99, 0.999):
            threshold = quantile_threshold(scored.calibration, q)
            rows.append(
                {
                    "q": q,
                    "threshold (nats)": threshold,
                    "false alarms (0–8)": _flagged(scored, "normal", threshold),
                    "9s caught": _flagged(scored, "anomaly", threshold),
                    "noise caught": _flagged(scored, "noise", threshold),
                }
            )
        rates = {name: st.column_config.NumberColumn(format="percent") for name in list(rows[0])[2:]}
        st.dataframe(
            rows,
            hide_index=True,
            column_config={"threshold (nats)": st.column_config.NumberColumn(format="%.1f"), **rates},
        )
    return ANOMALY, {"model": "mnist_no9", "method": "elbo", "noise": "1"}


def _p_value(key: str) -> Link:
    entry = _model("mnist_no9")
    index = _digit(f"{key}_digit", 9)
    if entry:
        images, labels, _ = test_set(entry)
        calibration = _novelty(entry).calibration
        score = float(test_set_scores(entry.id, entry, "elbo", 50, False)[index])
        left, right = st.columns([1, 3])
        picture = to_float(images[index])[0].numpy()
        left.image(picture, caption=f"#{index}: a {int(labels[index])}", width=96, clamp=True)
        right.metric("conformal p-value", f"{conformal_p_value(calibration, score):.3f}",
                     help="(1 + calibration scores ≥ this one) / (n + 1)")  # fmt: skip
        right.caption(
            f"−ELBO {score:.1f} nats. Flagged for every q below {flagging_quantile(calibration, score):.3f}: "
            f"flagging when p ≤ 1 − q is the same rule as the quantile threshold."
        )
    return ANOMALY, {"model": "mnist_no9", "method": "elbo"}


# fmt: off
LESSONS: tuple[Lesson, ...] = (
    Lesson("latent", "1 · The latent space", (
        Step("Every digit is a point",
             "The encoder turns each 28×28 image (784 numbers) into a code of just **two** numbers, z₁ and z₂. "
             "Here are the codes of the 10,000 MNIST test digits, coloured by the digit they show. The model was "
             "never told the labels, yet digits of the same kind land near each other.",
             _every_digit_is_a_point,
             "Click a colour in the legend to hide it. Which digits overlap most?",
             "Why do 4s and 9s share a region?",
             "They look alike: a 4 with a closed top is nearly a 9. The encoder places images by how they look, "
             "and with only two numbers per image similar shapes must share space."),
        Step("Every point is a digit",
             "The decoder goes the other way: give it any two numbers and it draws a digit. This grid decodes "
             "evenly spaced codes of the plane (even in probability under the prior N(0, I)), so you see the whole "
             "space at once: neighbours look alike, and digits morph smoothly into each other.",
             _every_point_is_a_digit,
             "Make the grid finer. Find the place where a 7 turns into a 9.",
             "Why are there no holes (blank or garbage squares) in the grid?",
             "The KL term pulls every code towards N(0, I), so the encoded digits fill the plane the prior covers; "
             "every place the grid samples was near some training digit."),
        Step("One digit, one ellipse",
             "Pick a test digit. The encoder does not return one point but a small Gaussian q(z|x): its mean μ "
             "(the dot) and a spread σ (the ellipse shows μ ± 2σ). Decoding μ gives the reconstruction beside it: "
             "a slightly blurred version of the digit.",
             _one_digit,
             "Try a thin 1 (#2) and a wide 0 (#10). Whose ellipse is smaller?",
             "Why is the reconstruction blurrier than the original?",
             "Two numbers cannot hold every detail of 784 pixels; the decoder draws the average digit of all the "
             "images whose codes fall near μ."),
        Step("Walk between two digits",
             "Because the space is smooth, a straight line between two codes decodes into a gradual morph. "
             "This is interpolation: encode two digits, take evenly spaced points between their means, decode each.",
             _walk,
             "Walk from a 1 to a 0. Does the path cross another kind of digit on the way?",
             "Why can the middle of a walk show a third digit?",
             "The line passes through whatever region lies between the two codes; in two dimensions other classes "
             "often sit there."),
    )),
    Lesson("elbo", "2 · The ELBO and the reparameterization trick", (
        Step("The encoder returns a distribution",
             "For a digit x the encoder outputs μ and σ: the Gaussian q(z|x), its guess of which codes could have "
             "produced x. Training never sees a single 'true' code; it sees this whole cloud. Choose a test "
             "digit, or draw your own.",
             _posterior,
             "Compare σ for a few digits. Which ones is the model surest about?",
             "What would σ → 0 for every digit turn the VAE into?",
             "A plain autoencoder: one code per image, and nothing keeping the space free of holes."),
        Step("z = μ + σ·ε",
             "To train, we draw a code from q(z|x). A random draw has no gradient, so we draw ε from N(0, I) and "
             "compute z = μ + σ·ε: the randomness sits in ε, and μ and σ stay differentiable. This is the "
             "reparameterization trick. Each row below is one ε, its z, and what the decoder makes of it.",
             _reparameterize,
             "Press 'Draw ε again' a few times. How much do the decoded digits vary?",
             "Why not sample z directly and backpropagate through the sample?",
             "Sampling is not a differentiable function of μ and σ; written as μ + σ·ε it is, and the gradient "
             "flows to the encoder."),
        Step("The ELBO, live",
             "The loss is the negative ELBO: **reconstruction** (how badly the decoder redraws x from sampled z) "
             "plus **KL** (how far q(z|x) is from the prior). It bounds −log p(x) from above. Importance sampling "
             "with many draws gets closer to the true −log p(x): the gap is the price of an approximate posterior.",
             _elbo_numbers,
             "Find a digit with a large reconstruction term. What does it look like?",
             "Which term is bigger for a typical digit, and why?",
             "Reconstruction, by far: it sums over 784 pixels, while the KL of a 2-D code is a few nats."),
    )),
    Lesson("beta", "3 · What β does", (
        Step("Three models, three spaces",
             "β weights the KL term: loss = reconstruction + β·KL. With β = 0 the model is an autoencoder: nothing "
             "pulls codes toward the prior. β = 1 is the VAE. β = 4 pushes harder towards N(0, I). Same data, same "
             "network, three different maps of the digits.",
             _beta_spaces,
             "Compare the axes: how far from 0 do the autoencoder's codes go?",
             "Why does the autoencoder's space stretch so far?",
             "Nothing penalises large codes when β = 0; spreading classes far apart makes reconstruction easier."),
        Step("Decode the prior",
             "Now draw codes from the prior N(0, I) and decode them. The two VAEs' samples cover every kind of "
             "digit. The autoencoder's codes reach tens of units from 0 (step 1's axes), so the prior only lands "
             "in the small middle of its space: its samples are the few digits that live there, some of them blends, "
             "and never the digits whose codes sit far out.",
             _beta_prior_samples,
             "Change the seed a few times. Which digits never appear in the autoencoder's samples?",
             "Why can a generator not use an autoencoder's space as it is?",
             "Nothing made its codes follow N(0, I): to sample it you would need to know where its codes are. "
             "The KL term is what makes 'draw z from N(0, I)' a way to generate every kind of digit."),
        Step("The numbers",
             "The test −ELBO, its two terms, and how well k-means on the codes recovers the digit classes (NMI). "
             "A lower KL means codes closer to the prior; a lower reconstruction, sharper copies. β trades one "
             "for the other.",
             _beta_numbers,
             "Open the comparison page and look at the reconstructions side by side.",
             "Which model has the smallest reconstruction error, and why is it not the best generator?",
             "The autoencoder: it spends all its capacity on copying, but its space has holes, so random codes "
             "decode to garbage."),
    )),
    Lesson("conditional", "4 · Conditional generation", (
        Step("One z, ten classes",
             "A conditional VAE (CVAE) gets the label as an extra input to encoder and decoder. Hold one z fixed "
             "and change the label: the digit changes, the *style* (slant, thickness) stays.",
             _one_z_ten_classes,
             "Change the seed. Does each row keep one handwriting?",
             "What does z hold in a CVAE, since the class comes from the label?",
             "Everything else: style, slant, stroke width, size. The label carries the content."),
        Step("Move z, keep the class",
             "Move z with the sliders: the same point is drawn as all ten digits. One direction typically controls "
             "slant, the other thickness or width.",
             _style_in_z,
             "Find the z that makes the thickest digits, then the most slanted.",
             "Why do the same z values mean the same style for every class?",
             "The decoder learned one style space shared by all classes: the label already tells it the digit."),
        Step("Why its latent map is a mess",
             "The CVAE's codes, coloured by class, overlap completely: the encoder was given the class, so it does "
             "not spend its two numbers on it. k-means on these codes recovers almost nothing of the class (NMI "
             "near 0).",
             _cvae_scatter,
             "Compare this scatter with lesson 1's.",
             "Is an NMI near 0 a failure of this model?",
             "No: it is what a CVAE should do. The class is in the label, not in z."),
        Step("A VAE that found the digits by itself",
             "Now take the labels away. This model (seed 003's Gumbel VAE) has, beside z, a choice among 10 "
             "clusters that its encoder makes from the image alone; the decoder gets that choice where the CVAE got "
             "the label. With only two numbers in z, the cheapest way to describe a digit is to say which kind it "
             "is first, so the clusters become the digits, without a single label.",
             _clusters_found,
             "Open Generate on this model and pick a cluster. Is each one a single digit?",
             "Which digits does it mix up, and why those?",
             "Usually 4 and 9, or 3, 5 and 8: they differ by a few strokes, less than two handwritings of the "
             "same digit differ. Without labels, nothing says which differences matter."),
    )),
    Lesson("flag", "5 · What a VAE can and cannot flag", (
        Step("Noise is easy",
             "A VAE trained on digits 0–8 explains digits well and noise terribly: noise scores a far higher −ELBO. "
             "Anything far from the training data is caught.",
             _noise_is_easy,
             "Open the Anomaly lab with noise on, and look at the ROC curve.",
             "Why is noise so easy to flag?",
             "No code decodes to noise: the decoder only draws digit-like strokes, so the error is huge."),
        Step("A 9 among 4s and 7s",
             "This model never saw a 9. Yet many 9s look like 4s or 7s it knows, and it redraws them as such with "
             "a modest error: the measured numbers say how many 9s pass as normal by −ELBO. But this model was also "
             "taught to tell 0–8 apart (a classifier head on its encoder), and a 9 fits none of those classes well.",
             _nines,
             "Switch to the ink score, then to the classifier head. Which one catches the 9s?",
             "Why do look-alikes slip through a reconstruction score but not the head?",
             "A reconstruction score measures how well the model redraws the image, not whether it saw that class: "
             "a 9 close to a 4 is redrawn almost as well as a 4. The head learned where a 4 ends and a 7 begins; a "
             "9 lies between them, so it is unsure, and its uncertainty is the score."),
        Step("Likelihood loves simple images",
             "Per digit class, the median −ELBO: thin, simple 1s get the best scores, even better than the "
             "average training digit, because few ink pixels are cheap to explain. The ink score divides the "
             "error by the ink, which removes much of that bias.",
             _simple_images,
             "Compare the 1s and the 8s in both columns.",
             "Why would a simple but unusual image look 'normal' to the likelihood?",
             "Likelihood rewards images with little to explain; complexity, not novelty, drives much of the score."),
    )),
    Lesson("threshold", "6 · The threshold is a false-alarm budget", (
        Step("q is a budget",
             "The threshold is the q-quantile of the scores of held-out normal images (calibration). By "
             "construction about 1 − q of new normal images score above it: you choose the false-alarm rate. "
             "Measured on normal digits the threshold never saw, it holds.",
             _budget,
             "Move q from 0.90 to 0.99. Does the measured rate follow 1 − q?",
             "What does a lower false-alarm budget cost?",
             "Missed anomalies: a higher threshold lets more unusual images pass."),
        Step("What the budget buys",
             "Every q is a trade: the smaller the false-alarm budget, the fewer anomalies are caught. The table "
             "measures it on mnist_no9's test set: normal digits 0–8 the threshold never saw, the 9s it never "
             "trained on, and noise. Noise is caught at any q; the 9s are the hard part.",
             _trade_off,
             "Find the q at which half the 9s would be caught. What false-alarm rate does it cost?",
             "Why is the ROC curve the whole of this table?",
             "Each q gives one (false-alarm rate, detection rate) point; sweeping q traces the ROC curve, and "
             "its area (AUROC) sums up the trade over every q."),
        Step("The p-value of one digit",
             "Read the same idea backwards: where does one image stand among the calibration scores? The conformal "
             "p-value is the share of normal images that scored at least as badly. Flagging when p ≤ 1 − q is "
             "exactly the quantile threshold.",
             _p_value,
             "Try a 9 (#7 is a 9), then a 1 (#2).",
             "If p = 0.03, is the digit an anomaly?",
             "At q = 0.95 it is flagged (0.03 ≤ 0.05). It means 3% of normal digits score this badly, so about "
             "3% of normal digits would be flagged by the same rule."),
    )),
)
# fmt: on


def lesson_by_slug(slug: str) -> Lesson:
    return next(lesson for lesson in LESSONS if lesson.slug == slug)
