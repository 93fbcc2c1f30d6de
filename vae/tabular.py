"""A VAE with a classifier head on tables (seed 004's "VAEC"): rows of numbers in, class out.

    X, y, feature_names, class_names = load_table("breast-cancer")   # float32 [569, 30], int64 [569]
    model = fit_tabular(X_train, y_train, TabularConfig(latent_dim=2, mode="variational-mlp"), seed=0)
    proba = model.predict_proba(X_test)   # raw features in: the model fills gaps and standardises inside
    mu, logvar = model.encode(X_test)     # the latent posterior of each row

The encoder maps a standardised row to q(z|x); the decoder reconstructs the row (Gaussian likelihood,
unit variance on the standardised scale); the head classifies z. The `mode` says which parts learn
together (see MODES). `train_tabular` yields one event per epoch for live pages; `fit_tabular` runs it
to the end. Reading a user's CSV safely lives in `vae.tables`; confidence and the feature study in
`vae.tabular_study`.
"""

from __future__ import annotations

import copy
import io
import math
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vae.checkpoint import FORMAT_VERSION, CheckpointError, check_plain, check_weights, read_payload, write_atomically
from vae.models import initialise_layers
from vae.replay import snapshot_epochs
from vae.training import TrainingDiverged

Mode = Literal["joint", "vae-then-head", "mlp", "variational-mlp", "vae"]
MODES: dict[str, str] = {
    "variational-mlp": "encoder with sampling + head; sampled z in training, the mean at inference; KL regularises "
    "(seed 004's final choice). No decoder.",
    "joint": "reconstruction + KL + classification, all parts trained together (seed 004's fit_all_parts).",
    "vae-then-head": "a VAE first, then the head on the frozen encoder's mean (fit_autoencoder, then "
    "fit_classifier_head).",
    "mlp": "encoder + head as a plain MLP classifier: no sampling, no KL, no decoder (fit_mlp_classifier).",
    "vae": "a VAE alone, no head: reconstruction only (for the feature study).",
}
_LOG_2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class TabularConfig:
    """The network and how it learns. `hidden` are the encoder's widths (the decoder mirrors them)."""

    latent_dim: int = 2
    mode: Mode = "variational-mlp"
    hidden: tuple[int, ...] = (64,)
    head_hidden: int = 0  # 0: a linear head on z (a line splits the latent plane); > 0: one hidden layer
    # β weighs the KL against a prediction loss of well under one nat per row: at β = 1 the encoder gives up
    # (posterior collapse, every row at the prior) and the head guesses the majority class.
    beta: float = 0.03
    classifier_weight: float = 1.0  # weight of the prediction loss (modes with a head and a decoder)
    epochs: int = 40  # vae-then-head runs this many for the VAE, then as many for the head
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-2
    log_features: bool = True  # compress long tails first: sign(x)·log(1 + |x|) before standardising

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if not 1 <= self.latent_dim <= 64:
            raise ValueError(f"latent_dim must be between 1 and 64, got {self.latent_dim}")
        if not self.hidden or any(not 1 <= h <= 4096 for h in self.hidden):
            raise ValueError(f"hidden widths must be between 1 and 4096, got {self.hidden}")
        if not 0 <= self.head_hidden <= 4096:
            raise ValueError(f"head_hidden must be between 0 and 4096, got {self.head_hidden}")
        for name in ("beta", "classifier_weight", "weight_decay"):
            if not 0 <= getattr(self, name) < math.inf:
                raise ValueError(f"{name} must be non-negative and finite, got {getattr(self, name)}")
        if not 1 <= self.epochs <= 100_000:
            raise ValueError(f"epochs must be between 1 and 100,000, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")
        if not 0 < self.lr < math.inf:
            raise ValueError(f"the learning rate must be positive, got {self.lr}")

    @property
    def has_head(self) -> bool:
        return self.mode != "vae"

    @property
    def has_decoder(self) -> bool:
        return self.mode in ("joint", "vae-then-head", "vae")

    @property
    def samples(self) -> bool:
        """Whether training draws z ~ q(z|x) (every mode but the plain MLP)."""
        return self.mode != "mlp"

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> TabularConfig:
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown TabularConfig fields: {sorted(unknown)}")
        return cls(**values)


