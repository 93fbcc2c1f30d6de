"""VAE Lab's library: variational autoencoders in plain PyTorch (no UI code here).

The public API is importable from `vae` itself; each name lives in a submodule (`vae.models`,
`vae.training`, `vae.data`, `vae.checkpoint`, `vae.losses`, `vae.latent`, `vae.generation`,
`vae.anomaly`, `vae.preprocess`, `vae.plots`, `vae.clusters` for the clustering VAE, `vae.tabular` for
tables) that is imported on first use, so `import vae` is instant and `from vae import VAE` loads torch but
not scikit-learn's metrics or Plotly. Train a VAE on scikit-learn's bundled 8×8 digits (no download) and save it:

    from vae import VAE, VAEConfig, TrainSettings, load_dataset, save_checkpoint, train
    images, labels = load_dataset("digits")  # uint8 images [N, 1, 8, 8], int64 labels [N]
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(32,)))
    history = [e.train.total for e in train(model, images, labels, TrainSettings(epochs=3)) if e.kind == "epoch"]
    save_checkpoint("digits.pt", model, {"dataset": "digits"})  # load_checkpoint("digits.pt") reads it back
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.2.0"  # a literal: setuptools reads it without importing the package (pyproject.toml)

__all__ = [
    "DATASETS",
    "VAE",
    "CheckpointError",
    "DatasetNotFoundError",
    "TabularConfig",
    "TabularVAE",
    "TrainSettings",
    "TrainingDiverged",
    "VAEConfig",
    "__version__",
    "anomaly_scores",
    "class_table",
    "cluster_scores",
    "clustering_nmi",
    "drawing_to_mnist",
    "elbo_terms",
    "encode_dataset",
    "evaluate",
    "evaluation_metrics",
    "filter_classes",
    "fit_class_codes",
    "fit_tabular",
    "has_class_codes",
    "image_grid",
    "importance_sampled_log_likelihood",
    "interpolate",
    "load_checkpoint",
    "load_dataset",
    "load_table",
    "manifold",
    "pca_2d",
    "pick_device",
    "sample_grid",
    "samples_like",
    "save_checkpoint",
    "to_float",
    "train",
    "traversal",
]

# Where each public name lives; its submodule is imported on first access (PEP 562), so that
# `import vae.data` in the app, or `from vae import VAE`, does not also load scikit-learn's metrics and Plotly.
_SUBMODULES = {
    "models": ("VAE", "VAEConfig"),
    "training": ("train", "TrainSettings", "TrainingDiverged", "evaluate", "evaluation_metrics", "pick_device"),
    "data": ("DATASETS", "DatasetNotFoundError", "load_dataset", "filter_classes", "to_float"),
    "checkpoint": ("save_checkpoint", "load_checkpoint", "CheckpointError"),
    "losses": ("elbo_terms", "importance_sampled_log_likelihood"),
    "latent": ("encode_dataset", "manifold", "interpolate", "traversal", "pca_2d", "clustering_nmi"),
    "generation": ("sample_grid", "class_table", "samples_like", "fit_class_codes", "has_class_codes"),
    "anomaly": ("anomaly_scores",),
    "preprocess": ("drawing_to_mnist",),
    "plots": ("image_grid",),
    "tabular": ("TabularConfig", "TabularVAE", "fit_tabular", "load_table"),
    "clusters": ("cluster_scores",),
}
_EXPORTS = {name: module for module, names in _SUBMODULES.items() for name in names}

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time the names load lazily
    from vae.anomaly import anomaly_scores
    from vae.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
    from vae.clusters import cluster_scores
    from vae.data import DATASETS, DatasetNotFoundError, filter_classes, load_dataset, to_float
    from vae.generation import class_table, fit_class_codes, has_class_codes, sample_grid, samples_like
    from vae.latent import clustering_nmi, encode_dataset, interpolate, manifold, pca_2d, traversal
    from vae.losses import elbo_terms, importance_sampled_log_likelihood
    from vae.models import VAE, VAEConfig
    from vae.plots import image_grid
    from vae.preprocess import drawing_to_mnist
    from vae.tabular import TabularConfig, TabularVAE, fit_tabular, load_table
    from vae.training import TrainingDiverged, TrainSettings, evaluate, evaluation_metrics, pick_device, train


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'vae' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"vae.{module}"), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
