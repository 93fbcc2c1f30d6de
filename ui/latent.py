"""Streamlit glue for the latent explorer: cached scores and reading plotly selections."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from vae.latent import clustering_nmi
from vae.models import VAE


@st.cache_data(show_spinner="Clustering the latent means…", max_entries=16)
def clustering_score(model_id: str, mu: np.ndarray, labels: np.ndarray) -> float:
    """NMI of k-means on the latent means (cached per model id)."""
    return clustering_nmi(torch.from_numpy(mu), torch.from_numpy(labels))


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
