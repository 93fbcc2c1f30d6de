"""Datasets held in memory as uint8 image tensors [N, C, H, W] plus int64 labels [N]."""

from __future__ import annotations

import gzip
import os
import struct
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch

DATA_DIR_ENV = "VAE_DATA_DIR"
DEFAULT_DATA_DIR = "./data"
DATASETS = ("mnist", "fashion-mnist", "digits")
CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "digits": [str(d) for d in range(10)],
    "fashion-mnist": ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot"],
}
IMAGE_SHAPES = {"mnist": (1, 28, 28), "fashion-mnist": (1, 28, 28), "digits": (1, 8, 8)}  # (C, H, W)
# Files torchvision's MNIST-style classes read, relative to <root>/<folder>/raw/.
_FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
_IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
_DIGITS_TEST_FRACTION = 0.2
# The MNIST test set ships with the repository (datasets/README.md): the app's pages work offline.
SHIPPED_DATA = Path(__file__).resolve().parents[1] / "datasets"


class DatasetNotFoundError(FileNotFoundError):
    """The dataset's files are not on disk and could not be downloaded."""


def resolve_data_root(root: str | os.PathLike | None = None) -> Path:
    """The data directory: the argument, else $VAE_DATA_DIR, else ./data."""
    return Path(root or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


def load_dataset(
    name: str, train: bool = True, root: str | os.PathLike | None = None, download: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load a whole split into memory → (images uint8 [N, C, H, W], labels int64 [N]).

    `mnist` and `fashion-mnist` are the IDX files (or their `.gz`) in `<root>/MNIST/raw` and
    `<root>/FashionMNIST/raw`, read directly; the MNIST test set also ships with the repository
    (`datasets/`); otherwise torchvision downloads them if `download` is set. `digits` is scikit-learn's
    bundled 8×8 set, split 80/20 with a fixed seed, and needs no files at all.
    """
    if name == "digits":
        return _load_digits(train)
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    data_root = resolve_data_root(root)
    split = _read_idx_split(data_root / _FOLDERS[name] / "raw", "train" if train else "t10k")
    if split is None and not train:
        split = _read_idx_split(SHIPPED_DATA / _FOLDERS[name] / "raw", "t10k")
    if split is not None:
        return split
    # Only to extract or download: importing torchvision costs ~160 MB of resident memory in the app's server.
    from torchvision import datasets

    dataset_cls = datasets.MNIST if name == "mnist" else datasets.FashionMNIST
    try:
        ds = dataset_cls(str(data_root), train=train, download=False)
    except RuntimeError:
        ds = _try_download(dataset_cls, name, data_root, train) if download else None
        if ds is None:
            raise DatasetNotFoundError(_missing_message(name, data_root)) from None
    return ds.data.unsqueeze(1).contiguous(), ds.targets.long()


def _read_idx(path: Path, magic: int, dims: int) -> np.ndarray | None:
    """The uint8 array in one IDX file, or in its `.gz` beside it (big-endian header: magic number, then `dims`
    sizes); None if neither is one."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError:
        try:
            with gzip.open(path.with_name(path.name + ".gz")) as file:
                data = np.frombuffer(bytearray(file.read()), dtype=np.uint8)  # writable, as torch wants
        except (OSError, EOFError):
            return None
    header = 4 * (dims + 1)
    if len(data) < header or struct.unpack(">I", data[:4].tobytes()) != (magic,):
        return None
    shape = struct.unpack(f">{dims}I", data[4:header].tobytes())
    if len(data) - header != np.prod(shape, dtype=np.int64):
        return None
    return data[header:].reshape(shape)


def _read_idx_split(raw: Path, prefix: str) -> tuple[torch.Tensor, torch.Tensor] | None:
    """One split from the IDX files (or their .gz) in `raw`, as torchvision reads them; None if any is missing."""
    images = _read_idx(raw / f"{prefix}-images-idx3-ubyte", 0x803, 3)
    labels = _read_idx(raw / f"{prefix}-labels-idx1-ubyte", 0x801, 1)
    if images is None or labels is None or len(images) != len(labels):
        return None
    return torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels.astype(np.int64))


def _try_download(dataset_cls, name: str, data_root: Path, train: bool):
    """torchvision's own download; None when it fails (no network, no write access...)."""
    try:
        return dataset_cls(str(data_root), train=train, download=True)
    except Exception:
        return None


def _missing_message(name: str, data_root: Path) -> str:
    raw = data_root / _FOLDERS[name] / "raw"
    files = ", ".join(_IDX_FILES)
    return (
        f"The {name} dataset was not found in {raw.resolve()} and could not be downloaded. "
        f"Put the four IDX files there ({files}; .gz versions work too), or point the data "
        f"directory elsewhere with --data-dir / the {DATA_DIR_ENV} environment variable. "
        f"The 'digits' dataset needs no files."
    )


def _load_digits(train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)  # 0..16 → 0..255
    order = np.random.default_rng(0).permutation(len(images))
    n_test = round(len(images) * _DIGITS_TEST_FRACTION)
    idx = order[n_test:] if train else order[:n_test]
    return torch.from_numpy(images[idx]).unsqueeze(1).contiguous(), torch.from_numpy(bunch.target[idx]).long()


def filter_classes(
    images: torch.Tensor,
    labels: torch.Tensor,
    keep: Iterable[int] | None = None,
    exclude: Iterable[int] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Keep only the given classes and/or drop the excluded ones (e.g. train without the 9s)."""
    mask = torch.ones(len(labels), dtype=torch.bool)
    if keep is not None:
        mask &= torch.isin(labels, torch.tensor(list(keep), dtype=labels.dtype))
    if exclude is not None:
        mask &= ~torch.isin(labels, torch.tensor(list(exclude), dtype=labels.dtype))
    if not mask.any():
        raise ValueError("no images left after filtering the classes")
    return images[mask], labels[mask]


def hold_out(
    images: torch.Tensor, labels: torch.Tensor, n: int, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Set `n` random images aside (e.g. to calibrate a score on images the model never trained on).

    → (training images, their labels, the held-out images); `n` must leave at least half to train on.
    """
    if not 0 < n <= len(images) // 2:
        raise ValueError(f"can hold out 1 to {len(images) // 2} of {len(images)} images, not {n}")
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    kept, held = order[n:], order[:n]
    return images[kept], labels[kept], images[held]


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] → float32 [0, 1] (done per batch, so the dataset stays small)."""
    return images.float().div_(255.0)
