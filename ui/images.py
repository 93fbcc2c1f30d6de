"""Showing and downloading grids of generated or decoded digits."""

from __future__ import annotations

import io

import streamlit as st
import torch

from vae.plots import image_grid


def display_scale(images: torch.Tensor, target_px: int = 56) -> int:
    """Nearest-neighbour enlargement so each digit is about `target_px` pixels wide on screen."""
    return max(1, target_px // images.shape[-1])


def show_grid(images: torch.Tensor, nrow: int, caption: str | None = None, target_px: int = 56) -> None:
    """One image of all digits, `nrow` per row, crisp at classroom-projector size."""
    st.image(image_grid(images, nrow=nrow, scale=display_scale(images, target_px)), caption=caption)


def png_bytes(images: torch.Tensor, nrow: int) -> bytes:
    """The grid as a PNG file (torchvision's save_image), for download buttons."""
    from torchvision.utils import save_image  # imported on first use, like vae.plots.image_grid

    buffer = io.BytesIO()
    save_image(images, buffer, format="png", nrow=nrow, padding=2, pad_value=0.35)
    return buffer.getvalue()
