"""Data for the pages: datasets loaded once per server, test-set encodings cached per model."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from ui.models import ModelEntry
from vae.data import CLASS_NAMES, IMAGE_SHAPES, load_dataset
from vae.latent import encode_dataset


@st.cache_resource(show_spinner="Loading the dataset…")
def cached_dataset(name: str, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(uint8 images, int64 labels) of one split; errors (missing files) are not cached."""
    return load_dataset(name, train=train)


def _test_set_match(entry: ModelEntry) -> tuple[str | None, str]:
    """(the dataset whose test set the model can take, or None; why not, in words for the page)."""
    cfg = entry.model.config
    shape = "×".join(map(str, cfg.image_shape))
    if cfg.conditional and cfg.num_classes != 10:  # every dataset here has 10 classes
        return None, f"This model is conditional on {cfg.num_classes} classes, and every dataset here has 10"
    named = entry.meta.get("dataset")
    if named in IMAGE_SHAPES:
        if IMAGE_SHAPES[named] == cfg.image_shape:
            return named, ""
        needs = "×".join(map(str, IMAGE_SHAPES[named]))
        return None, (
            f"This model's metadata says it was trained on {named}, whose images are {needs}, "
            f"but the model takes {shape} images"
        )
    found = next((name for name, size in IMAGE_SHAPES.items() if size == cfg.image_shape), None)
    if found is not None:
        return found, ""
    said = f"its metadata names {named!r}, a dataset VAE Lab does not have" if named else "its metadata names none"
    return None, f"This model takes {shape} images, which no dataset here has, and {said}"


def dataset_of(entry: ModelEntry) -> str | None:
    """The dataset whose test set the model can take: the one its metadata names, else one of its image size.

    None when there is none (see `no_test_set_reason`): the pages that need a test set say so instead.
    """
    return _test_set_match(entry)[0]


def no_test_set_reason(entry: ModelEntry) -> str:
    """Why `dataset_of(entry)` is None, in words for the page."""
    return f"{_test_set_match(entry)[1]}: there is no test set to use it with."


def class_names_of(entry: ModelEntry) -> list[str]:
    """Names of the classes a model generates: its dataset's, else the class numbers."""
    dataset = dataset_of(entry)
    if dataset is not None:
        return CLASS_NAMES[dataset]
    return [str(c) for c in range(max(10, entry.model.config.num_classes))]


def test_set(entry: ModelEntry) -> tuple[torch.Tensor, torch.Tensor, str]:
    """The test split matching the model → (images, labels, dataset name). Raises LookupError."""
    name = dataset_of(entry)
    if name is None:
        raise LookupError(no_test_set_reason(entry))
    images, labels = cached_dataset(name, False)
    return images, labels, name


@st.cache_data(show_spinner="Encoding the test set…", max_entries=16)
def encoded_test_set(model_id: str, _entry: ModelEntry) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means and log-variances of the whole test set (cached per model id)."""
    images, labels, _ = test_set(_entry)
    mu, logvar = encode_dataset(_entry.model, images, labels)
    return mu.numpy(), logvar.numpy()
