import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import HAS_MNIST, MNIST_ROOT, needs_mnist
from vae.data import DatasetNotFoundError, filter_classes, load_dataset, resolve_data_root, to_float


def write_idx(folder: Path, n_train: int = 12, n_test: int = 5) -> None:
    """Tiny but valid IDX files, the format torchvision's MNIST-style classes read."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        (folder / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 0x803, n, 28, 28) + images.tobytes())
        (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 0x801, n) + labels.tobytes())


def test_digits_needs_no_files_and_splits_deterministically():
    x_train, y_train = load_dataset("digits", train=True)
    x_test, y_test = load_dataset("digits", train=False)
    assert x_train.dtype == torch.uint8 and y_train.dtype == torch.int64
    assert x_train.shape[1:] == (1, 8, 8) and len(x_train) + len(x_test) == 1797
    assert x_train.max() == 255 and set(y_test.tolist()) == set(range(10))
    again, _ = load_dataset("digits", train=False)
    assert torch.equal(again, x_test)
    # no test image is also a training image
    train_rows = {tuple(r) for r in x_train.flatten(1).tolist()}
    assert sum(tuple(r) in train_rows for r in x_test.flatten(1).tolist()) < 5  # a few true duplicates exist in the set


@needs_mnist
def test_mnist_from_the_original_idx_files(mnist_root):
    x, y = load_dataset("mnist", train=False, root=mnist_root, download=False)
    assert x.shape == (10000, 1, 28, 28) and x.dtype == torch.uint8
    assert y.shape == (10000,) and y.dtype == torch.int64
    assert torch.bincount(y).tolist()[:3] == [980, 1135, 1032]


@needs_mnist
def test_mnist_reads_as_torchvision_reads_it(mnist_root):
    from torchvision.datasets import MNIST

    x, y = load_dataset("mnist", train=False, root=mnist_root, download=False)
    reference = MNIST(str(mnist_root), train=False, download=False)
    assert torch.equal(x, reference.data.unsqueeze(1)) and torch.equal(y, reference.targets)


def test_a_broken_idx_file_gives_the_missing_files_error(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_idx(raw)
    images = raw / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-1])  # one byte short: not read directly, and torchvision refuses it
    with pytest.raises(DatasetNotFoundError, match="train-images-idx3-ubyte"):
        load_dataset("mnist", train=True, root=tmp_path, download=False)


def test_the_mnist_test_set_ships_with_the_repository(tmp_path):
    """No data folder, no network: the test set still loads (the pages need it), the training set does not."""
    x, y = load_dataset("mnist", train=False, root=tmp_path / "empty", download=False)
    assert x.shape == (10000, 1, 28, 28) and x.dtype == torch.uint8 and x.is_contiguous()
    assert torch.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    if HAS_MNIST:  # byte for byte the original files
        reference = load_dataset("mnist", train=False, root=MNIST_ROOT, download=False)
        assert torch.equal(x, reference[0]) and torch.equal(y, reference[1])
    with pytest.raises(DatasetNotFoundError):
        load_dataset("mnist", train=True, root=tmp_path / "empty", download=False)


def test_gzipped_idx_files_are_read_without_torchvision(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_idx(raw)
    expected = load_dataset("mnist", train=True, root=tmp_path, download=False)
    for path in raw.iterdir():
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes()))
        path.unlink()
    x, y = load_dataset("mnist", train=True, root=tmp_path, download=False)
    assert torch.equal(x, expected[0]) and torch.equal(y, expected[1])
    x[0, 0, 0, 0] = 7  # an ordinary, writable tensor


def test_fashion_mnist_reads_idx_files(tmp_path):
    write_idx(tmp_path / "FashionMNIST" / "raw")
    x, y = load_dataset("fashion-mnist", train=True, root=tmp_path, download=False)
    assert x.shape == (12, 1, 28, 28) and y.tolist()[:3] == [0, 1, 2]
    x_test, _ = load_dataset("fashion-mnist", train=False, root=tmp_path, download=False)
    assert len(x_test) == 5


def test_missing_files_give_one_clear_error(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("mnist", root=tmp_path / "nowhere", download=False)
    message = str(info.value)
    assert "train-images-idx3-ubyte" in message and str((tmp_path / "nowhere" / "MNIST" / "raw").resolve()) in message
    assert "VAE_DATA_DIR" in message


def test_unknown_dataset():
    with pytest.raises(ValueError, match="choose one of"):
        load_dataset("cifar")


def test_data_root_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)
    assert resolve_data_root() == Path("./data")
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path))
    assert resolve_data_root() == tmp_path
    assert resolve_data_root("elsewhere") == Path("elsewhere")


def test_environment_variable_is_used(monkeypatch, tmp_path):
    write_idx(tmp_path / "MNIST" / "raw")
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path))
    x, _ = load_dataset("mnist", download=False)
    assert len(x) == 12


def test_filter_classes():
    images = torch.arange(10, dtype=torch.uint8).reshape(10, 1, 1, 1)
    labels = torch.arange(10)
    _, kept = filter_classes(images, labels, exclude=[9])
    assert kept.tolist() == list(range(9))
    x, kept = filter_classes(images, labels, keep=[1, 3, 9], exclude=[9])
    assert kept.tolist() == [1, 3] and x.flatten().tolist() == [1, 3]
    with pytest.raises(ValueError, match="no images left"):
        filter_classes(images, labels, keep=[1], exclude=[1])


def test_to_float_range():
    x = to_float(torch.tensor([0, 128, 255], dtype=torch.uint8))
    assert x.dtype == torch.float32 and x[0] == 0 and x[-1] == 1
