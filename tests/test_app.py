"""The Streamlit app through AppTest: pages render, the picker switches, uploads, training."""

import base64
import io
import re
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO, CreatesAFile, needs_mnist
from ui.anomaly import Q_RANGE, class_guess_text, conformal_text, standing_text
from ui.models import ModelEntry, shipped_names
from vae.checkpoint import NOT_A_CHECKPOINT, checkpoint_bytes, load_checkpoint
from vae.data import load_dataset
from vae.models import VAE, VAEConfig

PAGES = [f"app_pages/{p}.py" for p in ("home", "train", "explore", "generate", "anomaly")]
TIMEOUT = 60
pytestmark = pytest.mark.usefixtures("app_data_dir")


def start(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def picker(at: AppTest):
    return at.sidebar.selectbox(key="model_id")


def test_shipped_models_are_offered():
    assert shipped_names() == [
        "mnist_z2", "mnist_cvae", "mnist_cvae_z8", "mnist_no9", "mnist_ae", "mnist_beta4", "mnist_clusters"
    ]  # fmt: skip
    at = start()
    assert picker(at).options == shipped_names()  # the labels shown; values are the names
    assert picker(at).value == "mnist_z2"


@needs_mnist
@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("name", ["mnist_z2", "mnist_cvae", "mnist_cvae_z8", "mnist_no9", "mnist_clusters"])
def test_every_page_renders_on_every_shipped_model(page, name):
    at = start()
    picker(at).set_value(name).run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert picker(at).value == name  # the choice survives the page switch
    card = " ".join(c.value for c in at.sidebar.caption)
    kinds = {"mnist_cvae": "conditional", "mnist_no9": "classifier head", "mnist_clusters": "10 clusters, no labels"}
    kind = kinds.get(name.removesuffix("_z8"), "unconditional")
    assert f"MNIST · z={8 if name.endswith('_z8') else 2} · mlp · {kind} ·" in card, card


def test_hostile_upload_is_refused_and_the_app_keeps_working(tmp_path):
    marker = tmp_path / "pwned"
    buffer = io.BytesIO()
    torch.save({"format_version": 1, "config": {}, "state_dict": {}, "meta": CreatesAFile(marker)}, buffer)
    at = start()
    at.sidebar.file_uploader[0].upload("evil.pt", buffer.getvalue()).run()
    assert not at.exception
    assert not marker.exists()
    errors = " ".join(e.value for e in at.sidebar.error)
    assert "evil.pt" in errors and "refused without running it" in errors
    assert picker(at).value == "mnist_z2"  # still on the default, working model
    at.switch_page("app_pages/train.py").run()
    assert not at.exception


def test_garbage_upload_is_refused_in_our_own_words():
    at = start()
    at.sidebar.file_uploader[0].upload("notes.pt", b"definitely not a checkpoint").run()
    message = " ".join(e.value for e in at.sidebar.error)
    # torch's own text (cut mid-sentence, advising weights_only=False) never reaches the user
    assert message == f"**notes.pt** was not loaded. {NOT_A_CHECKPOINT}"
    assert "weights_only" not in message


def test_valid_upload_is_selected_everywhere():
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,)))
    data = checkpoint_bytes(model, {"dataset": "digits", "classes": list(range(10))})
    at = start()
    at.sidebar.file_uploader[0].upload("tiny.pt", data).run()
    assert not at.exception and not at.sidebar.error
    assert picker(at).value.startswith("uploaded-")
    assert "DIGITS · z=2" in " ".join(c.value for c in at.sidebar.caption)
    at.switch_page("app_pages/train.py").run()
    assert picker(at).value.startswith("uploaded-")


TRAIN_FORM = {  # fill_train_form's argument → (kind of widget, its label on the Train page)
    "dataset": ("selectbox", "Dataset"),
    "epochs": ("number_input", "Epochs"),
    "train_size": ("number_input", "Training images"),
    "latent_dim": ("number_input", "Latent dimensions"),
    "hidden": ("number_input", "Hidden width"),
    "batch_size": ("number_input", "Batch size"),
    "lr": ("number_input", "Learning rate"),
    "seed": ("number_input", "Seed"),
}


def fill_train_form(at: AppTest, **values) -> None:
    """Set the Train page's form fields by name (they take effect when Train is clicked)."""
    for key, value in values.items():
        kind, label = TRAIN_FORM[key]
        next(w for w in getattr(at, kind) if w.label == label).set_value(value)


