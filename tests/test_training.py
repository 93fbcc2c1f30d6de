import math
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from vae.data import load_dataset
from vae.losses import elbo_terms
from vae.models import VAE, VAEConfig
from vae.training import TrainingDiverged, TrainSettings, discriminative_objective, evaluate, pick_device, train


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", train=True), load_dataset("digits", train=False)


def small_vae(seed: int = 0, **kw) -> VAE:
    return VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(64,), **kw), seed=seed)


def same_weights(a: VAE, b: VAE) -> bool:
    return all(torch.equal(wa, wb) for wa, wb in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


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
    assert same_weights(a, b)


@pytest.mark.parametrize("kw", [{}, {"num_classes": 10}, {"arch": "conv", "conv_channels": (8, 16)}])
def test_seeded_initialisation_is_pytorchs_own_without_the_global_rng(kw):
    torch.manual_seed(7)
    default = small_vae(seed=None, **kw)  # PyTorch's initialisation, from the global RNG
    torch.manual_seed(8)
    assert same_weights(small_vae(seed=7, **kw), default)
    assert not same_weights(small_vae(seed=8, **kw), default)


def test_training_neither_reads_nor_reseeds_the_global_rng(digits):
    torch.manual_seed(123)
    state = torch.get_rng_state()
    run(small_vae(), digits, epochs=1, batch_size=256, seed=4)
    assert torch.equal(torch.get_rng_state(), state)


def test_trainings_in_parallel_threads_repeat_exactly(digits):
    """Threads share torch's global RNG: only the seeded generators make runs at the same time repeatable."""
    seeds = [5, 5, 6]
    all_started = threading.Barrier(len(seeds))

    def train_one(seed: int) -> VAE:
        all_started.wait()
        model = small_vae(seed=seed)
        run(model, digits, epochs=2, batch_size=64, seed=seed)
        return model

    with ThreadPoolExecutor(len(seeds)) as pool:
        first, second, other = pool.map(train_one, seeds)
    assert same_weights(first, second)
    assert not same_weights(first, other)


def test_stopping_midway_leaves_a_usable_model(digits):
    model = small_vae()
    (x, y), _ = digits
    for event in train(model, x, y, TrainSettings(epochs=5, batch_size=32)):
        if event.kind == "step" and event.epoch == 2 and event.step == 7:
            break
    assert not model.training
    assert torch.isfinite(model.sample(3)).all()


def test_divergence_in_the_first_epoch_restores_the_initial_weights(digits):
    model = small_vae()
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    (x, y), _ = digits
    events = []
    with pytest.raises(TrainingDiverged, match=r"restored to its initial weights\. Try a smaller learning rate"):
        for event in train(model, x, y, TrainSettings(epochs=3, lr=1e9)):
            events.append(event)
    assert events and all(e.kind == "step" for e in events)
    for k, v in model.state_dict().items():
        assert torch.equal(v, initial[k])


def test_divergence_after_some_epochs_restores_the_last_completed_one(digits):
    """NaN weights after epoch 2 make epoch 3's loss NaN, as a real divergence would."""
    model = small_vae()
    (x, y), (xt, yt) = digits
    with pytest.raises(TrainingDiverged, match="at epoch 3, step 1; the model was restored to the end of epoch 2"):
        for event in train(model, x, y, TrainSettings(epochs=4, batch_size=256), xt, yt):
            if event.kind == "epoch" and event.epoch == 2:
                after_epoch_2 = {k: v.clone() for k, v in model.state_dict().items()}
                with torch.no_grad():
                    model.to_mu.weight.fill_(float("nan"))
    for k, v in model.state_dict().items():
        assert torch.equal(v, after_epoch_2[k])


def test_kl_warmup_ramps_the_weight(digits):
    events = run(small_vae(beta=2.0), digits, epochs=2, batch_size=500, kl_warmup_epochs=1)
    weights = [e.kl_weight for e in events if e.kind == "step"]
    assert weights[0] == 0.0 and 0 < weights[1] < 2.0 and weights[-1] == 2.0


@pytest.mark.parametrize("binarize", [False, True])
def test_binarize_trains_on_fresh_zero_one_draws_of_the_grey_images(digits, binarize):
    model = small_vae()
    seen: list[torch.Tensor] = []  # what the encoder is given in training steps (evaluations run without grad)
    model.encoder_convs.register_forward_hook(
        lambda _module, inputs, _out: seen.append(inputs[0]) if torch.is_grad_enabled() else None
    )
    events = run(model, digits, epochs=2, batch_size=500, binarize=binarize)
    assert len(seen) == 2 * 3
    values = torch.cat([x.flatten() for x in seen]).unique().tolist()
    if binarize:
        assert values == [0.0, 1.0]
    else:
        assert len(values) > 2
    epochs = [e for e in events if e.kind == "epoch"]
    assert epochs[-1].test.total < epochs[0].test.total  # the grey test images' −ELBO falls: a working objective


@pytest.mark.parametrize("cosine_lr", [False, True])
def test_cosine_lr_lowers_the_learning_rate_epoch_by_epoch_to_a_hundredth(digits, monkeypatch, cosine_lr):
    used: list[float] = []  # the learning rate of every optimiser step
    step = torch.optim.Adam.step
    monkeypatch.setattr(torch.optim.Adam, "step", lambda self, *a, **k: (used.append(self.param_groups[0]["lr"]),
                                                                         step(self, *a, **k))[1])  # fmt: skip
    run(small_vae(), digits, epochs=4, batch_size=750, lr=0.01, cosine_lr=cosine_lr)
    per_epoch = [used[i] for i in range(0, len(used), len(used) // 4)]
    assert len(used) == 4 * 2 and per_epoch[0] == pytest.approx(0.01)
    if cosine_lr:  # half a cosine from lr (epoch 1) towards lr / 100 (after the last)
        expected = [0.0001 + (0.01 - 0.0001) * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(4)]
        assert per_epoch == pytest.approx(expected)
    else:
        assert set(used) == {0.01}


def test_binarize_needs_the_bernoulli_likelihood(digits):
    (x, y), _ = digits
    with pytest.raises(ValueError, match="bernoulli"):
        next(train(small_vae(likelihood="gaussian"), x, y, TrainSettings(binarize=True)))


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


@pytest.mark.parametrize("cuda, mps, expected", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_auto_picks_cuda_then_mps_then_the_cpu(monkeypatch, cuda, mps, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert pick_device() == torch.device(expected)


def test_a_device_this_machine_lacks_is_refused_in_words(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA was asked for, but torch finds no CUDA GPU"):
        pick_device("cuda")
    with pytest.raises(ValueError, match="MPS was asked for"):
        pick_device("mps")
    with pytest.raises(ValueError, match="unknown device 'tpu'; choose one of auto, cpu, cuda, mps"):
        pick_device("tpu")
    assert pick_device("cpu") == torch.device("cpu")


def test_the_discriminative_objective_is_the_true_class_elbo_plus_the_cross_entropy_of_every_class_elbo(monkeypatch):
    monkeypatch.setattr(VAE, "reparameterize", staticmethod(lambda mu, logvar, generator=None: mu))  # z = μ
    model = small_vae(num_classes=10)
    x, labels = torch.rand(5, 1, 8, 8), torch.tensor([3, 0, 9, 3, 7])
    loss, true = discriminative_objective(model, x, labels, kl_weight=0.5, weight=2.0, generator=None)
    # each class's terms on its own, then the label's row
    per_class = [elbo_terms(model, x, torch.full((5,), c)) for c in range(10)]
    recon = torch.stack([t.recon for t in per_class], 1)
    kl = torch.stack([t.kl for t in per_class], 1)
    rows = torch.arange(5)
    assert torch.allclose(true.recon, recon[rows, labels]) and torch.allclose(true.kl, kl[rows, labels])
    expected = (recon[rows, labels] + 0.5 * kl[rows, labels]).mean()
    expected = expected + 2.0 * torch.nn.functional.cross_entropy(-(recon + kl), labels)
    assert torch.allclose(loss, expected)


def test_discriminative_epochs_make_the_true_class_explain_its_images_best(digits):
    from vae.anomaly import generative_accuracy

    (_, _), (xt, yt) = digits
    plain, hybrid = small_vae(num_classes=10), small_vae(num_classes=10)
    run(plain, digits, epochs=12, batch_size=64, lr=3e-3)
    run(hybrid, digits, epochs=12, batch_size=64, lr=3e-3, discriminative_weight=10.0, discriminative_epochs=4)
    assert generative_accuracy(hybrid, xt, yt) > generative_accuracy(plain, xt, yt) + 0.02


def test_discriminative_settings_are_checked(digits):
    settings = TrainSettings(epochs=10, discriminative_weight=1.0, discriminative_epochs=3)
    assert [e for e in range(1, 11) if settings.discriminative(e)] == [8, 9, 10]
    assert not TrainSettings(epochs=10, discriminative_epochs=3).discriminative(10)  # no weight, no such epoch
    with pytest.raises(ValueError, match="discriminative_weight"):
        TrainSettings(discriminative_weight=-1.0)
    with pytest.raises(ValueError, match="from 0 to the run's 10 epochs"):
        TrainSettings(epochs=10, discriminative_epochs=11)
    with pytest.raises(ValueError, match="need a conditional VAE"):
        run(small_vae(), digits, epochs=2, discriminative_weight=1.0, discriminative_epochs=1)
