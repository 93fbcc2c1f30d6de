"""One tabular training, recorded: its history, its latent snapshots, its results beside scikit-learn's.

Both the CLI (`python -m vae train-tabular`) and the Tabular lab page run a training through
`TabularRecord`, so a checkpoint made by either carries the same metadata and the same model card.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import torch

from vae.replay import pack_array, unpack_array
from vae.tabular import TabularProgress, TabularVAE
from vae.tabular_study import LatentRegions, selective_accuracy

SNAPSHOT_KEYS = ("train_mu", "train_z", "test_mu", "test_z")


@dataclass
class TabularRecord:
    """Collects a run's per-epoch history and latent snapshots (call `add` with every event)."""

    train_labels: np.ndarray
    test_labels: np.ndarray
    history: list[dict] = field(default_factory=list)
    snapshot_epochs: list[int] = field(default_factory=list)
    snapshots: dict[str, list[np.ndarray]] = field(default_factory=lambda: {k: [] for k in SNAPSHOT_KEYS})

    def add(self, event: TabularProgress) -> None:
        self.history.append(event.as_record())
        if event.snapshot is not None:
            self.snapshot_epochs.append(event.epoch)
            for key in SNAPSHOT_KEYS:
                self.snapshots[key].append(event.snapshot.get(key, np.zeros((0, 1), np.float32)))

    def replay_meta(self) -> dict:
        """The snapshots as compact plain data (float16, base64) for a checkpoint."""
        dims = self.snapshots["train_mu"][0].shape[1] if self.snapshot_epochs else 0
        return {
            "epochs": list(self.snapshot_epochs),
            "dims": int(dims),
            "train_labels": pack_array(np.asarray(self.train_labels, np.uint8)),
            "test_labels": pack_array(np.asarray(self.test_labels, np.uint8)),
            **{k: [pack_array(a.astype("<f2")) for a in self.snapshots[k]] for k in SNAPSHOT_KEYS},
        }


@dataclass(frozen=True)
class TabularReplay:
    """Snapshots read back: `codes[key][i]` ([N, d]) after `epochs[i]`."""

    epochs: list[int]
    train_labels: np.ndarray
    test_labels: np.ndarray
    codes: dict[str, list[np.ndarray]]

    @classmethod
    def from_meta(cls, data: object) -> TabularReplay | None:
        """None when the metadata has no replay or a malformed one (never raises)."""
        try:
            dims = int(data["dims"])
            epochs = [int(e) for e in data["epochs"]]
            train_labels = unpack_array(data["train_labels"], np.uint8).astype(np.int64)
            test_labels = unpack_array(data["test_labels"], np.uint8).astype(np.int64)
            codes = {
                k: [unpack_array(t, "<f2").astype(np.float32).reshape(-1, dims) for t in data[k]] for k in SNAPSHOT_KEYS
            }
        except (TypeError, KeyError, ValueError, AttributeError):
            return None
        sizes = {"train_mu": len(train_labels), "train_z": len(train_labels)}
        sizes |= {"test_mu": len(test_labels), "test_z": len(test_labels)}
        if not epochs or not 1 <= dims <= 64 or len(epochs) > 64:
            return None
        if any(len(codes[k]) != len(epochs) or any(len(c) != sizes[k] for c in codes[k]) for k in SNAPSHOT_KEYS):
            return None
        return cls(epochs, train_labels, test_labels, codes)


def baseline_predictions(
    X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, seed: int = 0
) -> dict[str, np.ndarray]:
    """scikit-learn's LogisticRegression and MLPClassifier on the same split (median fill, standardised)."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    models = {
        "LogisticRegression": LogisticRegression(max_iter=2000),
        "MLPClassifier": MLPClassifier(max_iter=2000, random_state=seed),
    }
    return {
        name: make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), model)
        .fit(X_train, y_train)
        .predict(X_test)
        for name, model in models.items()
    }


def scores(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict:
    """Accuracy, F1 (binary for two classes, else macro) and the confusion matrix, as plain data."""
    from sklearn.metrics import confusion_matrix, f1_score

    average = "binary" if n_classes == 2 else "macro"
    return {
        "accuracy": float((y_true == y_pred).mean()),
        "f1": float(f1_score(y_true, y_pred, average=average, zero_division=0)),
        "confusion": confusion_matrix(y_true, y_pred, labels=list(range(n_classes))).tolist(),
    }


def results(
    model: TabularVAE, X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, seed: int = 0
) -> dict:
    """The model's test scores beside the baselines', and its selective accuracy (plain data for the card)."""
    n_classes = len(model.class_names)
    out = {
        name: scores(y_test, pred, n_classes)
        for name, pred in baseline_predictions(X_train, y_train, X_test, seed).items()
    }
    if model.config.has_head:
        predicted = model.predict(X_test)
        out = {"VAE lab model": scores(y_test, predicted, n_classes), **out}
        regions = LatentRegions.fit(model.encode(X_train)[0], y_train, n_classes)
        confidence = regions.assess(model.encode(X_test)[0], predicted)
        out["selective_accuracy"] = selective_accuracy(confidence.region_probability, predicted == y_test)
    return out


def tabular_meta(model: TabularVAE, record: TabularRecord, scored: dict, **extra: object) -> dict:
    """The metadata a tabular checkpoint carries, whether the CLI or the page trained it."""
    return {
        "feature_names": model.feature_names,
        "class_names": model.class_names,
        "history": record.history,
        "results": scored,
        "tabular_replay": record.replay_meta(),
        "train_rows": len(record.train_labels),
        "test_rows": len(record.test_labels),
        "training_time_s": record.history[-1]["elapsed_s"] if record.history else 0.0,
        "created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "torch_version": str(torch.__version__),
        **extra,
    }
