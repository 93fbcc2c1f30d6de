"""Novelty detection on MNIST with the recipes in `bench/recipes/` (what they train, what they score with).

1. Leave-one-digit-out (`leave_one_out.json`): for each digit d, a model trained on the nine others
   (a conditional recipe may use their labels, and scores an image by its best normal class); AUROC of
   the test d's against the test images of the nine others. Anchor: Tonnaer's VAE, 0.855 mean at z=2.
   Target: mean ≥ 0.93, every digit ≥ 0.80, the 9 ≥ 0.85.
2. One-class (`one_class.json`): for each digit d, a model trained on d alone; the nine others are the
   anomalies. Target: mean AUROC ≥ 0.99 (anchors: Deep SVDD 0.948 … AGAD 0.991).

Final-epoch models, every seed trained from scratch; mean ± sd over seeds per digit and for the mean.

    python -m bench.novelty [--protocol leave_one_out one_class] [--seeds 0 1 2] [--digits 0 … 9] [--recipe X.json]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np
from sklearn.metrics import roc_auc_score

from bench.common import data_root, load_average, print_table
from bench.recipe import Recipe, load_recipe
from vae.anomaly import calibrate_combined, novelty_scores
from vae.data import hold_out, load_dataset, to_float
from vae.models import VAE
from vae.training import train


def auroc_for(recipe: Recipe, digit: int, seed: int, data: tuple) -> float:
    """Train the recipe's model for one digit and seed; AUROC of the anomalies against the normal test images."""
    images, labels, test_images, test_labels = data
    one_class = recipe.name == "one_class"
    normal = [digit] if one_class else [c for c in range(10) if c != digit]
    keep = np.isin(labels.numpy(), normal)
    images, labels = images[keep], labels[keep]
    if recipe.calibration_images:  # set aside before training, as the CLI does
        images, labels, held_out = hold_out(images, labels, recipe.calibration_images, seed=seed)
    model = VAE(recipe.config, seed=seed)
    settings = type(recipe.settings)(**{**recipe.settings.to_dict(), "seed": seed})
    for _ in train(model, images, labels, settings):
        pass
    if recipe.calibration_images:
        calibrate_combined(model.eval(), to_float(held_out))
    classes = normal if recipe.config.conditional else None
    scores = novelty_scores(model.eval(), to_float(test_images), recipe.method, classes)
    is_anomaly = ~np.isin(test_labels.numpy(), normal)
    return float(roc_auc_score(is_anomaly, scores))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", nargs="+", choices=("leave_one_out", "one_class"), default=["leave_one_out"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--recipe", default=None, help="a recipe .json to try instead of the protocol's own")
    args = parser.parse_args()
    root = data_root()
    data = (*load_dataset("mnist", train=True, root=root), *load_dataset("mnist", train=False, root=root))
    for name in args.protocol:
        recipe = load_recipe(name)
        if args.recipe:  # a candidate, run under this protocol
            candidate = load_recipe(args.recipe)
            recipe = replace(candidate, name=name)
        started = time.perf_counter()
        table = np.array([[auroc_for(recipe, d, s, data) for s in args.seeds] for d in args.digits])
        means = table.mean(axis=0)  # the mean over digits, per seed
        print(f"## {recipe.text['protocol']}")
        print(f"recipe {name}: {recipe.config}; {recipe.settings}; score {recipe.method}; seeds {args.seeds}")
        rows = [[d, f"{r.mean():.4f} ± {r.std():.4f}"] for d, r in zip(args.digits, table, strict=True)]
        rows.append(["mean", f"{means.mean():.4f} ± {means.std():.4f}"])
        print_table(["digit", "AUROC (mean ± sd over seeds)"], rows)
        print(f"{time.perf_counter() - started:.0f} s; {load_average()}\n")


if __name__ == "__main__":
    main()
