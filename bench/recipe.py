"""Recipes as data (`bench/recipes/*.json`): the `VAEConfig` and `TrainSettings` fields a benchmark trains
with and the score `method` it ranks with, so anyone can re-run or change one without touching code.
Nothing in a recipe depends on the test set."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from vae.anomaly import methods_for
from vae.models import VAEConfig
from vae.training import TrainSettings

RECIPES = Path(__file__).resolve().parent / "recipes"


@dataclass(frozen=True)
class Recipe:
    name: str
    config: VAEConfig  # for images of the benchmark's dataset (28×28 MNIST)
    settings: TrainSettings  # the seed is the benchmark's, per run
    method: str
    text: dict  # the file as read (protocol, status)
    calibration_images: int = 0  # training images set aside to scale a "combined" score (not trained on)


def load_recipe(name: str | Path) -> Recipe:
    """`bench/recipes/<name>.json` (or a .json path) → a Recipe; unknown fields or a bad value raise ValueError."""
    path = Path(name) if str(name).endswith(".json") else RECIPES / f"{name}.json"
    text = json.loads(path.read_text())
    config = VAEConfig.from_dict({"image_shape": [1, 28, 28], **text["vae_config"]})
    settings = TrainSettings(**text["train_settings"])
    if text["method"] not in methods_for(config):
        offered = ", ".join(methods_for(config))
        method = text["method"]
        raise ValueError(f"recipe {name}: unknown score method {method!r} for this model; choose one of {offered}")
    calibration = text.get("calibration_images", 0)
    if text["method"] == "combined" and not (isinstance(calibration, int) and calibration > 1):
        raise ValueError(f"recipe {name}: the combined score needs calibration_images, a whole number above 1")
    return Recipe(path.stem, config, settings, text["method"], text, calibration)
