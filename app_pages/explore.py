"""Latent explorer: where the test digits land, what each point of the space decodes to."""

import numpy as np
import streamlit as st
import torch

from ui import links
from ui.clusters import cluster_names, show_clusters, test_set_cluster_probs
from ui.data import encoded_test_set, test_set
from ui.hover import hover_preview
from ui.images import show_grid
from ui.latent import clustering_score, decode_point, selection_target, show_replay
from ui.models import current_model
from vae.data import CLASS_NAMES, DatasetNotFoundError, to_float
from vae.latent import interpolate, manifold, pca_2d, prior_grid, traversal
from vae.plots import add_point, add_posterior_ellipse, latent_scatter, latent_strip

Z_LIMIT = 5.0  # the decoded point's coordinates stay within ±5 (the prior has almost no mass beyond)


def on_axis(value: float) -> float:
    """A latent coordinate as the z₁/z₂ inputs can hold it."""
    return min(max(float(value), -Z_LIMIT), Z_LIMIT)


def decode_the_chosen_digit() -> None:
    """A digit typed in: the decoded point moves to its code, as a click on its dot does (interpolation untouched)."""
    index = st.session_state[index_key]
    st.session_state[z_keys[0]], st.session_state[z_keys[1]] = on_axis(mu[index][0]), on_axis(mu[index][1])


st.title("Latent explorer")
entry = current_model()
model, cfg = entry.model, entry.model.config
try:
    images, labels, dataset = test_set(entry)
except (LookupError, DatasetNotFoundError) as err:
    st.error(str(err))
    st.stop()
mu, logvar = encoded_test_set(entry.id, entry)
names = CLASS_NAMES[dataset]
two_d = cfg.latent_dim == 2
index_key, z_keys = "explore_index", ("explore_z1", "explore_z2")
last = len(images) - 1
# another model's test set may be smaller: keep the remembered digits inside this one
for key in (index_key, "explore_from", "explore_to"):
    if key in st.session_state:
        st.session_state[key] = min(st.session_state[key], last)
view = [links.IntParam(name="digit", key=index_key, default=0, low=0, high=last)]
if two_d:  # the decoded point starts at the chosen digit's code
    view += [
        links.FloatParam(name=name, key=key, default=lambda d=d: on_axis(mu[st.session_state[index_key]][d]),
                         low=-Z_LIMIT, high=Z_LIMIT)
        for d, (name, key) in enumerate(zip(("z1", "z2"), z_keys, strict=True))
    ]  # fmt: skip
    view.append(links.IntParam(name="n", key="explore_n", default=15, low=5, high=30))
if cfg.decoder_labels:  # a CVAE's class or a clustering VAE's cluster: the decoder needs one
    view.append(links.IntParam(name="c", key="explore_class", default=0, low=0, high=cfg.decoder_labels - 1))
if cfg.clusters:
    view.append(links.ChoiceParam(name="colour", key="explore_colour", default="label", choices=("label", "cluster")))
view += [
    links.IntParam(name="from", key="explore_from", default=lambda: st.session_state[index_key], low=0, high=last),
    links.IntParam(name="to", key="explore_to", default=lambda: min(st.session_state[index_key] + 1, last), low=0,
                   high=last),
    links.IntParam(name="frames", key="explore_frames", default=10, low=3, high=15),
]  # fmt: skip
links.restore(view, "explore")

st.caption(
    f"Every dot is one of the {len(images):,} test images, placed at the mean of the code the encoder gives it. "
    + (
        "Click a dot to decode it, or choose *Box Select* in the chart's toolbar and drag a box. The black ring "
        "is the chosen digit's q(z|x) (μ ± 2σ), the star the point decoded below."
        if two_d
        else ""
    )
)
decode_class = None
if cfg.clusters:
    probs = test_set_cluster_probs(entry.id, entry, images)
    found_names = cluster_names(entry, names)
    choices = st.columns(2)
    decode_class = choices[0].selectbox(
        "Decode as cluster",
        range(cfg.clusters),
        format_func=lambda c: found_names[c],
        key="explore_class",
        help="The model found these clusters without labels; its code z holds the style, the cluster the rest.",
    )
    colour_by = choices[1].radio(
        "Colour the dots by",
        ("label", "cluster"),
        format_func={"label": "true label", "cluster": "cluster found"}.get,
        horizontal=True,
        key="explore_colour",
        help="The true labels were never shown to the model; the clusters are what it found by itself.",
    )
elif cfg.conditional:
    decode_class = st.selectbox(
        "Decode as class",
        range(cfg.num_classes),
        format_func=lambda c: names[c],
        key="explore_class",
        help="A conditional model's code holds the *style*; the class comes from this choice.",
    )
st.caption(
    f"Clustering quality: k-means with k={len(np.unique(labels))} on the latent means, scored against the true "
    f"labels: **NMI = {clustering_score(entry.id, mu, labels.numpy()):.2f}** (1 = clusters are the classes)."
    + (
        " Near 0 is what a conditional model should give: it receives the class as an input, so its code holds "
        "only the style (slant, width, thickness), and the classes overlap in it."
        if cfg.conditional
        else " A clustering model's code holds the style too: the digit is mostly in its cluster (below)."
        if cfg.clusters
        else ""
    )
)

# --- the scatter (2-D space, a strip for 1-D, a PCA view of more) and what was chosen in it ---
colours, colour_names, kind = labels.numpy(), names, "class"
if cfg.clusters and colour_by == "cluster":
    colours, colour_names, kind = probs.argmax(1), found_names, "cluster"
if two_d:
    title = "Latent means of the test set"
    fig = latent_scatter(mu, colours, colour_names, kind=kind)
