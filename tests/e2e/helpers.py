"""Playwright helpers only the tests use. The browser driver itself (server, Chromium, moving around the app,
drawing) serves the benchmarks too: it has one home, `bench.browser`, and tests import it from there."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Locator, Page, expect


def set_number(page: Page, label: str, value: float) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Tab")


def assert_no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def wait_mid_run(page: Page, epochs: int, first: int = 3, timeout_ms: float = 120_000) -> None:
    """Wait until the Train page's progress shows a run between epoch `first` and three quarters of `epochs`.

    Checked on every frame, not once a second as `expect` polls after its first tries: a fast machine
    rushing through the epochs cannot slip past it."""
    page.wait_for_function(
        """([pattern, first, last]) => {
            const shown = document.body.innerText.match(new RegExp(pattern));
            return shown !== null && +shown[1] >= first && +shown[1] <= last;
        }""",
        arg=[rf"Epoch (\d+)/{epochs} ·", first, max(first, epochs * 3 // 4)],
        timeout=timeout_ms,
    )


def screenshot_whole_page(page: Page, path: Path) -> None:
    """A screenshot of all of the main area: it scrolls inside the page, so grow the viewport to fit it."""
    viewport = page.viewport_size
    height = page.get_by_test_id("stMain").evaluate("main => main.scrollHeight")
    if height > viewport["height"]:
        page.set_viewport_size({"width": viewport["width"], "height": height})
        page.wait_for_timeout(500)  # charts re-lay themselves out
    page.screenshot(path=path, full_page=True)
    page.set_viewport_size(viewport)


def epoch_shown(chart: Locator) -> int:
    """The epoch a replay chart's slider points at (plotly moves it along with the animation)."""
    return int(
        chart.locator(".js-plotly-plot").evaluate("p => p.layout.sliders[0].steps[p.layout.sliders[0].active].label")
    )


def play_replay(page: Page, chart: Locator, last_epoch: int) -> None:
    """Press the replay's ▶ Play: it must go back to the first snapshots, then play on to the last."""
    assert epoch_shown(chart) == last_epoch  # it opens on the trained model
    plot = chart.locator(".js-plotly-plot").element_handle()
    chart.locator(".updatemenu-button").filter(has_text="Play").click()
    page.wait_for_function("p => p.layout.sliders[0].active < p.layout.sliders[0].steps.length - 1", arg=plot)
    assert epoch_shown(chart) < last_epoch
    page.wait_for_function(
        "p => p.layout.sliders[0].active === p.layout.sliders[0].steps.length - 1", arg=plot, timeout=20_000
    )
    assert epoch_shown(chart) == last_epoch
