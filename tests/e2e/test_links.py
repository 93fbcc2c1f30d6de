"""Classroom links in a real browser: the address bar reproduces a view, a reload keeps trained models."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit

from playwright.sync_api import Page, expect

from bench.browser import SLOW_MS, choose, wait_idle, wait_loaded
from tests.conftest import needs_mnist
from tests.e2e.helpers import assert_no_exception, set_number, wait_mid_run
from ui.models import SHIPPED_MODELS

PROJECTOR = {"width": 1024, "height": 768}


def open_url(page: Page, url: str) -> None:
    page.goto(url)
    wait_loaded(page)
    assert_no_exception(page)


def picker(page: Page):
    return page.get_by_test_id("stSidebar").get_by_role("combobox", name="Model")


def model_options(page: Page) -> list[str]:
    picker(page).click()
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return options


def selectbox(page: Page, label: str):
    return page.get_by_test_id("stSelectbox").filter(has_text=label).locator("input")


def slider_thumb(page: Page, label: str):
    """The value a slider shows on its thumb."""
    return page.get_by_test_id("stSlider").filter(has_text=label).get_by_test_id("stSliderThumbValue")


def slider_value(page: Page, label: str) -> str:
    return slider_thumb(page, label).inner_text()


def press_on_slider(page: Page, label: str, key: str, times: int) -> None:
    """Move a slider with the keyboard, one rerun per key press."""
    for _ in range(times):
        page.get_by_test_id("stSlider").filter(has_text=label).get_by_role("slider").press(key)
        wait_idle(page)


def image_bytes(page: Page) -> list[bytes]:
    """Every picture in the main area, fetched as the browser fetched it."""
    sources = page.get_by_test_id("stMain").locator("img").evaluate_all("imgs => imgs.map(i => i.src)")
    return [page.request.get(urljoin(page.url, src)).body() for src in sources]


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


@needs_mnist
def test_generate_link_gives_the_same_controls_and_the_same_pictures(new_page, app_url, screenshots):
    teacher = new_page()
    open_url(teacher, f"{app_url}/generate?model=mnist_cvae")
    choose(teacher, "Class", "3")
    wait_idle(teacher)
    set_number(teacher, "Seed", 7)
    wait_idle(teacher)
    press_on_slider(teacher, "Temperature", "ArrowLeft", 3)
    expect(teacher).to_have_url(re.compile(r"t=0\.7"))
    link = teacher.url
    assert query(link)["c"] == ["3"] and query(link)["seed"] == ["7"] and query(link)["model"] == ["mnist_cvae"]

    student = new_page()
    open_url(student, link)  # its first values can flash by before the run ends: expect() waits for them
    expect(selectbox(student, "Class")).to_have_value("3")
    expect(student.get_by_label("Seed", exact=True)).to_have_value("7")
    expect(slider_thumb(student, "Temperature")).to_have_text(slider_value(teacher, "Temperature"))
    assert slider_value(teacher, "Temperature") == "0.70"
    expect(picker(student)).to_have_value("mnist_cvae")
    wait_idle(student)
    pictures = image_bytes(student)
    assert pictures and pictures == image_bytes(teacher)  # the same seed draws the same digits, byte for byte
    student.screenshot(path=screenshots / "link_generate_student.png", full_page=True)


@needs_mnist
def test_explorer_link_gives_the_same_digit_grid_and_interpolation(new_page, app_url):
    teacher = new_page()
    open_url(teacher, f"{app_url}/explore")
    set_number(teacher, "Test digit #", 123)
    wait_idle(teacher)
    set_number(teacher, "To test digit #", 4000)
    wait_idle(teacher)
    press_on_slider(teacher, "Grid size n", "ArrowLeft", 3)
    expect(teacher).to_have_url(re.compile(r"n=12"))
    assert query(teacher.url)["digit"] == ["123"] and query(teacher.url)["to"] == ["4000"]

    student = new_page()
    open_url(student, teacher.url)
    for label, value in (("Test digit #", "123"), ("To test digit #", "4000"), ("From test digit #", "0")):
        expect(student.get_by_label(label, exact=True)).to_have_value(value)
    expect(slider_thumb(student, "Grid size n")).to_have_text("12")
    wait_idle(student)
    pictures = image_bytes(student)
    assert len(pictures) >= 5 and pictures == image_bytes(teacher)


@needs_mnist
def test_anomaly_link_gives_the_same_threshold_and_report(new_page, app_url, screenshots):
    teacher = new_page()
    open_url(teacher, f"{app_url}/anomaly?model=mnist_no9&q=0.9")  # the link a class tripped on
    expect(picker(teacher)).to_have_value("mnist_no9")
    expect(slider_thumb(teacher, "Quantile q")).to_have_text("0.900")
    press_on_slider(teacher, "Quantile q", "ArrowRight", 5)
    expect(teacher).to_have_url(re.compile(r"q=0\.905"))
    caption = teacher.get_by_text("Threshold = ").inner_text()

    student = new_page()
    open_url(student, teacher.url)
    expect(slider_thumb(student, "Quantile q")).to_have_text("0.905")
    assert slider_value(teacher, "Quantile q") == "0.905"
    expect(student.get_by_text("Threshold = ")).to_have_text(caption)  # the same threshold, rates and counts
    student.screenshot(path=screenshots / "link_anomaly_student.png", full_page=True)


def test_train_link_carries_the_data_choices(new_page, app_url):
    teacher = new_page()
    open_url(teacher, f"{app_url}/train")
    choose(teacher, "Dataset", "digits")
    wait_idle(teacher)
    leave_out = teacher.get_by_test_id("stMultiSelect").filter(has_text="Leave out classes")
    leave_out.click()
    teacher.get_by_role("option", name="9", exact=True).click()
    teacher.keyboard.press("Escape")
    expect(leave_out).to_contain_text("9")
    wait_idle(teacher, SLOW_MS)
    expect(teacher).to_have_url(re.compile(r"leave_out=9"), timeout=SLOW_MS)

    student = new_page()
    open_url(student, teacher.url)
    expect(selectbox(student, "Dataset")).to_have_value("digits")
    expect(student.get_by_test_id("stMultiSelect").filter(has_text="Leave out classes")).to_contain_text("9")


@needs_mnist
def test_a_pick_beyond_the_class_shows_the_last_digit_and_says_so(page, app_url):
    open_url(page, f"{app_url}/generate?model=mnist_z2&c=5&pick=5000")
    page.get_by_role("tab", name="Like this digit").click()
    expect(page.get_by_text("There are 892 test 5s, numbered 0 to 891: showing the last one")).to_be_visible()
    expect(page.get_by_label("Which 5 (of 892)")).to_have_value("891")
    expect(page).to_have_url(re.compile(r"[?&]pick=891\b"))
    assert_no_exception(page)


def test_a_hostile_address_is_ignored_with_a_notice(page, app_url):
    open_url(page, f"{app_url}/anomaly?model=../../etc/passwd&q=NaN&c=99&ws=..%2F..&{'x' * 3000}=1")
    expect(page.get_by_text("Some of this link was ignored")).to_be_visible()
    expect(picker(page)).to_have_value("mnist_z2")
    expect(slider_thumb(page, "Quantile q")).to_have_text("0.950")


def test_a_trained_model_survives_a_reload_and_travels_with_its_link(new_page, app_url, screenshots):
    student = new_page()
    open_url(student, f"{app_url}/train?dataset=digits&epochs=3")
    student.get_by_role("button", name="Train", exact=True).click()
    expect(student.get_by_text("Trained 3 epochs")).to_be_visible(timeout=SLOW_MS)
    wait_idle(student)
    trained = "digits-z2-mlp-1 (trained here)"
    expect(picker(student)).to_have_value(trained)
    assert query(student.url)["ws"] and query(student.url)["model"][0].startswith("trained-")

    student.reload()  # by accident
    wait_loaded(student)
    assert_no_exception(student)
    expect(picker(student)).to_have_value(trained)
    expect(student.get_by_role("heading", name="Runs in your workspace (1)")).to_be_visible()

    other_device = new_page()
    open_url(other_device, student.url)
    expect(picker(other_device)).to_have_value(trained)
    assert model_options(other_device) == [*SHIPPED_MODELS, trained]
    other_device.screenshot(path=screenshots / "workspace_other_device.png", full_page=True)


def test_a_reload_during_the_first_training_keeps_its_finished_epochs(page, app_url):
    """The workspace is in the address from the moment a training starts, so a reload mid-run finds its model."""
    open_url(page, f"{app_url}/train?dataset=digits&epochs=40&images=1000")
    page.get_by_role("button", name="Train", exact=True).click()
    wait_mid_run(page, epochs=40, timeout_ms=SLOW_MS)
    assert query(page.url)["ws"]  # written when the run started, not when it ends
    page.reload()  # by accident, mid-run: the run stops and keeps its finished epochs in the workspace
    wait_loaded(page)
    kept = "digits-z2-mlp-1 (trained here)"
    for _ in range(10):  # it is saved a moment after the reload: the next page visit lists it
        if kept in model_options(page):
            break
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Home").click()
        page.wait_for_timeout(1000)
        wait_idle(page)
    assert kept in model_options(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Train").click()
    expect(page.get_by_role("heading", name="Runs in your workspace (1)")).to_be_visible()
    assert_no_exception(page)


def test_a_second_click_on_train_trains_one_model(page, app_url):
    open_url(page, f"{app_url}/train?dataset=digits&epochs=40&images=1000")
    train = page.get_by_role("button", name="Train", exact=True)
    train.click()
    wait_mid_run(page, epochs=40, timeout_ms=SLOW_MS)
    train.click()  # again, impatient: the run starts over, the interrupted one is not kept
    expect(page.get_by_text("Trained 40 epochs")).to_be_visible(timeout=SLOW_MS)
    wait_idle(page)
    assert model_options(page) == [*SHIPPED_MODELS, "digits-z2-mlp-1 (trained here)"]
    expect(page.get_by_role("heading", name="Runs in your workspace (1)")).to_be_visible()


def test_share_this_view_shows_the_link_of_the_view(new_page, app_url, screenshots):
    page = new_page()
    page.set_viewport_size(PROJECTOR)  # the sidebar is open at this width: a teacher's projector
    open_url(page, f"{app_url}/generate?model=mnist_cvae&c=5&seed=3")
    page.get_by_role("button", name="Share this view").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    shown = dialog.get_by_test_id("stCode").first.inner_text().strip()
    assert urlsplit(shown).path == "/generate"
    assert query(shown) == query(page.url) and query(shown)["c"] == ["5"]
    page.screenshot(path=screenshots / "share_dialog_1024x768.png")
