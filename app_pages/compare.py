"""Compare models side by side: latent spaces, manifolds, reconstructions of the same digits, metrics."""

import numpy as np
import streamlit as st
import torch

from ui import links
from ui.data import class_names_of, encoded_test_set, test_set
from ui.images import show_grid
from ui.latent import clustering_score, test_set_losses
from ui.models import ModelEntry, all_entries
from vae.data import DatasetNotFoundError, to_float
from vae.latent import manifold, pca_2d
from vae.plots import latent_scatter

MAX_MODELS = 4
SHOWN_DIGITS = 8  # test digits reconstructed by every model

st.title("Compare models")
entries = all_entries()
default = [i for i in ("mnist_ae", "mnist_z2", "mnist_beta4") if i in entries] or list(entries)[:2]
view = [
    links.ChoicesParam(name="models", key="compare_models", default=default, choices=tuple(entries),
                       max_items=MAX_MODELS),
    links.IntParam(name="digit", key="compare_digit", default=0, low=0, high=9_999),
]  # fmt: skip
links.restore(view, "compare")
st.session_state.compare_models = [i for i in st.session_state.compare_models if i in entries][:MAX_MODELS]
labels = {"shipped": "", "trained": " (trained here)", "uploaded": " (uploaded)"}
row = st.columns([4, 1])
chosen = row[0].multiselect(
    "Models (2 to 4)",
    list(entries),
    format_func=lambda i: entries[i].name + labels[entries[i].source],
    max_selections=MAX_MODELS,
    key="compare_models",
)
first = row[1].number_input(
    "First test digit #", 0, 9_999, key="compare_digit", help=f"The {SHOWN_DIGITS} test digits every model redraws"
)
links.publish(view, "compare")
if len(chosen) < 2:
    st.info("Choose at least two models to compare.")
    st.stop()


def metrics_row(entry: ModelEntry) -> dict:
    _, labels, _ = test_set(entry)
    losses = test_set_losses(entry.id, entry)
    mu, _ = encoded_test_set(entry.id, entry)
    cfg = entry.model.config
    return {
        "model": entry.name,
        "latent": cfg.latent_dim,
        "β": cfg.beta,
        "conditional": cfg.conditional,
        "−ELBO": losses.total,
        "reconstruction": losses.recon,
        "KL": losses.kl,
        "NMI": clustering_score(entry.id, mu, labels.numpy()),
    }


usable, rows = [], []
for model_id in chosen:
    entry = entries[model_id]
    try:
        rows.append(metrics_row(entry))
        usable.append(entry)
    except (LookupError, DatasetNotFoundError) as err:
        st.warning(f"{entry.name}: {err}")
if rows:
    st.dataframe(
        rows,
        hide_index=True,
        column_config={
            name: st.column_config.NumberColumn(format="%.2f" if name == "NMI" else "%.1f", help=text)
            for name, text in (
                ("−ELBO", "Test set, nats per image: reconstruction + KL (the β = 1 bound, whatever β trained it)"),
                ("reconstruction", "−log p(x|z) for one z drawn from q(z|x), nats per image"),
                ("KL", "KL(q(z|x) ‖ p(z)), nats per image"),
                ("NMI", "k-means on the latent means against the true classes: 1 = the clusters are the classes"),
            )
        },
    )

for column, entry in zip(st.columns(len(usable)), usable, strict=True):
    with column:
        cfg = entry.model.config
        images, labels, _ = test_set(entry)
        mu, _ = encoded_test_set(entry.id, entry)
        st.markdown(f"**{entry.name}**")
        points, axes = (mu, ("z₁", "z₂")) if cfg.latent_dim == 2 else (None, ("PC 1", "PC 2"))
        if cfg.latent_dim > 2:
            points = pca_2d(torch.from_numpy(mu)).points.numpy()
        if points is not None:
            fig = latent_scatter(points, labels.numpy(), class_names_of(entry), axis_titles=axes, marker_size=3)
            fig.update_layout(height=300, showlegend=False)
            st.plotly_chart(fig, key=f"compare_scatter_{entry.id}")
        if cfg.latent_dim == 2:
            y = 0 if cfg.decoder_labels else None  # a CVAE's class or a clustering VAE's cluster
            as_what = " (as class 0)" if cfg.conditional else " (as cluster 0)" if cfg.clusters else ""
            show_grid(manifold(entry.model, 10, y=y), nrow=10, target_px=26, caption="Decoded manifold" + as_what)
        shown = np.arange(first, min(first + SHOWN_DIGITS, len(images)))
        x = to_float(images[shown])
        y = labels[shown] if cfg.conditional else None
        show_grid(torch.cat([x, entry.model.reconstruct(x, y)]), nrow=len(shown), target_px=40,
                  caption=f"Test digits #{shown[0]}–{shown[-1]} and their reconstructions")  # fmt: skip
