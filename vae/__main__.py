"""Command line: `python -m vae train ...`, `python -m vae train-tabular ...`, `python -m vae ensemble A.pt B.pt ...`
and `python -m vae eval CHECKPOINT`.

Exit status: 0 done; 1 a failure at run time (missing data, an unreadable checkpoint, a training that
diverged); 2 a usage error; 130 interrupted by Ctrl-C (a training keeps its last completed epoch).
"""

from __future__ import annotations

import argparse
import copy
import math
import shlex
import sys
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TypeVar

import torch
from tqdm import tqdm

from vae import __version__
from vae.anomaly import (
    CLASSIFIER_METHODS,
    calibrate_combined,
    default_calibration_images,
    generative_accuracy,
    generative_accuracy_key,
    head_report,
    methods_for,
)
from vae.card import model_card, tabular_card
from vae.checkpoint import CheckpointError, load_checkpoint, save_checkpoint, training_meta, write_atomically
from vae.clusters import cluster_report, pick_seed
from vae.data import DATA_DIR_ENV, DATASETS, DatasetNotFoundError, filter_classes, hold_out, load_dataset, to_float
from vae.generation import fit_class_codes
from vae.models import MAX_FOURIER_FEATURES, MODEL_KINDS, VAE, VAEConfig, assemble_ensemble, kind_fields
from vae.replay import ReplayRecorder
from vae.tables import TableError, read_csv_table
from vae.tabular import MODES, TabularConfig, load_table, new_model, save_tabular, split_table, train_tabular
from vae.tabular_report import TabularRecord, results, tabular_meta
from vae.training import (
    DEVICES,
    Progress,
    TrainingDiverged,
    TrainSettings,
    epoch_metrics,
    evaluation_metrics,
    pick_device,
    settings_with_defaults,
    train,
)

INTERRUPTED = 130  # what shells report for a program ended by Ctrl-C (128 + SIGINT)
T = TypeVar("T")


def _argument(convert: Callable[[str], T], accept: Callable[[T], bool], expected: str) -> Callable[[str], T]:
    """An argparse `type` whose error says in words what was expected (not "invalid _f value")."""

    def parse(text: str) -> T:
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"must be {expected}, got {text!r}")
        return value

    return parse


_positive_int = _argument(int, lambda v: v >= 1, "a whole number of at least 1")
_seed = _argument(int, lambda v: 0 <= v < 2**63, "a whole number from 0 to 2**63 - 1")
_positive_float = _argument(float, lambda v: 0 < v < math.inf, "a positive number")
_non_negative_float = _argument(float, lambda v: 0 <= v < math.inf, "zero or a positive number")
_non_negative_int = _argument(int, lambda v: v >= 0, "a whole number, 0 or more")
_fourier_count = _argument(
    int, lambda v: 0 <= v <= MAX_FOURIER_FEATURES, f"a whole number from 0 to {MAX_FOURIER_FEATURES}"
)
TABLES = ("breast-cancer", "wine")
_at_least_two = _argument(int, lambda v: 2 <= v <= 100, "a whole number from 2 to 100")
_digit_class = _argument(int, lambda v: 0 <= v <= 9, "a class from 0 to 9")


