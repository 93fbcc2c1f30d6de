"""Checkpoints are data, never code: a plain dict read back with `torch.load(weights_only=True)`.

{"format_version": 1, "config": {...}, "state_dict": {...}, "meta": {...}}
"""

from __future__ import annotations

import io
import os
import pickle
import re
import zipfile
from datetime import UTC, datetime
from typing import BinaryIO

import torch

from vae.models import VAE, VAEConfig

FORMAT_VERSION = 1
_REQUIRED_KEYS = ("format_version", "config", "state_dict", "meta")


class CheckpointError(ValueError):
    """The file is not a usable VAE Lab checkpoint (the message says why)."""


def save_checkpoint(path: str | os.PathLike | BinaryIO, model: VAE, meta: dict | None = None) -> None:
    """Write the model's config, weights and metadata (plain Python types only) to `path`."""
    _check_plain(meta or {}, "meta")
    payload = {
        "format_version": FORMAT_VERSION,
        "config": model.config.to_dict(),
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "meta": meta or {},
    }
    torch.save(payload, path)


_PLAIN_SCALARS = (str, int, float, bool, type(None))


def _check_plain(value: object, where: str) -> None:
    """Metadata must be plain data, or the file could not be read back with weights_only=True."""
    if isinstance(value, dict):
        for k, v in value.items():
            _check_plain(k, f"{where} key")
            _check_plain(v, f"{where}[{k!r}]")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check_plain(v, f"{where}[{i}]")
    elif type(value) not in _PLAIN_SCALARS:
        raise TypeError(f"{where} is a {type(value).__name__}; checkpoint metadata must be plain data")


def training_meta(
    name: str,
    dataset: str,
    classes: list[int],
    train_images: int,
    settings: dict,
    history: list[dict],
    metrics: dict,
    **extra: object,
) -> dict:
    """The metadata every trained model carries, whether the CLI or the app trained it."""
    return {
        "name": name,
        "dataset": dataset,
        "classes": sorted(classes),
        "train_images": train_images,
        "epochs": len(history),
        "seed": settings.get("seed"),
        "settings": settings,
        "history": history,
        "metrics": metrics,
        "training_time_s": history[-1]["elapsed_s"] if history else 0.0,
        "created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "torch_version": str(torch.__version__),
        **extra,
    }


def checkpoint_bytes(model: VAE, meta: dict | None = None) -> bytes:
    """The checkpoint file's content, for download buttons."""
    buffer = io.BytesIO()
    save_checkpoint(buffer, model, meta)
    return buffer.getvalue()


def load_checkpoint(source: str | os.PathLike | BinaryIO | bytes) -> tuple[VAE, dict]:
    """Read and validate a checkpoint → (model in eval mode, meta dict).

    Safe on untrusted files: anything but tensors and plain containers is refused without
    being run. Every failure raises CheckpointError with a message fit to show a user.
    """
    if isinstance(source, bytes | bytearray):
        source = io.BytesIO(source)
    try:
        payload = torch.load(source, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"No checkpoint file at {source}.") from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, KeyError) as err:
        code = re.search(r"Unsupported global: GLOBAL [\w.]+", str(err))
        if code:
            raise CheckpointError(
                "This file contains Python objects other than plain data and tensors; it was refused "
                f"without running it ({code.group(0)})."
            ) from None
        raise CheckpointError(
            f"This is not a readable PyTorch checkpoint (truncated or not a .pt file): {_first_line(err)}"
        ) from None

    if not isinstance(payload, dict) or any(k not in payload for k in _REQUIRED_KEYS):
        raise CheckpointError(
            f"This .pt file is not a VAE Lab checkpoint: expected a dict with keys {', '.join(_REQUIRED_KEYS)}."
        )
    if payload["format_version"] != FORMAT_VERSION:
        raise CheckpointError(
            f"Unsupported checkpoint format version {payload['format_version']!r} "
            f"(this version of VAE Lab reads version {FORMAT_VERSION})."
        )
    try:
        config = VAEConfig.from_dict(payload["config"])
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"The checkpoint's model configuration is invalid: {err}") from None
    model = VAE(config)
    try:
        model.load_state_dict(payload["state_dict"])
    except (RuntimeError, TypeError, AttributeError) as err:
        raise CheckpointError(
            f"The weights do not fit the model described in the checkpoint: {_first_line(err)}"
        ) from None
    meta = payload["meta"] if isinstance(payload["meta"], dict) else {}
    return model.eval(), meta


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0][:300] if text else type(err).__name__
