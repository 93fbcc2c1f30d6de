"""The Streamlit app through AppTest: pages render, the picker switches, uploads, training."""

import builtins
import io

import pytest
import torch
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO
from ui.models import shipped_names
from vae.checkpoint import checkpoint_bytes, load_checkpoint
from vae.models import VAE, VAEConfig

PAGES = ["app_pages/home.py", "app_pages/train.py"]
TIMEOUT = 60


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
    assert shipped_names() == ["mnist_z2", "mnist_cvae", "mnist_no9"]
    at = start()
    assert picker(at).options == shipped_names()  # the labels shown; values are "shipped:<name>"
    assert picker(at).value == "shipped:mnist_z2"


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("name", ["mnist_z2", "mnist_cvae", "mnist_no9"])
def test_every_page_renders_on_every_shipped_model(page, name):
    at = start()
    picker(at).set_value(f"shipped:{name}").run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert picker(at).value == f"shipped:{name}"  # the choice survives the page switch
    card = " ".join(c.value for c in at.sidebar.caption)
    assert "MNIST · z=2" in card and ("conditional" in card)


class CreatesAFile:
    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (builtins.open, (self.path, "w"))


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
    assert picker(at).value == "shipped:mnist_z2"  # still on the default, working model
    at.switch_page("app_pages/train.py").run()
    assert not at.exception


def test_garbage_upload_is_refused():
    at = start()
    at.sidebar.file_uploader[0].upload("notes.pt", b"definitely not a checkpoint").run()
    assert "not a readable PyTorch checkpoint" in " ".join(e.value for e in at.sidebar.error)


def test_valid_upload_is_selected_everywhere():
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,)))
    data = checkpoint_bytes(model, {"dataset": "digits", "classes": list(range(10))})
    at = start()
    at.sidebar.file_uploader[0].upload("tiny.pt", data).run()
    assert not at.exception and not at.sidebar.error
    assert picker(at).value.startswith("uploaded:")
    assert "DIGITS · z=2" in " ".join(c.value for c in at.sidebar.caption)
    at.switch_page("app_pages/train.py").run()
    assert picker(at).value.startswith("uploaded:")


def fill_train_form(at: AppTest, **values) -> None:
    for key, value in values.items():
        widget = {"dataset": at.selectbox, "epochs": at.number_input, "train_size": at.number_input}[key]
        label = {"dataset": "Dataset", "epochs": "Epochs", "train_size": "Training images"}[key]
        next(w for w in widget if w.label == label).set_value(value)


def test_training_on_digits_adds_and_selects_the_model():
    at = start("app_pages/train.py")
    fill_train_form(at, dataset="digits", epochs=3)
    at.button[0].click().run()  # the form's Train button
    assert not at.exception, at.exception
    assert picker(at).value == "trained:1"
    assert any("Trained 3 epochs" in s.value for s in at.success)
    entry = at.session_state["session_models"]["trained:1"]
    assert entry.meta["epochs"] == 3 and entry.meta["dataset"] == "digits"
    assert [h["epoch"] for h in entry.meta["history"]] == [1, 2, 3]
    # the trained model is a real checkpoint: it survives the download/upload round trip
    model, meta = load_checkpoint(entry.file_bytes())
    assert model.config.image_shape == (1, 8, 8) and meta["name"] == entry.name
    at.switch_page("app_pages/home.py").run()
    assert picker(at).value == "trained:1" and "trained here" not in at.info[0].value


def test_leaving_every_class_out_is_a_message():
    at = start("app_pages/train.py")
    fill_train_form(at, dataset="digits")
    next(m for m in at.multiselect if m.label == "Leave out classes").set_value(list(range(10)))
    at.button[0].click().run()
    assert not at.exception
    assert any("keep at least one class" in e.value for e in at.error)
    assert "session_models" not in at.session_state or not at.session_state["session_models"]
