"""The 2-D MNIST VAE's test −ELBO under its training recipes: how close the explorer's and the lessons' model comes
to #15's target (≤ 132 nats, scoring the 10,000 test images in ≤ 1 s).

Each recipe (a network and how it is trained) is trained from each seed with the library's `train`, then the bench
prints the final epoch's test −ELBO (one z per image, as `python -m vae eval` and the model cards measure it),
mean ± sd over seeds, and the seconds it takes to score the test set by −ELBO.

    python -m bench.z2_likelihood [--recipes fourier deep binarize_cosine plain] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace
from typing import NamedTuple

import torch

from bench.common import data_root, load_average, print_table, scoring_seconds
from vae.data import load_dataset, to_float
from vae.models import VAE, VAEConfig
from vae.training import TrainSettings, evaluate, train


class Recipe(NamedTuple):
    network: VAEConfig
    settings: TrainSettings


SHALLOW, DEEP = (512, 256), (512, 512, 256)
ANNEALED = TrainSettings(epochs=60, binarize=True, cosine_lr=True)  # binarized digits, a cosine learning rate
RECIPES = {  # oldest first; the last is the shipped mnist_z2's (checkpoints/train_all.sh)
    "plain": Recipe(VAEConfig(latent_dim=2, hidden=SHALLOW), TrainSettings(epochs=50)),
    "binarize_cosine": Recipe(VAEConfig(latent_dim=2, hidden=SHALLOW), ANNEALED),
    "deep": Recipe(VAEConfig(latent_dim=2, hidden=DEEP), ANNEALED),
    "fourier": Recipe(VAEConfig(latent_dim=2, hidden=DEEP, fourier_features=64), replace(ANNEALED, epochs=80)),
}
SHIPPED = "fourier"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", nargs="+", choices=list(RECIPES), default=[SHIPPED])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    torch.set_num_threads(2)
    images, _ = load_dataset("mnist", train=True, root=data_root())
    test_images, _ = load_dataset("mnist", train=False, root=data_root())
    rows = []
    for name in args.recipes:
        finals, seconds = [], []
        for seed in args.seeds:
            network, recipe_settings = RECIPES[name]
            settings = TrainSettings(**{**recipe_settings.to_dict(), "seed": seed})
            model = VAE(network, seed=seed)
            started = time.perf_counter()
            for _ in train(model, images, None, settings):
                pass
            finals.append(evaluate(model, test_images).total)
            seconds.append(min(scoring_seconds(model, to_float(test_images), "elbo") for _ in range(3)))
            print(f"{name}, seed {seed}: test −ELBO {finals[-1]:.2f} after {settings.epochs} epochs "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)  # fmt: skip
        spread = statistics.stdev(finals) if len(finals) > 1 else 0.0
        rows.append([name, describe(RECIPES[name]), " / ".join(f"{f:.2f}" for f in finals),
                     f"{statistics.mean(finals):.2f} ± {spread:.2f}", f"{max(seconds):.2f}"])  # fmt: skip
    print(f"\nMNIST test set (10,000 images), final epoch, seeds {args.seeds}; load: {load_average()}")
    headers = ["recipe", "network and training", "test −ELBO per seed", "mean ± sd", "scoring 10,000 s (slowest)"]
    print_table(headers, rows)


def describe(recipe: Recipe) -> str:
    """One line: widths, Fourier features, epochs, binarization, schedule."""
    network, settings = recipe
    parts = [f"MLP {'-'.join(map(str, network.hidden))}"]
    if network.fourier_features:
        parts.append(f"{network.fourier_features} Fourier features")
    parts.append(f"{settings.epochs} epochs")
    parts += [words for on, words in ((settings.binarize, "binarized"), (settings.cosine_lr, "cosine lr")) if on]
    return ", ".join(parts)


if __name__ == "__main__":
    main()