def load_table(name: str) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """A bundled scikit-learn table (no download) → X float32 [N, F], y int64 [N], feature and class names."""
    from sklearn import datasets

    loaders = {"breast-cancer": datasets.load_breast_cancer, "wine": datasets.load_wine}
    if name not in loaders:
        raise ValueError(f"unknown table {name!r}; choose one of {', '.join(loaders)} or read a CSV")
    bunch = loaders[name]()
    return (
        bunch.data.astype(np.float32),
        bunch.target.astype(np.int64),
        [str(f) for f in bunch.feature_names],
        [str(c) for c in bunch.target_names],
    )


def split_table(
    X: np.ndarray, y: np.ndarray, test_fraction: float = 0.25, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A stratified train/test split → X_train, X_test, y_train, y_test (the same seed, the same split)."""
    from sklearn.model_selection import train_test_split

    return train_test_split(X, y, test_size=test_fraction, stratify=y, random_state=seed)


def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class TabularVAE(nn.Module):
    """Encoder q(z|x), decoder p(x|z) and classifier head p(y|z) over standardised rows.

    The preprocessing is part of the model (buffers saved with the weights): missing values are filled
    with the training medians, then each feature is standardised with the training mean and std.
    """

    def __init__(
        self,
        config: TabularConfig,
        feature_names: Sequence[str],
        class_names: Sequence[str],
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.feature_names = [str(f) for f in feature_names]
        self.class_names = [str(c) for c in class_names]
        n_features, n_classes = len(self.feature_names), len(self.class_names)
        if n_features < 1:
            raise ValueError("a table needs at least one feature column")
        if n_classes < 2 and config.has_head:
            raise ValueError("a classifier needs at least two classes")
        widths = config.hidden
        self.encoder = _mlp([n_features, *widths, 2 * config.latent_dim])
        self.decoder = _mlp([config.latent_dim, *reversed(widths), n_features])
        head = (
            [config.latent_dim, config.head_hidden, n_classes] if config.head_hidden else [config.latent_dim, n_classes]
        )
        self.head = _mlp(head)
        self.register_buffer("fill", torch.zeros(n_features))
        self.register_buffer("center", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))
        if seed is not None:  # from a generator of its own: the global RNG decides nothing
            initialise_layers(self, torch.Generator().manual_seed(seed))
        self.eval()

    # ---- preprocessing (fitted on the training split only) -------------------------------------------
    def fit_scaling(self, X_train: np.ndarray) -> TabularVAE:
        """Learn the medians (for gaps) and the mean and std of every feature from the training rows."""
        X = self._compress(np.asarray(X_train, dtype=np.float64))
        X = np.where(np.isfinite(X), X, np.nan)
        with np.errstate(all="ignore"):
            fill = np.nan_to_num(np.nanmedian(X, axis=0), nan=0.0)
        X = np.where(np.isnan(X), fill, X)
        std = X.std(axis=0)
        self.fill.copy_(torch.from_numpy(fill))
        self.center.copy_(torch.from_numpy(X.mean(axis=0)))
        self.scale.copy_(torch.from_numpy(np.where(std > 1e-12, std, 1.0)))
        return self

    def standardise(self, X: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Raw rows [N, F] → filled, standardised float tensor."""
        x = torch.as_tensor(self._compress(np.asarray(X, dtype=np.float32))).reshape(-1, len(self.feature_names))
        x = torch.where(torch.isfinite(x), x, self.fill)
        return (x - self.center) / self.scale

    def _compress(self, X: np.ndarray) -> np.ndarray:
        if not self.config.log_features:
            return X
        with np.errstate(invalid="ignore"):
            return np.sign(X) * np.log1p(np.abs(X))

    def to_raw(self, x: torch.Tensor) -> np.ndarray:
        """Standardised rows back to the table's units."""
        raw = (x * self.scale + self.center).numpy()
        return np.sign(raw) * np.expm1(np.abs(raw)) if self.config.log_features else raw

    # ---- the parts ------------------------------------------------------------------------------------
    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 8.0)

    @torch.no_grad()
    def encode(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw rows → the latent posterior's mean and log-variance, [N, latent_dim] each."""
        mu, logvar = self.posterior(self.standardise(X))
        return mu.numpy(), logvar.numpy()

    @torch.no_grad()
    def predict_proba(self, X: np.ndarray, sample: bool = False, seed: int = 0) -> np.ndarray:
        """Class probabilities [N, n_classes] from the head at the posterior mean (or at a sampled z)."""
        if not self.config.has_head:
            raise ValueError("this model was trained in mode 'vae': it has no classifier head")
        mu, logvar = self.posterior(self.standardise(X))
        z = _sample(mu, logvar, torch.Generator().manual_seed(seed)) if sample else mu
        return torch.softmax(self.head(z), dim=1).numpy()

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.predict_proba(X).argmax(axis=1)

    @torch.no_grad()
    def reconstruct(self, X: np.ndarray) -> np.ndarray:
        """Each row decoded from its posterior mean, in the table's units."""
        mu, _ = self.posterior(self.standardise(X))
        return self.to_raw(self.decoder(mu))

    def losses(self, x: torch.Tensor, y: torch.Tensor | None, generator: torch.Generator | None) -> dict:
        """Per-row loss terms (nats): recon, kl, pred (cross-entropy at z) and the logits used."""
        mu, logvar = self.posterior(x)
        z = _sample(mu, logvar, generator) if generator is not None else mu
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
        recon = 0.5 * ((self.decoder(z) - x).pow(2) + _LOG_2PI).sum(1)
        logits = self.head(z)
        pred = F.cross_entropy(logits, y, reduction="none") if y is not None else torch.zeros_like(kl)
        return {"recon": recon, "kl": kl, "pred": pred, "logits": logits}


def _sample(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
    return mu + (0.5 * logvar).exp() * eps


@dataclass(frozen=True)
class TabularProgress:
    """One epoch's event. `train`/`test` hold the mean losses and accuracies (see `_metrics`);
    `snapshot` (log-spaced epochs only) the latent codes of the train and test rows."""

    epoch: int
    epochs: int
    phase: Literal["vae", "head", "all"]
    train: dict
    test: dict | None
    elapsed_s: float
    snapshot: dict | None = None

    @property
    def fraction_done(self) -> float:
        return self.epoch / self.epochs

    def as_record(self) -> dict:
        record = {"epoch": self.epoch, "phase": self.phase, "elapsed_s": round(self.elapsed_s, 3)}
        record.update({f"train_{k}": v for k, v in self.train.items()})
        record.update({f"test_{k}": v for k, v in (self.test or {}).items()})
        return record


def _objective(config: TabularConfig, phase: str, terms: dict) -> torch.Tensor:
    """The loss this mode minimises in this phase (mean over the batch)."""
    if phase == "head":  # vae-then-head, second phase: the head alone on the frozen encoder's mean
        return terms["pred"].mean()
    loss = torch.zeros(())
    if config.has_decoder:
        loss = loss + terms["recon"].mean()
    if config.samples:
        loss = loss + config.beta * terms["kl"].mean()
    if config.has_head and config.mode != "vae-then-head":
        weight = config.classifier_weight if config.has_decoder else 1.0
        loss = loss + weight * terms["pred"].mean()
    return loss


@torch.no_grad()
def _metrics(model: TabularVAE, x: torch.Tensor, y: torch.Tensor, phase: str, seed: int) -> dict:
    """Mean recon, KL, prediction loss, total objective, and accuracy at the mean and at a sampled z."""
    config = model.config
    sampled = model.losses(x, y, torch.Generator().manual_seed(seed))
    at_mean = model.losses(x, y, None)
    terms = sampled if config.samples else at_mean
    out = {k: float(terms[k].mean()) for k in ("recon", "kl", "pred")}
    out["total"] = float(_objective(config, phase, terms))
    if config.has_head:
        out["accuracy"] = float((at_mean["logits"].argmax(1) == y).float().mean())
        out["accuracy_sampled"] = float((sampled["logits"].argmax(1) == y).float().mean())
    return out


def train_tabular(
    model: TabularVAE,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    seed: int = 0,
) -> Iterator[TabularProgress]:
    """Train `model` in place with Adam (its scaling must already be fitted); yield one event per epoch.

    Every random draw (batch order, z samples) comes from generators seeded with `seed`. Stop iterating
    at any moment and the model holds usable weights. A non-finite loss raises TrainingDiverged after
    restoring the weights of the last completed epoch.
    """
    config = model.config
    x = model.standardise(X_train)
    y = torch.as_tensor(np.asarray(y_train, dtype=np.int64))
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"need as many labels as rows, and at least one row (got {len(x)} rows, {len(y)} labels)")
    x_test = model.standardise(X_test) if X_test is not None else None
    y_test_t = torch.as_tensor(np.asarray(y_test, dtype=np.int64)) if y_test is not None else None
    phases = (
        [("vae", config.epochs), ("head", config.epochs)]
        if config.mode == "vae-then-head"
        else [("all", config.epochs)]
    )
    total_epochs = sum(n for _, n in phases)
    snapshots = set(snapshot_epochs(total_epochs))
    order_rng = torch.Generator().manual_seed(seed)
    noise_rng = torch.Generator().manual_seed(seed + 1)
    batch = min(config.batch_size, len(x))
    last_good = copy.deepcopy(model.state_dict())
    started = time.perf_counter()
    epoch = 0
    # A network this small is fastest on one core, and several threads fighting another busy process for the
    # cores made a fit 25x slower here. The setting is the calling thread's own (OpenMP), restored below.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for phase, n_epochs in phases:
            trainable = model.head.parameters() if phase == "head" else model.parameters()
            optimizer = torch.optim.Adam(trainable, lr=config.lr, weight_decay=config.weight_decay)
            for _ in range(n_epochs):
                epoch += 1
                model.train()
                order = torch.randperm(len(x), generator=order_rng)
                for start in range(0, len(x), batch):
                    idx = order[start : start + batch]
                    if phase == "head":
                        with torch.no_grad():
                            mu, _ = model.posterior(x[idx])
                        loss = F.cross_entropy(model.head(mu), y[idx])
                    else:
                        generator = noise_rng if config.samples else None
                        loss = _objective(config, phase, model.losses(x[idx], y[idx], generator))
                    if not torch.isfinite(loss):
                        model.load_state_dict(last_good)
                        raise TrainingDiverged(
                            f"the loss became {loss.item()} at epoch {epoch}; the model was restored to the last "
                            f"completed epoch. Try a smaller learning rate (this run used {config.lr:g})."
                        )
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                model.eval()
                last_good = copy.deepcopy(model.state_dict())
                train_metrics = _metrics(model, x, y, phase, seed)
                test_metrics = _metrics(model, x_test, y_test_t, phase, seed) if x_test is not None else None
                snapshot = None
                if epoch in snapshots:
                    snapshot = _snapshot(model, x, x_test, seed)
                yield TabularProgress(
                    epoch, total_epochs, phase, train_metrics, test_metrics, time.perf_counter() - started, snapshot
                )
    finally:
        torch.set_num_threads(threads)
        model.eval()


@torch.no_grad()
def _snapshot(model: TabularVAE, x: torch.Tensor, x_test: torch.Tensor | None, seed: int) -> dict:
    """Latent means of train (and test) rows and one sampled z per train row (float32 arrays)."""
    mu, logvar = model.posterior(x)
    snap = {"train_mu": mu.numpy().copy(), "train_z": _sample(mu, logvar, torch.Generator().manual_seed(seed)).numpy()}
    if x_test is not None:
        mu, logvar = model.posterior(x_test)
        snap["test_mu"] = mu.numpy().copy()
        snap["test_z"] = _sample(mu, logvar, torch.Generator().manual_seed(seed + 1)).numpy()
    return snap


def new_model(
    X_train: np.ndarray,
    config: TabularConfig,
    feature_names: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
    n_classes: int | None = None,
    seed: int = 0,
) -> TabularVAE:
    """An untrained model whose scaling is fitted on `X_train`."""
    n_features = np.asarray(X_train).shape[1]
    feature_names = list(feature_names) if feature_names is not None else [f"x{i}" for i in range(n_features)]
    if class_names is None:
        class_names = [str(c) for c in range(n_classes or 2)]
    return TabularVAE(config, feature_names, class_names, seed=seed).fit_scaling(X_train)


def fit_tabular(
    X_train: np.ndarray,
    y_train: np.ndarray,
    config: TabularConfig | None = None,
    seed: int = 0,
    feature_names: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
) -> TabularVAE:
    """Train a model to the end and return it (class names default to 0..max label)."""
    config = config or TabularConfig()
    y_train = np.asarray(y_train, dtype=np.int64)
    n_classes = len(class_names) if class_names is not None else int(y_train.max()) + 1
    model = new_model(X_train, config, feature_names, class_names, max(n_classes, 2), seed)
    for _ in train_tabular(model, X_train, y_train, seed=seed):
        pass
    return model


# ---- checkpoints: the image VAE's safe format, with kind "tabular" ------------------------------------
MAX_FEATURES, MAX_CLASSES = 500, 20  # what a tabular checkpoint may describe (the CSV reader's caps)


def tabular_checkpoint_bytes(model: TabularVAE, meta: dict | None = None) -> bytes:
    """The checkpoint file's content (config, weights with the scaling, names, metadata)."""
    buffer = io.BytesIO()
    save_tabular(buffer, model, meta)
    return buffer.getvalue()


def save_tabular(path: str | os.PathLike | io.BytesIO, model: TabularVAE, meta: dict | None = None) -> None:
    """Write a tabular model; a file path is written atomically. Read it back with `load_tabular`."""
    meta = {**(meta or {}), "feature_names": model.feature_names, "class_names": model.class_names}
    check_plain(meta, "meta")
    payload = {
        "format_version": FORMAT_VERSION,
        "kind": "tabular",
        "config": model.config.to_dict(),
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "meta": meta,
    }
    if isinstance(path, str | os.PathLike):
        write_atomically(path, lambda file: torch.save(payload, file))
    else:
        torch.save(payload, path)


def load_tabular(source: str | os.PathLike | io.BytesIO | bytes) -> tuple[TabularVAE, dict]:
    """Read and check a tabular checkpoint → (model, meta). Safe on untrusted files: every failure is a
    CheckpointError with a message fit to show a person."""
    payload = read_payload(source)
    if payload.get("kind") != "tabular":
        raise CheckpointError("This checkpoint holds an image VAE, not a table classifier: load it in the sidebar.")
    meta = payload["meta"] if isinstance(payload["meta"], dict) else {}
    features, classes = meta.get("feature_names"), meta.get("class_names")
    if not (
        isinstance(features, list)
        and isinstance(classes, list)
        and 1 <= len(features) <= MAX_FEATURES
        and 2 <= len(classes) <= MAX_CLASSES
        and all(isinstance(n, str) for n in features + classes)
    ):
        raise CheckpointError("The checkpoint's feature or class names are missing or invalid.")
    try:
        config = TabularConfig.from_dict(payload["config"])
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"The checkpoint's model configuration is invalid: {err}") from None
    with torch.device("meta"):
        model = TabularVAE(config, features, classes)
    check_weights(model, payload["state_dict"])
    model.load_state_dict({k: t.to(torch.float32) for k, t in payload["state_dict"].items()}, assign=True)
    return model.eval(), meta
