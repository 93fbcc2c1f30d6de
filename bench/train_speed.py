"""One epoch of the pytorch/examples VAE (784-400-20 MLP, batch 128, Adam 1e-3) trained two ways.

1. the pytorch/examples loop: torchvision's MNIST + per-item ToTensor + DataLoader, default Adam;
2. `vae.training.train`: MNIST held as one uint8 tensor, batches by randperm indexing, fused Adam.

Same model and loss. Prints seconds per epoch and the ratio, and a third row: the same number of
steps on one fixed batch, the arithmetic alone. (2) sits at that floor, so the ratio is the
DataLoader's per-item overhead over the compute, and moves with the machine's load.

    python -m bench.train_speed [--epochs 1]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from bench.common import data_root, print_table
from vae.data import load_dataset, to_float
from vae.losses import elbo_terms
from vae.models import VAE, VAEConfig
from vae.training import TrainSettings, train

CONFIG = VAEConfig(image_shape=(1, 28, 28), latent_dim=20, hidden=(400,))  # pytorch/examples vae/main.py


def dataloader_epoch(root: str) -> float:
    """Seconds for one epoch through DataLoader + ToTensor."""
    torch.manual_seed(0)
    model = VAE(CONFIG).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    dataset = datasets.MNIST(root, train=True, download=False, transform=transforms.ToTensor())
    loader = DataLoader(dataset, batch_size=128, shuffle=True)
    started = time.perf_counter()
    for x, _ in loader:
        loss = elbo_terms(model, x).total.mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return time.perf_counter() - started


def in_memory_epoch(root: str) -> float:
    """Seconds for one epoch of `vae.training.train` (data loading excluded, as above)."""
    images, _ = load_dataset("mnist", train=True, root=root, download=False)
    torch.manual_seed(0)
    model = VAE(CONFIG)
    started = time.perf_counter()
    for _ in train(model, images, settings=TrainSettings(epochs=1, batch_size=128)):
        pass
    return time.perf_counter() - started


def compute_floor_epoch(root: str) -> float:
    """Seconds for the same number of steps on one fixed batch: the arithmetic alone, no data handling."""
    images, _ = load_dataset("mnist", train=True, root=root, download=False)
    torch.manual_seed(0)
    model = VAE(CONFIG).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    x = to_float(images[:128])
    started = time.perf_counter()
    for _ in range(-(-len(images) // 128)):
        loss = elbo_terms(model, x).total.mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="epochs timed per method (best is kept)")
    args = parser.parse_args()
    root = str(data_root())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, MNIST from {root}\n")
    loader_s = min(dataloader_epoch(root) for _ in range(args.repeats))
    memory_s = min(in_memory_epoch(root) for _ in range(args.repeats))
    floor_s = min(compute_floor_epoch(root) for _ in range(args.repeats))
    print_table(
        ["data path", "s / epoch", "images / s"],
        [
            ["torchvision DataLoader + ToTensor", loader_s, f"{60000 / loader_s:,.0f}"],
            ["vae.training.train (in-memory uint8)", memory_s, f"{60000 / memory_s:,.0f}"],
            ["compute floor: one fixed batch, no data handling", floor_s, f"{60000 / floor_s:,.0f}"],
        ],
    )
    print(f"\nspeed-up: {loader_s / memory_s:.1f}x (target >= 5x)")
    print(f"vae.training.train / compute floor: {memory_s / floor_s:.2f} (1 = its data handling costs nothing)")


if __name__ == "__main__":
    main()
