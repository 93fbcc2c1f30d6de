"""Generate: new digits from the prior — of a chosen class for a conditional model."""

import streamlit as st

from ui import links
from ui.clusters import cluster_names
from ui.data import class_names_of, test_set
from ui.images import png_bytes, show_grid
from ui.models import current_model
from vae.data import DatasetNotFoundError, to_float
from vae.generation import class_table, has_class_codes, sample_grid, samples_like

st.title("Generate")
entry = current_model()
model, cfg = entry.model, entry.model.config
class_names = class_names_of(entry)
by_label = cfg.decoder_labels > 0  # a CVAE's classes or a clustering VAE's clusters: the decoder takes one
what, whats = ("cluster", "clusters") if cfg.clusters else ("class", "classes")
label_names = cluster_names(entry, class_names) if cfg.clusters else class_names

fitted = has_class_codes(model)  # a CVAE that knows where each class's training codes lie
CODE_CHOICES = {"class": "Where its training digits lie", "prior": "The prior N(0, I)"}
st.caption(
    "Each image is the decoder's output for a random code drawn from the prior N(0, I)"
    + (", or from where the chosen class's training digits lie" if fitted else "")
    + ". **Temperature** scales that draw: below 1 gives safer, more typical digits, above 1 wilder ones."
)
view = [
    links.FloatParam(name="t", key="generate_t", default=1.0, low=0.0, high=2.0, decimals=1),
    links.IntParam(name="seed", key="generate_seed", default=0, low=0, high=2**31 - 1),
    links.IntParam(name="c", key="generate_class", default=0, low=0, high=max(cfg.decoder_labels, 10) - 1),
    links.IntParam(name="rows", key="generate_rows", default=6 if by_label else 8, low=1, high=12),
    links.IntParam(name="cols", key="generate_cols", default=8 if by_label else 10, low=1, high=12),
]
if by_label:
    view.append(links.IntParam(name="table_cols", key="generate_table_cols", default=8, low=2, high=12))
    if fitted:
        view.append(links.ChoiceParam(name="codes", key="generate_codes", default="class", choices=tuple(CODE_CHOICES)))
else:  # "like this digit": which test digit of the class (capped by the class's count below), how far around it
    view += [
        links.IntParam(name="pick", key="generate_pick", default=0, low=0, high=9_999),
        links.FloatParam(name="spread", key="generate_spread", default=1.0, low=0.0, high=3.0, decimals=1),
    ]
links.restore(view, "generate")
settings = st.columns([2, 1, 1], vertical_alignment="bottom")
temperature = settings[0].slider("Temperature", 0.0, 2.0, step=0.1, key="generate_t")
if settings[2].button("Resample", icon=":material/casino:", help="New random codes"):
    st.session_state.generate_seed = (st.session_state.generate_seed + 1) % 2**31
seed = settings[1].number_input("Seed", 0, 2**31 - 1, key="generate_seed")
links.publish(view, "generate")  # widget values are in session state from the start of a run


def offer_download(images, nrow: int, name: str) -> None:
    st.download_button(
        "Download as PNG",
        data=lambda: png_bytes(images, nrow),
        file_name=f"{entry.name}_{name}.png",
        mime="image/png",
        on_click="ignore",
        icon=":material/download:",
    )


