"""Every page on every shipped model, in one real browser tab: no exception, no error box, a screenshot each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from bench.browser import MODEL_PAGES, VIEWPORT, error_texts, visit, wait_loaded
from tests.conftest import needs_mnist
from tests.e2e.helpers import screenshot_whole_page
from ui.models import shipped_names

# Every page that follows the sidebar's model, on the four models that differ in kind; the β = 0 and β = 4
# models are plain 2-D VAEs like mnist_z2 (their explorer is walked); Lessons and Compare choose their own models.
KINDS = ("mnist_z2", "mnist_cvae", "mnist_no9", "mnist_clusters")
WALK = [
    *[(model, link) for model in KINDS for link in MODEL_PAGES],
    *[(model, "Latent explorer") for model in shipped_names() if model not in KINDS],
    ("mnist_z2", "Lessons"),
    ("mnist_z2", "Compare models"),
]


def slug(link: str) -> str:
    return link.lower().replace(" ", "_")


@pytest.fixture(scope="module")
def page(browser: Browser, app_url: str) -> Iterator[Page]:
    """One tab for the whole walk (overrides conftest's fresh tab per test; failure screenshots still apply)."""
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    tab.goto(app_url)
    wait_loaded(tab)
    yield tab
    context.close()


@needs_mnist
@pytest.mark.parametrize(("model", "link"), WALK, ids=[f"{model}-{slug(link)}" for model, link in WALK])
def test_page_renders_without_errors(page: Page, model: str, link: str, screenshots) -> None:
    visit(page, model, link)
    # On a shipped model nothing is wrong: any st.error here (or exception box) means something broke.
    assert error_texts(page) == []
    screenshot_whole_page(page, screenshots / f"walk_{model}_{slug(link)}.png")
