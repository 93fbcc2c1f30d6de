import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from vae.preprocess import BlankImageError, UnreadableImageError, drawing_to_mnist, read_image


def canvas_stroke(width: int = 20) -> np.ndarray:
    """A canvas-like RGBA drawing: an opaque white '7' on a transparent 280×280 canvas."""
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.line([(60, 50), (200, 50), (110, 240)], fill=(255, 255, 255, 255), width=width)
    return np.asarray(image)


def ink_box(digit: torch.Tensor) -> tuple[int, int]:
    rows, cols = np.nonzero(digit[0, 0].numpy() > 0.05)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def centre_of_mass(digit: torch.Tensor) -> np.ndarray:
    image = digit[0, 0].numpy()
    return (np.indices(image.shape) * image).reshape(2, -1).sum(1) / image.sum()


def test_canvas_drawing_becomes_an_mnist_digit():
    digit = drawing_to_mnist(canvas_stroke())
    assert digit.shape == (1, 1, 28, 28) and digit.dtype == torch.float32
    assert digit.min() >= 0 and digit.max() <= 1 and digit.max() > 0.9
    height, width = ink_box(digit)
    assert max(height, width) in (20, 21, 22)  # longer side scaled to 20 px (+ anti-aliasing fringe)
    np.testing.assert_allclose(centre_of_mass(digit), [13.5, 13.5], atol=0.6)
    assert digit[0, 0, :2].sum() == 0 and digit[0, 0, :, :2].sum() == 0  # a margin, like MNIST


def test_aspect_ratio_is_kept():
    image = np.zeros((280, 280), dtype=np.uint8)
    image[40:240, 130:150] = 255  # a tall thin bar: 200 × 20
    height, width = ink_box(drawing_to_mnist(image))
    assert height in (20, 21, 22) and width <= 5


def test_dark_ink_on_paper_is_inverted():
    paper = Image.new("L", (400, 300), 235)
    ImageDraw.Draw(paper).line([(100, 50), (180, 250)], fill=30, width=18)
    digit = drawing_to_mnist(paper)
    assert digit[0, 0, 0, 0] == 0 and digit.max() > 0.9  # paper → black, ink → white
    np.testing.assert_allclose(centre_of_mass(digit), [13.5, 13.5], atol=0.6)


def test_the_app_canvas_white_on_opaque_black_is_not_inverted():
    """The canvas component returns its black background opaque: the white stroke is still the ink."""
    opaque = canvas_stroke().copy()
    opaque[:, :, 3] = 255  # black, fully opaque background; the stroke stays white
    digit = drawing_to_mnist(opaque, canvas=True)
    torch.testing.assert_close(digit, drawing_to_mnist(canvas_stroke(), canvas=True))
    assert digit[0, 0, 0, 0] == 0 and digit.mean() < 0.25  # a thin 7 on black, not a black 7 on white
    with pytest.raises(BlankImageError):
        drawing_to_mnist(
            np.dstack([np.zeros((280, 280, 3), np.uint8), np.full((280, 280), 255, np.uint8)]), canvas=True
        )
    painted = drawing_to_mnist(np.full((280, 280, 4), 255, np.uint8), canvas=True)  # painted all over: all ink
    assert painted.max() > 0.9


def test_photo_equals_canvas_for_the_same_shape():
    stroke = canvas_stroke()[:, :, 3]
    photo = Image.fromarray(255 - stroke)  # the same 7, dark on white, no alpha
    torch.testing.assert_close(drawing_to_mnist(photo), drawing_to_mnist(canvas_stroke()), atol=0.02, rtol=0)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((280, 280, 4), dtype=np.uint8),  # an untouched canvas
        np.full((280, 280), 255, dtype=np.uint8),  # a white page
        Image.new("RGBA", (50, 50), (20, 20, 20, 0)),  # fully transparent
        np.full((10, 10), 3, dtype=np.uint8),  # near-blank noise floor
    ],
)
def test_blank_input_is_reported_not_nan(image):
    with pytest.raises(BlankImageError, match="Nothing drawn"):
        drawing_to_mnist(image)


def test_sixteen_bit_and_palette_and_cmyk_images():
    base = Image.fromarray(255 - canvas_stroke()[:, :, 3])
    expected = drawing_to_mnist(base)
    sixteen = Image.fromarray(np.asarray(base).astype(np.uint16) * 257)
    assert sixteen.mode == "I;16"
    for image in (sixteen, base.convert("P"), base.convert("RGB").convert("CMYK"), base.convert("1")):
        torch.testing.assert_close(drawing_to_mnist(image), expected, atol=0.08, rtol=0)


def test_dark_ink_on_transparent_background():
    image = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse([40, 30, 160, 170], outline=(10, 10, 10, 255), width=16)
    digit = drawing_to_mnist(image)
    assert digit.max() > 0.9 and digit[0, 0, 14, 14] < 0.2  # a ring: ink around, hole in the middle


def test_a_single_dot_is_still_a_drawing():
    image = np.zeros((280, 280), dtype=np.uint8)
    image[140:142, 140:142] = 255
    assert drawing_to_mnist(image).max() > 0.5


def png(image: Image.Image, **kw) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=kw.pop("format", "PNG"), **kw)
    return buffer.getvalue()


def test_read_image_accepts_real_files_and_refuses_the_rest():
    assert read_image(png(Image.new("L", (5, 7)))).size == (5, 7)
    frames = [Image.new("L", (8, 8), v) for v in (0, 255)]
    gif = png(frames[0], format="GIF", save_all=True, append_images=frames[1:])
    assert read_image(gif).size == (8, 8)
    for data in (b"", b"not an image", png(Image.new("L", (4, 4)))[:30]):
        with pytest.raises(UnreadableImageError):
            read_image(data)


def test_huge_images_are_refused_before_decoding():
    header_only = png(Image.new("1", (6000, 6000)))  # a tiny file that claims 36 Mpx
    with pytest.raises(UnreadableImageError, match="limit"):
        read_image(header_only)


@pytest.mark.parametrize("shape", [(0, 0, 4), (0, 5), (10,), (2, 3, 4, 5), (5, 5, 7), (28, 28, 2)])
@pytest.mark.parametrize("canvas", [False, True])
def test_arrays_of_odd_shapes_get_a_clear_message(shape, canvas):
    with pytest.raises(UnreadableImageError, match=r"\(height, width\)"):
        drawing_to_mnist(np.zeros(shape, dtype=np.uint8), canvas=canvas)
