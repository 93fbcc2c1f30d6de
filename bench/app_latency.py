"""Anomaly lab latency in Chromium: quantile slider → report, and drawn digit → verdict (p50 / p95).

One browser session on one server. Each slider move is one ArrowRight / ArrowLeft on the quantile
slider (50 moves: 25 up from q = 0.950, 25 back); each drawing is one stroke on a cleared canvas, a
different digit shape, size or place each time. Times are taken in the page's own clock from the
key press / mouse-up to: the rerun request leaving the browser, the watched texts changing (the
"Threshold = …" caption; for a drawing, "Your digit scores …", its score and the q below which it is
flagged, shown first, and the verdict at the slider's q, shown with the threshold region) and the
script run finishing. The server-side cost of a slider move comes from bench.threshold_latency (same
model and protocol). Targets: slider <= 100 ms server-side; drawing <= 300 ms (mouse-up → score).

    python -m bench.app_latency [--n 50] [--model mnist_cvae]
"""

from __future__ import annotations

import argparse

from playwright.sync_api import sync_playwright

from bench.browser import (
    Reaction,
    clear_canvas,
    draw_and_await_verdict,
    move_slider,
    open_anomaly_lab,
    reaction_rows,
    streamlit_server,
    timed_browser_page,
)
from bench.common import REPO, data_root, load_average, p50_p95, print_table
from bench.threshold_latency import slider_move_times
from vae.anomaly import METHODS
from vae.checkpoint import load_checkpoint

REFERENCE_CLASS = 7  # conditional models: "is this a 7?"


def measure_in_browser(url: str, model: str, n: int, conditional: bool) -> tuple[list[Reaction], list[Reaction]]:
    """(drawing reactions, slider reactions), `n` of each, in one browser session."""
    with sync_playwright() as playwright:
        browser, page = timed_browser_page(playwright)
        try:
            open_anomaly_lab(page, url, model, REFERENCE_CLASS if conditional else None)
            drawings = []
            for variant in range(n):
                if variant:
                    clear_canvas(page)
                drawings.append(draw_and_await_verdict(page, variant))
            half = max(n // 2, 1)
            slider = [move_slider(page, "ArrowRight" if (i // half) % 2 == 0 else "ArrowLeft") for i in range(n)]
        except Exception:
            page.screenshot(path=REPO / "artifacts" / "app_latency_failure.png", full_page=True)
            raise
        browser.close()
    return drawings, slider


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50, help="slider moves, and drawings")
    parser.add_argument("--model", default="mnist_cvae", help="a shipped checkpoint")
    args = parser.parse_args()
    conditional = load_checkpoint(REPO / "checkpoints" / f"{args.model}.pt")[0].config.conditional
    load_before = load_average()
    with streamlit_server(REPO / "artifacts" / "app_latency.log", {"VAE_DATA_DIR": str(data_root())}) as (url, _):
        drawings, slider = measure_in_browser(url, args.model, args.n, conditional)
    method = next(iter(METHODS))  # the page's default score
    protocol = (  # the page's default protocol (for an unconditional model: normal = 0-8)
        dict(normal_classes=[REFERENCE_CLASS], reference_class=REFERENCE_CLASS)
        if conditional
        else dict(normal_classes=list(range(9)))
    )
    server_ms, _ = slider_move_times(args.model, args.n, method=method, **protocol)
    server_p50, server_p95 = p50_p95(server_ms)

    print(f"{args.model}, score {method!r}; {load_before} before, {load_average()} after\n")
    rows = reaction_rows("drawing → verdict", drawings, {"input → score shown": "<= 300 ms"})
    rows += reaction_rows("slider → report", slider)
    rows.append(
        ["slider → report", "server-side (bench.threshold_latency)", len(server_ms), f"{server_p50:.0f}",
         f"{server_p95:.0f}", "<= 100 ms"]
    )  # fmt: skip
    print_table(["interaction", "step", "n", "p50 ms", "p95 ms", "target"], rows)
    print(
        "\nThe canvas sends its image 200 ms after a mouse-up (streamlit-drawable-canvas's debounce), so "
        "'rerun request sent' is ~200 ms for drawings. 'score shown' = \"Your digit scores …\" (with the q below "
        "which it is flagged) changed on screen; 'verdict at q shown' = the threshold region's verdict changed; "
        "'report shown' = the threshold caption changed; 'run finished' = Streamlit reports the fragment run "
        "done, charts included."
    )


if __name__ == "__main__":
    main()
