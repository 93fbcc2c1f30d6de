"""A real Streamlit server and Debian's Chromium, for browser benchmarks and the e2e tests.

Besides the server and the browser: helpers to move around the app (sidebar model picker and page
links), to draw on the anomaly lab's canvas, and to time how long the app takes to react to an input.
"""

from __future__ import annotations

import math
import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect

from bench.common import REPO, p50_p95

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"  # the script run has finished


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(
    log_path: Path, env: dict[str, str] | None = None, base_path: str = ""
) -> Iterator[tuple[str, float]]:
    """Run `streamlit run app.py` on a free port → (url, seconds until /_stcore/health said ok); the app is
    served under `base_path` if given (as behind a proxy: http://host/<base_path>/)."""
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
        "--server.port", str(port), "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        "--server.baseUrlPath", base_path,
    ]  # fmt: skip
    log_path.parent.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}" + (f"/{base_path}" if base_path else "")
    with log_path.open("w") as log:
        started = time.perf_counter()
        server = subprocess.Popen(
            command, cwd=REPO, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            while True:
                try:
                    if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                        break
                except OSError:
                    pass
                if server.poll() is not None or time.perf_counter() - started > 90:
                    raise RuntimeError(f"streamlit did not start; see {log_path}")
                time.sleep(0.05)
            yield url, time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=20)


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless, with the flags this closed network needs."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


# --- moving around the app ------------------------------------------------------------------------
PAGES = {  # sidebar link → the page's title (h1), in app.py's order
    "Home": "VAE Lab",
    "Lessons": "Lessons",
    "Train": "Train a VAE",
    "Latent explorer": "Latent explorer",
    "Generate": "Generate",
    "Anomaly lab": "Anomaly lab",
    "Compare models": "Compare models",
    "Tabular lab": "Tabular lab",
}
MODEL_PAGES = ("Home", "Train", "Latent explorer", "Generate", "Anomaly lab")  # what the sidebar's model changes
VIEWPORT = {"width": 1400, "height": 1900}  # tall: Streamlit's main area scrolls inside the page
SLOW_MS = 120_000  # a first visit may score the whole test set on a busy 2-core machine


