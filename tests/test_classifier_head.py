"""A VAE with a classifier head (seed 004's VAE + classifier, on images): config, training, novelty score."""

import io

import numpy as np
import pytest
import torch

from vae.anomaly import METHODS, anomaly_scores, methods_for
from vae.checkpoint import load_checkpoint, save_checkpoint
from vae.data import load_dataset, to_float
from vae.models import VAE, VAEConfig
from vae.training import TrainSettings, train


def digits_head_model(head_weight: float) -> tuple[VAE, torch.Tensor, torch.Tensor]:
    """A small VAE with a head, trained on scikit-learn's digits without the 9s; the test split."""
    images, labels = load_dataset("digits", train=True)
    keep = labels != 9
    config = VAEConfig(image_shape=(1, 8, 8), latent_dim=4, hidden=(64,), head_classes=10, head_weight=head_weight)
    model = VAE(config, seed=0)
    for _ in train(model, images[keep], labels[keep], TrainSettings(epochs=40, batch_size=64, lr=3e-3)):
        pass
    return model, *load_dataset("digits", train=False)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"head_classes": 1}, "at least 2"),
        ({"head_classes": 10, "num_classes": 10}, "unconditional VAE without clusters"),
        ({"head_classes": 10, "clusters": 10}, "unconditional VAE without clusters"),
        ({"head_classes": 10, "head_weight": -1.0}, "non-negative"),
        ({"head_classes": 2.5}, "whole number"),
    ],
)
def test_bad_head_configs_are_refused_in_words(fields, message):
    with pytest.raises(ValueError, match=message):
        VAEConfig(**fields)


def test_the_head_gives_logits_and_other_models_say_they_have_none():
    model = VAE(VAEConfig(head_classes=10), seed=0)
    x = torch.rand(3, 1, 28, 28)
    assert model.class_logits(x).shape == (3, 10)
    assert model(x).class_logits.shape == (3, 10)
    torch.testing.assert_close(model.eval()(x).class_logits, model.class_logits(x))
    plain = VAE(VAEConfig(), seed=0)
    assert plain(x).class_logits is None
    with pytest.raises(ValueError, match="classifier head"):
        plain.class_logits(x)


def test_a_head_needs_labels_to_train():
    images, _ = load_dataset("digits", train=True)
    model = VAE(VAEConfig(image_shape=(1, 8, 8), hidden=(16,), head_classes=10), seed=0)
    with pytest.raises(ValueError, match="needs labels"):
        next(train(model, images, None, TrainSettings(epochs=1)))


def test_the_head_learns_the_digits_only_when_its_loss_counts():
    taught, test_images, test_labels = digits_head_model(head_weight=1.0)
    untaught, *_ = digits_head_model(head_weight=0.0)
    seen = test_labels != 9
    x = to_float(test_images[seen])

    def accuracy(model: VAE) -> float:
        return (model.class_logits(x).argmax(1) == test_labels[seen]).float().mean().item()

    assert accuracy(taught) > 0.9
    assert accuracy(untaught) < 0.5  # an untrained head guesses


def test_the_head_score_is_the_energy_and_flags_the_unseen_nines():
    model, test_images, test_labels = digits_head_model(head_weight=1.0)
    x = to_float(test_images)
    scores = anomaly_scores(model, x, method="head")
    torch.testing.assert_close(scores, -torch.logsumexp(model.class_logits(x), 1))
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score((test_labels == 9).numpy(), scores.numpy()) > 0.8


def test_only_a_model_with_a_head_offers_the_head_score():
    assert "head" not in methods_for(VAEConfig())
    assert methods_for(VAEConfig(head_classes=10)) == list(METHODS)
    with pytest.raises(ValueError, match="classifier head"):
        anomaly_scores(VAE(VAEConfig(), seed=0), torch.rand(2, 1, 28, 28), method="head")


def test_a_head_survives_a_checkpoint_round_trip():
    model = VAE(VAEConfig(head_classes=10, head_weight=2.0), seed=1)
    buffer = io.BytesIO()
    save_checkpoint(buffer, model)
    loaded, _ = load_checkpoint(buffer.getvalue())
    assert loaded.config == model.config
    x = torch.rand(4, 1, 28, 28)
    np.testing.assert_allclose(loaded.class_logits(x).detach(), model.class_logits(x).detach())
