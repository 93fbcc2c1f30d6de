"""A clustering VAE on the pages: its clusters' names, q(y|x) over the test set, the cluster × label table."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from ui.images import show_grid
from ui.models import ModelEntry
from vae.clusters import cluster_scores, contingency
from vae.data import to_float
from vae.plots import contingency_figure

PROTOTYPES = 8  # a cluster's most probable test images shown beside its decoded centre


def cluster_names(entry: ModelEntry, class_names: list[str]) -> list[str]:
    """ "3 · mostly 7" per cluster: the label most of its test images carry (from the model's card), when known."""
    found = entry.meta.get("clusters") if isinstance(entry.meta.get("clusters"), dict) else {}
    majority, sizes = found.get("majority_label"), found.get("size")
    names = []
    for k in range(entry.model.config.clusters):
        try:
            label, size = int(majority[k]), int(sizes[k])
            names.append(f"{k} · mostly {class_names[label]}" if size else f"{k} · empty")
        except (TypeError, IndexError, ValueError):
            names.append(str(k))
    return names


@st.cache_data(show_spinner="Assigning the test set to clusters…", max_entries=16)
def test_set_cluster_probs(model_id: str, _entry: ModelEntry, _images: torch.Tensor) -> np.ndarray:
    """q(y|x) for every test image, [N, K] (cached per model id)."""
    model = _entry.model
    with torch.no_grad():
        return torch.cat(
            [model.cluster_probs(to_float(_images[s : s + 1000])) for s in range(0, len(_images), 1000)]
        ).numpy()


def show_clusters(entry: ModelEntry, probs: np.ndarray, images: torch.Tensor, labels: np.ndarray,
                  class_names: list[str], names: list[str]) -> None:  # fmt: skip
    """The clusters against the labels the model never saw, and each cluster's prototypes."""
    model, k = entry.model, entry.model.config.clusters
    assigned = probs.argmax(1)
    scores = cluster_scores(assigned, labels, k)
    st.markdown(
        f"The model sorted the {len(labels):,} test images into {k} clusters without ever seeing a label. "
        f"Scored against the labels afterwards: **NMI {scores.nmi:.2f}**, **accuracy {scores.accuracy:.1%}** "
        "(each cluster matched to one label so that the most images agree)."
    )
    table, prototypes = st.tabs(["Clusters × labels", "Prototypes"])
    with table:
        counts = contingency(assigned, labels, k, len(class_names))
        st.plotly_chart(contingency_figure(counts, names, class_names), key="clusters_table")
        st.caption("Each row is a cluster the model found; a row with one dark cell is one digit, found alone.")
    with prototypes:
        st.caption(
            f"Each row: first the cluster's decoded centre (z = 0 decoded as that cluster), then the {PROTOTYPES} "
            "test images the model is surest belong to it (highest q(cluster | x))."
        )
        rows = []
        for cluster in range(k):
            centre = model.decode(torch.zeros(1, model.config.latent_dim), torch.tensor([cluster]))
            best = np.argsort(-probs[:, cluster])[:PROTOTYPES]
            rows += [centre, to_float(images[torch.from_numpy(best.copy())])]
        show_grid(torch.cat(rows), nrow=PROTOTYPES + 1, target_px=44, caption="Rows: clusters " + ", ".join(names))