def wait_idle(page: Page, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished running the script for this page."""
    page.wait_for_selector(IDLE, timeout=timeout)
    page.wait_for_timeout(300)  # let the last deltas paint


def wait_loaded(page: Page, timeout: float = SLOW_MS) -> None:
    """After `page.goto`: wait for the page's first script run to draw its title, then to finish.

    Before the app has connected, Streamlit reports "notRunning" too: idle alone is not loaded.
    """
    page.get_by_test_id("stMain").locator("h1").first.wait_for(timeout=timeout)
    wait_idle(page, timeout)


def go_to(page: Page, link: str, heading: str, timeout: float = SLOW_MS) -> None:
    """Follow the sidebar navigation link `link` and wait for that page's `heading`."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=link).click()
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible(timeout=timeout)
    wait_idle(page, timeout)


def choose(page: Page, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label`."""
    page.get_by_test_id("stSelectbox").filter(has_text=label).locator("input").click()
    page.get_by_role("option", name=option, exact=True).click()


def choose_model(page: Page, model: str, timeout: float = SLOW_MS) -> None:
    """Select `model` in the sidebar picker (if it isn't already) and wait for the rerun it causes."""
    sidebar = page.get_by_test_id("stSidebar")
    picker = sidebar.get_by_role("combobox", name="Model")
    if picker.input_value() == model:
        return
    summary = sidebar.get_by_test_id("stCaptionContainer").first  # the chosen model's one-line card
    before = summary.inner_text()
    picker.click()
    page.get_by_role("option", name=model, exact=True).click()
    expect(summary).not_to_have_text(before, timeout=timeout)
    wait_idle(page, timeout)


def open_page(page: Page, url: str, link: str, heading: str, model: str | None = None) -> None:
    """Open the app at `url`, choose `model` in the sidebar (if given), then the page behind `link`."""
    page.goto(url)
    wait_loaded(page)
    if model is not None:
        choose_model(page, model)
    go_to(page, link, heading)


def visit(page: Page, model: str, link: str) -> None:
    """Show the page behind sidebar link `link` with `model` chosen, from wherever the app is."""
    choose_model(page, model)
    heading = page.get_by_role("heading", name=PAGES[link], level=1)
    if heading.count():
        wait_idle(page, SLOW_MS)
    else:
        go_to(page, link, PAGES[link])


def error_texts(page: Page) -> list[str]:
    """Streamlit exception boxes and st.error boxes on the page (the anomaly verdict can be one)."""
    error_alert = "[data-testid='stAlert']:has([data-testid='stAlertContentError'])"
    return page.locator(f"[data-testid='stException'], {error_alert}").all_inner_texts()


# --- drawing on the anomaly lab's canvas ------------------------------------------------------------
Stroke = list[tuple[float, float]]  # canvas pixels, (0, 0) top left of the 280×280 canvas
DIGIT_STROKES: dict[int, Stroke] = {  # one stroke each: the canvas sends its image 200 ms after a mouse-up
    0: [(140, 45), (195, 75), (205, 140), (190, 210), (140, 240), (90, 210), (75, 140), (90, 75), (140, 45)],
    1: [(150, 40), (143, 140), (135, 240)],
    2: [(80, 90), (110, 55), (160, 50), (195, 85), (185, 130), (130, 180), (80, 230), (210, 230)],
    3: [(80, 60), (190, 60), (130, 130), (195, 175), (160, 235), (80, 225)],
    4: [(170, 240), (170, 40), (70, 170), (220, 170)],
    5: [(190, 50), (100, 50), (92, 130), (150, 118), (195, 155), (190, 210), (145, 242), (85, 225)],
    6: [(180, 45), (125, 85), (92, 155), (100, 220), (145, 242), (185, 210), (180, 160), (135, 145), (95, 180)],
    7: [(60, 60), (140, 60), (210, 60), (180, 130), (150, 200), (130, 240)],
    8: [
        (140, 140),
        (182, 100),
        (175, 58),
        (140, 42),
        (102, 58),
        (98, 100),
        (140, 140),
        (188, 185),
        (178, 232),
        (140, 248),
        (100, 232),
        (92, 188),
        (140, 140),
    ],
    9: [(185, 85), (150, 48), (105, 58), (90, 100), (115, 135), (160, 130), (185, 85), (178, 170), (168, 245)],
}
SEVEN = DIGIT_STROKES[7]


def varied_stroke(variant: int) -> Stroke:
    """A digit stroke, shifted and scaled by `variant`: different variants draw different images."""
    return digit_stroke(variant % len(DIGIT_STROKES), variant)


def digit_stroke(digit: int, variant: int) -> Stroke:
    """`digit`'s stroke as person `variant` might draw it: scaled, rotated, slanted and shifted (seeded)."""
    rng = random.Random(variant)
    scale, dx, dy = rng.uniform(0.7, 1.0), rng.uniform(-25, 25), rng.uniform(-25, 25)
    turn, slant = math.radians(rng.uniform(-12, 12)), rng.uniform(-0.25, 0.25)
    stroke = []
    for x, y in DIGIT_STROKES[digit]:
        x, y = (x - 140) * scale, (y - 140) * scale
        x -= slant * y  # a negative y is up: a positive slant leans the top to the right
        x, y = x * math.cos(turn) - y * math.sin(turn), x * math.sin(turn) + y * math.cos(turn)
        stroke.append((min(max(140 + x + dx, 20), 260), min(max(140 + y + dy, 40), 260)))
    return stroke


def draw_stroke(page: Page, stroke: Stroke) -> None:
    """Draw one stroke with the mouse on the drawable canvas (its mouse-up ends the stroke).

    The canvas's toolbar sits, invisible, over its top 30 px until the pointer has hovered the canvas
    for 0.2 s; it then slides up. So: hover first, and keep strokes below y = 40.
    """
    canvas = page.locator("canvas.upper-canvas")  # fabric.js draws on this one (st.dataframe has canvases too)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y = box["x"], box["y"]
    page.mouse.move(x + box["width"] / 2, y + box["height"] / 2)
    page.wait_for_timeout(400)
    page.mouse.move(x + stroke[0][0], y + stroke[0][1])
    page.mouse.down()
    for px, py in stroke[1:]:
        page.mouse.move(x + px, y + py, steps=10)
    page.mouse.up()


# --- timing the app's reaction to one input ----------------------------------------------------------
# In the page's own clock: the last keydown / mouse-up, the first websocket message after it (the rerun
# request), and the script run that followed (its state turning "running").
REACTION_TIMER = """
(() => {
  const timer = (window.__vaeLabTimer = { input: null });
  const reset = () => {
    Object.assign(timer, { input: performance.now(), sent: null, started: null, shown: {}, idle: null });
  };
  window.addEventListener("keydown", reset, true);
  window.addEventListener("mouseup", reset, true);
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (timer.input !== null && timer.sent === null) timer.sent = performance.now();
    return send.call(this, data);
  };
  new MutationObserver(() => {
    const app = document.querySelector("[data-testid='stApp']");
    if (timer.sent !== null && timer.started === null && app?.dataset.testScriptState === "running")
      timer.started = performance.now();
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-test-script-state"] });
})();
"""
FIND_TEXT = """([testid, part]) => {
  for (const el of document.querySelectorAll(`[data-testid="${testid}"]`))
    if (el.innerText.includes(part)) return el.innerText;
  return null;
}"""
TEXT_CHANGED = f"""([testid, part, before]) => {{
  const now = ({FIND_TEXT})([testid, part]);
  if (now === null || now === before) return false;
  window.__vaeLabTimer.shown[part] ??= performance.now();
  return true;
}}"""
RUN_FINISHED = f"""() => {{
  const timer = window.__vaeLabTimer;
  if (timer.started === null || !document.querySelector("{IDLE}")) return false;
  timer.idle ??= performance.now();
  return true;
}}"""
CANVAS_CLEARED = f"""(verdict) => document.querySelectorAll("[class*='st-key-canvas_']").length === 1
  && ({FIND_TEXT})(verdict) === null && document.querySelector("{IDLE}") !== null"""
THRESHOLD_CAPTION = ("stCaptionContainer", "Threshold = ")  # (data-testid, text it contains)
STANDING = ("stAlert", "Your digit scores")  # a scored digit, first: its score and where it stands at every q
VERDICT = ("stAlert", "your digit is")  # the threshold region's verdict at the slider's q


@dataclass
class Reaction:
    """Milliseconds from an input (key press, mouse-up) to each step of the app's answer."""

    sent_ms: float  # the rerun request left the browser
    shown_ms: dict[str, float]  # each watched text changed: what it is → when
    idle_ms: float  # the script run finished


def reaction_rows(interaction: str, reactions: list[Reaction], targets: dict[str, str] | None = None) -> list[list]:
    """Table rows [interaction, step, n, p50 ms, p95 ms, target]: one per step of the app's answer."""
    steps = {"input → rerun request sent": [r.sent_ms for r in reactions]}
    for label in reactions[0].shown_ms if reactions else ():
        steps[f"input → {label} shown"] = [r.shown_ms[label] for r in reactions]
    steps["input → run finished"] = [r.idle_ms for r in reactions]
    rows = []
    for step, values in steps.items():
        p50, p95 = p50_p95(values) if values else (float("nan"), float("nan"))
        rows.append([interaction, step, len(values), f"{p50:.0f}", f"{p95:.0f}", (targets or {}).get(step, "")])
    return rows


def install_reaction_timer(context: BrowserContext) -> None:
    """Time inputs in every page of `context` (call before opening pages)."""
    context.add_init_script(REACTION_TIMER)


def timed_browser_page(playwright: Playwright) -> tuple[Browser, Page]:
    """A fresh Chromium and one page in it whose input reactions are timed (close the browser after)."""
    browser = launch_chromium(playwright)
    context = browser.new_context(viewport=VIEWPORT)
    install_reaction_timer(context)
    page = context.new_page()
    page.set_default_timeout(SLOW_MS)
    return browser, page


def text_of(page: Page, target: tuple[str, str]) -> str | None:
    """The text of the first element with data-testid target[0] whose text contains target[1]."""
    return page.evaluate(FIND_TEXT, list(target))


def await_reaction(
    page: Page, watch: dict[str, tuple[tuple[str, str], str | None]], timeout: float = SLOW_MS
) -> Reaction:
    """Wait for the rerun the last input caused, and for each watched text to differ from its text before.

    `watch` maps a label to (target, text before the input); target as in `text_of`.
    """
    for target, before in watch.values():
        page.wait_for_function(TEXT_CHANGED, arg=[*target, before], polling="raf", timeout=timeout)
    page.wait_for_function(RUN_FINISHED, polling="raf", timeout=timeout)
    timer = page.evaluate("window.__vaeLabTimer")
    shown = {label: timer["shown"][target[1]] - timer["input"] for label, (target, _) in watch.items()}
    return Reaction(timer["sent"] - timer["input"], shown, timer["idle"] - timer["input"])


# --- the anomaly lab ----------------------------------------------------------------------------------
REFERENCE_CLASS_LABEL = "Reference class c"


def reference_class_shown(page: Page) -> str:
    """The conditional model's reference class, as the anomaly lab's selectbox shows it."""
    return page.get_by_test_id("stSelectbox").filter(has_text=REFERENCE_CLASS_LABEL).locator("input").input_value()


def open_anomaly_lab(page: Page, url: str, model: str, reference_class: int | None = None) -> None:
    """The anomaly lab on `model`, tested against `reference_class` (conditional models). Needs the timer."""
    open_page(page, url, "Anomaly lab", "Anomaly lab", model)
    if reference_class is not None and reference_class_shown(page) != str(reference_class):
        before = text_of(page, THRESHOLD_CAPTION)
        choose(page, REFERENCE_CLASS_LABEL, str(reference_class))
        await_reaction(page, {"caption": (THRESHOLD_CAPTION, before)})
    page.locator("canvas.upper-canvas").wait_for(timeout=SLOW_MS)


def clear_canvas(page: Page) -> None:
    """Press the canvas's Clear button; wait for the fresh canvas alone (Clear reruns twice) and no verdict."""
    page.get_by_role("button", name="Clear", exact=True).click()
    page.wait_for_function(CANVAS_CLEARED, arg=list(STANDING), polling="raf", timeout=SLOW_MS)
    wait_idle(page, SLOW_MS)


def draw_and_await_verdict(page: Page, variant: int) -> Reaction:
    """Draw stroke `variant` and wait for its score (where it stands at every q) and its verdict at q."""
    watch = {"score": (STANDING, text_of(page, STANDING)), "verdict at q": (VERDICT, text_of(page, VERDICT))}
    draw_stroke(page, varied_stroke(variant))
    return await_reaction(page, watch)


def move_slider(page: Page, key: str) -> Reaction:
    """Press `key` (ArrowRight / ArrowLeft) on the quantile slider and wait for the report to follow."""
    before = text_of(page, THRESHOLD_CAPTION)
    page.get_by_role("slider").focus()
    page.keyboard.press(key)
    return await_reaction(page, {"report": (THRESHOLD_CAPTION, before)})
