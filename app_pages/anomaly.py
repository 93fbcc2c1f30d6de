"""Anomaly lab: score the test set under a protocol, tune the threshold live, test your own digit."""

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from ui import links
from ui.anomaly import (
    CANVAS_PX,
    NOISE_IMAGES,
    Q_RANGE,
    Probe,
    canvas_key,
    class_guess_text,
    clear_canvas,
    conformal_text,
    drawing_canvas,
    head_scores_text,
    score_probe,
    scored_protocol,
    show_pictures,
    show_report,
    standing_text,
)
from ui.data import dataset_of, encoded_test_set, no_test_set_reason, test_set
from ui.models import BEST_CLASSIFIER, current_model, shipped_entry, shipped_names
from vae.anomaly import (
    METHODS,
    best_f1_threshold,
    curves,
    flagging_quantile,
    format_score,
    is_flagged,
    methods_for,
    operating_point,
    quantile_threshold,
    score_unit,
)
from vae.data import CLASS_NAMES, DatasetNotFoundError
from vae.plots import (
    add_point,
    class_score_bars,
    confusion_figure,
    latent_scatter,
    roc_pr_figure,
    score_histogram,
)
from vae.preprocess import BlankImageError, UnreadableImageError, drawing_to_mnist, read_image

st.title("Anomaly lab")
entry = current_model()
model, cfg = entry.model, entry.model.config
dataset = dataset_of(entry)
if dataset is None:
    st.error(no_test_set_reason(entry))
    st.stop()
names = CLASS_NAMES[dataset]
trained_on = sorted(entry.meta.get("classes", range(10)))

st.markdown(
    "A VAE explains the kind of images it was trained on well. The **anomaly score** says how badly it "
    "explains an image (higher = stranger). An image is flagged when its score exceeds a "
    "**threshold** set from *normal* images the model is not evaluated on."
)

# --- protocol -----------------------------------------------------------------------------------
protocols = {"novelty": "Novelty (classes the model never saw)", "classes": "Choose the normal classes"}
if len(trained_on) == 10:
    del protocols["novelty"]  # trained on every class: there is nothing it never saw
methods = methods_for(model)
default_method = "head" if cfg.head_classes else "ink"  # a model with a classifier head: the score made for it
view = [
    links.ChoiceParam(name="method", key="anomaly_method", default=default_method, choices=tuple(methods)),
    links.FloatParam(name="q", key="anomaly_q", default=0.95, low=Q_RANGE[0], high=Q_RANGE[1], decimals=3),
]
if cfg.conditional:
    view += [
        links.IntParam(name="c", key="anomaly_c", default=0, low=0, high=cfg.num_classes - 1),
        links.FlagParam(name="relative", key="anomaly_relative", default=True),
    ]
else:
    view += [
        links.ChoiceParam(name="protocol", key="anomaly_protocol", default=next(iter(protocols)),
                          choices=tuple(protocols)),
        links.ClassesParam(name="normal", key="anomaly_normal", default=list(range(9)), low=0, high=9),
        links.FlagParam(name="noise", key="anomaly_noise", default=False),
    ]  # fmt: skip
links.restore(view, "anomaly")

setup = st.columns([2, 3, 2])
reference_class, relative = None, False
if cfg.conditional:
    setup[0].radio("Protocol", ["Class-conditional"], help="Every test image is asked: are you a c?")
    reference_class = setup[1].selectbox(
        "Reference class c", range(cfg.num_classes), format_func=lambda c: names[c], key="anomaly_c"
    )
    relative = setup[2].checkbox(
        "Relative to the best other class",
        key="anomaly_relative",
        help="Raw scores favour simple images: a thin 1 is cheap to explain whatever the label. Subtracting the score "
        "of the best *other* class leaves only how well *c* fits: below 0, c explains the image best. "
        "Untick to see the raw score.",
    )
    normal = [reference_class]
    noise = False
else:
    protocol = setup[0].radio("Protocol", list(protocols), format_func=protocols.get, key="anomaly_protocol")
    if protocol == "novelty":
        normal = trained_on
        setup[1].markdown(f"Normal: {', '.join(names[c] for c in normal)}  \nAnomalies: the other classes")
    else:
        normal = setup[1].multiselect("Normal classes", range(10), format_func=lambda c: names[c], key="anomaly_normal")
    noise = setup[2].checkbox(
        f"Add {NOISE_IMAGES:,} noise images", key="anomaly_noise", help="Uniform random pixels, as in the Keras lab"
    )
    if len(trained_on) == 10:
        st.warning(
            "This model was trained on every class, so no digit is new to it and the 'anomalies' look as normal as "
            "the rest: expect an AUROC near 0.5 (noise images are still caught). For novelty detection choose "
            "**mnist_no9** (trained without the 9s) in the sidebar; "
            f'to ask "is this a c?" choose **{BEST_CLASSIFIER}**.'
        )
