"""Plotly figure builders and image grids (no Streamlit: testable without a browser).

They belong to the library, not the app: a notebook user draws the same pictures of the same objects.
The app's own wording (a title, "your digit") is passed in by the pages.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

# Ten colours that stay distinguishable on a projector (Plotly's D3 palette).
CLASS_COLOURS = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
]  # fmt: skip


def image_grid(images: torch.Tensor, nrow: int = 10, padding: int = 2, scale: int = 1) -> np.ndarray:
    """Images in [0, 1], shape [N, C, H, W] → one uint8 array (H', W') or (H', W', 3) to display.

    The layout of torchvision's `make_grid` (`padding` grey pixels around and between the images; a
    single image has none), without importing torchvision: that costs the app's server ~160 MB.
    `scale` enlarges each pixel (nearest neighbour) so small digits stay crisp on screen.
    """
    x = images.detach().float().clamp(0, 1)
    n, channels, height, width = x.shape
    if n == 1:
        grid = x[0]
    else:
        cols = min(nrow, n)
        rows = -(-n // cols)
        grid = x.new_full((channels, rows * (height + padding) + padding, cols * (width + padding) + padding), 0.35)
        for k, image in enumerate(x):
            top, left = padding + k // cols * (height + padding), padding + k % cols * (width + padding)
            grid[:, top : top + height, left : left + width] = image
    if scale > 1:
        grid = grid.repeat_interleave(scale, dim=1).repeat_interleave(scale, dim=2)
    array = (grid.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    return array[:, :, 0] if channels == 1 else array


def error_heatmap(error: np.ndarray, vmax: float, scale: int = 1) -> np.ndarray:
    """A per-pixel error map (H, W) → uint8 RGB (H', W', 3): black at 0, red half way, yellow at `vmax` and above.

    Black like the digits it sits beside, so the eye goes straight to where the model got it wrong.
    """
    level = np.clip(np.asarray(error, dtype=np.float64) / vmax, 0.0, 1.0)
    rgb = np.stack([np.minimum(2 * level, 1.0), np.maximum(2 * level - 1, 0.0), np.zeros_like(level)], axis=-1)
    if scale > 1:
        rgb = rgb.repeat(scale, axis=0).repeat(scale, axis=1)
    return (rgb * 255).round().astype(np.uint8)


def loss_curves(history: Sequence[dict]) -> go.Figure:
    """Per-epoch train/test −ELBO, reconstruction and KL, side by side; a clustering VAE's NMI and accuracy too."""
    clusters = bool(history) and "test_nmi" in history[0]
    titles = ("−ELBO (total)", "reconstruction", "KL") + (("clusters vs labels",) if clusters else ())
    fig = make_subplots(rows=1, cols=len(titles), subplot_titles=titles)
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
    if clusters:  # scored with the held-out labels the model never trains on
        for key, name, colour in (("test_nmi", "NMI", "#2ca02c"), ("test_cluster_accuracy", "accuracy", "#9467bd")):
            fig.add_trace(
                go.Scatter(x=epochs, y=[h.get(key) for h in history], name=name, mode="lines+markers",
                           line={"color": colour}),
                row=1, col=4,
            )  # fmt: skip
        fig.update_xaxes(title_text="epoch", row=1, col=4)
        fig.update_yaxes(range=[0, 1], row=1, col=4)
    fig.update_yaxes(title_text="nats / image", row=1, col=1)
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend={"orientation": "h", "y": -0.3})
    return fig


def runs_curves(runs: Sequence[tuple[str, Sequence[dict]]], key: str = "test_total") -> go.Figure:
    """One line per training run: `key` (default the held-out −ELBO) against the epoch, to compare runs."""
    fig = go.Figure()
    for number, (name, history) in enumerate(runs):
        points = [(h["epoch"], h[key]) for h in history if key in h]
        if points:
            epochs, values = zip(*points, strict=True)
            colour = CLASS_COLOURS[number % len(CLASS_COLOURS)]
            fig.add_trace(go.Scatter(x=epochs, y=values, name=name, mode="lines+markers", line={"color": colour}))
    fig.update_layout(
        height=300,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis_title="epoch",
        yaxis_title="held-out −ELBO (nats / image)" if key == "test_total" else key,
        legend={"orientation": "h", "y": -0.3},
    )
    return fig


