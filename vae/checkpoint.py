"""Checkpoints are data, never code: a plain dict read back with `torch.load(weights_only=True)`.

{"format_version": 1, "config": {...}, "state_dict": {...}, "meta": {...}}
"""

from __future__ import annotations

import io
import math
import os
import re
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import torch

from vae.models import ENSEMBLE_WEIGHTS_DTYPE, VAE, VAEConfig

FORMAT_VERSION = 1
MAX_PARAMETERS = 50_000_000  # 200 MB of float32 weights; the app's largest trainable model has about 8 million
_REQUIRED_KEYS = ("format_version", "config", "state_dict", "meta")
NOT_A_CHECKPOINT = (
    "This is not a readable PyTorch checkpoint: the file is damaged, cut short, or not a .pt file at all. "
    "A VAE Lab checkpoint is a .pt file saved by VAE Lab: the sidebar's Download button, or `python -m vae train`."
)


class CheckpointError(ValueError):
    """The file is not a usable VAE Lab checkpoint (the message says why)."""


def save_checkpoint(path: str | os.PathLike | BinaryIO, model: VAE, meta: dict | None = None) -> None:
    """Write the model's config, weights and metadata (plain Python types only) to `path`.

    A file path is written atomically: a crash mid-write never leaves a broken file there.
    """
    check_plain(meta or {}, "meta")
    # An ensemble's network weights go in half precision (assembling rounded them already: nothing is lost);
    # its fitted statistics, and every single model, in float32. Loading makes them all float32 again.
    halved = {name for name, _ in model.named_parameters()} if model.config.members > 1 else set()
    payload = {
        "format_version": FORMAT_VERSION,
        "config": model.config.to_dict(),
        "state_dict": {
            k: v.detach().cpu().to(ENSEMBLE_WEIGHTS_DTYPE if k in halved else v.dtype).clone()
            for k, v in model.state_dict().items()
        },
        "meta": meta or {},
    }
    if isinstance(path, str | os.PathLike):
        write_atomically(path, lambda file: torch.save(payload, file))
    else:
        torch.save(payload, path)


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> None:
    """Call `write` on a temporary file beside `path`, then rename it over `path` in one step.

    Readers see the old file or the new one, never half of one (`os.replace` is atomic).
    """
    target = Path(path)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        # mkstemp makes it private (0600); a saved model is an ordinary file. A fixed mode, not one from the
        # umask: reading the umask means setting it, for every thread of the process at once.
        os.chmod(temporary, 0o644)
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


_PLAIN_SCALARS = (str, int, float, bool, type(None))


def check_plain(value: object, where: str) -> None:
    """Metadata must be plain data, or the file could not be read back with weights_only=True."""
    if isinstance(value, dict):
        for k, v in value.items():
            check_plain(k, f"{where} key")
            check_plain(v, f"{where}[{k!r}]")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            check_plain(v, f"{where}[{i}]")
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


def read_payload(source: str | os.PathLike | BinaryIO | bytes) -> dict:
    """The checkpoint's plain-data dict, read without running any code; its keys and version checked."""
    if isinstance(source, bytes | bytearray):
        source = io.BytesIO(source)
    try:
        payload = torch.load(source, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"No checkpoint file at {source}.") from None
    except Exception as err:  # malformed pickles make torch raise almost anything (IndexError, struct.error, ...)
        code = re.search(r"Unsupported global: GLOBAL [\w.]+", str(err))
        if code:
            raise CheckpointError(
                "This file contains Python objects other than plain data and tensors; it was refused "
                f"without running it ({code.group(0)})."
            ) from None
        raise CheckpointError(NOT_A_CHECKPOINT) from None

    if not isinstance(payload, dict) or any(k not in payload for k in _REQUIRED_KEYS):
        raise CheckpointError(
            f"This .pt file is not a VAE Lab checkpoint: expected a dict with keys {', '.join(_REQUIRED_KEYS)}."
        )
    if type(payload["format_version"]) is not int or payload["format_version"] != FORMAT_VERSION:
        raise CheckpointError(
            f"Unsupported checkpoint format version {payload['format_version']!r} "
            f"(this version of VAE Lab reads version {FORMAT_VERSION})."
        )
    return payload


