"""Plotly figure builders and image grids (no Streamlit: testable without a browser)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots
from torchvision.utils import make_grid

# Ten colours that stay distinguishable on a projector (Plotly's D3 palette).
CLASS_COLOURS = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
]  # fmt: skip


def image_grid(images: torch.Tensor, nrow: int = 10, padding: int = 2, scale: int = 1) -> np.ndarray:
    """Images in [0, 1], shape [N, C, H, W] → one uint8 array (H', W') or (H', W', 3) to display.

    `scale` enlarges each pixel (nearest neighbour) so small digits stay crisp on screen.
    """
    grid = make_grid(images.detach().float().clamp(0, 1), nrow=nrow, padding=padding, pad_value=0.35)
    if scale > 1:
        grid = grid.repeat_interleave(scale, dim=1).repeat_interleave(scale, dim=2)
    array = (grid.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    return array[:, :, 0] if images.shape[1] == 1 else array


def loss_curves(history: Sequence[dict]) -> go.Figure:
    """Per-epoch train/test −ELBO, reconstruction and KL, side by side."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=("−ELBO (total)", "reconstruction", "KL"))
    epochs = [h["epoch"] for h in history]
    for col, part in enumerate(("total", "recon", "kl"), start=1):
        for split, dash in (("train", "dot"), ("test", "solid")):
            key = f"{split}_{part}"
            if history and key in history[0]:
                fig.add_trace(
                    go.Scatter(
                        x=epochs,
                        y=[h[key] for h in history],
                        name=split,
                        mode="lines+markers",
                        line={"dash": dash, "color": "#1f77b4" if split == "test" else "#ff7f0e"},
                        showlegend=col == 1,
                        legendgroup=split,
                    ),
                    row=1,
                    col=col,
                )
        fig.update_xaxes(title_text="epoch", row=1, col=col)
    fig.update_yaxes(title_text="nats / image", row=1, col=1)
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend={"orientation": "h", "y": -0.3})
    return fig


def latent_scatter(
    z: np.ndarray | torch.Tensor,
    labels: np.ndarray | torch.Tensor,
    class_names: Sequence[str] | None = None,
    title: str = "",
    axis_titles: tuple[str, str] = ("z₁", "z₂"),
    marker_size: int = 4,
) -> go.Figure:
    """2-D latent points coloured by class: one WebGL trace per class (click the legend to toggle).

    Each point carries its dataset index as `customdata`, so a selection can be mapped back.
    """
    z = np.asarray(z)
    labels = np.asarray(labels)
    fig = go.Figure()
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        name = class_names[c] if class_names is not None else str(c)
        fig.add_trace(
            go.Scattergl(
                x=z[idx, 0],
                y=z[idx, 1],
                mode="markers",
                name=name,
                customdata=idx,
                marker={"size": marker_size, "color": CLASS_COLOURS[int(c) % 10], "opacity": 0.7},
                hovertemplate=f"class {name}<br>index %{{customdata}}<br>z = (%{{x:.2f}}, %{{y:.2f}})<extra></extra>",
            )
        )
    fig.update_layout(
        title=title,
        xaxis_title=axis_titles[0],
        yaxis_title=axis_titles[1],
        height=450,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        legend={"itemsizing": "constant"},
    )
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def add_posterior_ellipse(fig: go.Figure, mu: np.ndarray, logvar: np.ndarray, label: str) -> go.Figure:
    """Draw the encoder's posterior for one image as its μ ± 2σ ellipse (2-D latent spaces)."""
    sigma = np.exp(0.5 * np.asarray(logvar))
    t = np.linspace(0, 2 * np.pi, 100)
    fig.add_trace(
        go.Scatter(
            x=mu[0] + 2 * sigma[0] * np.cos(t),
            y=mu[1] + 2 * sigma[1] * np.sin(t),
            mode="lines",
            line={"color": "black", "width": 2},
            name=f"q(z|x) of {label}: μ ± 2σ",
            hoverinfo="skip",
        )
    )
    return fig


def add_point(fig: go.Figure, z: np.ndarray, label: str) -> go.Figure:
    """Mark one latent point (the code being decoded) with a star."""
    fig.add_trace(
        go.Scatter(
            x=[z[0]],
            y=[z[1]],
            mode="markers",
            marker={"symbol": "star", "size": 16, "color": "black", "line": {"color": "white", "width": 1}},
            name=label,
            hovertemplate="z = (%{x:.2f}, %{y:.2f})<extra></extra>",
        )
    )
    return fig