method = st.radio(
    "Score",
    methods,
    format_func=lambda m: METHODS[m],
    horizontal=True,
    key="anomaly_method",
    help="Per unit of ink: the squared reconstruction error divided by the ink of the image and its "
    "reconstruction, so thin and bold digits are judged on one scale (the likelihood scores below favour "
    "thin, simple digits). Blurred ink: the same after blurring both by a pixel, so a stroke drawn a pixel "
    "beside the model's costs little while a stroke that is not there still costs its ink. "
    + (
        "Averaged over the digit moved a pixel: the blurred ink error of the image as it is and moved a pixel up, "
        "down, left and right (five reconstructions): a digit of the kind the model knows is rebuilt well wherever "
        "it sits, another kind badly everywhere (the one-class benchmark's best score: a model of one digit tells "
        "it from the nine others with AUROC 0.992 on average, blurred ink 0.990, ink 0.985). "
        if "shifted_ink" in methods
        else ""
    )
    + (
        "Lowest −ELBO over the digit placed up to a pixel away: nine −ELBOs, and the one where the digit fits best "
        "counts, so a conditional model's classes compete on shape, not on where the digit sits (its best score for "
        'naming a digit: see "explains it best as" below). '
        if "shifted_elbo" in methods
        else ""
    )
    + "The importance-sampled score (K=50) is the tightest likelihood and about 50× slower."
    + (
        " The classifier head's energy −log Σ exp(logit): low when the head is sure the image is one of the "
        "classes it was taught, high when none fits. Head + ink: both, each counted in standard deviations of "
        "its scores on normal training images the model never trained on."
        if cfg.head_classes
        else ""
    ),
)
if cfg.head_classes:
    st.caption(head_scores_text(entry.meta))
links.publish(view, "anomaly")  # widget values are in session state from the start of a run
if not normal or len(normal) == 10:
    st.error("Choose at least one normal class and leave at least one class as the anomalies.")
    st.stop()
try:
    scored = scored_protocol(entry, normal, reference_class, method, noise, relative)
except DatasetNotFoundError as err:
    st.error(str(err))
    st.stop()


# --- your own digit ---------------------------------------------------------------------------------
def your_digit() -> tuple[Probe | None, DeltaGenerator]:
    """The canvas and upload, and what the model makes of the digit (None: nothing to score).

    Also returns an empty container below the canvas and the pictures, for the charts `show_class_fit` draws later.
    """
    st.subheader("Draw a digit, or upload a photo of one")
    # The canvas has a fixed 280 px: its column must be at least that wide at every window size (at 1024 px
    # with the sidebar open, a third of the page clipped it). The result takes the rest, or wraps below.
    row = st.container(horizontal=True, gap="medium")
    draw_col, result_col = row.container(width=CANVAS_PX + 10), row.container(width="stretch")
    with draw_col:
        st.space(32)  # the canvas's toolbar slides up into this while the pointer is over the canvas
        canvas = drawing_canvas(canvas_key())
        st.caption("White ink on black, like MNIST: lift the mouse (or finger) and the model answers.")
        st.button("Clear", icon=":material/ink_eraser:", on_click=clear_canvas)
        upload = st.file_uploader(
            "…or upload an image", type=["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"]
        )
    with result_col:
        if upload is not None and (canvas.json_data or {}).get("objects"):
            st.caption(f"Scoring **{upload.name}**, not your drawing: remove the upload (×) to score what you drew.")
        probe = None
        try:
            source = read_image(upload.getvalue()) if upload is not None else canvas.image_data
            if source is None:
                raise BlankImageError("nothing drawn")
            probe = score_probe(
                entry, drawing_to_mnist(source, canvas=upload is None), reference_class, method, relative
            )
        except BlankImageError:
            if upload is not None:
                st.info(f"**{upload.name}** looks blank: there is no digit in it to score.")
            else:
                st.info("Nothing drawn yet: draw a digit in the black square (white ink), or upload a photo.")
        except UnreadableImageError as err:
            st.error(f"**{upload.name}**: {err}")
        if probe is not None:
            # true whatever the slider says: a slider move reruns only the threshold region
            st.info(standing_text(probe.score, scored.calibration, method, Q_RANGE))
            show_pictures(probe)
    return probe, st.container()  # the page's width: the result column is narrow at 1024 px with the sidebar open


