"""Latent replay: where a fixed set of held-out images sat in latent space as training went on.

Training records the latent means of about 1,000 held-out images at log-spaced epochs (1, 2, 3,
5, 8, 13, …, the last one) and keeps them in the checkpoint's metadata, compactly (float16,
base64 text), so any page can play the space forming. Codes of more than two dimensions are kept
as their 2-D PCA projection at that epoch.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np
import torch

from vae.latent import encode_dataset, pca_2d
from vae.models import VAE

REPLAY_IMAGES = 1000
META_KEY = "latent_replay"
_MAX_IMAGES = 5000  # what a checkpoint's replay may hold at most (an uploaded file is not trusted)
_MAX_SNAPSHOTS = 64


def snapshot_epochs(epochs: int) -> list[int]:
    """The epochs that get a snapshot: 1, 2, 3, 5, 8, 13, … (Fibonacci, so about log-spaced) and the last."""
    chosen, a, b = [], 1, 2
    while a < epochs:
        chosen.append(a)
        a, b = b, a + b
    return [*chosen, epochs] if epochs >= 1 else []


@dataclass(frozen=True)
class LatentReplay:
    """Snapshots of the same images' latent means: `codes[i]` ([N, 2] or [N, 1]) after `epochs[i]`."""

    epochs: list[int]
    codes: list[np.ndarray]
    labels: np.ndarray  # [N] class of each image
    projected: bool  # codes are a 2-D PCA projection of a larger latent space

    def to_meta(self) -> dict:
        """Plain data for checkpoint metadata (about 5 KB per snapshot of 1,000 images)."""
        return {
            "epochs": list(self.epochs),
            "labels": pack_array(self.labels.astype(np.uint8)),
            "codes": [pack_array(c.astype("<f2")) for c in self.codes],
            "dims": int(self.codes[0].shape[1]) if self.codes else 2,
            "projected": self.projected,
        }

    @classmethod
    def from_meta(cls, meta: dict) -> LatentReplay | None:
        """The replay a checkpoint carries; None when it has none or it is malformed (never raises)."""
        data = meta.get(META_KEY)
        try:
            labels = unpack_array(data["labels"], np.uint8).astype(np.int64)
            dims = int(data["dims"])
            epochs = [int(e) for e in data["epochs"]]
            codes = [unpack_array(c, "<f2").astype(np.float32).reshape(-1, dims) for c in data["codes"]]
        except (TypeError, KeyError, ValueError, AttributeError):
            return None
        shapes_agree = all(len(c) == len(labels) for c in codes) and len(codes) == len(epochs)
        if not (
            0 < len(labels) <= _MAX_IMAGES
            and dims in (1, 2)
            and 0 < len(epochs) <= _MAX_SNAPSHOTS
            and shapes_agree
            and epochs == sorted(set(epochs))
            and all(np.isfinite(c).all() for c in codes)
        ):
            return None
        return cls(epochs, codes, labels, bool(data.get("projected", False)))


class ReplayRecorder:
    """Takes the snapshots during a training: call `record` after every completed epoch."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, epochs: int, seed: int = 0) -> None:
        chosen = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:REPLAY_IMAGES]
        self.images, self.labels = images[chosen], labels[chosen]
        self.planned = set(snapshot_epochs(epochs))
        self.epochs: list[int] = []
        self.codes: list[np.ndarray] = []
        self.projected = False

    def record(self, model: VAE, epoch: int, always: bool = False) -> None:
        """Snapshot the space after `epoch` if it is a planned one (or `always`, e.g. a run's last)."""
        if (epoch not in self.planned and not always) or (self.epochs and self.epochs[-1] >= epoch):
            return
        was_training = model.training
        model.eval()
        mu, _ = encode_dataset(model, self.images.to(model.device), self.labels.to(model.device))
        model.train(was_training)
        mu = mu.cpu()
        if mu.shape[1] > 2:
            mu, self.projected = pca_2d(mu).points, True
        self.epochs.append(epoch)
        self.codes.append(mu.numpy())

    def replay(self) -> LatentReplay | None:
        if not self.epochs:
            return None
        return LatentReplay(list(self.epochs), list(self.codes), self.labels.numpy(), self.projected)

    def meta(self) -> dict:
        """`{"latent_replay": …}` for a checkpoint's metadata, or nothing before the first snapshot."""
        replay = self.replay()
        return {META_KEY: replay.to_meta()} if replay else {}


def pack_array(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def unpack_array(text: str, dtype) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text.encode("ascii"), validate=True), dtype=dtype)
