"""Train in a real browser: progress and curves, Stop keeps the last epoch, other pages use the model."""

import re

from playwright.sync_api import expect

from bench.browser import SEVEN, choose, draw_stroke, go_to, open_page, wait_idle, wait_loaded
from tests.conftest import needs_mnist
from tests.e2e.helpers import assert_no_exception, set_number, wait_mid_run
from ui.models import SHIPPED_MODELS


def model_picker(page):
    return page.get_by_test_id("stSidebar").get_by_role("combobox", name="Model")


def test_home_page_starts_on_a_shipped_model(page, app_url, screenshots):
    page.goto(app_url)
    wait_loaded(page)
    expect(page.get_by_role("heading", name="VAE Lab")).to_be_visible()
    expect(model_picker(page)).to_have_value("mnist_z2")
    expect(page.get_by_test_id("stSidebar")).to_contain_text("MNIST · z=2")
    assert_no_exception(page)
    page.screenshot(path=screenshots / "home.png", full_page=True)


@needs_mnist
def test_train_watch_stop_and_use_the_model(page, app_url, screenshots):
    open_page(page, app_url, "Train", "Train a VAE")
    assert_no_exception(page)
    page.screenshot(path=screenshots / "train_form.png", full_page=True)

    # 1. A short run to the end on a small MNIST subset: progress, curves, pictures.
    set_number(page, "Training images", 3000)
    set_number(page, "Epochs", 4)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_test_id("stProgress")).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
    page.screenshot(path=screenshots / "train_running.png", full_page=True)
    expect(page.get_by_text("Trained 4 epochs")).to_be_visible(timeout=120_000)
    wait_idle(page)
    assert_no_exception(page)
    expect(model_picker(page)).to_have_value("mnist-z2-mlp-1 (trained here)")
    page.screenshot(path=screenshots / "train_done.png", full_page=True)

    # 2. A longer run, stopped after its second epoch: the completed epochs are kept.
    set_number(page, "Training images", 10000)
    set_number(page, "Epochs", 40)
    page.get_by_role("button", name="Train", exact=True).click()
    wait_mid_run(page, epochs=40)
    page.get_by_role("button", name="Stop", exact=True).click()
    stopped = page.get_by_text("Stopped after")
    expect(stopped).to_be_visible(timeout=60_000)
    wait_idle(page)
    message = stopped.inner_text()
    kept = int(message.split("Stopped after ")[1].split(" of")[0])
    assert 2 <= kept < 40, message
    assert_no_exception(page)
    page.screenshot(path=screenshots / "train_stopped.png", full_page=True)

    # 3. Another page finds the stopped model selected.
    go_to(page, "Home", "VAE Lab")
    expect(page.get_by_text("Model in use:")).to_contain_text("mnist-z2-mlp-2")
    expect(model_picker(page)).to_have_value("mnist-z2-mlp-2 (trained here)")
    assert_no_exception(page)
    page.screenshot(path=screenshots / "home_with_trained_model.png", full_page=True)


def test_two_sessions_train_at_once_and_keep_their_own_models(new_page, app_url, screenshots):
    sessions = {3: new_page(), 4: new_page()}  # latent dimensions make the two models tell-apart
    for latent_dim, page in sessions.items():
        open_page(page, app_url, "Train", "Train a VAE")
        choose(page, "Dataset", "digits")
        set_number(page, "Latent dimensions", latent_dim)
        set_number(page, "Epochs", 30)
    for page in sessions.values():
        page.get_by_role("button", name="Train", exact=True).click()
    for latent_dim, page in sessions.items():
        expect(page.get_by_text("Trained 30 epochs")).to_be_visible(timeout=120_000)
        wait_idle(page)
        assert_no_exception(page)
        # each session numbers its own models from 1 and sees only them
        expect(model_picker(page)).to_have_value(f"digits-z{latent_dim}-mlp-1 (trained here)")
        model_picker(page).click()
        options = page.get_by_role("option").all_inner_texts()
        page.keyboard.press("Escape")
        assert options == [*SHIPPED_MODELS, f"digits-z{latent_dim}-mlp-1 (trained here)"]
        page.screenshot(path=screenshots / f"concurrent_session_z{latent_dim}.png", full_page=True)


