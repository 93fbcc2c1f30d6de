"""A real Streamlit server and a real Chromium (Debian's package, driven by Playwright).

Browser tests skip when /usr/bin/chromium is missing, unless VAE_LAB_E2E=require (CI sets it),
in which case they fail. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from bench.browser import CHROMIUM, VIEWPORT, launch_chromium, streamlit_server
from tests.conftest import MNIST_ROOT, REPO

SCREENSHOTS = REPO / "artifacts" / "screenshots"
expect.set_options(timeout=15_000)  # Playwright's 5 s default is short for a 2-core machine running a suite


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("VAE_LAB_E2E") == "require":
            pytest.fail("VAE_LAB_E2E=require but /usr/bin/chromium is missing (apt-get install -y chromium)")
        pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)")
    return CHROMIUM


@pytest.fixture(scope="session")
def app_url(chromium_path) -> Iterator[str]:
    env = {"VAE_DATA_DIR": str(MNIST_ROOT), "PYTHONUNBUFFERED": "1"}
    with streamlit_server(REPO / "artifacts" / "streamlit.log", env) as (url, _):
        yield url


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, app_url):
    """Pages in fresh browser contexts: each one is a separate Streamlit session."""
    contexts = []

    def make():
        context = browser.new_context(viewport=VIEWPORT)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failing browser test, keep a screenshot of the page as it was."""
    outcome = yield
    report = outcome.get_result()
    page = item.funcargs.get("page")
    if report.when == "call" and report.failed and page is not None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"FAILED_{item.name}.png", full_page=True)
