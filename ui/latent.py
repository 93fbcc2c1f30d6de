"""Streamlit glue for latent views: cached scores, reading plotly selections, the latent replay."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from ui.data import test_set
from ui.models import ModelEntry
from vae.latent import clustering_nmi
from vae.models import VAE
from vae.plots import replay_figure
from vae.replay import LatentReplay
from vae.training import Losses, evaluate


@st.cache_data(show_spinner="Clustering the latent means…", max_entries=16)
def clustering_score(model_id: str, mu: np.ndarray, labels: np.ndarray) -> float:
    """NMI of k-means on the latent means (cached per model id)."""
    return clustering_nmi(torch.from_numpy(mu), torch.from_numpy(labels))


@st.cache_data(show_spinner="Evaluating the model on the test set…", max_entries=16)
def test_set_losses(model_id: str, _entry: ModelEntry) -> Losses:
    """Test-set −ELBO, reconstruction and KL per image (β = 1 bound; cached per model id)."""
    images, labels, _ = test_set(_entry)
    return evaluate(_entry.model, images, labels)


@torch.no_grad()
def decode_point(model: VAE, z: list[float], y: int | None = None) -> np.ndarray:
    """One latent code → a grayscale image in [0, 1] to show."""
    code = torch.tensor([z], dtype=torch.float32)
    return model.decode(code, None if y is None else torch.tensor([y]))[0, 0].numpy()


def selection_target(event, state_key: str) -> tuple[int | None, np.ndarray | None] | None:
    """A *new* plotly selection → (chosen dataset index, or None; box centre, or None).

    A box decodes its centre; a clicked point chooses that test digit (its `customdata`).
    Selections persist across reruns, so the last one handled is remembered under `state_key`
    and returns None when seen again.
    """
    selection = event.get("selection") if event else None  # dict-like in the app and in AppTest
    if not selection or not (selection.get("points") or selection.get("box")):
        return None
    signature = repr((selection.get("box"), [p.get("customdata") for p in selection.get("points", [])][:50]))
    if st.session_state.get(state_key) == signature:
        return None
    st.session_state[state_key] = signature
    if selection.get("box"):
        box = selection["box"][0]
        return None, np.array([float(np.mean(box["x"])), float(np.mean(box["y"]))])
    custom = selection["points"][0].get("customdata")
    index = custom[0] if isinstance(custom, list | tuple) else custom
    return (int(index), None) if index is not None else None


def show_replay(meta: dict, class_names: list[str], key: str) -> None:
    """The model's latent replay (its space forming over the epochs), or a line saying it has none."""
    replay = LatentReplay.from_meta(meta)
    if replay is None:
        st.caption("This model carries no latent replay: it was trained before VAE Lab recorded one.")
        return
    fitted = st.toggle(
        "Fitted axes",
        key=f"{key}_fitted",
        help="Off: the same axes for every epoch, so you see the space spread out. On: each epoch fills the plot.",
    )
    figure = replay_figure(replay.epochs, replay.codes, replay.labels, class_names, fitted_axes=fitted)
    st.plotly_chart(figure, key=key)
    what = "a 2-D PCA projection of the latent means" if replay.projected else "the latent means"
    st.caption(
        f"{len(replay.labels):,} held-out images, {what} after epochs {', '.join(map(str, replay.epochs))}. "
        "Press Play, or drag the epoch slider."
    )