def test_training_on_digits_adds_and_selects_the_model():
    at = start("app_pages/train.py")
    fill_train_form(at, dataset="digits", epochs=3)
    at.button[0].click().run()  # the form's Train button
    assert not at.exception, at.exception
    trained_id = picker(at).value
    assert trained_id.startswith("trained-")
    assert any("Trained 3 epochs on 1,438 images" in s.value for s in at.success)
    entry = at.session_state["session_models"][trained_id]
    assert entry.meta["epochs"] == 3 and entry.meta["dataset"] == "digits"
    assert [h["epoch"] for h in entry.meta["history"]] == [1, 2, 3]
    # the trained model is a real checkpoint: it survives the download/upload round trip
    model, meta = load_checkpoint(entry.file_bytes())
    assert model.config.image_shape == (1, 8, 8) and meta["name"] == entry.name
    at.switch_page("app_pages/home.py").run()
    assert picker(at).value == trained_id and entry.name in at.info[0].value


def test_switching_the_dataset_keeps_the_classes_left_out():
    at = start("app_pages/train.py")
    leave_out = next(m for m in at.multiselect if m.label == "Leave out classes")
    leave_out.set_value([3, 9]).run()
    at.selectbox(key="train_dataset").set_value("fashion-mnist").run()
    leave_out = next(m for m in at.multiselect if m.label == "Leave out classes")
    assert leave_out.value == [3, 9]
    assert leave_out.format_func(9) == "9 (Boot)"  # relabelled at once, not after the next Train click
    assert at.query_params["leave_out"] == "3,9" and at.query_params["dataset"] == "fashion-mnist"


def test_with_classes_left_out_the_model_says_how_many_images_it_used():
    _, labels = load_dataset("digits", train=True)
    used = int((labels != 9).sum())  # fewer than the 10,000 the form asks for
    at = start("app_pages/train.py")
    fill_train_form(at, dataset="digits", epochs=2)
    next(m for m in at.multiselect if m.label == "Leave out classes").set_value([9])
    at.button[0].click().run()
    assert not at.exception, at.exception
    entry = at.session_state["session_models"][picker(at).value]
    assert entry.meta["train_images"] == used and entry.meta["classes"] == list(range(9))
    assert any(f"Trained 2 epochs on {used:,} images (of 10,000 asked for" in s.value for s in at.success)


def test_leaving_every_class_out_is_a_message():
    at = start("app_pages/train.py")
    fill_train_form(at, dataset="digits")
    next(m for m in at.multiselect if m.label == "Leave out classes").set_value(list(range(10)))
    at.button[0].click().run()
    assert not at.exception
    assert any("keep at least one class" in e.value for e in at.error)
    assert "session_models" not in at.session_state or not at.session_state["session_models"]


def test_binarize_each_batch_and_the_cosine_learning_rate_reach_the_run_and_the_link():
    at = start("app_pages/train.py")
    fill_train_form(at, dataset="digits", epochs=1)
    at.checkbox(key="train_binarize").check()
    at.radio(key="train_likelihood").set_value("gaussian")
    at.button[0].click().run()
    assert not at.exception and any("needs the bernoulli likelihood" in e.value for e in at.error)
    assert "session_models" not in at.session_state or not at.session_state["session_models"]
    at.radio(key="train_likelihood").set_value("bernoulli")
    at.button[0].click().run()
    assert not at.exception, at.exception
    entry = at.session_state["session_models"][picker(at).value]
    assert entry.meta["settings"]["binarize"] is True and at.query_params["binarize"] == "1"
    assert entry.meta["settings"]["cosine_lr"] is False and at.query_params["cosine"] == "0"
    at.checkbox(key="train_cosine").check()
    at.button[0].click().run()
    assert not at.exception, at.exception
    entry = at.session_state["session_models"][picker(at).value]
    assert entry.meta["settings"]["cosine_lr"] is True and at.query_params["cosine"] == "1"


def test_fourier_features_of_z_reach_the_model_and_the_link():
    at = start("app_pages/train.py")
    fill_train_form(at, dataset="digits", epochs=1)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert at.session_state["session_models"][picker(at).value].model.config.fourier_features == 0
    assert at.query_params["fourier"] == "0"
    at.checkbox(key="train_fourier").check()
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert at.session_state["session_models"][picker(at).value].model.config.fourier_features == 64
    assert at.query_params["fourier"] == "1"