def show_class_fit(probe: Probe) -> None:
    """For a conditional model, its score under every class; for a 2-D latent, where the digit lands."""
    # two charts share the page's width; the bars alone take all of it, the map alone three fifths (a 2-D latent
    # drawn to scale across the whole page would be a thin band with the dots in its middle fifth)
    has_bars, has_map = probe.class_scores is not None, cfg.latent_dim == 2
    if has_bars:
        bars_col, map_col = st.columns(2) if has_map else (st.container(), None)
    else:
        map_col, note_col = st.columns([3, 2], vertical_alignment="center")
        bars_col = None
        note_col.caption(
            "The star is your digit's code (the encoder's mean), the dots 3,000 test digits coloured by class. "
            "The score above is not a distance on this map: a digit can land inside a cluster and still be rebuilt "
            "badly, because two numbers cannot hold everything about a digit."
        )
    if has_bars:
        guess = int(np.argmin(probe.class_scores))
        better = shipped_entry(BEST_CLASSIFIER) if BEST_CLASSIFIER in shipped_names() else None
        bars_col.markdown(class_guess_text(names[guess], entry.meta, method, better and (better.name, better.meta)))
        bars_col.plotly_chart(class_score_bars(probe.class_scores, names), key="probe_classes")
    if has_map:
        mu, _ = encoded_test_set(entry.id, entry)
        _, labels, _ = test_set(entry)
        title = "Where your digit lands" + (f", as a {names[reference_class]}" if cfg.conditional else "")
        map_col.markdown(f"**{title}**")
        fig = latent_scatter(mu[:3000], labels[:3000].numpy(), names, marker_size=3)
        add_point(fig, probe.mu, "your digit")
        fig.update_layout(height=300, showlegend=False)
        map_col.plotly_chart(fig, key="probe_latent")


# --- live threshold: a slider move reruns only this ----------------------------------------------
quality = curves(scored)  # threshold-free


@st.fragment
def live_threshold(probe_score: float | None) -> None:
    st.subheader("Threshold")
    q = st.slider(
        "Quantile q of the normal calibration scores",
        *Q_RANGE, step=0.001, format="%.3f", key="anomaly_q",
        help="q = 0.95 flags the 5% strangest *normal* images too: 1 − q is the false-alarm budget you accept.",
    )  # fmt: skip
    links.publish(view, "anomaly")  # a slider move reruns only this fragment
    threshold = quantile_threshold(scored.calibration, q)
    caption = st.empty()  # filled once the report is computed: the verdict goes out first
    if probe_score is not None:
        flagged = is_flagged(probe_score, threshold)
        (st.error if flagged else st.success)(
            f"At q = {q:.3f} your digit is {'an **anomaly**' if flagged else '**normal**'}: its score "
            f"{format_score(probe_score, method)} is {'above' if flagged else 'not above'} the threshold "
            f"{format_score(threshold, method)}."
        )
        st.markdown(conformal_text(probe_score, scored.calibration, q))
    op = operating_point(scored, threshold)
    caption.caption(
        f"Threshold = {format_score(threshold, method)}: the score that {q:.1%} of {len(scored.calibration):,} "
        f"held-out normal images stay below. Expected false-alarm rate {1 - q:.1%}; measured on the evaluated "
        f"normal images {op.false_positive_rate:.1%}. Anomalies caught: {op.true_positive_rate:.1%}."
    )
    best_threshold, best_f1 = best_f1_threshold(scored)
    histogram = score_histogram(
        scored.scores, scored.groups, threshold, probe_score, scored.description, score_unit(method), "your digit"
    )
    histogram.add_vline(x=best_threshold, line={"color": "#9467bd", "dash": "dot"}, annotation_text="best F1",
                        annotation_position="top left")  # fmt: skip
    st.plotly_chart(histogram, key="anomaly_histogram")
    st.caption(
        f"Dotted purple: the threshold with the best F1 on these images ({best_f1:.2f} at "
        f"{format_score(best_threshold, method)}, q = {flagging_quantile(scored.calibration, best_threshold):.3f}). "
        "Finding it needs the anomalies' labels, which a real deployment does not have (the question PyOD users ask, "
        "and anomalib's adaptive threshold answers with labelled validation images); the quantile rule needs none."
    )
    report_col, confusion_col = st.columns([3, 2])
    with report_col:
        show_report(op.report)
    with confusion_col:
        st.markdown("**Confusion matrix**")
        st.plotly_chart(confusion_figure(op.confusion), key="anomaly_confusion")
    precision = op.report["anomaly"]["precision"]
    st.plotly_chart(
        roc_pr_figure(
            quality.fpr, quality.tpr, quality.auroc, quality.precision, quality.recall, quality.average_precision,
            op.false_positive_rate, op.true_positive_rate, precision,
        ),
        key="anomaly_curves",
    )  # fmt: skip


@st.fragment
def draw_and_judge() -> None:
    """A stroke or an upload reruns this, not the page: the digit's result, then the threshold region.

    The class-score and latent charts come last: they are the browser's slowest to draw, and the
    verdict at the slider's q should not wait for them.
    """
    probe, class_fit = your_digit()
    live_threshold(None if probe is None else probe.score)
    if probe is not None:
        with class_fit:
            show_class_fit(probe)


draw_and_judge()