def train_kind_on_digits(page, app_url, kind_label: str, kind: str, epochs: int) -> None:
    """On the Train page, click a model kind, train it on `digits` for a few epochs, wait for the outcome."""
    open_page(page, app_url, "Train", "Train a VAE")
    page.get_by_test_id("stRadioGroup").get_by_text(kind_label).click()
    expect(page).to_have_url(re.compile(rf"kind={kind}"))
    choose(page, "Dataset", "digits")
    wait_idle(page)
    set_number(page, "Epochs", epochs)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(f"Trained {epochs} epochs")).to_be_visible(timeout=120_000)
    wait_idle(page)


def test_train_a_clustering_model_and_watch_its_nmi(page, app_url, screenshots):
    train_kind_on_digits(page, app_url, "Clusters (finds the digits without labels)", "clusters", 3)
    expect(page.get_by_role("spinbutton", name="Clusters K")).to_have_value("10")
    expect(page.get_by_text("clusters vs labels").first).to_be_visible()  # the NMI panel of the curves
    expect(page.get_by_test_id("stSidebar")).to_contain_text("10 clusters, no labels")
    assert_no_exception(page)
    page.screenshot(path=screenshots / "train_clusters.png", full_page=True)


def test_train_a_classifier_head_and_score_by_head_and_ink(page, app_url, screenshots):
    train_kind_on_digits(page, app_url, "Classifier head (also learns the labels)", "classifier", 2)
    expect(page.get_by_text(re.compile(r"[0-9,]+ more set aside to calibrate its combined score"))).to_be_visible()
    expect(page.get_by_test_id("stSidebar")).to_contain_text("classifier head")
    page.screenshot(path=screenshots / "train_classifier.png", full_page=True)
    go_to(page, "Anomaly lab", "Anomaly lab")
    wait_idle(page)
    page.get_by_role("radiogroup").get_by_text("head's energy + ink error", exact=False).click()  # calibrated
    expect(page).to_have_url(re.compile(r"method=combined"))
    wait_idle(page)
    expect(page.get_by_text("ROC (AUROC").first).to_be_visible()
    assert_no_exception(page)


def test_tick_binarize_cosine_lr_and_fourier_features_train_and_read_them_in_the_model_card(page, app_url, screenshots):
    open_page(page, app_url, "Train", "Train a VAE")
    choose(page, "Dataset", "digits")
    wait_idle(page)
    set_number(page, "Epochs", 2)
    page.get_by_text("Binarize each batch").click()
    page.get_by_test_id("stRadioGroup").get_by_text("gaussian").click()
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text("needs the bernoulli likelihood")).to_be_visible()  # refused in words, nothing trained
    page.get_by_test_id("stRadioGroup").get_by_text("bernoulli").click()
    page.get_by_text("Cosine learning rate").click()
    page.get_by_text("Fourier features of z").click()
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text("Trained 2 epochs")).to_be_visible(timeout=120_000)
    wait_idle(page)
    expect(page).to_have_url(re.compile(r"binarize=1"))
    expect(page).to_have_url(re.compile(r"cosine=1"))
    expect(page).to_have_url(re.compile(r"fourier=1"))
    page.get_by_test_id("stSidebar").get_by_role("button", name="Model card").click()
    expect(page.get_by_role("dialog")).to_contain_text("Dynamic binarization")
    expect(page.get_by_role("dialog")).to_contain_text("fell along half a cosine")
    expect(page.get_by_role("dialog")).to_contain_text("64 random Fourier features")
    assert_no_exception(page)
    page.screenshot(path=screenshots / "train_binarized_card.png")


def test_a_conditional_model_trained_here_says_how_often_its_guess_is_right(page, app_url, screenshots):
    train_kind_on_digits(page, app_url, "Conditional VAE (given the labels)", "cvae", 5)
    go_to(page, "Anomaly lab", "Anomaly lab")
    wait_idle(page)
    draw_stroke(page, SEVEN)
    guess = page.get_by_text(re.compile(r"explains it best as a .* names \d+\.\d% of its test set right"))
    expect(guess).to_be_visible(timeout=60_000)
    assert_no_exception(page)
    page.screenshot(path=screenshots / "anomaly_trained_cvae.png", full_page=True)