def test_a_conditional_model_trained_here_is_measured_as_a_classifier():
    from ui.training import RUN_KEY, prepare_data
    from vae.anomaly import generative_accuracy
    from vae.card import model_card
    from vae.generation import has_class_codes

    at = start("app_pages/train.py")
    at.radio(key="train_kind").set_value("cvae").run()
    fill_train_form(at, dataset="digits", epochs=5)
    at.button[0].click().run()
    assert not at.exception, at.exception
    entry = at.session_state["session_models"][picker(at).value]
    accuracy = entry.meta["metrics"]["test_generative_accuracy"]
    _, _, test_images, test_labels = prepare_data(at.session_state[RUN_KEY].request)  # the run's held-out images
    assert accuracy == generative_accuracy(entry.model, test_images, test_labels) and accuracy > 0.5
    assert f"right on **{accuracy:.2%}**" in model_card(entry.model.config, entry.meta)
    # it knows where each class's training digits lie, and the run lets go of the training set once it ends
    images, _, _, _ = prepare_data(at.session_state[RUN_KEY].request)
    assert has_class_codes(entry.model) and entry.meta["class_codes_images"] == len(images)
    assert at.session_state[RUN_KEY].class_code_data is None
    at.switch_page("app_pages/generate.py").run()
    assert not at.exception and at.radio(key="generate_codes").value == "class"


def captions(at: AppTest) -> list[str]:
    return [c for image in at.image for c in image.captions]


@needs_mnist
def test_selecting_a_point_or_a_box_in_the_scatter_decodes_it():
    at = start("app_pages/explore.py")
    selection = {"points": [{"customdata": 1234, "x": 0.0, "y": 0.0}], "point_indices": [0], "box": [], "lasso": []}
    at.session_state["explore_scatter"] = {"selection": selection}
    at.run()
    assert not at.exception
    assert at.session_state["explore_index"] == 1234
    assert any(c.startswith("test #1234: a ") for c in captions(at))
    box = {"points": [], "point_indices": [], "box": [{"x": [1.0, 2.0], "y": [-1.0, 0.0]}], "lasso": []}
    at.session_state["explore_scatter"] = {"selection": box}
    at.run()
    assert "decoded at (1.50, -0.50)" in captions(at)
    # the number inputs stay usable as the fallback
    next(n for n in at.number_input if n.label == "z₁").set_value(-2.0).run()
    assert "decoded at (-2.00, -0.50)" in captions(at)


@needs_mnist
def test_typing_a_digit_moves_the_decoded_point_and_leaves_the_interpolation():
    at = start("app_pages/explore.py")
    ends = [n.value for n in at.number_input if n.label in ("From test digit #", "To test digit #")]
    next(n for n in at.number_input if n.label == "Test digit #").set_value(42).run()
    assert not at.exception
    z1, z2 = (next(n for n in at.number_input if n.label == label).value for label in ("z₁", "z₂"))
    assert f"decoded at ({z1:.2f}, {z2:.2f})" in captions(at) and (z1, z2) != (0.0, 0.0)
    assert [n.value for n in at.number_input if n.label in ("From test digit #", "To test digit #")] == ends
    next(n for n in at.number_input if n.label == "Test digit #").set_value(7).run()
    assert (
        next(n for n in at.number_input if n.label == "z₁").value,
        next(n for n in at.number_input if n.label == "z₂").value,
    ) != (z1, z2)  # it follows the digit


@needs_mnist
def test_explorer_on_a_model_with_more_than_two_latent_dimensions():
    torch.manual_seed(0)
    model = VAE(VAEConfig(latent_dim=5, hidden=(32,)))
    at = start()
    at.sidebar.file_uploader[0].upload("z5.pt", checkpoint_bytes(model, {"dataset": "mnist"})).run()
    at.switch_page("app_pages/explore.py").run()
    assert not at.exception, at.exception
    assert any("Row d varies latent dimension d" in c.value for c in at.caption)
    assert not any(n.label == "z₁" for n in at.number_input)  # no 2-D point to type in a 5-D space


