"""Train: a form with the usual hyperparameters (link parameters set its defaults), then live training."""

import streamlit as st

from ui import links
from ui.limits import HostedLimits
from ui.training import (
    RUN_KEY,
    TRAIN_BUTTON,
    TrainingRequest,
    run_history,
    run_training,
    show_last_run,
    show_run_history,
)
from vae.data import CLASS_NAMES, DATASETS, IMAGE_SHAPES, DatasetNotFoundError
from vae.models import MODEL_KINDS, VAEConfig, kind_fields
from vae.training import TrainSettings

KIND_NAMES = {
    "vae": "VAE",
    "cvae": "Conditional VAE (given the labels)",
    "clusters": "Clusters (finds the digits without labels)",
    "classifier": "Classifier head (also learns the labels)",
}
FOURIER_FEATURES = 64  # the "Fourier features of z" box: as many as the shipped mnist_z2's

st.title("Train a VAE")
st.caption(
    "Defaults train a 2-D MNIST model on 10,000 images in about half a minute. "
    "Training runs while this page is open; Stop (or leaving the page) keeps the last finished epoch, "
    "and every model you train is kept in your workspace: a reload brings it back."
)
limits = HostedLimits.from_env()
view = [
    links.ChoiceParam(name="dataset", key="train_dataset", default="mnist", choices=DATASETS),
    links.ClassesParam(name="leave_out", key="train_leave_out", default=[], low=0, high=9, allow_empty=True),
    links.IntParam(name="images", key="train_images", default=min(10_000, limits.max_train_size), low=100,
                   high=limits.max_train_size),
    links.ChoiceParam(name="arch", key="train_arch", default="mlp", choices=("mlp", "conv")),
    links.IntParam(name="latent", key="train_latent", default=min(2, limits.max_latent), low=1,
                   high=limits.max_latent),
    links.IntParam(name="hidden", key="train_hidden", default=min(512, limits.max_hidden), low=8,
                   high=limits.max_hidden),
    links.ChoiceParam(name="kind", key="train_kind", default="vae", choices=MODEL_KINDS),
    links.IntParam(name="clusters", key="train_clusters", default=10, low=2, high=20),
    links.FloatParam(name="beta", key="train_beta", default=1.0, low=0.0, high=50.0),
    links.ChoiceParam(name="likelihood", key="train_likelihood", default="bernoulli",
                      choices=("bernoulli", "gaussian")),
    links.FlagParam(name="fourier", key="train_fourier", default=False),
    links.FloatParam(name="warmup", key="train_warmup", default=0.0, low=0.0, high=float(limits.max_epochs)),
    links.FlagParam(name="binarize", key="train_binarize", default=False),
    links.FlagParam(name="cosine", key="train_cosine", default=False),
    links.IntParam(name="epochs", key="train_epochs", default=min(10, limits.max_epochs), low=1,
                   high=limits.max_epochs),
    links.IntParam(name="batch", key="train_batch", default=128, low=1, high=4096),
    links.FloatParam(name="lr", key="train_lr", default=1e-3, low=1e-6, high=10.0),
    links.IntParam(name="seed", key="train_seed", default=0, low=0, high=2**31 - 1),
]  # fmt: skip
links.alias("cvae", "kind", {"1": "cvae", "true": "cvae"})  # links from before `kind` (VAE Lab 0.2) still work
links.restore(view, "train")

