"""Image grids: torchvision's layout without torchvision, and the PNG the download buttons offer."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from ui.images import png_bytes
from vae.plots import add_point, add_posterior_ellipse, error_heatmap, image_grid, latent_scatter


@pytest.mark.parametrize(("shape", "nrow"), [((1, 1, 28, 28), 10), ((7, 1, 28, 28), 3), ((12, 3, 8, 8), 5)])
@pytest.mark.parametrize("scale", [1, 3])
def test_image_grid_lays_out_digits_as_torchvision_does(shape, nrow, scale):
    from torchvision.utils import make_grid

    images = torch.rand(shape, generator=torch.Generator().manual_seed(0)) * 1.2 - 0.1  # some out of [0, 1]
    reference = make_grid(images.clamp(0, 1), nrow=nrow, padding=2, pad_value=0.35)
    reference = reference.repeat_interleave(scale, dim=1).repeat_interleave(scale, dim=2)
    expected = (reference.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    expected = expected[:, :, 0] if shape[1] == 1 else expected
    assert np.array_equal(image_grid(images, nrow=nrow, scale=scale), expected)


def test_png_download_is_the_grid():
    images = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    decoded = np.asarray(Image.open(io.BytesIO(png_bytes(images, nrow=4))))
    assert np.array_equal(decoded, image_grid(images, nrow=4, scale=4))  # ×4: a digit is 112 px wide
    assert decoded.shape == (4 * (2 * 30 + 2), 4 * (4 * 30 + 2))


def test_error_heatmap_runs_from_black_through_red_to_yellow_and_enlarges():
    error = np.array([[0.0, 0.05], [0.1, 0.4]])
    rgb = error_heatmap(error, vmax=0.1, scale=3)
    assert rgb.shape == (6, 6, 3) and rgb.dtype == np.uint8
    assert rgb[0, 0].tolist() == [0, 0, 0]  # no error: black, like the digit's background
    assert rgb[0, 3].tolist() == [255, 0, 0]  # half way: red
    assert rgb[3, 0].tolist() == rgb[3, 3].tolist() == [255, 255, 0]  # at vmax and above: yellow


def test_the_marked_point_and_its_ellipse_draw_above_the_cloud():
    """Plotly draws WebGL traces above SVG ones: an SVG star would hide under the latent points."""
    rng = np.random.default_rng(0)
    fig = latent_scatter(rng.normal(size=(300, 2)), rng.integers(0, 10, 300))
    add_posterior_ellipse(fig, np.zeros(2), np.zeros(2), "#0")
    add_point(fig, np.zeros(2), "your digit")
    assert {trace.type for trace in fig.data} == {"scattergl"}
    assert fig.data[-1].name == "your digit"  # drawn last: on top
