"""A VAE with a classifier head (seed 004's VAE + classifier, on images): config, training, novelty score."""

import io

import numpy as np
import pytest
import torch

from vae.anomaly import METHODS, anomaly_scores, calibrate_combined, head_energy, ink_relative_error, methods_for
from vae.checkpoint import load_checkpoint, save_checkpoint
from vae.data import hold_out, load_dataset, to_float
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
    assert "head" not in methods_for(VAEConfig()) and "combined" not in methods_for(VAEConfig())
    assert methods_for(VAEConfig(head_classes=10)) == list(METHODS)  # a recipe: calibrated once trained
    assert "combined" not in methods_for(VAE(VAEConfig(), seed=0))
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
    calibrate_combined(model.eval(), torch.rand(20, 1, 28, 28))  # the combined score's scale travels too
    buffer = io.BytesIO()
    save_checkpoint(buffer, model)
    loaded, _ = load_checkpoint(buffer.getvalue())
    torch.testing.assert_close(loaded.novelty_norms, model.novelty_norms)
    torch.testing.assert_close(
        anomaly_scores(loaded, x, method="combined"), anomaly_scores(model, x, method="combined")
    )


def test_the_combined_score_adds_both_parts_in_standard_deviations_of_held_out_images():
    model = VAE(VAEConfig(head_classes=10), seed=0).eval()
    noise = torch.Generator().manual_seed(0)  # torch's own seed differs per process: the same images every run
    x, held = torch.rand(6, 1, 28, 28, generator=noise), torch.rand(50, 1, 28, 28, generator=noise)
    assert "combined" not in methods_for(model)  # not calibrated yet: not offered, and refused in words
    with pytest.raises(ValueError, match="calibrated"):
        anomaly_scores(model, x, method="combined")
    calibrate_combined(model, held)
    assert "combined" in methods_for(model)
    head, ink = head_energy(model, held), ink_relative_error(held, model.reconstruct(held))
    expected = [
        (head_energy(model, x) - head.mean()) / head.std(),
        (ink_relative_error(x, model.reconstruct(x)) - ink.mean()) / ink.std(),
    ]
    # on noise the parts barely vary (sd ~0.005): rounding in the mean is amplified, hence 1e-4 σ
    combined = anomaly_scores(model, x, method="combined")
    torch.testing.assert_close(combined, expected[0] + expected[1], atol=1e-4, rtol=0)
    torch.testing.assert_close(
        anomaly_scores(model, held, method="combined").mean(), torch.tensor(0.0), atol=1e-4, rtol=0
    )


def test_the_combined_score_catches_the_unseen_nines_at_least_as_well_as_ink():
    model, test_images, test_labels = digits_head_model(head_weight=1.0)
    images, labels = load_dataset("digits", train=True)
    _, _, held = hold_out(images[labels != 9], labels[labels != 9], 200, seed=0)  # trained on: fine for a test
    calibrate_combined(model, to_float(held))
    from sklearn.metrics import roc_auc_score

    x, is_nine = to_float(test_images), (test_labels == 9).numpy()
    auroc = {m: roc_auc_score(is_nine, anomaly_scores(model, x, method=m).numpy()) for m in ("ink", "combined")}
    assert auroc["combined"] > max(0.8, auroc["ink"])


def test_hold_out_sets_aside_distinct_images_and_refuses_too_many():
    images, labels = torch.arange(10).reshape(10, 1, 1, 1), torch.arange(10)
    kept, kept_labels, held = hold_out(images, labels, 3, seed=0)
    assert len(kept) == 7 and len(held) == 3
    assert sorted([*kept.flatten().tolist(), *held.flatten().tolist()]) == list(range(10))
    torch.testing.assert_close(kept.flatten(), kept_labels)  # images keep their labels
    with pytest.raises(ValueError, match="hold out 1 to 5"):
        hold_out(images, labels, 6)


def test_a_head_checkpoint_saved_before_the_combined_score_loads_uncalibrated():
    model = VAE(VAEConfig(head_classes=10), seed=1)
    calibrate_combined(model.eval(), torch.rand(20, 1, 28, 28))
    buffer = io.BytesIO()
    save_checkpoint(buffer, model)
    payload = torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)
    del payload["state_dict"]["novelty_norms"]  # as a head model was saved in version 0.x
    old = io.BytesIO()
    torch.save(payload, old)
    loaded, _ = load_checkpoint(old.getvalue())
    assert "head" in methods_for(loaded) and "combined" not in methods_for(loaded)


def test_the_train_page_trains_a_classifier_head_that_the_anomaly_lab_scores_by_both(app_data_dir):
    from tests.test_app import picker, start

    at = start("app_pages/train.py")
    at.radio(key="train_kind").set_value("classifier").run()
    next(s for s in at.selectbox if s.label == "Dataset").set_value("digits").run()
    next(m for m in at.multiselect if m.label == "Leave out classes").set_value([9]).run()
    at.number_input(key="train_epochs").set_value(2)
    at.button[0].click().run()
    assert not at.exception, at.exception
    entry = at.session_state["session_models"][picker(at).value]
    assert entry.model.config.head_classes == 10 and entry.name.startswith("digits-z2-mlp-head-")
    assert entry.meta["calibration_images"] == entry.meta["train_images"] // 9  # a tenth set aside, never trained on
    assert "combined" in methods_for(entry.model)  # calibrated when the run ended
    at.switch_page("app_pages/anomaly.py").run()
    assert not at.exception, at.exception
    assert (
        at.radio(key="anomaly_method").value == "head" and METHODS["combined"] in at.radio(key="anomaly_method").options
    )
    at.radio(key="anomaly_method").set_value("combined").run()
    assert not at.exception, at.exception
