"""Shared fixtures: where MNIST lives for tests, and small models."""

from __future__ import annotations

import builtins
import os
import tempfile
from pathlib import Path

import pytest
import torch

from vae.data import DATA_DIR_ENV

REPO = Path(__file__).resolve().parents[1]
# CI and the README's test command point VAE_DATA_DIR at ../shared/data (the original MNIST files).
MNIST_ROOT = Path(os.environ.get(DATA_DIR_ENV) or REPO.parent / "shared" / "data")
HAS_MNIST = (MNIST_ROOT / "MNIST" / "raw" / "t10k-images-idx3-ubyte").exists() or (
    MNIST_ROOT / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz"
).exists()
needs_mnist = pytest.mark.skipif(not HAS_MNIST, reason=f"MNIST files not found under {MNIST_ROOT}")


# Workspaces the tests create (AppTest sessions, the browser tests' server) go to a folder of their own.
os.environ.setdefault("VAE_LAB_WORKSPACE_DIR", tempfile.mkdtemp(prefix="vae-lab-test-workspaces-"))

# Test models are tiny: one thread is faster, and 20x less fragile on a busy machine.
# (Set at import, so module-scoped fixtures that train get it too.)
torch.set_num_threads(1)


@pytest.fixture
def mnist_root() -> Path:
    if not HAS_MNIST:
        pytest.skip(f"MNIST files not found under {MNIST_ROOT}")
    return MNIST_ROOT


@pytest.fixture
def app_data_dir(monkeypatch) -> None:
    """Pages that show the test set read MNIST from the shared data folder."""
    monkeypatch.setenv(DATA_DIR_ENV, os.environ.get(DATA_DIR_ENV) or str(MNIST_ROOT))


class CreatesAFile:
    """Unpickling this object would open (create) a file: proof that code ran."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (builtins.open, (self.path, "w"))
