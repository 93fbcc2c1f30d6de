"""Showing and downloading grids of generated or decoded digits."""

from __future__ import annotations

import io

import streamlit as st
import torch
from PIL import Image

from vae.plots import image_grid


def display_scale(images: torch.Tensor, target_px: int = 56) -> int:
    """Nearest-neighbour enlargement so each digit is about `target_px` pixels wide on screen."""
    return max(1, target_px // images.shape[-1])


def show_grid(images: torch.Tensor, nrow: int, caption: str | None = None, target_px: int = 56) -> None:
    """One image of all digits, `nrow` per row, crisp at classroom-projector size."""
    st.image(image_grid(images, nrow=nrow, scale=display_scale(images, target_px)), caption=caption)


PNG_SCALE = 4  # downloaded grids: each pixel 4×4, so a 28×28 digit is 112 px (a slide, a worksheet)


def png_bytes(images: torch.Tensor, nrow: int) -> bytes:
    """The grid as a PNG file, for download buttons (enlarged ×PNG_SCALE, nearest neighbour: crisp)."""
    buffer = io.BytesIO()
    Image.fromarray(image_grid(images, nrow=nrow, scale=PNG_SCALE)).save(buffer, format="png")
    return buffer.getvalue()