def load_checkpoint(source: str | os.PathLike | BinaryIO | bytes) -> tuple[VAE, dict]:
    """Read and validate a checkpoint → (model in eval mode, meta dict).

    Safe on untrusted files: anything but tensors and plain containers is refused without
    being run, and the weights are checked against the config before any memory is given to
    the model. Every failure raises CheckpointError with a message fit to show a user.
    """
    payload = read_payload(source)
    kind = payload.get("kind", "image")
    if kind == "tabular":
        raise CheckpointError("This checkpoint holds a table classifier, not an image VAE: load it in the Tabular lab.")
    if kind != "image":
        raise CheckpointError(f"This checkpoint holds a model of an unknown kind ({kind!r}).")
    if not isinstance(payload["config"], dict):
        raise CheckpointError("The checkpoint's model configuration is invalid: it is not a dict.")
    try:
        config = VAEConfig.from_dict(payload["config"])
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"The checkpoint's model configuration is invalid: {err}") from None
    with torch.device("meta"):  # shapes only, no memory, however large the config claims to be
        model = VAE(config)
    if isinstance(payload["state_dict"], dict):
        # A VAE's buffers are statistics fitted after training (the combined score's scale, the class codes); one
        # saved before such a statistic existed loads without it, all zeros = not fitted (that feature is not offered)
        for name, buffer in model.named_buffers():
            payload["state_dict"].setdefault(name, torch.zeros(buffer.shape))
    check_weights(model, payload["state_dict"])
    weights = {name: t.to(torch.float32).contiguous() for name, t in payload["state_dict"].items()}
    model.load_state_dict(weights, assign=True)  # the checked tensors replace the meta ones: no random init
    return model.eval(), _checked_meta(payload["meta"])


def check_weights(model: torch.nn.Module, state_dict: object) -> None:
    """Refuse weights that do not fit the model (still on the meta device), or that are not finite."""
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    size = sum(math.prod(shape) for shape in expected.values())
    if size > MAX_PARAMETERS:
        raise CheckpointError(
            f"The checkpoint describes a model with {size:,} parameters; VAE Lab loads at most {MAX_PARAMETERS:,}."
        )
    if not isinstance(state_dict, dict) or not all(isinstance(t, torch.Tensor) for t in state_dict.values()):
        raise CheckpointError("The checkpoint's weights are not a dict of tensors.")
    problems = [f"{name} is missing" for name in expected if name not in state_dict]
    problems += [f"{name!s} is not part of it" for name in state_dict if name not in expected]
    problems += [
        f"{name} is {list(state_dict[name].shape)}, the config needs {list(shape)}"
        for name, shape in expected.items()
        if name in state_dict and tuple(state_dict[name].shape) != shape
    ]
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise CheckpointError(
            f"The weights do not fit the model described in the checkpoint: {'; '.join(problems[:3])}{more}."
        )
    for name, tensor in state_dict.items():
        if tensor.layout != torch.strided or not tensor.is_floating_point():
            raise CheckpointError(f"The checkpoint's weight {name} is not a dense tensor of floating-point numbers.")
        if tensor.numel() and not torch.isfinite(torch.stack(torch.aminmax(tensor))).all():  # NaN propagates
            raise CheckpointError(f"The checkpoint's weight {name} contains NaN or infinite values.")


def _checked_meta(meta: object) -> dict:
    """The metadata, minus the fields the app reads when they have the wrong type (they would break pages)."""
    if not isinstance(meta, dict):
        return {}
    meta = dict(meta)
    if "dataset" in meta and not isinstance(meta["dataset"], str):
        del meta["dataset"]
    classes = meta.get("classes")
    if classes is not None and not (
        isinstance(classes, list) and classes and all(type(c) is int and 0 <= c < 10 for c in classes)
    ):
        del meta["classes"]
    if "metrics" in meta:
        metrics = meta["metrics"] if isinstance(meta["metrics"], dict) else {}
        meta["metrics"] = {k: v for k, v in metrics.items() if type(v) in (int, float)}
    return meta
