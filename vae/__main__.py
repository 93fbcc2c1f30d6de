"""Command line: `python -m vae train ...` and `python -m vae eval CHECKPOINT`."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import torch

from vae.checkpoint import CheckpointError, load_checkpoint, save_checkpoint, training_meta
from vae.data import DATA_DIR_ENV, DATASETS, DatasetNotFoundError, filter_classes, load_dataset
from vae.models import VAE, VAEConfig
from vae.training import TrainingDiverged, TrainSettings, evaluation_metrics, train


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be zero or positive, got {text}")
    return value


def _digit_class(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 9:
        raise argparse.ArgumentTypeError(f"classes are 0..9, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vae", description="Train and evaluate VAEs.")
    commands = parser.add_subparsers(dest="command", required=True)

    t = commands.add_parser("train", help="train a VAE and save a checkpoint with its model card")
    t.add_argument("--dataset", choices=DATASETS, default="mnist")
    t.add_argument("--arch", choices=("mlp", "conv"), default="mlp")
    t.add_argument("--latent-dim", type=_positive_int, default=2)
    t.add_argument("--hidden", type=_positive_int, nargs="+", default=[512, 256], help="fully connected widths")
    t.add_argument("--conv-channels", type=_positive_int, nargs="+", default=[32, 64], help="conv arch only")
    t.add_argument("--conditional", action="store_true", help="condition on the class label (CVAE)")
    t.add_argument("--likelihood", choices=("bernoulli", "gaussian"), default="bernoulli")
    t.add_argument("--beta", type=_non_negative_float, default=1.0, help="KL weight (beta-VAE)")
    t.add_argument("--kl-warmup", type=_non_negative_float, default=0.0, help="epochs to ramp the KL weight up")
    t.add_argument("--epochs", type=_positive_int, default=10)
    t.add_argument("--batch-size", type=_positive_int, default=128)
    t.add_argument("--lr", type=_positive_float, default=1e-3)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--exclude-classes", type=_digit_class, nargs="+", default=[], help="leave classes out (novelty)")
    t.add_argument("--train-size", type=_positive_int, default=None, help="use a random subset of this size")
    t.add_argument("--eval-k", type=_positive_int, default=100, help="importance samples for the final log-likelihood")
    t.add_argument("--data-dir", default=None, help=f"data root (default: ${DATA_DIR_ENV}, else ./data)")
    t.add_argument("--no-download", action="store_true", help="never try to download missing data")
    t.add_argument(
        "--out", type=Path, required=True, help="checkpoint path (.pt); a .md model card is written beside it"
    )
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    e = commands.add_parser("eval", help="print a checkpoint's test -ELBO and importance-sampled log-likelihood")
    e.add_argument("checkpoint", type=Path)
    e.add_argument("--k", type=_positive_int, default=100, help="importance samples per image")
    e.add_argument("--limit", type=_positive_int, default=None, help="evaluate only the first N test images")
    e.add_argument("--data-dir", default=None, help=f"data root (default: ${DATA_DIR_ENV}, else ./data)")
    e.add_argument("--no-download", action="store_true", help="never try to download missing data")
    return parser


def load_split(
    args: argparse.Namespace, dataset: str, train: bool, exclude: list[int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """One split of the dataset, without the excluded classes."""
    images, labels = load_dataset(dataset, train=train, root=args.data_dir, download=not args.no_download)
    return filter_classes(images, labels, exclude=exclude) if exclude else (images, labels)


class ProgressBar:
    """A line per epoch on stderr, plus a live bar redrawn every 0.2 s when stderr is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.live = enabled and sys.stderr.isatty()
        self.last_draw = 0.0

    def update(self, event) -> None:
        now = time.perf_counter()
        if not self.enabled or (event.kind == "step" and (not self.live or now - self.last_draw < 0.2)):
            return
        self.last_draw = now
        if event.kind == "step":
            done = event.fraction_done
            eta = event.elapsed_s / done * (1 - done)
            line = f"\repoch {event.epoch}/{event.epochs} [{'#' * int(done * 30):<30}] {done:4.0%}"
            sys.stderr.write(f"{line} train {event.train.total:8.2f}  ETA {eta:5.0f}s".ljust(100))
        else:
            test = f"test {event.test.total:.2f} (recon {event.test.recon:.2f} + KL {event.test.kl:.2f})"
            summary = f"train {event.train.total:.2f}  {test if event.test else ''}  [{event.elapsed_s:.0f}s]"
            sys.stderr.write(f"\repoch {event.epoch}/{event.epochs}  {summary}".ljust(100) + "\n")
        sys.stderr.flush()