def _device(text: str) -> torch.device:
    try:
        return pick_device(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def build_parser() -> argparse.ArgumentParser:
    command = "vae-lab" if Path(sys.argv[0]).name == "vae-lab" else "python -m vae"  # as the user typed it
    parser = argparse.ArgumentParser(prog=command, description="Train and evaluate VAEs.")
    parser.add_argument("--version", action="version", version=f"vae-lab {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    device = {
        "type": _device,
        "default": "auto",
        "metavar": "{" + ",".join(DEVICES) + "}",
        "help": "auto (the default): CUDA if available, else MPS if available, else the CPU",
    }

    t = commands.add_parser("train", help="train a VAE and save a checkpoint with its model card")
    t.add_argument("--dataset", choices=DATASETS, default="mnist")
    t.add_argument("--arch", choices=("mlp", "conv"), default="mlp")
    t.add_argument("--latent-dim", type=_positive_int, default=2)
    t.add_argument("--hidden", type=_positive_int, nargs="+", default=[512, 256], help="fully connected widths")
    t.add_argument("--conv-channels", type=_positive_int, nargs="+", default=[32, 64], help="conv arch only")
    t.add_argument(
        "--fourier-features",
        type=_fourier_count,
        default=0,
        metavar="N",
        help="the decoder reads z through N random Fourier features [z, sin(Bz), cos(Bz)] (0: z itself)",
    )
    t.add_argument(
        "--model",
        choices=MODEL_KINDS,
        default="vae",
        help="vae; cvae: conditioned on the class label; clusters: finds K clusters itself, never sees a label; "
        "classifier: a VAE whose encoder also predicts the label (seed 004), its novelty score the head's energy",
    )
    t.add_argument("--conditional", action="store_true", help="the same as --model cvae")
    t.add_argument("--clusters", type=_at_least_two, default=10, help="K, the clusters of --model clusters")
    t.add_argument(
        "--restarts",
        type=_positive_int,
        default=1,
        metavar="N",
        help="--model clusters: try seeds SEED..SEED+N-1 for 3 epochs, train the one with the lowest training -ELBO",
    )
    t.add_argument(
        "--head-weight", type=_non_negative_float, default=10.0, help="--model classifier: the cross-entropy's weight"
    )
    t.add_argument(
        "--calibration-images",
        type=_positive_int,
        default=None,
        metavar="N",
        help="--model classifier: training images set aside to scale the combined novelty score "
        "(default 5000, or a tenth of the training images if fewer than 50,000)",
    )
    t.add_argument("--likelihood", choices=("bernoulli", "gaussian"), default="bernoulli")
    t.add_argument("--beta", type=_non_negative_float, default=1.0, help="KL weight (beta-VAE)")
    t.add_argument("--kl-warmup", type=_non_negative_float, default=0.0, help="epochs to ramp the KL weight up")
    t.add_argument(
        "--binarize",
        action="store_true",
        help="redraw each training batch's pixels as 0/1 with their intensity as probability (dynamic binarization: "
        "less overfitting; bernoulli likelihood only)",
    )
    t.add_argument(
        "--cosine-lr",
        action="store_true",
        help="lower the learning rate along half a cosine, from --lr to --lr/100 at the last epoch",
    )
    t.add_argument(
        "--discriminative-weight",
        type=_non_negative_float,
        default=0.0,
        metavar="W",
        help="--model cvae: in the last --discriminative-epochs, add W x the cross-entropy of each image's label with "
        "the classes' -ELBOs as logits (a better classifier by its own scores; those epochs cost ten passes a batch)",
    )
    t.add_argument("--discriminative-epochs", type=_non_negative_int, default=0, metavar="N", help="see above")
    t.add_argument("--epochs", type=_positive_int, default=10)
    t.add_argument("--batch-size", type=_positive_int, default=128)
    t.add_argument("--lr", type=_positive_float, default=1e-3)
    t.add_argument("--seed", type=_seed, default=0, help="initial weights, subset, batch order and noise")
    t.add_argument("--exclude-classes", type=_digit_class, nargs="+", default=[], help="leave classes out (novelty)")
    t.add_argument("--train-size", type=_positive_int, default=None, help="use a random subset of this size")
    t.add_argument("--eval-k", type=_positive_int, default=100, help="importance samples for the final log-likelihood")
    t.add_argument("--data-dir", default=None, help=f"data root (default: ${DATA_DIR_ENV}, else ./data)")
    t.add_argument("--no-download", action="store_true", help="never try to download missing data")
    t.add_argument("--device", **device)
    t.add_argument(
        "--out", type=Path, required=True, help="checkpoint path (.pt); a .md model card is written beside it"
    )
    t.add_argument(
        "--save-every", type=_positive_int, default=None, metavar="N", help="also save to --out every N epochs"
    )
    t.add_argument("--quiet", action="store_true", help="no progress on stderr")

    tab = commands.add_parser(
        "train-tabular", help="train a tabular VAE with a classifier head (a bundled table or your CSV)"
    )
    source = tab.add_mutually_exclusive_group()
    source.add_argument("--dataset", choices=TABLES, default="breast-cancer", help="a table bundled with scikit-learn")
    source.add_argument("--csv", type=Path, default=None, help="your own table (UTF-8 CSV with a header line)")
    tab.add_argument("--label", default=None, help="the CSV's label column (needed with --csv)")
    tab.add_argument("--missing", choices=("drop", "median"), default="drop", help="rows with gaps: drop or fill")
    tab.add_argument(
        "--mode", choices=tuple(MODES), default=TabularConfig.mode, help="which parts learn (see vae.tabular)"
    )
    tab.add_argument("--latent-dim", type=_positive_int, default=TabularConfig.latent_dim)
    tab.add_argument(
        "--hidden", type=_positive_int, nargs="+", default=list(TabularConfig.hidden), help="encoder widths"
    )
    tab.add_argument(
        "--head-hidden", type=_argument(int, lambda v: v >= 0, "zero or more"), default=TabularConfig.head_hidden
    )
    tab.add_argument("--beta", type=_non_negative_float, default=TabularConfig.beta, help="KL weight")
    tab.add_argument("--epochs", type=_positive_int, default=TabularConfig.epochs)
    tab.add_argument("--batch-size", type=_positive_int, default=TabularConfig.batch_size)
    tab.add_argument("--lr", type=_positive_float, default=TabularConfig.lr)
    tab.add_argument("--weight-decay", type=_non_negative_float, default=TabularConfig.weight_decay)
    tab.add_argument("--log-features", action="store_true", help="sign(x)·log(1+|x|) before standardising")
    tab.add_argument(
        "--test-fraction", type=_argument(float, lambda v: 0.05 <= v <= 0.5, "between 0.05 and 0.5"), default=0.25
    )
    tab.add_argument("--seed", type=_seed, default=0, help="split, initial weights, batch order and noise")
    tab.add_argument(
        "--out", type=Path, required=True, help="checkpoint path (.pt); a .md model card is written beside it"
    )
    tab.add_argument("--quiet", action="store_true", help="no progress on stderr")

    ens = commands.add_parser(
        "ensemble",
        help="put conditional VAEs trained alone (same command, other seeds) into one checkpoint whose class scores "
        "are their mean; measures it as a classifier and writes its model card",
    )
    ens.add_argument("members", type=Path, nargs="+", help="2 or more checkpoints; the first gives pictures and codes")
    ens.add_argument(
        "--out", type=Path, required=True, help="checkpoint path (.pt); a .md model card is written beside it"
    )
    ens.add_argument("--data-dir", default=None, help=f"data root (default: ${DATA_DIR_ENV}, else ./data)")
    ens.add_argument("--no-download", action="store_true", help="never try to download missing data")
    ens.add_argument("--device", **device)

    e = commands.add_parser("eval", help="print a checkpoint's test -ELBO and importance-sampled log-likelihood")
    e.add_argument("checkpoint", type=Path)
    e.add_argument("--k", type=_positive_int, default=100, help="importance samples per image")
    e.add_argument("--limit", type=_positive_int, default=None, help="evaluate only the first N test images")
    e.add_argument("--data-dir", default=None, help=f"data root (default: ${DATA_DIR_ENV}, else ./data)")
    e.add_argument("--no-download", action="store_true", help="never try to download missing data")
    e.add_argument("--device", **device)
    return parser


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """The parsed command line; a usage error exits with status 2 and a message in words."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "train-tabular":
        if args.out.suffix != ".pt":
            parser.error(f"argument --out: must end in .pt, got {str(args.out)!r}")
        if (args.csv is None) != (args.label is None):
            parser.error("--csv and --label go together: the file, and the name of its label column")
    if args.command == "ensemble":
        if args.out.suffix != ".pt":
            parser.error(f"argument --out: must end in .pt, got {str(args.out)!r}")
        if len(args.members) < 2:
            parser.error("an ensemble needs at least 2 member checkpoints")
    if args.command == "train":
        if args.out.suffix != ".pt":
            parser.error(f"argument --out: must end in .pt, got {str(args.out)!r}")
        if set(args.exclude_classes) == set(range(10)):
            parser.error("argument --exclude-classes: excludes every class, which leaves nothing to train on")
    args.command_line = "python -m vae " + shlex.join(argv)
    return args


def load_split(
    args: argparse.Namespace, dataset: str, train: bool, exclude: list[int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """One split of the dataset, without the excluded classes."""
    images, labels = load_dataset(dataset, train=train, root=args.data_dir, download=not args.no_download)
    return filter_classes(images, labels, exclude=exclude) if exclude else (images, labels)


class ProgressDisplay:
    """Progress on stderr: a line per epoch, and a tqdm bar over all the steps while stderr is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: tqdm | None = None

    def __enter__(self) -> ProgressDisplay:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.bar is not None:
            self.bar.close()

    def update(self, event: Progress) -> None:
        if not self.enabled:
            return
        if self.bar is None:  # disable=None: no bar when stderr is a file or a pipe
            total = event.epochs * event.steps_per_epoch
            self.bar = tqdm(total=total, unit="step", file=sys.stderr, disable=None, leave=False, dynamic_ncols=True)
        if event.kind == "step":
            self.bar.set_description_str(f"epoch {event.epoch}/{event.epochs}", refresh=False)
            self.bar.set_postfix_str(f"train {event.train.total:.2f}", refresh=False)
            self.bar.update()
        else:
            test = f"test {event.test.total:.2f} (recon {event.test.recon:.2f} + KL {event.test.kl:.2f})"
            summary = f"train {event.train.total:.2f}  {test if event.test else ''}  [{event.elapsed_s:.0f}s]"
            if event.clusters is not None:
                summary += f"  clusters: NMI {event.clusters.nmi:.3f}, accuracy {event.clusters.accuracy:.1%}"
            self.bar.write(f"epoch {event.epoch}/{event.epochs}  {summary}", file=sys.stderr)


def command_train(args: argparse.Namespace) -> int:
    if args.conditional and args.model in ("clusters", "classifier"):
        print(f"error: --conditional and --model {args.model} contradict each other: a conditional VAE is given the "
              "label, a clustering VAE never sees one, a classifier predicts it", file=sys.stderr)  # fmt: skip
        return 2
    if args.binarize and args.likelihood != "bernoulli":
        print("error: --binarize draws 0/1 pixels, which only the bernoulli likelihood reads as its grey images",
              file=sys.stderr)  # fmt: skip
        return 2
    kind = "cvae" if args.conditional else args.model
    if args.discriminative_weight and args.discriminative_epochs and kind != "cvae":
        print("error: --discriminative-weight compares a conditional VAE's classes; it needs --model cvae",
              file=sys.stderr)  # fmt: skip
        return 2
    if args.discriminative_epochs > args.epochs:
        print(f"error: --discriminative-epochs {args.discriminative_epochs} is more than the run's "
              f"{args.epochs} epochs", file=sys.stderr)  # fmt: skip
        return 2
    images, labels = load_split(args, args.dataset, True, args.exclude_classes)
    test_images, test_labels = load_split(args, args.dataset, False, args.exclude_classes)
    if args.train_size is not None and args.train_size < len(images):
        subset = torch.randperm(len(images), generator=torch.Generator().manual_seed(args.seed))[: args.train_size]
        images, labels = images[subset], labels[subset]
    held_out = None  # a classifier's calibration images, never trained on
    if kind == "classifier":
        n = args.calibration_images or default_calibration_images(len(images))
        try:
            images, labels, held_out = hold_out(images, labels, n, seed=args.seed)
        except ValueError as err:
            print(f"error: --calibration-images: {err}", file=sys.stderr)
            return 2

    config = VAEConfig(
        image_shape=tuple(images.shape[1:]),
        latent_dim=args.latent_dim,
        hidden=tuple(args.hidden),
        arch=args.arch,
        conv_channels=tuple(args.conv_channels),
        fourier_features=args.fourier_features,
        **kind_fields(kind, args.clusters, args.head_weight),
        likelihood=args.likelihood,
        beta=args.beta,
    )
    settings = TrainSettings(
        args.epochs, args.batch_size, args.lr, args.seed, args.kl_warmup, args.binarize,
        args.discriminative_weight, args.discriminative_epochs, args.cosine_lr,
    )  # fmt: skip
    restarts = {}
    if config.clusters and args.restarts > 1:
        candidates = list(range(args.seed, args.seed + args.restarts))
        chosen, probed = pick_seed(config, images, settings, candidates)
        settings = replace(settings, seed=chosen)
        restarts = {"restarts": {"probed": {str(s): round(v, 3) for s, v in probed.items()}, "chosen": chosen}}
        if not args.quiet:
            tried = ", ".join(f"seed {s}: {v:.2f}" for s, v in probed.items())
            print(f"restarts (training -ELBO after 3 epochs): {tried}; training seed {chosen}", file=sys.stderr)
    model = VAE(config, seed=settings.seed)
    trained_classes = sorted(set(range(10)) - set(args.exclude_classes))
    describe = partial(
        training_meta,
        name=args.out.stem,
        dataset=args.dataset,
        classes=trained_classes,
        train_images=len(images),
        settings=settings.to_dict(),
        command=args.command_line,
        device=args.device.type,
        **restarts,
        **({"calibration_images": len(held_out)} if held_out is not None else {}),
        **({"class_codes_images": len(images)} if config.conditional else {}),  # `fit_class_codes` before each save
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)  # fail before training, not after
    weights, history = None, []  # the weights after the last completed epoch, and the history up to it
    recorder = ReplayRecorder(test_images, test_labels, settings.epochs)
    try:
        with ProgressDisplay(enabled=not args.quiet) as progress:
            for event in train(model, images, labels, settings, test_images, test_labels, args.device):
                if event.kind == "step":
                    progress.update(event)
                    continue
                # Kept before it is shown, in one statement: wherever a Ctrl-C lands, the save matches the output.
                weights, history = copy.deepcopy(model.state_dict()), [*history, event.as_record()]
                progress.update(event)
                recorder.record(model, event.epoch)
                if args.save_every and event.epoch % args.save_every == 0 and event.epoch < settings.epochs:
                    so_far = epoch_metrics(history[-1], len(test_images))
                    if config.head_classes:  # a checkpoint saved mid-run offers the combined score too
                        calibrate_combined(model, to_float(held_out))
                    if config.conditional:  # and draws each class where its training digits lie
                        fit_class_codes(model, images, labels)
                    saved = describe(history=history, metrics=so_far, status="running", **recorder.meta())
                    save_with_card(args.out, model, saved)
        status, exit_code = "finished", 0
        metrics = evaluation_metrics(model, test_images, test_labels, args.eval_k)
    except KeyboardInterrupt:
        status, exit_code = "interrupted", INTERRUPTED
        print(f"interrupted after {len(history)} of {settings.epochs} epochs", file=sys.stderr)
    except TrainingDiverged as err:
        status, exit_code = "diverged", 1
        print(f"error: training diverged: {err}", file=sys.stderr)

    if status != "finished":
        if weights is None:
            print(f"no epoch finished, so nothing was saved to {args.out}", file=sys.stderr)
            return exit_code
        model.load_state_dict(weights)
        metrics = epoch_metrics(history[-1], len(test_images))
    if config.clusters:
        cluster_metrics, cluster_meta = cluster_report(model, test_images, test_labels)
        metrics.update(cluster_metrics)
        describe = partial(describe, clusters=cluster_meta)
    if config.conditional:
        fit_class_codes(model, images, labels)  # where each class's training digits lie, for the Generate page
        for method in [m for m in CLASSIFIER_METHODS if m in methods_for(config)]:
            metrics[generative_accuracy_key(method)] = generative_accuracy(model, test_images, test_labels, method)
    if config.head_classes:
        calibrate_combined(model, to_float(held_out))
        # the test images of the left-out classes, if any (filtering out every trained class leaves them)
        novel = load_split(args, args.dataset, False, trained_classes)[0] if args.exclude_classes else None
        metrics.update(head_report(model, test_images, test_labels, novel))
    recorder.record(model, len(history), always=True)  # an interrupted run's last epoch too
    card = save_with_card(args.out, model, describe(history=history, metrics=metrics, status=status, **recorder.meta()))
    if status == "finished":
        print(f"saved {args.out} and its model card {card}")
        print(format_metrics(metrics))
        if config.head_classes:
            aurocs = [f"by {m} {metrics[f'test_novelty_auroc_{m}']:.4f}"
                      for m in ("head", "ink", "combined") if f"test_novelty_auroc_{m}" in metrics]  # fmt: skip
            print(f"classifier head: test accuracy {metrics['test_head_accuracy']:.2%}"
                  + (f"; unseen classes vs the rest, AUROC {', '.join(aurocs)}" if aurocs else ""))  # fmt: skip
        if config.conditional:
            by = [f"{metrics[generative_accuracy_key(m)]:.2%} by its {m}" for m in CLASSIFIER_METHODS
                  if generative_accuracy_key(m) in metrics]  # fmt: skip
            print(f"as a classifier (the class whose score is lowest): test accuracy {', '.join(by)}")
        if config.clusters:
            print(f"clusters vs the test labels: NMI {metrics['test_nmi']:.3f}, "
                  f"accuracy {metrics['test_cluster_accuracy']:.1%} (labels used for this score only)")  # fmt: skip
    else:
        print(f"saved the model from epoch {len(history)} to {args.out} and its model card {card}", file=sys.stderr)
    return exit_code


def save_with_card(out: Path, model: VAE, meta: dict) -> Path:
    """Write the checkpoint and its model card beside it, each atomically; return the card's path."""
    save_checkpoint(out, model, meta)
    card = out.with_suffix(".md")
    write_atomically(card, lambda file: file.write(model_card(model.config, meta).encode()))
    return card


def command_ensemble(args: argparse.Namespace) -> int:
    """Assemble conditional VAEs trained alone into one ensemble checkpoint, measured as a classifier."""
    loaded = [load_checkpoint(path) for path in args.members]
    first = loaded[0][1]
    same = ("dataset", "classes", "train_images", "settings")
    differ = sorted(
        {key for key in same for _, meta in loaded[1:] if _without_seed(meta.get(key)) != _without_seed(first.get(key))}
    )
    if differ:
        print(f"error: the members were not trained alike (their {', '.join(differ)} differ): an ensemble's members "
              "are one recipe trained from different seeds", file=sys.stderr)  # fmt: skip
        return 1
    model = assemble_ensemble([member for member, _ in loaded]).to(args.device)  # a ValueError says why not
    excluded = sorted(set(range(10)) - set(first.get("classes", range(10))))
    test_images, test_labels = load_split(args, first.get("dataset", "mnist"), False, excluded)
    metrics = dict(first["metrics"])  # the first member's likelihood: the pictures and codes are its own
    for method in [m for m in CLASSIFIER_METHODS if m in methods_for(model.config)]:
        metrics[generative_accuracy_key(method)] = generative_accuracy(model, test_images, test_labels, method)
    members = [{"command": meta.get("command", ""), "seed": meta.get("seed"), "metrics": {
        key: meta["metrics"][key] for key in meta["metrics"] if key.startswith("test_generative_accuracy")}}
        for _, meta in loaded]  # fmt: skip
    meta = {
        **first,
        "name": args.out.stem,
        "command": args.command_line,
        "metrics": metrics,
        "members": members,
        "training_time_s": sum(meta.get("training_time_s", 0.0) for _, meta in loaded),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    card = save_with_card(args.out, model, meta)
    print(f"saved {args.out} and its model card {card}")
    by = [f"{metrics[generative_accuracy_key(m)]:.2%} by its {m}" for m in CLASSIFIER_METHODS
          if generative_accuracy_key(m) in metrics]  # fmt: skip
    print(f"an ensemble of {len(loaded)} as a classifier (their class scores' mean): test accuracy {', '.join(by)}")
    return 0


def _without_seed(value: object) -> object:
    """A training setting dict without its seed (the one thing an ensemble's members differ in), every setting a
    checkpoint older than it left out at its default."""
    if not isinstance(value, dict):
        return value
    return {k: v for k, v in settings_with_defaults(value).items() if k != "seed"}


def command_eval(args: argparse.Namespace) -> int:
    model, meta = load_checkpoint(args.checkpoint)
    model.to(args.device)
    dataset = meta.get("dataset", "mnist")
    excluded = sorted(set(range(10)) - set(meta.get("classes", range(10))))
    images, labels = load_split(args, dataset, False, excluded)
    if args.limit:
        images, labels = images[: args.limit], labels[: args.limit]
    print(f"{args.checkpoint}: {dataset} test set, classes {meta.get('classes', 'all')}")
    print(format_metrics(evaluation_metrics(model, images, labels, args.k)))
    return 0


def format_metrics(metrics: dict) -> str:
    log_likelihood, k = metrics["test_log_likelihood"], metrics["log_likelihood_k"]
    if math.isfinite(log_likelihood):
        sampled = f"log p(x) >= {log_likelihood:.2f} (importance sampled, K={k})"
    else:  # an autoencoder's q(z|x) is all but a point: the importance weights overflow (as its card says)
        sampled = "log p(x) undefined: q(z|x) has collapsed to almost a point"
    return (
        f"test -ELBO {metrics['test_neg_elbo']:.2f} nats/image "
        f"(recon {metrics['test_recon']:.2f} + KL {metrics['test_kl']:.2f}); "
        f"{sampled} on {metrics['test_images']} images"
    )


def command_train_tabular(args: argparse.Namespace) -> int:
    if args.csv is not None:
        table = read_csv_table(args.csv.read_bytes(), args.label, args.missing)
        X, y, feature_names, class_names, dataset = (
            table.X,
            table.y,
            table.feature_names,
            table.class_names,
            args.csv.name,
        )
        for note in table.notes:
            print(f"note: {note}", file=sys.stderr)
    else:
        X, y, feature_names, class_names = load_table(args.dataset)
        dataset = args.dataset
    config = TabularConfig(
        latent_dim=args.latent_dim,
        mode=args.mode,
        hidden=tuple(args.hidden),
        head_hidden=args.head_hidden,
        beta=args.beta,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        log_features=args.log_features,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    X_train, X_test, y_train, y_test = split_table(X, y, args.test_fraction, args.seed)
    model = new_model(X_train, config, feature_names, class_names, seed=args.seed)
    record = TabularRecord(y_train, y_test)
    for event in tqdm(
        train_tabular(model, X_train, y_train, X_test, y_test, seed=args.seed),
        total=config.epochs * (2 if config.mode == "vae-then-head" else 1),
        unit="epoch",
        disable=args.quiet,
        file=sys.stderr,
    ):
        record.add(event)
    meta = tabular_meta(
        model,
        record,
        results(model, X_train, y_train, X_test, y_test, args.seed),
        name=args.out.stem,
        dataset=dataset,
        test_fraction=args.test_fraction,
        seed=args.seed,
        command=args.command_line,
    )
    save_tabular(args.out, model, meta)
    card = args.out.with_suffix(".md")
    write_atomically(card, lambda file: file.write(tabular_card(config, meta).encode()))
    print(f"saved {args.out} and its model card {card}")
    for name, scored in meta["results"].items():
        if name != "selective_accuracy":
            print(f"{name}: test accuracy {scored['accuracy']:.2%}, F1 {scored['f1']:.3f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (see the module's docstring)."""
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    try:
        commands = {
            "train": command_train,
            "train-tabular": command_train_tabular,
            "ensemble": command_ensemble,
            "eval": command_eval,
        }
        return commands[args.command](args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED
    except (DatasetNotFoundError, CheckpointError, TableError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