def test_generate_a_class_grid_with_the_conditional_model():
    at = start()
    picker(at).set_value("mnist_cvae").run()
    at.switch_page("app_pages/generate.py").run()
    assert not at.exception
    next(s for s in at.selectbox if s.label == "Class").set_value(7).run()
    assert any(c.startswith("48 generated 7s") for c in captions(at))
    next(s for s in at.slider if s.label == "Rows (h)").set_value(2).run()
    assert any(c.startswith("16 generated 7s") for c in captions(at))
    assert any(c.startswith("Rows: classes 0 to 9") for c in captions(at))
    assert not at.exception


def test_a_cvae_draws_each_class_where_its_training_digits_lie_unless_asked_for_the_prior():
    at = start()
    picker(at).set_value("mnist_cvae_z8").run()
    at.switch_page("app_pages/generate.py").run()
    assert at.radio(key="generate_codes").value == "class"  # the checkpoint has its class codes fitted
    fitted = pictures(at)
    assert any(c.endswith("(temperature 1, codes where the training 0s lie)") for c in captions(at))
    at.radio(key="generate_codes").set_value("prior").run()
    assert not at.exception and pictures(at)[0] != fitted[0]
    assert any(c.endswith("generated 0s (temperature 1)") for c in captions(at))
    picker(at).set_value("mnist_clusters").run()  # clusters found without labels: drawn from the prior only
    assert not at.exception and not [r for r in at.radio if r.key == "generate_codes"]


def pictures(at: AppTest) -> list[str]:
    """The shown images' media URLs: Streamlit names each by a hash of its bytes."""
    return [image.url for element in at.get("image") for image in element.proto.imgs]


def test_resample_draws_new_digits():
    at = start("app_pages/generate.py")
    first = pictures(at)
    next(b for b in at.button if b.label == "Resample").click().run()
    assert not at.exception and at.session_state["generate_seed"] == 1
    resampled = pictures(at)
    assert first and resampled[0] != first[0]  # the prior grid changed
    at.number_input(key="generate_seed").set_value(0).run()
    assert pictures(at) == first  # and the same seed draws the same digits again


def canvas_state(draw: bool = True, image: Image.Image | None = None) -> dict:
    """What the drawable canvas sends back: a PNG data URL of its RGBA pixels.

    By default a white 7 on the canvas's opaque black 280×280 background, as the component returns it
    in Chromium (or nothing, with draw=False); `image` replaces those pixels with any other drawing.
    """
    if image is None:
        image = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
        if draw:
            ImageDraw.Draw(image).line([(60, 50), (200, 50), (110, 240)], fill=(255, 255, 255, 255), width=20)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    return {"drawing": {"raw": {"objects": [{}] if draw else []}, "data": url}}


def test_the_conformal_reading_on_a_hand_computed_case():
    calibration = np.arange(1, 100)  # 99 normal scores 1 … 99
    text = conformal_text(95.0, calibration, q=0.95)
    assert "(1 + 5 calibration scores at least as high) / (99 + 1) = **0.060**" in text  # 95, 96, 97, 98, 99
    assert "**not flagged**" in text and "at most 5.0% of the time" in text
    assert "**flagged**" in conformal_text(99.5, calibration, q=0.95)  # p = 1 / 100


def test_where_a_digit_stands_gives_its_verdict_at_every_q():
    calibration = np.arange(1001) / 1000  # normal scores 0.000 … 1.000
    middle = standing_text(0.9, calibration, "ink", Q_RANGE)
    assert "stranger than 90.0% of the normal" in middle and "anomaly** for any q below 0.900" in middle
    assert standing_text(0.5, calibration, "ink", Q_RANGE).endswith("**normal** at every q.")
    assert standing_text(2.0, calibration, "ink", Q_RANGE).endswith("an **anomaly** at every q.")