def latent_scatter(
    z: np.ndarray | torch.Tensor,
    labels: np.ndarray | torch.Tensor,
    class_names: Sequence[str] | None = None,
    axis_titles: tuple[str, str] = ("z₁", "z₂"),
    marker_size: int = 4,
    kind: str = "class",
) -> go.Figure:
    """2-D latent points coloured by class (or by whatever `labels` are, named `kind` on hover): one WebGL
    trace per value (click the legend to toggle).

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
                hovertemplate=f"{kind} {name}<br>index %{{customdata}}<br>z = (%{{x:.2f}}, %{{y:.2f}})<extra></extra>",
            )
        )
    fig.update_layout(
        xaxis_title=axis_titles[0],
        yaxis_title=axis_titles[1],
        height=450,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        # Above the plot, not beside it: a side legend takes a third of a narrow column's width. No
        # title of its own (the page writes it above the chart): it would collide with the legend.
        legend={"itemsizing": "constant", "orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
    )
    # One unit is as long on both axes (the prior is round); the plot box shrinks to the data, rather than
    # the range stretching, so a tall narrow column does not leave the points in a small blob.
    fig.update_xaxes(constrain="domain")
    fig.update_yaxes(scaleanchor="x", scaleratio=1, constrain="domain", constraintoward="top")
    return fig


def replay_figure(
    epochs: Sequence[int],
    codes: Sequence[np.ndarray],
    labels: np.ndarray,
    class_names: Sequence[str] | None = None,
    fitted_axes: bool = False,
    axis_titles: tuple[str, str] = ("z₁", "z₂"),
) -> go.Figure:
    """The latent space forming: one animation frame per snapshot (`codes[i]` after `epochs[i]`), with
    play/pause and an epoch slider. Fixed axes hold every snapshot; fitted axes follow each one.

    1-D codes are drawn against the class (a strip per class).
    """
    labels = np.asarray(labels)
    points = [np.column_stack([c[:, 0], labels + 0.0]) if c.shape[1] == 1 else c for c in codes]
    classes = np.unique(labels)

    def traces(z: np.ndarray) -> list[go.Scatter]:
        return [
            go.Scatter(
                x=z[labels == c, 0],
                y=z[labels == c, 1],
                mode="markers",
                name=class_names[c] if class_names is not None else str(c),
                marker={"size": 5, "color": CLASS_COLOURS[int(c) % 10], "opacity": 0.75},
                hoverinfo="name",
            )
            for c in classes
        ]

    def ranges(z: np.ndarray) -> dict:
        low, high = z.min(0), z.max(0)
        pad = 0.05 * np.maximum(high - low, 1e-3)
        return {"xaxis.range": [low[0] - pad[0], high[0] + pad[0]], "yaxis.range": [low[1] - pad[1], high[1] + pad[1]]}

    every = np.concatenate(points)
    fixed = ranges(every)
    frames = [
        go.Frame(
            data=traces(z),
            name=str(epoch),
            layout=_ranges_layout(ranges(z) if fitted_axes else fixed),
        )
        for epoch, z in zip(epochs, points, strict=True)
    ]
    play = {"frame": {"duration": 700, "redraw": True}, "transition": {"duration": 300}, "fromcurrent": True}
    pause = {"frame": {"duration": 0, "redraw": False}, "mode": "immediate", "transition": {"duration": 0}}
    fig = go.Figure(data=frames[-1].data, frames=frames)
    fig.update_layout(
        _ranges_layout(ranges(points[-1]) if fitted_axes else fixed),
        height=480,
        margin={"l": 10, "r": 10, "t": 10, "b": 110},
        xaxis_title=axis_titles[0],
        yaxis_title=axis_titles[1] if codes[0].shape[1] > 1 else "class",
        legend={"itemsizing": "constant"},
        updatemenus=[
            {
                "type": "buttons",
                "direction": "left",
                "x": 0,
                "y": -0.16,
                "xanchor": "left",
                "yanchor": "top",
                "buttons": [
                    {"label": "▶ Play", "method": "animate", "args": [None, play]},
                    {"label": "❚❚ Pause", "method": "animate", "args": [[None], pause]},
                ],
            }
        ],
        sliders=[
            {
                "active": len(frames) - 1,
                "x": 0.2,
                "len": 0.8,
                "y": -0.12,
                "yanchor": "top",
                "currentvalue": {"prefix": "epoch "},
                "steps": [
                    {"label": f.name, "method": "animate", "args": [[f.name], {**pause, "frame": {"redraw": True}}]}
                    for f in frames
                ],
            }
        ],
    )
    return fig


def _ranges_layout(ranges: dict) -> go.Layout:
    return go.Layout(xaxis={"range": ranges["xaxis.range"]}, yaxis={"range": ranges["yaxis.range"]})


def latent_strip(
    z: np.ndarray | torch.Tensor,
    labels: np.ndarray | torch.Tensor,
    class_names: Sequence[str] | None = None,
    jitter: float = 0.3,
    seed: int = 0,
) -> go.Figure:
    """1-D latent means as a strip plot: x = z₁, y = the class, spread by a little seeded jitter.

    Built on `latent_scatter`, so points keep their dataset index as `customdata` and can be selected.
    """
    z = np.asarray(z).reshape(-1)
    labels = np.asarray(labels)
    spread = np.random.default_rng(seed).uniform(-jitter, jitter, len(z))
    points = np.column_stack([z, labels + spread])
    fig = latent_scatter(points, labels, class_names, axis_titles=("z₁", "class (jittered so dots do not overlap)"))
    for trace in fig.data:
        trace.hovertemplate = f"class {trace.name}<br>index %{{customdata}}<br>z₁ = %{{x:.2f}}<extra></extra>"
    classes = np.unique(labels).tolist()
    names = [class_names[c] if class_names is not None else str(c) for c in classes]
    fig.layout.yaxis.scaleanchor = None  # classes and z₁ share no unit
    fig.update_yaxes(tickmode="array", tickvals=classes, ticktext=names, zeroline=False)
    return fig


def add_posterior_ellipse(fig: go.Figure, mu: np.ndarray, logvar: np.ndarray, label: str) -> go.Figure:
    """Draw the encoder's posterior for one image as its μ ± 2σ ellipse (2-D latent spaces), above the points."""
    sigma = np.exp(0.5 * np.asarray(logvar))
    t = np.linspace(0, 2 * np.pi, 100)
    fig.add_trace(
        go.Scattergl(
            x=mu[0] + 2 * sigma[0] * np.cos(t),
            y=mu[1] + 2 * sigma[1] * np.sin(t),
            mode="lines",
            line={"color": "black", "width": 2},
            name=f"q(z|x) of {label}",  # short: legend entries share one width
            hoverinfo="skip",
        )
    )
    return fig


