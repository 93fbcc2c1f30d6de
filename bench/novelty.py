"""Novelty detection on MNIST with the recipes in `bench/recipes/` (what they train, what they score with).

1. Leave-one-digit-out (`leave_one_out.json`): for each digit d, a model trained on the nine others
   (a conditional recipe may use their labels, and scores an image by its best normal class); AUROC of
   the test d's against the test images of the nine others. Anchor: Tonnaer's VAE, 0.855 mean at z=2.
   Target: mean ≥ 0.93, every digit ≥ 0.80, the 9 ≥ 0.85.
2. One-class (`one_class.json`): for each digit d, a model trained on d alone; the nine others are the
   anomalies. Target: mean AUROC ≥ 0.99 (anchors: Deep SVDD 0.948 … AGAD 0.991).

Final-epoch models, every seed trained from scratch; mean ± sd over seeds per digit and for the mean.
`--methods` scores each trained model by several methods (default: the recipe's). `--split validation`
chooses between scores without the test set: a tenth of the normal training images is held out (not
trained on) and told from 3,000 training images of the other digits.

    python -m bench.novelty [--protocol leave_one_out one_class] [--seeds 0 1 2] [--digits 0 … 9]
        [--recipe X.json] [--methods ink blurred_ink] [--split test|validation]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from bench.common import data_root, load_average, print_table
from bench.recipe import Recipe, load_recipe
from vae.anomaly import METHODS, calibrate_combined, methods_for, novelty_scores
from vae.data import hold_out, load_dataset, to_float
from vae.models import VAE
from vae.training import train

VALIDATION_ANOMALIES = 3000  # training images of the other digits, in the validation split


def validation_split(images: torch.Tensor, labels: torch.Tensor, normal: list[int], seed: int) -> tuple:
    """(training images, their labels, validation images, which of them are anomalies) from the training set
    alone: a tenth of the normal images held out, and `VALIDATION_ANOMALIES` images of the other digits."""
    is_normal = np.isin(labels.numpy(), normal)
    train_images, train_labels, held_out = hold_out(images[is_normal], labels[is_normal], is_normal.sum() // 10, seed)
    others = torch.from_numpy(np.flatnonzero(~is_normal))
    others = others[torch.randperm(len(others), generator=torch.Generator().manual_seed(seed))[:VALIDATION_ANOMALIES]]
    is_anomaly = np.r_[np.zeros(len(held_out), bool), np.ones(len(others), bool)]
    return train_images, train_labels, torch.cat([held_out, images[others]]), is_anomaly


def aurocs_for(recipe: Recipe, methods: list[str], digit: int, seed: int, data: tuple, split: str) -> list[float]:
    """Train the recipe's model for one digit and seed; AUROC of the anomalies against the normal images of
    the split (the test set, or the validation split of the training set) under each method."""
    images, labels, test_images, test_labels = data
    one_class = recipe.name == "one_class"
    normal = [digit] if one_class else [c for c in range(10) if c != digit]
    if split == "validation":
        images, labels, test_images, is_anomaly = validation_split(images, labels, normal, seed)
    else:
        keep = np.isin(labels.numpy(), normal)
        images, labels = images[keep], labels[keep]
        is_anomaly = ~np.isin(test_labels.numpy(), normal)
    if recipe.calibration_images:  # set aside before training, as the CLI does
        images, labels, held_out = hold_out(images, labels, recipe.calibration_images, seed=seed)
    model = VAE(recipe.config, seed=seed)
    settings = type(recipe.settings)(**{**recipe.settings.to_dict(), "seed": seed})
    for _ in train(model, images, labels, settings):
        pass
    if recipe.calibration_images:
        calibrate_combined(model.eval(), to_float(held_out))
    classes = normal if recipe.config.conditional else None
    x = to_float(test_images)
    return [float(roc_auc_score(is_anomaly, novelty_scores(model.eval(), x, m, classes))) for m in methods]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", nargs="+", choices=("leave_one_out", "one_class"), default=["leave_one_out"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--recipe", default=None, help="a recipe .json to try instead of the protocol's own")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=None, help="scores (default: the recipe's)")
    parser.add_argument("--split", choices=("test", "validation"), default="test")
    args = parser.parse_args()
    root = data_root()
    data = (*load_dataset("mnist", train=True, root=root), *load_dataset("mnist", train=False, root=root))
    for name in args.protocol:
        recipe = load_recipe(name)
        if args.recipe:  # a candidate, run under this protocol
            candidate = load_recipe(args.recipe)
            recipe = replace(candidate, name=name)
        methods = args.methods or [recipe.method]
        unknown = [m for m in methods if m not in methods_for(recipe.config)]
        if unknown:
            parser.error(f"recipe {name} does not offer {', '.join(unknown)}")
        started = time.perf_counter()
        # [digit, seed, method]
        table = np.array(
            [[aurocs_for(recipe, methods, d, s, data, args.split) for s in args.seeds] for d in args.digits]
        )
        means = table.mean(axis=0)  # the mean over digits, per seed and method
        print(f"## {recipe.text['protocol']} ({args.split} split)")
        print(f"recipe {name}: {recipe.config}; {recipe.settings}; seeds {args.seeds}")
        rows = [
            [d, *(f"{r.mean():.4f} ± {r.std():.4f}" for r in row.T)] for d, row in zip(args.digits, table, strict=True)
        ]
        rows.append(["mean", *(f"{m.mean():.4f} ± {m.std():.4f}" for m in means.T)])
        print_table(["digit", *(f"AUROC by {m} (mean ± sd over seeds)" for m in methods)], rows)
        print(f"{time.perf_counter() - started:.0f} s; {load_average()}\n")


if __name__ == "__main__":
    main()