def threshold_caption(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Threshold = "))


@needs_mnist
def test_moving_the_quantile_changes_the_report():
    at = start("app_pages/anomaly.py")
    before, report_before = threshold_caption(at), at.dataframe[0].value.to_dict()
    at.slider(key="anomaly_q").set_value(0.99).run()
    assert not at.exception
    after = threshold_caption(at)
    assert after != before and "99.0% of" in after
    assert at.dataframe[0].value.to_dict() != report_before  # recall of anomalies drops as q rises


@needs_mnist
def test_a_drawn_digit_gets_a_verdict_and_a_blank_canvas_a_hint():
    at = start("app_pages/anomaly.py")
    at.session_state["canvas_0"] = canvas_state(draw=False)
    at.run()
    assert any("Nothing drawn yet" in i.value for i in at.info) and not at.exception
    at.session_state["canvas_0"] = canvas_state()
    at.run()
    assert not at.exception
    standing = [i.value for i in at.info if i.value.startswith("Your digit scores")]
    verdicts = [m.value for m in list(at.success) + list(at.error) if m.value.startswith("At q = 0.950 your digit")]
    assert len(standing) == 1 and len(verdicts) == 1
    # the two texts agree: the same score, and flagged at q = 0.95 exactly when it is stranger than 95%
    score = re.search(r"scores (\S+),", standing[0]).group(1)
    stranger = float(re.search(r"stranger than ([\d.]+)%", standing[0]).group(1)) / 100
    assert f"its score {score} is" in verdicts[0]
    flagged = verdicts[0].startswith("At q = 0.950 your digit is an **anomaly**")
    assert flagged == (stranger > 0.95) and (flagged or "your digit is **normal**" in verdicts[0])
    assert (flagged and at.error) or (not flagged and at.success)
    assert {"what the model sees", "its reconstruction"} <= set(captions(at))
    conformal = next(m.value for m in at.markdown if m.value.startswith("**Conformal reading**"))
    assert ("**flagged**" in conformal) == flagged  # the p-value rule agrees with the threshold's verdict
    assert any("best F1" in c.value and "needs the anomalies' labels" in c.value for c in at.caption)


@needs_mnist
def test_an_upload_is_scored_before_a_drawing_and_says_so():
    at = start("app_pages/anomaly.py")
    at.session_state["canvas_0"] = canvas_state()
    upload = io.BytesIO()
    Image.new("L", (60, 60), 255).save(upload, format="PNG")  # a blank sheet of paper
    uploader = next(u for u in at.file_uploader if u.label == "…or upload an image")
    uploader.upload("paper.png", upload.getvalue()).run()
    assert not at.exception
    assert any("Scoring **paper.png**, not your drawing" in c.value for c in at.caption)
    assert any("**paper.png** looks blank" in i.value for i in at.info)  # the upload, not the drawn 7, was scored


@needs_mnist
def test_the_conditional_model_names_the_class_that_fits_best():
    at = start()
    picker(at).set_value("mnist_cvae").run()
    at.switch_page("app_pages/anomaly.py").run()
    next(s for s in at.selectbox if s.label == "Reference class c").set_value(7).run()
    at.session_state["canvas_0"] = canvas_state()  # a drawn 7
    at.run()
    assert not at.exception
    guess = next(m.value for m in at.markdown if "explains it best as a **7**" in m.value)
    # how often such a guess is right, from the two models' cards, and the better model named
    cvae, z8 = (load_checkpoint(REPO / "checkpoints" / f"{n}.pt")[1] for n in ("mnist_cvae", "mnist_cvae_z8"))
    mine, best = cvae["metrics"]["test_generative_accuracy"], z8["metrics"]["test_generative_accuracy"]
    assert f"names {mine:.1%} of its test set right; **mnist_cvae_z8** names {best:.1%}" in guess


def test_a_class_guess_quotes_the_accuracy_of_its_own_score_else_says_it_is_the_elbos():
    meta = {
        "dataset": "mnist",
        "metrics": {"test_generative_accuracy": 0.9826, "test_generative_accuracy_shifted_elbo": 0.991},
    }
    better = ("best", {"dataset": "mnist", "metrics": {"test_generative_accuracy": 0.99}})
    assert "(this way it names 99.1% of its test set right):" in class_guess_text("7", meta, "shifted_elbo", better)
    assert "(this way it names 98.3% of its test set right; **best** names 99.0%):" in class_guess_text(
        "7", meta, "elbo", better
    )
    assert "(by its −ELBO it names 98.3% of its test set right" in class_guess_text("7", meta, "ink")
    assert class_guess_text("7", {"metrics": {}}, "ink").endswith("as a **7**:")
    pair = class_guess_text("7", {**meta, "members": [{}, {}]}, "shifted_elbo")  # an ensemble says what it averages
    assert pair.startswith("Scored under every class by each of its 2 networks (their mean), the model explains")


def test_the_sidebar_summary_says_when_a_model_is_an_ensemble():
    config = VAEConfig(image_shape=(1, 8, 8), hidden=(8,), num_classes=10)
    single = ModelEntry("a", "a", "trained", VAE(config), {"dataset": "digits"})
    pair = ModelEntry("b", "b", "trained", VAE(replace(config, members=2)), {"dataset": "digits"})
    assert single.summary == "DIGITS · z=2 · mlp · conditional"
    assert pair.summary == "DIGITS · z=2 · mlp · conditional · an ensemble of 2 networks"


@needs_mnist
def test_the_best_classifier_names_a_drawn_digit_without_pointing_elsewhere():
    at = start()
    picker(at).set_value("mnist_cvae_z8").run()
    at.switch_page("app_pages/anomaly.py").run()
    at.session_state["canvas_0"] = canvas_state()  # a drawn 7
    at.run()
    assert not at.exception
    guess = next(m.value for m in at.markdown if "explains it best as a **7**" in m.value)
    assert "of its test set right)" in guess and "mnist_cvae_z8" not in guess


@needs_mnist
def test_a_corrupt_image_upload_is_a_message():
    at = start("app_pages/anomaly.py")
    uploader = next(u for u in at.file_uploader if u.label == "…or upload an image")
    uploader.upload("digit.png", b"\x89PNG\r\n\x1a\n garbage").run()
    assert not at.exception
    assert any("not an image that can be read" in e.value for e in at.error)


@needs_mnist
def test_explorer_survives_switching_to_a_model_with_a_smaller_test_set():
    torch.manual_seed(0)
    digits_model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,)))
    at = start("app_pages/explore.py")
    next(n for n in at.number_input if n.label == "Test digit #").set_value(5000).run()
    at.sidebar.file_uploader[0].upload("digits.pt", checkpoint_bytes(digits_model, {"dataset": "digits"})).run()
    assert not at.exception, at.exception
    assert at.session_state["explore_index"] == 358  # the last of the 359 digits test images


