"""Gestures added with the lessons, done with the mouse and the keyboard: the model card, choosing models to
compare, playing a latent replay, typing a test digit in the explorer."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from bench.browser import SLOW_MS, wait_idle, wait_loaded
from tests.conftest import REPO, needs_mnist
from tests.e2e.helpers import assert_no_exception, play_replay, screenshot_whole_page, set_number
from vae.checkpoint import load_checkpoint


def test_the_model_card_button_shows_the_whole_card(page, app_url, screenshots):
    page.goto(f"{app_url}/?model=mnist_beta4")
    wait_loaded(page)
    page.get_by_test_id("stSidebar").get_by_role("button", name="Model card").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name=re.compile("Model card: mnist_beta4"))).to_be_visible()
    expect(dialog).to_contain_text("--beta 4")
    expect(dialog.get_by_role("heading", name="Training history")).to_be_visible()
    page.screenshot(path=screenshots / "model_card_dialog.png")


@needs_mnist
def test_choose_the_models_to_compare_with_the_mouse(page, app_url, screenshots):
    page.goto(f"{app_url}/compare")
    wait_loaded(page)
    table = page.get_by_test_id("stDataFrame")
    expect(table).to_contain_text("mnist_ae")
    chooser = page.get_by_test_id("stMultiSelect").filter(has_text="Models (2 to 4)")
    chooser.get_by_role("button", name=re.compile("Delete|Remove")).first.click()  # the first tag's ×: mnist_ae
    wait_idle(page, SLOW_MS)
    chooser.click()
    page.get_by_role("option", name="mnist_cvae", exact=True).click()
    page.keyboard.press("Escape")
    wait_idle(page, SLOW_MS)
    expect(page).to_have_url(
        re.compile(r"models=mnist_z2%2Cmnist_beta4%2Cmnist_cvae|models=mnist_z2,mnist_beta4,mnist_cvae")
    )
    expect(page.get_by_role("heading", name="mnist_cvae")).to_have_count(0)  # names are bold text, not headings
    expect(page.get_by_text("mnist_cvae", exact=True).first).to_be_visible()
    expect(page.get_by_text("mnist_ae", exact=True)).to_have_count(0)
    assert_no_exception(page)
    screenshot_whole_page(page, screenshots / "compare_chosen.png")


@needs_mnist
def test_play_the_latent_replay(page, app_url, screenshots):
    page.goto(f"{app_url}/explore")  # the default model, mnist_z2: every shipped model carries its replay
    wait_loaded(page)
    page.get_by_text("Replay: how this space formed during training").click()
    replay = page.get_by_test_id("stPlotlyChart").nth(1)
    replay.scroll_into_view_if_needed()
    play_replay(page, replay, last_epoch=load_checkpoint(REPO / "checkpoints" / "mnist_z2.pt")[1]["epochs"])
    assert_no_exception(page)
    replay.screenshot(path=screenshots / "explore_replay.png")


@needs_mnist
def test_typing_a_digit_decodes_it_in_the_explorer(page, app_url):
    page.goto(f"{app_url}/explore")
    wait_loaded(page)
    decoded = page.get_by_text(re.compile(r"decoded at \("))
    before = decoded.inner_text()
    set_number(page, "Test digit #", 42)
    expect(decoded).not_to_have_text(before, timeout=SLOW_MS)
    expect(page.get_by_text(re.compile(r"^test #42: a "))).to_be_visible()
    expect(page).to_have_url(re.compile(r"digit=42\b"))
