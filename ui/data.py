"""Datasets loaded once per server process (read-only tensors shared by every session)."""

from __future__ import annotations

import streamlit as st
import torch

from vae.data import load_dataset


@st.cache_resource(show_spinner="Loading the dataset…")
def cached_dataset(name: str, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(uint8 images, int64 labels) of one split; errors (missing files) are not cached."""
    return load_dataset(name, train=train)
