"""Train: a form with the usual hyperparameters, then live training."""

import streamlit as st

from ui.limits import HostedLimits
from ui.training import RUN_KEY, TrainingRequest, run_training, show_last_run
from vae.data import CLASS_NAMES, DATASETS, IMAGE_SHAPES, DatasetNotFoundError
from vae.models import VAEConfig
from vae.training import TrainSettings

TRAIN_SIZES = {"mnist": 60_000, "fashion-mnist": 60_000, "digits": 1_438}

st.title("Train a VAE")
st.caption(
    "Defaults train a 2-D MNIST model on 10,000 images in about half a minute. "
    "Training runs while this page is open; Stop (or leaving the page) keeps the last finished epoch."
)
limits = HostedLimits.from_env()

with st.form("train_form"):
    data_col, model_col, optim_col = st.columns(3)
    with data_col:
        st.markdown("**Data**")
        dataset = st.selectbox("Dataset", DATASETS, help="`digits` is scikit-learn's 8×8 set: tiny and instant.")
        left_out = st.multiselect(
            "Leave out classes",
            options=list(range(10)),
            format_func=lambda c: f"{c} ({CLASS_NAMES[dataset][c]})" if dataset == "fashion-mnist" else str(c),
            placeholder="none: train on every class",
            help="Builds a novelty detector: trained without the 9s, a VAE finds 9s unusual.",
        )
        train_size = st.number_input(
            "Training images",
            min_value=100,
            max_value=limits.max_train_size,
            value=min(10_000, limits.max_train_size),
            step=1000,
            help="A random subset (fewer images, faster epochs). Capped at what the dataset has.",
        )
    with model_col:
        st.markdown("**Model**")
        arch = st.radio("Architecture", ["mlp", "conv"], horizontal=True, help="conv is slower on a CPU")
        latent_dim = st.number_input(
            "Latent dimensions", 1, limits.max_latent, min(2, limits.max_latent), help="2 lets you see the space"
        )
        hidden = st.number_input(
            "Hidden width",
            8,
            limits.max_hidden,
            min(512, limits.max_hidden),
            step=64,
            help="Two layers: this wide, then half as wide",
        )
        conditional = st.checkbox("Conditional on the class (CVAE)", help="The label goes into encoder and decoder")
        beta = st.number_input("β (KL weight)", 0.0, 50.0, 1.0, step=0.5, help="β > 1: a smoother, blurrier space")
    with optim_col:
        st.markdown("**Optimisation**")
        epochs = st.number_input("Epochs", 1, limits.max_epochs, min(10, limits.max_epochs))
        batch_size = st.number_input("Batch size", 1, 4096, 128)
        lr = st.number_input("Learning rate", 1e-6, 10.0, 1e-3, format="%.4f", step=1e-4)
        seed = st.number_input("Seed", 0, 2**31 - 1, 0, help="Same seed, same settings: the same model")
    submitted = st.form_submit_button("Train", type="primary", icon=":material/play_arrow:")

if submitted:
    classes = sorted(set(range(10)) - set(left_out))
    if not classes:
        st.error("Every class is left out: keep at least one class to train on.")
        st.stop()
    request = TrainingRequest(
        dataset=dataset,
        classes=classes,
        train_size=min(int(train_size), TRAIN_SIZES[dataset]),
        config=VAEConfig(
            image_shape=IMAGE_SHAPES[dataset],
            latent_dim=int(latent_dim),
            hidden=(int(hidden), max(1, int(hidden) // 2)),
            arch=arch,
            num_classes=10 if conditional else 0,
            beta=float(beta),
        ),
        settings=TrainSettings(epochs=int(epochs), batch_size=int(batch_size), lr=float(lr), seed=int(seed)),
    )
    try:
        run_training(request)
    except DatasetNotFoundError as err:
        st.error(f"{err}\n\nTip: the `digits` dataset needs no download.")
elif RUN_KEY in st.session_state:
    show_last_run(st.session_state[RUN_KEY])
