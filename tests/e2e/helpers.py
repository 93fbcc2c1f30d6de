"""Small Playwright helpers for Streamlit pages."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from bench.browser import IDLE


def wait_idle(page: Page, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished running the script for this page."""
    page.wait_for_selector(IDLE, timeout=timeout)
    page.wait_for_timeout(300)  # let the last deltas paint


def go_to(page: Page, link: str, heading: str) -> None:
    """Follow the sidebar navigation link `link` and wait for that page's `heading`."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=link).click()
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    wait_idle(page)


def open_page(page: Page, url: str, link: str, heading: str, model: str | None = None) -> None:
    """Open the app at `url`, choose `model` in the sidebar (if given), then the page behind `link`."""
    page.goto(url)
    wait_idle(page)
    if model is not None:
        choose(page, "Model", model)
        wait_idle(page)
    go_to(page, link, heading)


def choose(page: Page, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label`."""
    page.get_by_test_id("stSelectbox").filter(has_text=label).locator("input").click()
    page.get_by_role("option", name=option, exact=True).click()


def set_number(page: Page, label: str, value: float) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Tab")


def assert_no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)
