import pytest
import torch

from vae.data import load_dataset
from vae.models import VAE, VAEConfig
from vae.training import TrainingDiverged, TrainSettings, evaluate, train


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", train=True), load_dataset("digits", train=False)


def small_vae(**kw) -> VAE:
    torch.manual_seed(0)
    return VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(64,), **kw))


def run(model, digits, **settings):
    (x, y), (xt, yt) = digits
    return list(train(model, x, y, TrainSettings(**settings), xt, yt))


@pytest.mark.parametrize("kw", [{}, {"num_classes": 10}, {"arch": "conv", "conv_channels": (8, 16)}])
def test_real_training_on_digits_lowers_the_held_out_loss(digits, kw):
    model = small_vae(**kw)
    (_, _), (xt, yt) = digits
    before = evaluate(model, xt, yt).total
    events = run(model, digits, epochs=8, batch_size=64, lr=3e-3)
    epochs = [e for e in events if e.kind == "epoch"]
    assert [e.epoch for e in epochs] == list(range(1, 9))
    assert epochs[-1].test.total < 0.8 * before
    assert epochs[-1].test.total < epochs[0].test.total
    assert not model.training


def test_events_describe_progress(digits):
    events = run(small_vae(), digits, epochs=2, batch_size=500)
    steps = [e for e in events if e.kind == "step"]
    assert len(steps) == 2 * 3 and steps[0].steps_per_epoch == 3  # 1438 images, batches of 500
    assert steps[-1].fraction_done == 1.0 and steps[0].test is None
    record = events[-1].as_record()
    assert {"epoch", "train_total", "test_total", "test_recon", "test_kl"} <= set(record)
    assert record["test_total"] == pytest.approx(record["test_recon"] + record["test_kl"])


def test_same_seed_same_weights(digits):
    a, b = small_vae(), small_vae()
    run(a, digits, epochs=1, seed=3)
    run(b, digits, epochs=1, seed=3)
    for wa, wb in zip(a.state_dict().values(), b.state_dict().values(), strict=True):
        assert torch.equal(wa, wb)


def test_stopping_midway_leaves_a_usable_model(digits):
    model = small_vae()
    (x, y), _ = digits
    for event in train(model, x, y, TrainSettings(epochs=5, batch_size=32)):
        if event.kind == "step" and event.epoch == 2 and event.step == 7:
            break
    assert not model.training
    assert torch.isfinite(model.sample(3)).all()


def test_divergence_is_reported_and_last_good_weights_kept(digits):
    model = small_vae()
    (x, y), _ = digits
    events = []
    with pytest.raises(TrainingDiverged, match="smaller learning rate"):
        for event in train(model, x, y, TrainSettings(epochs=3, lr=1e9)):
            events.append(event)
            if event.kind == "epoch":
                snapshot = {k: v.clone() for k, v in model.state_dict().items()}
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())
    if any(e.kind == "epoch" for e in events):  # restored to the last completed epoch
        for k, v in model.state_dict().items():
            assert torch.equal(v, snapshot[k])


def test_kl_warmup_ramps_the_weight(digits):
    events = run(small_vae(beta=2.0), digits, epochs=2, batch_size=500, kl_warmup_epochs=1)
    weights = [e.kl_weight for e in events if e.kind == "step"]
    assert weights[0] == 0.0 and 0 < weights[1] < 2.0 and weights[-1] == 2.0


def test_batch_larger_than_the_dataset(digits):
    (x, y), _ = digits
    events = list(train(small_vae(), x[:50], y[:50], TrainSettings(epochs=1, batch_size=10_000)))
    assert events[-1].steps_per_epoch == 1


def test_bad_inputs_are_refused(digits):
    (x, y), _ = digits
    with pytest.raises(ValueError, match="needs labels"):
        next(train(small_vae(num_classes=10), x, None))
    with pytest.raises(ValueError, match="no training images"):
        next(train(small_vae(), x[:0], y[:0]))
    with pytest.raises(TypeError, match="uint8"):
        next(train(small_vae(), x.float(), y))
    for bad in (dict(epochs=0), dict(batch_size=0), dict(lr=0.0), dict(lr=float("nan"))):
        with pytest.raises(ValueError):
            TrainSettings(**bad)