def add_point(fig: go.Figure, z: np.ndarray, label: str) -> go.Figure:
    """Mark one latent point (the code being decoded) with a star.

    WebGL, like `latent_scatter`'s points: plotly draws WebGL traces above SVG ones, so an SVG star
    would hide under the cloud.
    """
    fig.add_trace(
        go.Scattergl(
            x=[z[0]],
            y=[z[1]],
            mode="markers",
            marker={"symbol": "star", "size": 16, "color": "black", "line": {"color": "white", "width": 1}},
            name=label,
            hovertemplate="z = (%{x:.2f}, %{y:.2f})<extra></extra>",
        )
    )
    return fig


GROUP_COLOURS = {"normal": "#1f77b4", "anomaly": "#d62728", "noise": "#7f7f7f"}


def score_histogram(
    scores: np.ndarray,
    groups: np.ndarray,
    threshold: float,
    probe: float | None = None,
    title: str = "",
    unit: str = "nats",
    probe_label: str = "this image",
) -> go.Figure:
    """Score distributions per group (normal / anomaly / noise), the threshold, and a probe score.

    The x axis ends past most normal scores and three quarters of the anomalies (or at a few times
    the threshold); larger scores pile up in the last bin, so a long tail (noise) cannot squash the view.
    """
    fig = go.Figure()
    normal = scores[(groups == "normal") & np.isfinite(scores)]
    anomaly = scores[(groups == "anomaly") & np.isfinite(scores)]
    high = max(
        3.0 * abs(threshold),
        float(np.quantile(normal, 0.995)) if len(normal) else 1.0,
        float(np.quantile(anomaly, 0.75)) if len(anomaly) else 0.0,  # show the bulk of the anomalies too
        1e-6,
    )
    for group in ("normal", "anomaly", "noise"):
        values = scores[groups == group]
        if len(values):
            fig.add_trace(
                go.Histogram(
                    x=np.clip(values, None, high), name=f"{group} ({len(values):,})", opacity=0.6,
                    marker_color=GROUP_COLOURS[group], histnorm="probability density", nbinsx=80,
                )
            )  # fmt: skip
    fig.add_vline(x=threshold, line={"color": "black", "dash": "dash"}, annotation_text="threshold")
    if probe is not None:
        fig.add_vline(x=min(probe, high), line={"color": "#2ca02c", "width": 3}, annotation_text=probe_label)
    clipped = int(np.sum(scores > high))
    piled = f"; {clipped:,} scores above {high:.3g} shown at {high:.3g}" if clipped else ""
    fig.update_layout(
        barmode="overlay", title=title,
        xaxis_title=f"anomaly score ({unit}; higher = more anomalous{piled})",
        yaxis_title="density", height=320, margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "y": 1.12},
    )  # fmt: skip
    return fig