elif cfg.latent_dim == 1:
    title = "Latent means of the test set (a 1-D code)"
    fig = latent_strip(mu, colours, colour_names)
else:
    projection = pca_2d(torch.from_numpy(mu))
    pc1, pc2 = projection.explained
    title = f"PCA projection of {cfg.latent_dim}-D latent means (PC 1: {pc1:.0%}, PC 2: {pc2:.0%} of the variance)"
    fig = latent_scatter(projection.points.numpy(), colours, colour_names, axis_titles=("PC 1", "PC 2"), kind=kind)

scatter_col, grid_col = st.columns([3, 2])
with scatter_col:
    st.markdown(f"**{title}**")
    chosen = st.session_state[index_key]
    if two_d:
        add_posterior_ellipse(fig, mu[chosen], logvar[chosen], f"#{chosen}")
        add_point(fig, np.array([st.session_state[k] for k in z_keys]), "decoded point")
    # No dragmode of our own: in select mode Streamlit turns point clicks off; its default (pan) keeps them on
    fig.update_layout(height=520)
    event = st.plotly_chart(fig, on_select="rerun", selection_mode=("points", "box"), key="explore_scatter")
    hover_preview(dataset, images, "explore_scatter")
    target = selection_target(event, "explore_last_selection")
    if target is not None:  # a new selection: it moves the chosen digit and/or the decoded point
        index, z = target
        if index is not None:
            st.session_state[index_key] = index
            z = mu[index] if two_d else None
        if z is not None and two_d:
            st.session_state[z_keys[0]], st.session_state[z_keys[1]] = on_axis(z[0]), on_axis(z[1])
        st.rerun()

with grid_col:
    if two_d:
        st.markdown("**The decoded manifold**")
        n = st.slider("Grid size n", 5, 30, key="explore_n", help="n × n codes decoded into one picture")
        low, high = st.slider(
            "Prior quantile range", 0.01, 0.99, (0.05, 0.95), step=0.01,
            help="The grid is even in probability: Normal.icdf of evenly spaced quantiles, as in the Keras lab.",
        )  # fmt: skip
        axis, _ = prior_grid(n, low, high)
        show_grid(
            manifold(model, n, low, high, y=decode_class),
            nrow=n,
            target_px=max(12, 480 // n),
            caption=f"z₁ from {axis[0]:.2f} (left) to {axis[-1]:.2f} (right); z₂ from {axis[-1]:.2f} (top) down."
            + (f" Every code decoded as a {names[decode_class]}." if cfg.conditional else "")
            + (f" Every code decoded as cluster {found_names[decode_class]}." if cfg.clusters else ""),
        )
    else:
        st.markdown(f"**Traversal around test digit #{st.session_state[index_key]}**")
        values = torch.linspace(-3, 3, 9)
        dims = list(range(min(cfg.latent_dim, 10)))
        z0 = torch.from_numpy(mu[st.session_state[index_key]])
        show_grid(traversal(model, z0, values, dims, y=decode_class), nrow=len(values), target_px=40)
        st.caption(f"Row d varies latent dimension d from −3 to 3; the others stay at the digit's code. Rows: {dims}.")

if cfg.clusters:
    st.subheader("Clusters found without labels")
    show_clusters(entry, probs, images, labels.numpy(), names, found_names)

with st.expander("Replay: how this space formed during training", icon=":material/play_circle:"):
    show_replay(entry.meta, names, key="explore_replay")

# --- one digit: original, reconstruction, and the decoded point ------------------------------
st.subheader("Point at the latent space")
controls, pictures = st.columns([1, 2])
with controls:
    st.number_input(
        "Test digit #", 0, last, key=index_key, help="Or click a dot in the scatter",
        on_change=decode_the_chosen_digit if two_d else None,
    )  # fmt: skip
    if two_d:
        st.number_input("z₁", -Z_LIMIT, Z_LIMIT, step=0.1, key=z_keys[0], format="%.2f")
        st.number_input("z₂", -Z_LIMIT, Z_LIMIT, step=0.1, key=z_keys[1], format="%.2f")
index = st.session_state[index_key]
x = to_float(images[index : index + 1])
y_true = labels[index : index + 1] if cfg.conditional else None
with pictures:
    columns = st.columns(3 if two_d else 2)
    columns[0].image(x[0, 0].numpy(), caption=f"test #{index}: a {names[labels[index]]}", width=140, clamp=True)
    columns[1].image(model.reconstruct(x, y_true)[0, 0].numpy(), caption="its reconstruction", width=140, clamp=True)
    if two_d:
        z = [st.session_state[k] for k in z_keys]
        columns[2].image(
            decode_point(model, z, decode_class), caption=f"decoded at ({z[0]:.2f}, {z[1]:.2f})", width=140
        )

# --- interpolation -----------------------------------------------------------------------------
st.subheader("Interpolate between two test digits")
a_col, b_col, k_col = st.columns(3)
start = a_col.number_input("From test digit #", 0, last, key="explore_from")
end = b_col.number_input("To test digit #", 0, last, key="explore_to")
steps = k_col.slider("Frames", 3, 15, key="explore_frames")
links.publish(view, "explore")
ends = (torch.from_numpy(probs[start]), torch.from_numpy(probs[end])) if cfg.clusters else None
line = interpolate(model, torch.from_numpy(mu[start]), torch.from_numpy(mu[end]), steps, y=decode_class, y_ends=ends)
show_grid(
    line,
    nrow=steps,
    caption=f"A straight line in latent space: #{start} (a {names[labels[start]]}) → #{end} (a {names[labels[end]]})."
    + (" The cluster probabilities q(y|x) of the two digits are mixed along the line too." if cfg.clusters else ""),
)