def test_the_pages_that_need_the_test_set_work_with_no_data_folder(monkeypatch, tmp_path):
    """A fresh machine, no network, no VAE_DATA_DIR: the shipped MNIST test set is enough."""
    from ui.data import cached_dataset

    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path / "empty"))
    cached_dataset.clear()  # the test set may already be cached from the shared data folder
    try:
        at = start()
        for page in ("explore", "generate", "anomaly"):
            at.switch_page(f"app_pages/{page}.py").run()
            assert not at.exception and not at.error, (page, at.error)
    finally:
        cached_dataset.clear()


def test_only_the_listed_checkpoints_are_shipped(tmp_path, monkeypatch):
    """`python -m vae train --out checkpoints/my.pt` (the README's own example) does not make a shipped model."""
    import ui.models

    for name in ui.models.SHIPPED_MODELS:
        (tmp_path / f"{name}.pt").symlink_to(REPO / "checkpoints" / f"{name}.pt")
    (tmp_path / "my.pt").write_bytes(b"anything")
    (tmp_path / "a_first.pt").write_bytes(b"anything")
    monkeypatch.setattr(ui.models, "CHECKPOINT_DIR", tmp_path)
    assert shipped_names() == list(ui.models.SHIPPED_MODELS)


def test_when_every_training_slot_is_taken_the_server_says_it_is_busy(monkeypatch):
    import threading

    import ui.limits

    taken = threading.BoundedSemaphore(1)
    taken.acquire()  # another visitor's training holds the server's only slot
    monkeypatch.setattr(ui.limits, "training_slots", lambda: taken)
    at = start("app_pages/train.py")
    fill_train_form(at, dataset="digits", epochs=2)
    at.button(key="train_submit").click().run()
    assert not at.exception
    assert any("The server is busy training other visitors' models" in w.value for w in at.warning)
    assert picker(at).value == "mnist_z2" and not at.session_state["session_models"]  # nothing trained


@pytest.mark.parametrize("name", ["mnist_z2", "mnist_beta4"])
def test_the_sidebar_opens_the_models_full_card(name):
    at = start()
    picker(at).set_value(name).run()
    at.sidebar.button[[b.label for b in at.sidebar.button].index("Model card")].click().run()
    assert not at.exception, at.exception
    card = (REPO / "checkpoints" / f"{name}.md").read_text()
    shown = " ".join(m.value for m in at.markdown)
    assert f"# Model card: `{name}`" in shown and "## Training history" in shown and card.strip() in shown
