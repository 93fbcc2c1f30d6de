"""The anomaly lab in a real browser: draw a digit, get a verdict; move the slider, the report follows."""

import re

from playwright.sync_api import expect

from bench.browser import SEVEN, choose, draw_stroke, open_page, wait_idle
from tests.conftest import needs_mnist
from tests.e2e.helpers import assert_no_exception


@needs_mnist
def test_draw_a_digit_and_tune_the_threshold(page, app_url, screenshots):
    open_page(page, app_url, "Anomaly lab", "Anomaly lab", model="mnist_cvae")
    choose(page, "Reference class c", "7")
    wait_idle(page)
    assert_no_exception(page)

    draw_stroke(page, SEVEN)
    expect(page.get_by_text(re.compile(r"Your digit scores"))).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile(r"At q = 0\.950 your digit is"))).to_be_visible()
    expect(page.get_by_text("its reconstruction")).to_be_visible()
    expect(page.get_by_text(re.compile(r"explains it best as a 7"))).to_be_visible()  # not inverted, not misread
    wait_idle(page)
    assert_no_exception(page)
    page.screenshot(path=screenshots / "anomaly_drawn.png", full_page=True)

    caption = page.get_by_text(re.compile(r"^Threshold = "))
    before = caption.inner_text()
    slider = page.get_by_role("slider")
    slider.focus()
    for _ in range(40):
        page.keyboard.press("ArrowRight")  # q from 0.950 to 0.990
    expect(caption).not_to_have_text(before, timeout=30_000)
    expect(page.get_by_text("Threshold = ", exact=False)).to_contain_text("99.0%")
    expect(page.get_by_text(re.compile(r"At q = 0\.990 your digit is"))).to_be_visible()  # the verdict follows q
    wait_idle(page)
    assert_no_exception(page)
    page.screenshot(path=screenshots / "anomaly_threshold_moved.png", full_page=True)
