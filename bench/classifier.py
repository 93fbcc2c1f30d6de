"""A small CNN digit classifier, the judge of whether generated digits look like their class.

Trained on MNIST's training set (in memory, a few epochs); its weights are cached in
bench/.cache/ so reruns are quick. Its test accuracy is printed with every result it judges.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from vae.data import load_dataset, to_float

CACHE = Path(__file__).resolve().parent / ".cache" / "digit_cnn.pt"


class DigitCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
        )  # fmt: skip
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@torch.no_grad()
def predict(model: DigitCNN, images: torch.Tensor, batch: int = 1000) -> torch.Tensor:
    """Class predictions for float images in [0, 1], shape [N, 1, 28, 28]."""
    return torch.cat([model(images[s : s + batch]).argmax(1) for s in range(0, len(images), batch)])


def train_classifier(root: str, epochs: int = 3, seed: int = 0) -> DigitCNN:
    x, y = load_dataset("mnist", train=True, root=root, download=False)
    torch.manual_seed(seed)
    model = DigitCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for start in range(0, len(x), 128):
            idx = order[start : start + 128]
            loss = F.cross_entropy(model(to_float(x[idx])), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


def load_or_train_classifier(root: str) -> tuple[DigitCNN, float]:
    """The cached classifier (trained on first use) and its MNIST test accuracy."""
    model = DigitCNN()
    if CACHE.exists():
        model.load_state_dict(torch.load(CACHE, weights_only=True))
        model.eval()
    else:
        model = train_classifier(root)
        CACHE.parent.mkdir(exist_ok=True)
        torch.save(model.state_dict(), CACHE)
    x, y = load_dataset("mnist", train=False, root=root, download=False)
    accuracy = (predict(model, to_float(x)) == y).float().mean().item()
    return model, accuracy
