"""Ten browser sessions on one server at once: each draws, moves the slider, and sees only its own state.

Each session is a thread with its own Playwright and Chromium. Sessions differ in model (the three
shipped ones in turn), reference class (conditional model) and quantile q (q = 0.950 + 0.001 ×
(3 + session number)). In step, all sessions: open the anomaly lab, draw a digit (a different one
each) and wait for the verdict, move the slider to their q one ArrowRight at a time, then check that
the page still shows their own model, class, q and digit score, and no exception. The test-set
scores are computed once per model before the sessions start (a cold cache is bench.cold_start's
subject). Prints p50 / p95 of the drawing → verdict and slider → report times under this load, and
every error; exits 1 if there was any.

    python -m bench.concurrency [--sessions 10]
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from playwright.sync_api import Page, sync_playwright

from bench.browser import (
    STANDING,
    THRESHOLD_CAPTION,
    VERDICT,
    Reaction,
    draw_and_await_verdict,
    error_texts,
    move_slider,
    open_anomaly_lab,
    reaction_rows,
    reference_class_shown,
    streamlit_server,
    text_of,
    timed_browser_page,
)
from bench.common import REPO, data_root, load_average, print_table

MODELS = ("mnist_cvae", "mnist_z2", "mnist_no9")
PHASE_TIMEOUT_S = 600


@dataclass
class Session:
    """One visitor's plan, and what happened to it."""

    number: int
    model: str
    reference_class: int | None
    steps: int  # ArrowRight presses from q = 0.950
    drawing: list[Reaction] = field(default_factory=list)
    slider: list[Reaction] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    score: str | None = None  # the verdict's score of this session's digit

    @property
    def q(self) -> float:
        return round(0.950 + 0.001 * self.steps, 3)

    @property
    def label(self) -> str:
        return f"session {self.number} ({self.model}, c={self.reference_class}, q={self.q:.3f})"


def plan(sessions: int) -> list[Session]:
    """Models in turn; the conditional sessions each test a different class; every q differs."""
    plans = []
    for number in range(sessions):
        model = MODELS[number % len(MODELS)]
        reference_class = (3 * number) % 10 if model == "mnist_cvae" else None
        plans.append(Session(number, model, reference_class, steps=3 + number))
    return plans


def verdict_score(page: Page) -> str | None:
    match = re.search(r"Your digit scores (\S+)", text_of(page, STANDING) or "")
    return match and match.group(1)


def own_state_problems(page: Page, session: Session) -> list[str]:
    """What on the page is not this session's own state."""
    problems = []
    model = page.get_by_test_id("stSidebar").get_by_role("combobox", name="Model").input_value()
    if model != session.model:
        problems.append(f"model picker shows {model!r}")
    if session.reference_class is not None:
        chosen = reference_class_shown(page)
        if chosen != str(session.reference_class):
            problems.append(f"reference class shows {chosen!r}")
    caption = text_of(page, THRESHOLD_CAPTION) or ""
    if f"the score that {session.q:.1%} of" not in caption:
        problems.append(f"caption is not at q = {session.q:.3f}: {caption[:80]!r}")
    thumb = page.get_by_test_id("stSliderThumbValue").inner_text()
    if thumb != f"{session.q:.3f}":
        problems.append(f"slider shows {thumb}")
    verdict = text_of(page, VERDICT) or ""
    if f"At q = {session.q:.3f}" not in verdict:
        problems.append(f"verdict is not at q = {session.q:.3f}: {verdict!r}")
    if verdict_score(page) != session.score:
        problems.append(f"digit score changed from {session.score} to {verdict_score(page)}")
    problems += [f"error box: {text[:120]!r}" for text in error_texts(page) if VERDICT[1] not in text]
    return problems


def run_session(url: str, session: Session, barrier: threading.Barrier) -> None:
    """Play `session`'s phases, in step with the other sessions (a failed session still keeps step)."""
    try:
        with sync_playwright() as playwright:
            browser, page = timed_browser_page(playwright)

            def open_lab() -> None:
                open_anomaly_lab(page, url, session.model, session.reference_class)

            def draw() -> None:
                session.drawing.append(draw_and_await_verdict(page, session.number))
                session.score = verdict_score(page)

            def slide() -> None:
                session.slider.extend(move_slider(page, "ArrowRight") for _ in range(session.steps))

            def check() -> None:
                session.errors.extend(own_state_problems(page, session))

            phases: list[Callable[[], None]] = [open_lab, draw, slide, check]
            for phase in phases:
                if not session.errors:
                    try:
                        phase()
                    except Exception as err:  # a timeout, a missing element: record it, keep step
                        session.errors.append(f"{phase.__name__}: {type(err).__name__}: {str(err).splitlines()[0]}")
                        page.screenshot(path=REPO / "artifacts" / f"concurrency_failure_{session.number}.png")
                barrier.wait(timeout=PHASE_TIMEOUT_S)
            browser.close()
    except Exception as err:  # the browser did not start, or another session broke the step
        session.errors.append(f"session: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")
        barrier.abort()


def warm_up(url: str, models: set[str]) -> None:
    """Score the test set once per model, so that the sessions measure the interactions."""
    with sync_playwright() as playwright:
        browser, page = timed_browser_page(playwright)
        for model in sorted(models):
            open_anomaly_lab(page, url, model)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    args = parser.parse_args()
    sessions = plan(args.sessions)
    load_before = load_average()
    with streamlit_server(REPO / "artifacts" / "concurrency.log", {"VAE_DATA_DIR": str(data_root())}) as (url, _):
        warm_up(url, {s.model for s in sessions})
        barrier = threading.Barrier(len(sessions))
        threads = [threading.Thread(target=run_session, args=(url, s, barrier)) for s in sessions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    print(f"{len(sessions)} sessions on one server; {load_before} before, {load_average()} after\n")
    drawing = [r for s in sessions for r in s.drawing]
    slider = [r for s in sessions for r in s.slider]
    rows = reaction_rows("drawing → verdict", drawing) + reaction_rows("slider → report", slider)
    print_table(["interaction", "step", "n", "p50 ms", "p95 ms"], [row[:5] for row in rows])
    errors = [f"{s.label}: {error}" for s in sessions for error in s.errors]
    print(f"\nerrors: {len(errors)}")
    for error in errors:
        print(f"  {error}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