if by_label:
    if cfg.clusters:
        st.info(
            f"This model found {cfg.clusters} clusters by itself, never seeing a label: pick one and it draws "
            "digits of that cluster. The names say which digit most of a cluster's test images are.",
            icon=":material/hub:",
        )
    st.session_state.generate_class = min(st.session_state.generate_class, cfg.decoder_labels - 1)
    codes = "prior"
    if fitted:
        codes = st.radio(
            "Codes from",
            list(CODE_CHOICES),
            format_func=CODE_CHOICES.get,
            key="generate_codes",
            horizontal=True,
            help="The KL term pulls each class's codes towards N(0, I) but never all the way: the prior also draws "
            "codes where no training digit of the class lies, and those images are often unclear. The other choice "
            "draws from a Gaussian fitted to the codes of the class's training digits (their mean and spread).",
        )
    tab_class, tab_table = st.tabs([f"One {what}", f"All {whats}"])
    with tab_class:
        controls = st.columns(3)
        digit = controls[0].selectbox(
            what.capitalize(), range(cfg.decoder_labels), format_func=lambda c: label_names[c], key="generate_class"
        )
        rows = controls[1].slider("Rows (h)", 1, 12, key="generate_rows")
        cols = controls[2].slider("Columns (w)", 1, 12, key="generate_cols")
        images = sample_grid(model, rows, cols, y=digit, temperature=temperature, seed=seed, codes=codes)
        shown = f"digits of cluster {label_names[digit]}" if cfg.clusters else f"generated {class_names[digit]}s"
        where = f", codes where the training {class_names[digit]}s lie" if codes == "class" else ""
        show_grid(images, nrow=cols, caption=f"{rows * cols} {shown} (temperature {temperature:g}{where})")
        offer_download(images, cols, f"{what}{digit}")
    with tab_table:
        n_cols = st.slider(
            "Columns", 2, 12, key="generate_table_cols", help=f"Each column is one random code, decoded as every {what}"
        )
        images = class_table(model, n_cols, temperature=temperature, seed=seed, codes=codes)
        show_grid(
            images,
            nrow=n_cols,
            caption=f"Rows: {whats} {label_names[0]} to {label_names[cfg.decoder_labels - 1]}. Columns: "
            + (
                "one shared code z each, so a column keeps its style (slant, thickness) while the "
                f"{what} changes the digit."
                if codes == "prior"
                else "one shared draw each, placed where each row's training digits lie, so a column keeps "
                "roughly the same place among each class's styles."
            ),
        )
        offer_download(images, n_cols, f"all_{whats}")
else:
    tab_prior, tab_like = st.tabs(["From the prior", "Like this digit"])
    with tab_prior:
        controls = st.columns(2)
        rows = controls[0].slider("Rows", 1, 12, key="generate_rows")
        cols = controls[1].slider("Columns", 1, 12, key="generate_cols")
        images = sample_grid(model, rows, cols, temperature=temperature, seed=seed)
        show_grid(images, nrow=cols, caption=f"{rows * cols} samples from the prior (temperature {temperature:g})")
        offer_download(images, cols, "prior")
        st.caption("An unconditional model picks the digit itself: the class is wherever z happens to land.")
    with tab_like:
        try:
            test_images, test_labels, _ = test_set(entry)
        except (LookupError, DatasetNotFoundError) as err:
            st.error(str(err))
            st.stop()
        controls = st.columns(3)
        digit = controls[0].selectbox("Class", range(10), format_func=lambda c: class_names[c], key="generate_class")
        of_class = (test_labels == digit).nonzero().flatten()
        if st.session_state.generate_pick >= len(of_class):  # a link's pick, or one kept from a bigger class
            st.caption(
                f"There are {len(of_class)} test {class_names[digit]}s, numbered 0 to {len(of_class) - 1}: showing "
                f"the last one instead of number {st.session_state.generate_pick}."
            )
            st.session_state.generate_pick = len(of_class) - 1
            links.publish(view, "generate")  # the address names the digit shown, so a shared link shows it too
        pick = controls[1].number_input(
            f"Which {class_names[digit]} (of {len(of_class)})", 0, len(of_class) - 1, key="generate_pick"
        )
        spread = controls[2].slider(
            "Spread", 0.0, 3.0, step=0.1, key="generate_spread", help="1 = the encoder's own uncertainty"
        )
        index = int(of_class[pick])
        x = to_float(test_images[index : index + 1])
        original, generated = st.columns([1, 5])
        original.image(x[0, 0].numpy(), caption=f"test #{index}", width=112, clamp=True)
        images = samples_like(model, x, n=40, spread=spread, seed=seed, temperature=temperature)
        with generated:
            show_grid(
                images,
                nrow=10,
                caption=f"Codes drawn around this digit's posterior q(z|x), decoded (temperature {temperature:g})",
            )
            offer_download(images, 10, f"like_{index}")
