"""The latent explorer (and generation) in a real browser."""

import re

from playwright.sync_api import expect

from bench.browser import choose, open_page, wait_idle
from tests.conftest import needs_mnist
from tests.e2e.helpers import assert_no_exception


@needs_mnist
def test_box_selection_decodes_the_box_centre(page, app_url, screenshots):
    open_page(page, app_url, "Latent explorer", "Latent explorer")
    assert_no_exception(page)
    decoded = page.get_by_text(re.compile(r"decoded at \("))
    before = decoded.inner_text()
    page.screenshot(path=screenshots / "explore.png", full_page=True)

    plot = page.locator(".js-plotly-plot").first.locator(".nsewdrag").first
    box = plot.bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.15, box["y"] + box["height"] * 0.15
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 60, y0 + 40, steps=8)
    page.mouse.up()
    expect(decoded).not_to_have_text(before, timeout=30_000)
    wait_idle(page)
    assert_no_exception(page)
    page.screenshot(path=screenshots / "explore_box_selected.png", full_page=True)


def test_generate_digits_of_a_chosen_class(page, app_url, screenshots):
    open_page(page, app_url, "Generate", "Generate", model="mnist_cvae")
    choose(page, "Class", "3")
    expect(page.get_by_text("48 generated 3s")).to_be_visible()
    assert_no_exception(page)
    page.screenshot(path=screenshots / "generate_class.png", full_page=True)
    page.get_by_role("tab", name="All classes").click()
    expect(page.get_by_text("Rows: classes 0 to 9")).to_be_visible()
    page.screenshot(path=screenshots / "generate_all_classes.png", full_page=True)
