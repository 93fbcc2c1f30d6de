"""A panel that shows the digit under the mouse while it hovers over a latent scatter.

Streamlit reports clicks and selections on a Plotly chart, not hovers, so the panel listens in the
browser: a small HTML element (same origin as the page) finds the chart by its key, subscribes to
Plotly's `plotly_hover` event, and draws the hovered point's image (its `customdata` is the test-set
index) from a sprite sheet of the whole test set. The sheet is one PNG served by Streamlit's static
file serving (`server.enableStaticServing`), written once per dataset: the browser fetches it once,
and a rerun sends only a few lines of HTML.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import streamlit as st
import torch
from PIL import Image

STATIC = Path(__file__).resolve().parents[1] / "static"  # served at <baseUrlPath>/app/static/ next to app.py
COLUMNS = 100  # thumbnails per row of the sheet


def static_url(relative: str) -> str:
    """The URL path where Streamlit serves `static/<relative>`, under the server's `baseUrlPath` if it has one
    (a copy served behind a proxy at example.org/vae/ serves it at /vae/app/static/)."""
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return "/".join(["", *([base] if base else []), "app", "static", relative])


@st.cache_resource(show_spinner=False)
def sprite_sheet(dataset: str, _images: torch.Tensor) -> str:
    """Write the test set's images as one grey PNG (COLUMNS per row) once; return its path under static/."""
    n, _, h, w = _images.shape
    rows = -(-n // COLUMNS)
    sheet = np.zeros((rows * h, COLUMNS * w), dtype=np.uint8)
    pixels = _images[:, 0].numpy()
    for i in range(n):
        r, c = divmod(i, COLUMNS)
        sheet[r * h : (r + 1) * h, c * w : (c + 1) * w] = pixels[i]
    relative = f"sprites/{dataset}_{n}.png"
    (STATIC / "sprites").mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).save(STATIC / relative, optimize=True)
    return relative


_PANEL = """
<div style="font-family: sans-serif; font-size: 14px; color: #31333f; display: flex; gap: 12px; align-items: center">
  <canvas id="thumb" width="__PX__" height="__PX__" style="background: #000; image-rendering: pixelated"></canvas>
  <div id="label">Hover over a dot: its digit shows here.</div>
</div>
<script>
const config = __CONFIG__;
const sheet = new Image();
sheet.src = window.parent.location.origin + config.sheet;
const canvas = document.getElementById("thumb"), label = document.getElementById("label");
const context = canvas.getContext("2d");
context.imageSmoothingEnabled = false;
function show(point) {
  const index = point.customdata;
  if (typeof index !== "number" || index < 0 || index >= config.count) return;
  const col = index % config.columns, row = Math.floor(index / config.columns);
  context.drawImage(sheet, col * config.w, row * config.h, config.w, config.h, 0, 0, canvas.width, canvas.height);
  label.textContent = "Test digit #" + index + " (" + point.data.name + ")";
  canvas.dataset.index = index;
}
function listen() {  // the chart is redrawn on reruns: subscribe to whichever plot is there now
  const plot = window.parent.document.querySelector(".st-key-" + config.chart + " .js-plotly-plot");
  if (plot && plot.on && !plot.__hoverPreview) {
    plot.__hoverPreview = true;
    plot.on("plotly_hover", event => show(event.points[0]));
  }
}
setInterval(listen, 500);
listen();
</script>
"""


def hover_preview(dataset: str, images: torch.Tensor, chart_key: str, px: int = 84) -> None:
    """Under the chart whose `key` is `chart_key`: the digit the mouse is over, drawn `px` pixels wide."""
    config = {
        "sheet": static_url(sprite_sheet(dataset, images)),
        "count": len(images),
        "columns": COLUMNS,
        "h": int(images.shape[2]),
        "w": int(images.shape[3]),
        "chart": chart_key,
    }
    html = _PANEL.replace("__CONFIG__", json.dumps(config)).replace("__PX__", str(px))
    st.components.v1.html(html, height=px + 8)