def roc_pr_figure(
    fpr: np.ndarray, tpr: np.ndarray, auroc: float, precision: np.ndarray, recall: np.ndarray, ap: float,
    point_fpr: float, point_tpr: float, point_precision: float,
) -> go.Figure:  # fmt: skip
    """ROC and precision-recall curves side by side, with the current operating point marked."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(f"ROC (AUROC {auroc:.3f})", f"Precision-recall (AP {ap:.3f})"))
    fig.add_trace(go.Scatter(x=fpr, y=tpr, mode="lines", name="ROC", line={"color": "#1f77b4"}), 1, 1)
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dot", "color": "#aaa"}), 1, 1)
    fig.add_trace(go.Scatter(x=recall, y=precision, mode="lines", name="PR", line={"color": "#9467bd"}), 1, 2)
    marker = {"size": 13, "color": "black", "symbol": "x"}
    fig.add_trace(go.Scatter(x=[point_fpr], y=[point_tpr], mode="markers", marker=marker, name="threshold"), 1, 1)
    fig.add_trace(go.Scatter(x=[point_tpr], y=[point_precision], mode="markers", marker=marker), 1, 2)
    fig.update_xaxes(title_text="false positive rate", range=[0, 1], row=1, col=1)
    fig.update_yaxes(title_text="true positive rate", range=[0, 1.02], row=1, col=1)
    fig.update_xaxes(title_text="recall", range=[0, 1], row=1, col=2)
    fig.update_yaxes(title_text="precision", range=[0, 1.02], row=1, col=2)
    fig.update_layout(height=340, showlegend=False, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def confusion_figure(confusion: np.ndarray, names: Sequence[str] = ("normal", "anomaly")) -> go.Figure:
    """A confusion matrix with counts: rows are the truth, columns the prediction."""
    fig = contingency_figure(confusion, names, names, ("predicted", "true"))
    fig.update_layout(height=max(260, 60 * len(names)))
    return fig


def contingency_figure(
    counts: np.ndarray,
    row_names: Sequence[str],
    column_names: Sequence[str],
    axis_titles: tuple[str, str] = ("true label (never shown to the model)", "cluster found"),
) -> go.Figure:
    """counts[r, c] as a heatmap with numbers: rows (by default the clusters found) against columns (the labels)."""
    fig = go.Figure(
        go.Heatmap(
            z=counts, x=list(column_names), y=list(row_names),
            text=counts, texttemplate="%{text:,}", colorscale="Blues", showscale=False,
        )
    )  # fmt: skip
    fig.update_xaxes(title_text=axis_titles[0], type="category")
    fig.update_yaxes(title_text=axis_titles[1], autorange="reversed", type="category")
    fig.update_layout(height=max(300, 34 * len(row_names)), margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


def class_score_bars(scores: Sequence[float], class_names: Sequence[str], threshold: float | None = None) -> go.Figure:
    """A conditional model's score for one image under every class (lowest = best explanation)."""
    best = int(np.argmin(scores))  # the class that explains the image best
    colours = ["#2ca02c" if i == best else "#9aa5b1" for i in range(len(scores))]
    fig = go.Figure(go.Bar(x=list(class_names), y=list(scores), marker_color=colours))
    if threshold is not None:
        fig.add_hline(y=threshold, line={"color": "black", "dash": "dash"})
    fig.update_xaxes(type="category")
    fig.update_layout(
        height=240, xaxis_title="tested as class", yaxis_title="score", margin={"l": 10, "r": 10, "t": 10, "b": 10}
    )
    return fig


