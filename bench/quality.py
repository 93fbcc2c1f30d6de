"""Model quality on real MNIST: fresh 10-epoch runs, then the shipped checkpoints.

1. Test −ELBO after 10 epochs for the pytorch/examples model (784-400-z) and VAE Lab's MLP
   (784-512-256-z) at z=2 and z=20, and VAE Lab's conv model at z=20 (pytorch/examples reaches
   ≈104–106 at z=20; target ≤ 100).
2. Each shipped checkpoint: size, load time, test −ELBO and importance-sampled log-likelihood.
3. The conditional checkpoints' generations judged by a CNN digit classifier, codes from the prior and from
   where each class's training digits lie (#15's target: ≥ 99% of generated digits of class c read as c).

    python -m bench.quality [--skip-fresh] [--k 100] [--per-class 1000]
"""

from __future__ import annotations

import argparse
import time

import torch

from bench.classifier import load_or_train_classifier, predict
from bench.common import REPO, data_root, print_table
from vae.checkpoint import load_checkpoint
from vae.data import filter_classes, load_dataset
from vae.generation import CODE_SOURCES, has_class_codes, sample_grid
from vae.models import VAE, VAEConfig
from vae.training import TrainSettings, evaluate, evaluation_metrics, train

CHECKPOINTS = ["mnist_z2", "mnist_cvae", "mnist_cvae_z8", "mnist_no9"]


def fresh_runs(root: str) -> None:
    x, y = load_dataset("mnist", train=True, root=root, download=False)
    xt, yt = load_dataset("mnist", train=False, root=root, download=False)
    rows = []
    runs = [
        ("pytorch/examples 784-400-z", dict(hidden=(400,)), (2, 20)),
        ("VAE Lab MLP 784-512-256-z", dict(hidden=(512, 256)), (2, 20)),
        ("VAE Lab conv 32-64 ch, 256-z", dict(arch="conv", conv_channels=(32, 64), hidden=(256,)), (20,)),
    ]
    for name, architecture, latent_dims in runs:
        for z in latent_dims:
            torch.manual_seed(0)
            model = VAE(VAEConfig(latent_dim=z, **architecture))
            started = time.perf_counter()
            for _ in train(model, x, y, TrainSettings(epochs=10, batch_size=128, lr=1e-3, seed=0)):
                pass
            seconds = time.perf_counter() - started
            loss = evaluate(model, xt, yt)
            rows.append([name, z, loss.total, loss.recon, loss.kl, seconds])
    print("## Fresh runs: 10 epochs, batch 128, Adam 1e-3, seed 0; test set (10,000 images)")
    print_table(["model", "z", "test -ELBO", "recon", "KL", "train s"], rows)


def shipped_checkpoints(root: str, k: int) -> dict[str, VAE]:
    xt, yt = load_dataset("mnist", train=False, root=root, download=False)
    rows, models = [], {}
    for name in CHECKPOINTS:
        path = REPO / "checkpoints" / f"{name}.pt"
        if not path.exists():
            rows.append([name, "missing", "", "", "", "", ""])
            continue
        started = time.perf_counter()
        model, meta = load_checkpoint(path)
        load_s = time.perf_counter() - started
        models[name] = model
        images, labels = filter_classes(xt, yt, keep=meta["classes"])
        m = evaluation_metrics(model, images, labels, k)
        size = f"{path.stat().st_size / 1e6:.2f} MB"
        rows.append(
            [
                name,
                size,
                f"{load_s * 1000:.0f} ms",
                len(images),
                m["test_neg_elbo"],
                m["test_kl"],
                m["test_log_likelihood"],
            ]
        )
    print(f"\n## Shipped checkpoints (test images of the classes each was trained on; log p(x) with K={k})")
    print_table(["checkpoint", "size", "load", "test images", "test -ELBO", "KL", "log p(x)"], rows)
    return models


def generation_accuracy(root: str, name: str, cvae: VAE, per_class: int) -> None:
    """How many generated digits of each class the judge reads as that class: codes from the prior N(0, I) and,
    where the checkpoint has them, from where each class's training digits lie (what the Generate page draws)."""
    classifier, test_accuracy = load_or_train_classifier(root)
    sources = [source for source in CODE_SOURCES if source == "prior" or has_class_codes(cvae)]
    hits = {source: [] for source in sources}
    for source in sources:
        for c in range(10):
            images = sample_grid(cvae, per_class, 1, y=c, temperature=1.0, seed=c, codes=source)
            hits[source].append((predict(classifier, images) == c).float().mean().item())
    rows = [[c, *(f"{hits[s][c]:.2%}" for s in sources)] for c in range(10)]
    rows.append(["all", *(f"{sum(hits[s]) / 10:.2%}" for s in sources)])
    print(f"\n## {name} generations judged by a CNN (its MNIST test accuracy: {test_accuracy:.2%})")
    print(f"{per_class} samples per class, temperature 1.0, codes drawn with seed = the class (target >= 99%)")
    print_table(["class", *(f"codes from the {s}" for s in sources)], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-fresh", action="store_true", help="only measure the shipped checkpoints")
    parser.add_argument("--k", type=int, default=100, help="importance samples for log p(x)")
    parser.add_argument("--per-class", type=int, default=1000, help="generated digits per class")
    args = parser.parse_args()
    root = str(data_root())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, MNIST from {root}\n")
    if not args.skip_fresh:
        fresh_runs(root)
    models = shipped_checkpoints(root, args.k)
    for name, model in models.items():
        if model.config.conditional:
            generation_accuracy(root, name, model, args.per_class)


if __name__ == "__main__":
    main()