# Data choices sit outside the form: a new dataset relabels the classes at once, and the classes left
# out stay chosen (inside the form, the relabelled widget started empty). Every dataset has classes 0–9.
data_row = st.columns([1, 2])
dataset = data_row[0].selectbox("Dataset", DATASETS, key="train_dataset", help="`digits` is scikit-learn's 8×8 set.")
left_out = data_row[1].multiselect(
    "Leave out classes",
    options=list(range(10)),
    format_func=lambda c: f"{c} ({CLASS_NAMES[dataset][c]})" if dataset == "fashion-mnist" else str(c),
    placeholder="none: train on every class",
    help="Builds a novelty detector: the left-out classes are new to the model. Its reconstruction scores catch "
    "what looks unlike every class it saw, not look-alikes (a 9 redrawn as a 4 passes); a model with a "
    "classifier head (Model kind below; the shipped mnist_no9) catches those.",
    key="train_leave_out",
)
kind = st.radio(
    "Model kind",
    MODEL_KINDS,
    format_func=KIND_NAMES.get,
    horizontal=True,
    key="train_kind",
    help="A conditional VAE is told each image's label. A clustering VAE (seed 003's Gumbel VAE) has a "
    "categorical latent beside z and sorts the images into clusters itself; labels only score it, as NMI. "
    "A classifier head (seed 004, mnist_no9's kind) also learns to predict the label: with classes left out, "
    "its scores in the Anomaly lab catch the look-alikes a reconstruction forgives (a tenth of the training "
    "images, at most 5,000, is set aside to calibrate its combined score).",
)
# Inside the form every number also gets its current value as the widget's default: should the browser
# ever submit the form without a field's state, the field keeps its value rather than falling to its minimum.
now = st.session_state
with st.form("train_form"):
    data_col, model_col, optim_col = st.columns(3)
    with data_col:
        st.markdown("**Data**")
        train_size = st.number_input(
            "Training images", min_value=100, max_value=limits.max_train_size, value=now["train_images"], step=1000,
            key="train_images",
            help="A random subset (fewer images, faster epochs). Capped at what the dataset has.",
        )  # fmt: skip
    with model_col:
        st.markdown("**Model**")
        arch = st.radio("Architecture", ["mlp", "conv"], horizontal=True, key="train_arch", help="conv is slower")
        latent_dim = st.number_input(
            "Latent dimensions",
            1,
            limits.max_latent,
            now["train_latent"],
            key="train_latent",
            help="2 lets you see the space",
        )
        hidden = st.number_input(
            "Hidden width",
            8,
            limits.max_hidden,
            now["train_hidden"],
            step=64,
            key="train_hidden",
            help="Two layers: this wide, then half",
        )
        if kind == "clusters":
            st.number_input(
                "Clusters K", 2, 20, now["train_clusters"], key="train_clusters",
                help="Values of the categorical latent: 10 lets it find one per digit. β = 2 (the shipped "
                "mnist_clusters) pulls z to the prior harder and leaves the digit to the cluster",
            )  # fmt: skip
        beta = st.number_input(
            "β (KL weight)",
            0.0,
            50.0,
            now["train_beta"],
            step=0.5,
            key="train_beta",
            help="β > 1: a smoother, blurrier space",
        )
        likelihood = st.radio(
            "Likelihood p(x|z)", ["bernoulli", "gaussian"], horizontal=True, key="train_likelihood",
            help="bernoulli: each pixel's ink as a probability (the usual choice for MNIST); gaussian: unit variance",
        )  # fmt: skip
        fourier = st.checkbox(
            "Fourier features of z", key="train_fourier",
            help=f"The decoder reads z and {FOURIER_FEATURES} sines and cosines of it (at fixed random frequencies): "
            "an MLP then draws sharper digits from a 2-D code (the shipped z = 2 models, with a third layer)",
        )  # fmt: skip
    with optim_col:
        st.markdown("**Optimisation**")
        epochs = st.number_input("Epochs", 1, limits.max_epochs, now["train_epochs"], key="train_epochs")
        batch_size = st.number_input("Batch size", 1, 4096, now["train_batch"], key="train_batch")
        lr = st.number_input("Learning rate", 1e-6, 10.0, now["train_lr"], format="%.4f", step=1e-4, key="train_lr")
        warmup = st.number_input(
            "KL warm-up (epochs)", 0.0, float(limits.max_epochs), now["train_warmup"], step=1.0, key="train_warmup",
            help="The KL weight ramps from 0 to β over this many epochs: the decoder learns to use z first",
        )  # fmt: skip
        binarize = st.checkbox(
            "Binarize each batch", key="train_binarize",
            help="Redraws every pixel as 0 or 1, its grey value the probability, fresh in every batch (dynamic "
            "binarization): the same objective on average, with noise that keeps the model from overfitting "
            "(the shipped mnist_cvae_z8 trained so). Needs the bernoulli likelihood",
        )  # fmt: skip
        cosine_lr = st.checkbox(
            "Cosine learning rate", key="train_cosine",
            help="The learning rate falls along half a cosine, epoch by epoch, to a hundredth of it at the last "
            "epoch: small steps at the end settle the weights (the shipped z = 2 models trained so, with Binarize)",
        )  # fmt: skip
        seed = st.number_input(
            "Seed", 0, 2**31 - 1, now["train_seed"], key="train_seed", help="Same seed, same settings: the same model"
        )
    submitted = st.form_submit_button(
        "Train", type="primary", icon=":material/play_arrow:", key=TRAIN_BUTTON,
        help="Clicked again during a run, Train starts over with the form's settings (Stop keeps the run instead)",
    )  # fmt: skip
links.publish(view, "train")

if submitted:
    classes = sorted(set(range(10)) - set(left_out))
    if not classes:
        st.error("Every class is left out: keep at least one class to train on.")
        st.stop()
    if binarize and likelihood != "bernoulli":
        st.error(
            "Binarize each batch needs the bernoulli likelihood: a 0/1 draw of a pixel averages to its grey "
            "value only in the bernoulli loss. Choose bernoulli, or untick Binarize."
        )
        st.stop()
    request = TrainingRequest(
        dataset=dataset,
        classes=classes,
        train_size=int(train_size),
        config=VAEConfig(
            image_shape=IMAGE_SHAPES[dataset],
            latent_dim=int(latent_dim),
            hidden=(int(hidden), max(1, int(hidden) // 2)),
            arch=arch,
            **kind_fields(kind, clusters=int(st.session_state.train_clusters)),
            beta=float(beta),
            likelihood=likelihood,
            fourier_features=FOURIER_FEATURES if fourier else 0,
        ),
        settings=TrainSettings(
            epochs=int(epochs),
            batch_size=int(batch_size),
            lr=float(lr),
            seed=int(seed),
            kl_warmup_epochs=float(warmup),
            binarize=bool(binarize),
            cosine_lr=bool(cosine_lr),
        ),
    )
    try:
        run_training(request)
    except DatasetNotFoundError as err:
        st.error(f"{err}\n\nTip: the `digits` dataset needs no download.")
elif RUN_KEY in st.session_state:
    show_last_run(st.session_state[RUN_KEY])
show_run_history(run_history())
