"""Digits drawn with the mouse on the Anomaly lab's canvas in Chromium: how often a conditional model names them.

For each digit 0–9 and each variant (`bench.browser.digit_stroke`: the digit's stroke scaled, rotated, slanted
and shifted as different people might draw it), the stroke is drawn on a cleared canvas and the page's answer
read: "Scored under every class, the model explains it best as a d". Target (#15, the CVAE as a generative
classifier): ≥ 98% of drawn digits named right. `--method` picks the page's score with the mouse first (default:
the score the page opens on).

    python -m bench.drawn_digits [--variants 10] [--model mnist_cvae] [--method shifted_elbo]
"""

from __future__ import annotations

import argparse
import re

from playwright.sync_api import sync_playwright

from bench.browser import (
    DIGIT_STROKES,
    STANDING,
    VERDICT,
    await_reaction,
    clear_canvas,
    digit_stroke,
    draw_stroke,
    open_anomaly_lab,
    streamlit_server,
    text_of,
    timed_browser_page,
    wait_idle,
)
from bench.common import REPO, data_root, load_average, print_table
from vae.anomaly import METHODS

EXPLAINED = ("stMarkdownContainer", "explains it best as a")  # (data-testid, text it contains)


def named_digits(url: str, model: str, variants: int, method: str | None = None) -> dict[int, list[int]]:
    """Digit → the digit the page named for each of its `variants` drawings (by `method`), in one browser session."""
    named: dict[int, list[int]] = {digit: [] for digit in DIGIT_STROKES}
    with sync_playwright() as playwright:
        browser, page = timed_browser_page(playwright)
        try:
            open_anomaly_lab(page, url, model)
            if method is not None:
                page.get_by_role("radiogroup").get_by_text(METHODS[method], exact=True).click()
                page.wait_for_url(re.compile(f"method={method}"))  # the rerun began
                wait_idle(page, 600_000)  # the test set is scored under every class once
            for variant in range(variants):
                for digit in DIGIT_STROKES:
                    if variant or digit:
                        clear_canvas(page)
                    watch = {"score": (STANDING, text_of(page, STANDING)), "verdict": (VERDICT, text_of(page, VERDICT))}
                    draw_stroke(page, digit_stroke(digit, variant))
                    await_reaction(page, watch)
                    answer = re.search(r"explains it best as a (\d)", text_of(page, EXPLAINED) or "")
                    named[digit].append(int(answer.group(1)) if answer else -1)
        except Exception:
            page.screenshot(path=REPO / "artifacts" / "drawn_digits_failure.png", full_page=True)
            raise
        browser.close()
    return named


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=10, help="drawings of each digit")
    parser.add_argument("--model", default="mnist_cvae", help="a shipped conditional checkpoint")
    parser.add_argument("--method", choices=list(METHODS), default=None, help="the score (default: the page's)")
    args = parser.parse_args()
    load_before = load_average()
    with streamlit_server(REPO / "artifacts" / "drawn_digits.log", {"VAE_DATA_DIR": str(data_root())}) as (url, _):
        named = named_digits(url, args.model, args.variants, args.method)
    rows = []
    for digit, answers in named.items():
        wrong = ", ".join(str(a) if a >= 0 else "none" for a in answers if a != digit)
        rows.append([digit, len(answers), f"{answers.count(digit) / len(answers):.0%}", wrong or "—"])
    right = sum(answers.count(digit) for digit, answers in named.items())
    total = sum(len(answers) for answers in named.values())
    by = f"{args.model}, score {args.method}" if args.method else args.model
    print(f"{by}: digits drawn with the mouse on the Anomaly lab's canvas (Chromium); {load_before} before\n")
    print_table(["digit", "drawings", "named right", "named instead"], rows)
    print(f"\nall digits: {right}/{total} = {right / total:.1%} named right (target ≥ 98%); {load_average()} after")


if __name__ == "__main__":
    main()
