"""Cold start: `streamlit run app.py` process start → health check ok → first page rendered in Chromium.

"Rendered" means the home page's heading is visible and Streamlit reports the script run finished
(the shipped models are loaded by then: the sidebar shows the default model's card).

    python -m bench.cold_start [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from playwright.sync_api import sync_playwright

from bench.browser import IDLE, launch_chromium, streamlit_server
from bench.common import REPO, data_root, print_table


def one_cold_start(browser) -> tuple[float, float]:
    """Seconds from process start to (health ok, first page rendered)."""
    with streamlit_server(REPO / "artifacts" / "cold_start.log", {"VAE_DATA_DIR": str(data_root())}) as (
        url,
        healthy_s,
    ):
        started = time.perf_counter() - healthy_s  # the process start, on the same clock
        page = browser.new_page()
        page.goto(url)
        page.get_by_role("heading", name="VAE Lab").wait_for(timeout=90_000)
        page.get_by_text("test −ELBO").first.wait_for(timeout=90_000)
        page.wait_for_selector(IDLE, timeout=90_000)
        rendered_s = time.perf_counter() - started
        page.close()
    return healthy_s, rendered_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        results = [one_cold_start(browser) for _ in range(args.runs)]
        browser.close()
    rows = [[i + 1, healthy, rendered] for i, (healthy, rendered) in enumerate(results)]
    rows.append(["median", statistics.median(r[0] for r in results), statistics.median(r[1] for r in results)])
    print_table(["run", "process start → health ok (s)", "process start → first page rendered (s)"], rows)


if __name__ == "__main__":
    main()
