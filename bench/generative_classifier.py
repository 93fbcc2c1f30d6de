"""Conditional VAEs as generative classifiers: the class whose score explains an image best (argmin over the ten
classes), as the Anomaly lab says "the model explains it best as a …", on the MNIST test set.

Target (#15): ≥ 99% on the test set (a small CNN: 99%+), class-conditional AUROC ≥ 0.99 and generations ≥ 99%
recognisable (`bench.quality`, `bench.anomaly`); drawn digits: `bench.drawn_digits`.

1. Each shipped conditional model under every score it offers, with the seconds it takes to score the test set
   under all ten classes (the importance-sampled score on a subset: it is slow).
2. The recipe (`bench/recipes/generative_classifier.json`, the shipped mnist_cvae_z8's) trained from scratch
   for each run: its `members` networks, each trained alone from its own seed, assembled into an ensemble
   (`vae.models.assemble_ensemble`); final-epoch test accuracy by its score, mean ± sd over runs.

    python -m bench.generative_classifier [--models mnist_cvae mnist_cvae_z8] [--iwae-images 1000] [--seeds 0 1 2]
    (--seeds: the runs; run r trains seeds members × r … members × r + members − 1, kept in bench/.cache/)
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench.common import REPO, data_root, load_average, print_table
from bench.recipe import load_recipe
from vae.anomaly import generative_accuracy, methods_for
from vae.checkpoint import load_checkpoint, save_checkpoint
from vae.data import load_dataset
from vae.models import VAE, VAEConfig, assemble_ensemble
from vae.training import TrainSettings, evaluate, settings_with_defaults, train

CACHE = Path(__file__).resolve().parent / ".cache"


def shipped_rows(name: str, images, labels, iwae_images: int) -> list[list]:
    """[model, score, test images, accuracy, seconds] for every score a shipped conditional model offers."""
    model, _ = load_checkpoint(REPO / "checkpoints" / f"{name}.pt")
    rows = []
    for method in methods_for(model):
        n = iwae_images if method == "iwae" else len(images)
        started = time.perf_counter()
        accuracy = generative_accuracy(model, images[:n], labels[:n], method)
        seconds = time.perf_counter() - started
        rows.append([name, method, n, f"{accuracy:.2%}", f"{seconds:.1f}"])
    return rows


def trained_member(config: VAEConfig, settings: TrainSettings, data: tuple) -> tuple[VAE, float]:
    """The recipe's network trained alone with `settings.seed` → (model, training seconds), kept in bench/.cache/.

    A file there is reused only if it holds this very recipe and seed (configuration and every training setting);
    `python -m vae train` with the recipe's options writes the same weights, so its checkpoints may be put there.
    """
    cached = CACHE / f"generative_classifier_seed{settings.seed}.pt"
    if cached.exists():
        model, meta = load_checkpoint(cached)
        if model.config == config and settings_with_defaults(meta.get("settings", {})) == settings.to_dict():
            return model, float(meta.get("training_time_s", 0.0))
    images, labels = data[:2]
    model = VAE(config, seed=settings.seed)
    started = time.perf_counter()
    for _ in train(model, images, labels, settings):
        pass
    seconds = time.perf_counter() - started
    cached.parent.mkdir(exist_ok=True)
    save_checkpoint(cached, model.eval(), {"settings": settings.to_dict(), "training_time_s": seconds})
    return model, seconds


def recipe_run(run: int, data: tuple) -> list[float]:
    """The recipe, run `run`: its `members` networks (seeds members × run + 0, 1, …) trained alone and assembled →
    [accuracy by the recipe's score, by −ELBO, the members' accuracies by the recipe's score (the lowest and the
    highest), the first member's test −ELBO, training seconds]."""
    recipe = load_recipe("generative_classifier")
    test_images, test_labels = data[2:]
    seeds = range(recipe.config.members * run, recipe.config.members * (run + 1))
    trained = [trained_member(replace(recipe.config, members=1), replace(recipe.settings, seed=s), data) for s in seeds]
    members = [model for model, _ in trained]
    model = assemble_ensemble(members) if len(members) > 1 else members[0]
    alone = [generative_accuracy(member, test_images, test_labels, recipe.method) for member in members]
    return [
        generative_accuracy(model, test_images, test_labels, recipe.method),
        generative_accuracy(model, test_images, test_labels, "elbo"),
        min(alone),
        max(alone),
        evaluate(members[0], test_images, test_labels).total,
        sum(seconds for _, seconds in trained),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", nargs="*", default=["mnist_cvae", "mnist_cvae_z8"], help="shipped checkpoints (none: skip them)"
    )
    parser.add_argument("--iwae-images", type=int, default=1000, help="test images for the K=50 importance score")
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2], help="recipe runs (none: skip them)")
    args = parser.parse_args()
    root = data_root()
    test_images, test_labels = load_dataset("mnist", train=False, root=root)
    if args.models:
        rows = [row for name in args.models for row in shipped_rows(name, test_images, test_labels, args.iwae_images)]
        print("## Shipped conditional models as generative classifiers: argmin over the ten classes, MNIST test set")
        print_table(["model", "score", "test images", "accuracy", "seconds"], rows)
        print(load_average())
    if args.seeds:
        recipe = load_recipe("generative_classifier")
        data = (*load_dataset("mnist", train=True, root=root), test_images, test_labels)
        runs = np.array([recipe_run(run, data) for run in args.seeds])
        members = recipe.config.members
        print(f"\n## The recipe from scratch: {recipe.config}; {recipe.settings}; score {recipe.method}")
        seeds = f"run r: seeds {members}r … {members}r + {members - 1}"
        print(f"each run assembles {members} networks trained alone ({seeds})")
        rows = [
            [run, f"{a:.2%}", f"{b:.2%}", f"{lo:.2%} / {hi:.2%}", f"{e:.2f}", f"{s:.0f}"]
            for run, (a, b, lo, hi, e, s) in zip(args.seeds, runs, strict=True)
        ]
        mean, sd = runs.mean(0), runs.std(0)
        rows.append(
            [
                "mean ± sd",
                f"{mean[0]:.2%} ± {sd[0]:.2%}",
                f"{mean[1]:.2%} ± {sd[1]:.2%}",
                f"{mean[2]:.2%} / {mean[3]:.2%}",
                f"{mean[4]:.2f} ± {sd[4]:.2f}",
                f"{mean[5]:.0f}",
            ]
        )
        headers = [
            "run",
            f"test accuracy by {recipe.method}",
            "by −ELBO",
            f"members alone by {recipe.method} (lowest / highest)",
        ]
        print_table([*headers, "first member's test −ELBO", "training s"], rows)
        print(load_average())


if __name__ == "__main__":
    main()
