"""Make a drawn or photographed digit look like an MNIST digit.

MNIST's own recipe: white ink on black; crop to the ink's bounding box; scale the longer side to
20 px keeping the aspect ratio (anti-aliased); paste into 28×28 so that the centre of mass sits at
the centre. Canvas drawings (white on black, RGBA) and photos or scans (dark ink on light paper,
any PIL mode) both end up that way.
"""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image, ImageOps

SIZE, BOX = 28, 20
INK = 0.1  # a pixel with at least this much ink (0..1, after contrast stretch) counts as drawn
MAX_PIXELS = 25_000_000  # uploads larger than this are refused before decoding (decompression bombs)
WORK_SIDE = 1024  # larger images are shrunk to this longer side first: the result is 28 px, and a
# 25-megapixel RGBA photo would otherwise take seconds and gigabytes as float64 arrays


class BlankImageError(ValueError):
    """There is no ink to score: nothing was drawn."""


class UnreadableImageError(ValueError):
    """The bytes are not an image this app can read."""


def read_image(data: bytes) -> Image.Image:
    """Decode uploaded bytes into an upright PIL image (first frame of an animation); refuse huge ones."""
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise UnreadableImageError(
                f"The image is {image.width}×{image.height} pixels; the limit is {MAX_PIXELS:,} pixels."
            )
        image.seek(0)
        image.load()
        image = ImageOps.exif_transpose(image)  # phone photos store their rotation in EXIF
    except UnreadableImageError:
        raise
    except Image.DecompressionBombError:  # Pillow refuses the most extreme sizes itself, inside open()
        raise UnreadableImageError(f"The image is too large: the limit is {MAX_PIXELS:,} pixels.") from None
    except Exception:  # Pillow's decoders raise many types on malformed files (struct.error, EOFError, ...)
        raise UnreadableImageError(
            "This file is not an image that can be read: it is damaged, cut short, or not an image at all."
        ) from None
    return image


def _shrunk(image: Image.Image) -> Image.Image:
    """A copy no larger than WORK_SIDE on its longer side (area-averaged, so thin strokes survive)."""
    if max(image.size) <= WORK_SIDE:
        return image
    if image.mode in ("1", "P", "PA"):  # Pillow resizes these with nearest neighbour: strokes could vanish
        image = image.convert("L" if image.mode == "1" else "RGBA")
    image = image.copy()
    image.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)
    return image


def _ink(image: Image.Image | np.ndarray, canvas: bool = False) -> tuple[np.ndarray, bool]:
    """Any image → (float array (H, W) in [0, 1] where 1 is ink, whether transparency decided the ink).

    When transparency decided it, the background is exactly 0; otherwise the paper's level is unknown.
    """
    if isinstance(image, np.ndarray):
        if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)) or 0 in image.shape:
            raise UnreadableImageError(
                f"an image array is (height, width) or (height, width, 1, 3 or 4 channels), not {image.shape}"
            )
        array = image.astype(np.float64)
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[:, :, 0]
        if array.max(initial=0) > 1.0:
            array = array / (65535.0 if array.max() > 255 else 255.0)
        if canvas:  # light ink on a dark or transparent canvas: never inverted, the background is 0
            return _canvas_ink(array), True
        if array.ndim == 2:
            return _auto_invert(array), False
        if array.shape[2] == 4 and array[:, :, 3].min(initial=1.0) < 1.0:
            return _ink_from_rgba(array), True
        return _auto_invert(array[:, :, :3] @ np.array([0.299, 0.587, 0.114])), False
    image = _shrunk(image)
    if image.mode == "P" or image.mode == "PA":
        image = image.convert("RGBA")
    if image.mode == "LAB":  # CIELab TIFFs: L is the lightness, and Pillow converts LAB to nothing else
        image = image.getchannel("L")
    if image.mode in ("RGBA", "LA", "La", "RGBa"):
        return _ink(np.asarray(image.convert("RGBA")), canvas)
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        array = np.asarray(image, dtype=np.float64)
        top = array.max(initial=0)
        return _auto_invert(array / top if top > 0 else array), False
    return _auto_invert(np.asarray(image.convert("L"), dtype=np.float64) / 255.0), False


def _canvas_ink(array: np.ndarray) -> np.ndarray:
    """The drawing canvas paints light ink on black (or on transparency): brightness × opacity."""
    if array.ndim == 2:
        return array
    ink = array[:, :, :3] @ np.array([0.299, 0.587, 0.114]) if array.shape[2] >= 3 else array[:, :, 0]
    return ink * array[:, :, 3] if array.shape[2] == 4 else ink


def _ink_from_rgba(rgba: np.ndarray) -> np.ndarray:
    """Transparency decides what is drawn: the opaque pixels are the ink, light or dark."""
    alpha = rgba[:, :, 3]
    lum = rgba[:, :, :3] @ np.array([0.299, 0.587, 0.114])
    opaque = alpha > 0.5
    light_ink = lum[opaque].mean() >= 0.5 if opaque.any() else True
    return alpha * (lum if light_ink else 1.0 - lum)


def _auto_invert(gray: np.ndarray) -> np.ndarray:
    """MNIST is light ink on dark paper: invert when the border (the paper) is light."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return 1.0 - gray if np.median(border) > 0.5 else gray


def drawing_to_mnist(image: Image.Image | np.ndarray, canvas: bool = False) -> torch.Tensor:
    """A drawing, photo or scan of one digit → float tensor [1, 1, 28, 28] in [0, 1], MNIST-style.

    `canvas=True` says the image comes from the drawing canvas: light ink on black or on transparency,
    never inverted, so even a canvas painted all over is ink (a photo's paper is found and inverted).
    Raises BlankImageError when there is no ink (an empty canvas, a blank page).
    """
    ink, on_transparency = _ink(image, canvas)
    # the paper is what most of the picture is, unless transparency says exactly where it is
    background, top = (0.0 if on_transparency else float(np.median(ink))), float(ink.max(initial=0))
    if ink.size == 0 or top - background < INK:
        raise BlankImageError("Nothing drawn: the image has no ink to score.")
    ink = np.clip((ink - background) / (top - background), 0.0, 1.0)  # paper → 0, darkest stroke → 1
    rows, cols = np.nonzero(ink >= INK)
    ink = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]

    height, width = ink.shape
    scale = BOX / max(height, width)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    patch = Image.fromarray(ink.astype(np.float32), mode="F").resize(new_size, Image.Resampling.LANCZOS)
    patch = np.clip(np.asarray(patch), 0.0, 1.0)

    canvas = np.zeros((SIZE, SIZE), dtype=np.float32)
    mass = patch.sum()
    cy, cx = ((np.indices(patch.shape) * patch).reshape(2, -1).sum(1) / mass) if mass > 0 else (0.0, 0.0)
    centre = (SIZE - 1) / 2  # 13.5: between the two middle pixels
    top_row = int(np.clip(round(centre - cy), 0, SIZE - patch.shape[0]))
    left_col = int(np.clip(round(centre - cx), 0, SIZE - patch.shape[1]))
    canvas[top_row : top_row + patch.shape[0], left_col : left_col + patch.shape[1]] = patch
    return torch.from_numpy(canvas).reshape(1, 1, SIZE, SIZE)