def command_train(args: argparse.Namespace) -> int:
    if args.out.suffix != ".pt":
        raise SystemExit("error: --out must end in .pt")
    images, labels = load_split(args, args.dataset, True, args.exclude_classes)
    test_images, test_labels = load_split(args, args.dataset, False, args.exclude_classes)
    if args.train_size is not None and args.train_size < len(images):
        subset = torch.randperm(len(images), generator=torch.Generator().manual_seed(args.seed))[: args.train_size]
        images, labels = images[subset], labels[subset]

    config = VAEConfig(
        image_shape=tuple(images.shape[1:]),
        latent_dim=args.latent_dim,
        hidden=tuple(args.hidden),
        arch=args.arch,
        conv_channels=tuple(args.conv_channels),
        num_classes=10 if args.conditional else 0,
        likelihood=args.likelihood,
        beta=args.beta,
    )
    settings = TrainSettings(args.epochs, args.batch_size, args.lr, args.seed, args.kl_warmup)
    torch.manual_seed(args.seed)
    model = VAE(config)
    bar = ProgressBar(enabled=not args.quiet)
    history = []
    try:
        for event in train(model, images, labels, settings, test_images, test_labels):
            bar.update(event)
            if event.kind == "epoch":
                history.append(event.as_record())
    except TrainingDiverged as err:
        print(f"\nerror: training diverged: {err}", file=sys.stderr)
        return 1
    meta = training_meta(
        name=args.out.stem,
        dataset=args.dataset,
        classes=sorted(set(range(10)) - set(args.exclude_classes)),
        train_images=len(images),
        settings=settings.to_dict(),
        history=history,
        metrics=evaluation_metrics(model, test_images, test_labels, args.eval_k),
        command=args.command_line,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(args.out, model, meta)
    card = args.out.with_suffix(".md")
    card.write_text(model_card(config, meta))
    print(f"saved {args.out} and its model card {card}")
    print(format_metrics(meta["metrics"]))
    return 0


def command_eval(args: argparse.Namespace) -> int:
    model, meta = load_checkpoint(args.checkpoint)
    dataset = meta.get("dataset", "mnist")
    excluded = sorted(set(range(10)) - set(meta.get("classes", range(10))))
    images, labels = load_split(args, dataset, False, excluded)
    if args.limit:
        images, labels = images[: args.limit], labels[: args.limit]
    print(f"{args.checkpoint}: {dataset} test set, classes {meta.get('classes', 'all')}")
    print(format_metrics(evaluation_metrics(model, images, labels, args.k)))
    return 0


def format_metrics(metrics: dict) -> str:
    return (
        f"test -ELBO {metrics['test_neg_elbo']:.2f} nats/image "
        f"(recon {metrics['test_recon']:.2f} + KL {metrics['test_kl']:.2f}); "
        f"log p(x) >= {metrics['test_log_likelihood']:.2f} (importance sampled, K={metrics['log_likelihood_k']}) "
        f"on {metrics['test_images']} images"
    )


def model_card(config: VAEConfig, meta: dict) -> str:
    """A markdown model card from a checkpoint's config and metadata."""
    m = meta["metrics"]
    kind = f"conditional on {config.num_classes} classes" if config.conditional else "unconditional"
    article_arch = "An MLP" if config.arch == "mlp" else "A convolutional"
    rows = "\n".join(
        f"| {h['epoch']} | {h['train_total']:.2f} | {h.get('test_total', float('nan')):.2f} | "
        f"{h.get('test_recon', float('nan')):.2f} | {h.get('test_kl', float('nan')):.2f} | {h['elapsed_s']:.0f} |"
        for h in meta["history"]
    )
    return f"""# Model card: `{meta["name"]}`

{article_arch} VAE, {kind}, latent dimension {config.latent_dim}, hidden {list(config.hidden)},
{config.likelihood} likelihood, beta {config.beta:g}. Trained on {meta["dataset"]} classes {meta["classes"]}
({meta["train_images"]} training images), {meta["epochs"]} epochs, seed {meta["seed"]}.

## How it was made
```
{meta["command"]}
```
Training took {meta["training_time_s"]:.0f} s on the machine that made it
(torch {meta["torch_version"]}, CPU), {meta["created"]}.

## Test metrics ({m["test_images"]} held-out images of the same classes; nats per image)
| metric | value |
|---|---|
| −ELBO (reconstruction + KL) | {m["test_neg_elbo"]:.2f} |
| reconstruction (−log p(x\\|z)) | {m["test_recon"]:.2f} |
| KL(q(z\\|x) ‖ p(z)) | {m["test_kl"]:.2f} |
| log p(x), importance sampled (K={m["log_likelihood_k"]}) | {m["test_log_likelihood"]:.2f} |

Re-check with `python -m vae eval checkpoints/{meta["name"]}.pt`.

## Training history
| epoch | train −ELBO | test −ELBO | test recon | test KL | elapsed s |
|---|---|---|---|---|---|
{rows}

Data: MNIST (LeCun, Cortes, Burges; CC BY-SA 3.0) unless stated above.
"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    args.command_line = "python -m vae " + shlex.join(argv)
    try:
        return command_train(args) if args.command == "train" else command_eval(args)
    except (DatasetNotFoundError, CheckpointError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