def tabular_curves(history: Sequence[dict]) -> go.Figure:
    """A tabular run's per-epoch train/test curves: the objective, its parts, and the accuracy with the
    posterior mean and with a sampled z (seed 004 plots both)."""
    panels = [
        ("total", "objective"), ("recon", "reconstruction"), ("kl", "KL"),
        ("pred", "prediction loss"), ("accuracy", "accuracy (mean z)"), ("accuracy_sampled", "accuracy (sampled z)"),
    ]  # fmt: skip
    fig = make_subplots(rows=2, cols=3, subplot_titles=[title for _, title in panels], vertical_spacing=0.18)
    epochs = [h["epoch"] for h in history]
    for i, (part, _) in enumerate(panels):
        row, col = divmod(i, 3)
        for split, dash, colour in (("train", "dot", "#ff7f0e"), ("test", "solid", "#1f77b4")):
            key = f"{split}_{part}"
            if history and key in history[-1]:
                fig.add_trace(
                    go.Scatter(
                        x=epochs, y=[h.get(key) for h in history], name=split, mode="lines",
                        line={"dash": dash, "color": colour}, showlegend=i == 0, legendgroup=split,
                    ),
                    row=row + 1, col=col + 1,
                )  # fmt: skip
    fig.update_layout(height=460, margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend={"orientation": "h", "y": -0.12})
    return fig


