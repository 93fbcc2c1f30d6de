"""Playwright helpers only the tests use. The browser driver itself (server, Chromium, moving around the app,
drawing) serves the benchmarks too: it has one home, `bench.browser`, and tests import it from there."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect


def set_number(page: Page, label: str, value: float) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Tab")


def assert_no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def screenshot_whole_page(page: Page, path: Path) -> None:
    """A screenshot of all of the main area: it scrolls inside the page, so grow the viewport to fit it."""
    viewport = page.viewport_size
    height = page.get_by_test_id("stMain").evaluate("main => main.scrollHeight")
    if height > viewport["height"]:
        page.set_viewport_size({"width": viewport["width"], "height": height})
        page.wait_for_timeout(500)  # charts re-lay themselves out
    page.screenshot(path=path, full_page=True)
    page.set_viewport_size(viewport)
