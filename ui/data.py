"""Data for the pages: datasets loaded once per server, test-set encodings cached per model."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from ui.models import ModelEntry
from vae.data import CLASS_NAMES, load_dataset
from vae.latent import encode_dataset

# An uploaded model may not say what it was trained on; its image size usually does.
_DATASET_FOR_SHAPE = {(1, 28, 28): "mnist", (1, 8, 8): "digits"}


@st.cache_resource(show_spinner="Loading the dataset…")
def cached_dataset(name: str, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(uint8 images, int64 labels) of one split; errors (missing files) are not cached."""
    return load_dataset(name, train=train)


def dataset_of(entry: ModelEntry) -> str | None:
    """The dataset a model belongs to: its metadata, else a guess from its image size."""
    name = entry.meta.get("dataset")
    if name in CLASS_NAMES:
        return name
    return _DATASET_FOR_SHAPE.get(entry.model.config.image_shape)


def test_set(entry: ModelEntry) -> tuple[torch.Tensor, torch.Tensor, str]:
    """The test split matching the model → (images, labels, dataset name). Raises LookupError."""
    name = dataset_of(entry)
    if name is None:
        raise LookupError(
            f"This model's images are {entry.model.config.image_shape} and its metadata names no dataset: "
            "there is no test set to show it."
        )
    images, labels = cached_dataset(name, False)
    return images, labels, name


@st.cache_data(show_spinner="Encoding the test set…", max_entries=16)
def encoded_test_set(model_id: str, _entry: ModelEntry) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means and log-variances of the whole test set (cached per model id)."""
    images, labels, _ = test_set(_entry)
    mu, logvar = encode_dataset(_entry.model, images, labels)
    return mu.numpy(), logvar.numpy()
