"""Hosted limits from the environment (on Community Cloud: root-level secrets) shape the Train form."""

from streamlit.testing.v1 import AppTest

from tests.conftest import REPO
from ui.limits import HostedLimits


def test_tiny_limits_still_give_a_working_form(monkeypatch):
    for name, value in {
        "VAE_LAB_MAX_EPOCHS": "5",
        "VAE_LAB_MAX_TRAIN_SIZE": "50",  # below the form's minimum of 100: raised to it
        "VAE_LAB_MAX_HIDDEN": "4",  # below the form's minimum width of 8: raised to it
        "VAE_LAB_MAX_LATENT": "1",
    }.items():
        monkeypatch.setenv(name, value)
    assert HostedLimits.from_env() == HostedLimits(5, 100, 8, 1, 2)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception, at.exception
    inputs = {n.label: n for n in at.number_input}
    assert (inputs["Epochs"].value, inputs["Epochs"].max) == (5, 5)  # the default of 10 respects the cap
    assert (inputs["Latent dimensions"].value, inputs["Latent dimensions"].max) == (1, 1)
    assert inputs["Hidden width"].value == 8 and inputs["Training images"].value == 100


def test_unreadable_limits_fall_back_to_the_defaults(monkeypatch):
    monkeypatch.setenv("VAE_LAB_MAX_EPOCHS", "lots")
    assert HostedLimits.from_env().max_epochs == HostedLimits().max_epochs