def tabular_replay_figure(
    epochs: Sequence[int],
    train_codes: Sequence[np.ndarray],
    test_codes: Sequence[np.ndarray],
    train_labels: np.ndarray,
    test_labels: np.ndarray,
    class_names: Sequence[str],
    axis_range: float | None = None,
) -> go.Figure:
    """Train rows beside test rows in the latent plane, one animation frame per snapshot (play/pause and an
    epoch slider). `axis_range` fixes both axes to [−r, r] (seed 004: ±5 for sampled z, ±3 for means);
    None fits the axes to each snapshot."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("train rows", "test rows"), horizontal_spacing=0.08)

    def traces(train: np.ndarray, test: np.ndarray) -> list[go.Scatter]:
        out = []
        for col, (codes, labels) in enumerate(((train, train_labels), (test, test_labels)), start=1):
            y_of = (lambda c: c[:, 1]) if codes.shape[1] > 1 else (lambda c: np.zeros(len(c)))
            for k, name in enumerate(class_names):
                own = codes[labels == k]
                out.append(
                    go.Scatter(
                        x=own[:, 0], y=y_of(own), mode="markers", name=name, legendgroup=name, showlegend=col == 1,
                        marker={"size": 5, "color": CLASS_COLOURS[k % 10], "opacity": 0.7},
                        xaxis=f"x{'' if col == 1 else col}", yaxis=f"y{'' if col == 1 else col}",
                    )
                )  # fmt: skip
        return out

    def layout(train: np.ndarray, test: np.ndarray) -> dict:
        if axis_range is not None:
            r = [-axis_range, axis_range]
            return {"xaxis.range": r, "yaxis.range": r, "xaxis2.range": r, "yaxis2.range": r}
        both = np.concatenate([train, test])
        low, high = both.min(0), both.max(0)
        pad = 0.05 * np.maximum(high - low, 1e-3)
        xr = [float(low[0] - pad[0]), float(high[0] + pad[0])]
        yr = [float(low[-1] - pad[-1]), float(high[-1] + pad[-1])] if both.shape[1] > 1 else [-1, 1]
        return {"xaxis.range": xr, "yaxis.range": yr, "xaxis2.range": xr, "yaxis2.range": yr}

    def as_layout(ranges: dict) -> go.Layout:
        return go.Layout(
            xaxis={"range": ranges["xaxis.range"]}, yaxis={"range": ranges["yaxis.range"]},
            xaxis2={"range": ranges["xaxis2.range"]}, yaxis2={"range": ranges["yaxis2.range"]},
        )  # fmt: skip

    frames = [
        go.Frame(data=traces(a, b), name=str(e), layout=as_layout(layout(a, b)))
        for e, a, b in zip(epochs, train_codes, test_codes, strict=True)
    ]
    fig.add_traces(list(frames[-1].data))
    fig.frames = frames
    play = {"frame": {"duration": 600, "redraw": True}, "transition": {"duration": 0}, "fromcurrent": True}
    pause = {"frame": {"duration": 0, "redraw": True}, "mode": "immediate", "transition": {"duration": 0}}
    fig.update_layout(
        as_layout(layout(train_codes[-1], test_codes[-1])),
        height=460,
        margin={"l": 10, "r": 10, "t": 60, "b": 100},
        legend={"itemsizing": "constant", "orientation": "h", "y": 1.18, "x": 0},
        updatemenus=[
            {
                "type": "buttons", "direction": "left", "x": 0, "y": -0.12, "xanchor": "left", "yanchor": "top",
                "buttons": [
                    {"label": "▶ Play", "method": "animate", "args": [None, play]},
                    {"label": "❚❚ Pause", "method": "animate", "args": [[None], pause]},
                ],
            }
        ],
        sliders=[
            {
                "active": len(frames) - 1, "x": 0.25, "len": 0.75, "y": -0.08, "yanchor": "top",
                "currentvalue": {"prefix": "epoch ", "xanchor": "right"},
                "steps": [{"label": f.name, "method": "animate", "args": [[f.name], pause]} for f in frames],
            }
        ],
    )  # fmt: skip
    return fig


def feature_r2_bars(feature_names: Sequence[str], r2: np.ndarray) -> go.Figure:
    """Each feature's reconstruction R², worst first (horizontal bars: long feature names stay readable)."""
    order = np.argsort(r2)[::-1]  # plotly draws the first bar at the bottom: the worst end up on top
    fig = go.Figure(go.Bar(x=np.asarray(r2)[order], y=[feature_names[i] for i in order], orientation="h"))
    fig.update_layout(
        height=max(240, 16 * len(feature_names)), xaxis_title="R²", margin={"l": 10, "r": 10, "t": 10, "b": 10}
    )
    fig.update_yaxes(type="category")
    return fig
