"""Limits on what one visitor can ask the server to train (set them with environment variables).

A hosted copy on a small shared machine should keep them low; a laptop can raise them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import streamlit as st


def _env_int(name: str, default: int, floor: int = 1) -> int:
    """An integer limit from the environment, at least `floor` (the form's smallest choice)."""
    try:
        return max(floor, int(os.environ.get(name, default)))
    except ValueError:
        return default


@dataclass(frozen=True)
class HostedLimits:
    max_epochs: int = 50  # VAE_LAB_MAX_EPOCHS
    max_train_size: int = 60_000  # VAE_LAB_MAX_TRAIN_SIZE (images)
    max_hidden: int = 1024  # VAE_LAB_MAX_HIDDEN (width of the first hidden layer)
    max_latent: int = 64  # VAE_LAB_MAX_LATENT
    max_concurrent_trainings: int = 2  # VAE_LAB_MAX_CONCURRENT_TRAININGS (per server)
    # Tabular lab: training rows × epochs of one fit (VAE_LAB_MAX_TABULAR_ROW_EPOCHS). 15–35 µs each on a
    # 2-core machine, so 4,000,000 is one to two minutes: 2,000 epochs of breast-cancer, ~50 of a 100,000-row CSV.
    max_tabular_row_epochs: int = 4_000_000

    @classmethod
    def from_env(cls) -> HostedLimits:
        return cls(
            max_epochs=_env_int("VAE_LAB_MAX_EPOCHS", cls.max_epochs),
            max_train_size=_env_int("VAE_LAB_MAX_TRAIN_SIZE", cls.max_train_size, floor=100),
            max_hidden=_env_int("VAE_LAB_MAX_HIDDEN", cls.max_hidden, floor=8),
            max_latent=_env_int("VAE_LAB_MAX_LATENT", cls.max_latent),
            max_concurrent_trainings=_env_int("VAE_LAB_MAX_CONCURRENT_TRAININGS", cls.max_concurrent_trainings),
            max_tabular_row_epochs=_env_int("VAE_LAB_MAX_TABULAR_ROW_EPOCHS", cls.max_tabular_row_epochs),
        )


@st.cache_resource
def training_slots() -> threading.BoundedSemaphore:
    """Shared by all sessions: how many trainings may run on this server at once."""
    return threading.BoundedSemaphore(HostedLimits.from_env().max_concurrent_trainings)


@contextmanager
def training_slot() -> Iterator[bool]:
    """One of the server's training slots for the `with` block: True, or False (and a warning shown) when
    every slot is taken. The Train page and the Tabular lab both train inside one."""
    slots = training_slots()
    if not slots.acquire(blocking=False):
        st.warning("The server is busy training other visitors' models. Please try again in a minute.")
        yield False
        return
    try:
        yield True
    finally:
        slots.release()
