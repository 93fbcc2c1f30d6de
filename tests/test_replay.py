"""Latent replay: which epochs are kept, what a checkpoint carries, and that nothing malformed is believed."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from vae.checkpoint import load_checkpoint, save_checkpoint
from vae.models import VAE, VAEConfig
from vae.plots import replay_figure
from vae.replay import META_KEY, REPLAY_IMAGES, LatentReplay, ReplayRecorder, snapshot_epochs
from vae.training import TrainSettings, train


def test_snapshot_epochs_are_log_spaced_and_end_with_the_last():
    assert snapshot_epochs(1) == [1]
    assert snapshot_epochs(10) == [1, 2, 3, 5, 8, 10]
    assert snapshot_epochs(50) == [1, 2, 3, 5, 8, 13, 21, 34, 50]
    assert snapshot_epochs(13) == [1, 2, 3, 5, 8, 13]
    assert snapshot_epochs(0) == []


def small_run(latent_dim: int, epochs: int = 5) -> tuple[VAE, ReplayRecorder]:
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (300, 1, 8, 8), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (300,), generator=generator)
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=latent_dim, hidden=(32, 16)), seed=0)
    recorder = ReplayRecorder(images, labels, epochs)
    for event in train(model, images, labels, TrainSettings(epochs=epochs, batch_size=50)):
        if event.kind == "epoch":
            recorder.record(model, event.epoch)
    return model, recorder


def test_a_training_records_the_planned_epochs_and_a_checkpoint_carries_them():
    model, recorder = small_run(2, epochs=5)
    buffer = io.BytesIO()
    save_checkpoint(buffer, model, recorder.meta())
    _, meta = load_checkpoint(buffer.getvalue())
    replay = LatentReplay.from_meta(meta)
    assert replay.epochs == [1, 2, 3, 5] and not replay.projected
    assert len(replay.labels) == 300 <= REPLAY_IMAGES and all(c.shape == (300, 2) for c in replay.codes)
    assert np.array_equal(replay.labels, recorder.labels.numpy())
    np.testing.assert_allclose(replay.codes[-1], recorder.codes[-1], atol=2e-3, rtol=1e-3)  # float16
    assert not np.allclose(replay.codes[0], replay.codes[-1])  # the space moved
    float16_bytes = len(replay.epochs) * 300 * 2 * 2
    assert len(str(meta[META_KEY])) < 1.5 * float16_bytes  # compact: base64 of float16, not a list of floats


def test_a_stopped_run_adds_its_last_epoch_once():
    model, recorder = small_run(2, epochs=4)  # planned: 1, 2, 3, 4
    recorder.record(model, 4, always=True)
    assert recorder.epochs == [1, 2, 3, 4]
    recorder.planned = {1}
    recorder.record(model, 6, always=True)
    assert recorder.epochs[-1] == 6


def test_larger_codes_are_kept_as_their_pca_projection():
    _, recorder = small_run(5, epochs=2)
    replay = recorder.replay()
    assert replay.projected and replay.codes[0].shape == (300, 2)


def garbage_variants(good: dict):
    yield None
    yield "not a dict"
    yield {**good, "codes": good["codes"][:-1]}  # one snapshot fewer than epochs
    yield {**good, "epochs": list(reversed(good["epochs"]))}
    yield {**good, "labels": "@@not base64@@"}
    yield {**good, "dims": 7}
    yield {**good, "codes": ["AAAA"] * len(good["codes"])}  # wrong length
    nan = np.full((300, 2), np.nan, dtype="<f2")
    yield {**good, "codes": [*good["codes"][:-1], LatentReplay([1], [nan], np.zeros(300), False).to_meta()["codes"][0]]}


def test_malformed_replays_are_ignored_never_raised():
    _, recorder = small_run(2, epochs=3)
    good = recorder.meta()[META_KEY]
    assert LatentReplay.from_meta({META_KEY: good}) is not None
    assert LatentReplay.from_meta({}) is None
    for bad in garbage_variants(good):
        assert LatentReplay.from_meta({META_KEY: bad}) is None, bad if not isinstance(bad, dict) else bad.keys()


@pytest.mark.parametrize("fitted", [False, True])
def test_the_replay_figure_has_a_frame_per_snapshot_and_fixed_or_fitted_axes(fitted):
    _, recorder = small_run(2, epochs=5)
    replay = recorder.replay()
    fig = replay_figure(replay.epochs, replay.codes, replay.labels, fitted_axes=fitted)
    assert [f.name for f in fig.frames] == ["1", "2", "3", "5"]
    assert [s.label for s in fig.layout.sliders[0].steps] == ["1", "2", "3", "5"]
    ranges = {tuple(f.layout.xaxis.range) for f in fig.frames}
    assert (len(ranges) > 1) == fitted
    every = np.concatenate(replay.codes)
    low, high = fig.frames[0].layout.xaxis.range
    inside = (replay.codes[0][:, 0] >= low) & (replay.codes[0][:, 0] <= high)
    assert inside.all() and (fitted or (every[:, 0].min() >= low and every[:, 0].max() <= high))
