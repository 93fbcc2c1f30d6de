"""The tabular VAE with a classifier head (vae.tabular), its CSV reader, confidence and feature study."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from vae.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from vae.models import VAE, VAEConfig
from vae.tables import MAX_COLUMNS, TableError, csv_columns, read_csv_table
from vae.tabular import (
    MODES,
    TabularConfig,
    fit_tabular,
    load_table,
    load_tabular,
    new_model,
    save_tabular,
    split_table,
    train_tabular,
)
from vae.tabular_report import TabularRecord, TabularReplay
from vae.tabular_study import LatentRegions, feature_elimination, feature_r2, selective_accuracy
from vae.training import TrainingDiverged

FAST = {"epochs": 15, "hidden": (16,), "head_hidden": 8}


@pytest.fixture(scope="module")
def wine():
    X, y, features, classes = load_table("wine")
    return split_table(X, y, 0.25, seed=0), features, classes


@pytest.mark.parametrize("name, shape, n_classes", [("breast-cancer", (569, 30), 2), ("wine", (178, 13), 3)])
def test_bundled_tables_load_offline(name, shape, n_classes):
    X, y, features, classes = load_table(name)
    assert X.shape == shape and X.dtype == np.float32
    assert y.dtype == np.int64 and set(np.unique(y)) == set(range(n_classes))
    assert len(features) == shape[1] and len(classes) == n_classes


@pytest.mark.parametrize("mode", list(MODES))
def test_every_mode_trains_and_gives_shapes(mode, wine):
    (X_train, X_test, y_train, _), features, classes = wine
    model = fit_tabular(X_train, y_train, TabularConfig(mode=mode, latent_dim=3, **FAST), 0, features, classes)
    mu, logvar = model.encode(X_test)
    assert mu.shape == logvar.shape == (len(X_test), 3)
    assert model.reconstruct(X_test).shape == X_test.shape
    if mode == "vae":
        with pytest.raises(ValueError, match="no classifier head"):
            model.predict_proba(X_test)
    else:
        proba = model.predict_proba(X_test)
        assert proba.shape == (len(X_test), 3)
        np.testing.assert_allclose(proba.sum(1), 1, atol=1e-5)
        assert model.predict_proba(X_test, sample=True).shape == proba.shape


def test_modes_learn_the_classes(wine):
    (X_train, X_test, y_train, y_test), *_ = wine
    for mode in ("variational-mlp", "joint", "mlp", "vae-then-head"):
        model = fit_tabular(X_train, y_train, TabularConfig(mode=mode, epochs=60), seed=0)
        assert (model.predict(X_test) == y_test).mean() > 0.85, mode


def test_scaling_is_fitted_on_the_training_rows_only(wine):
    (X_train, X_test, _, _), *_ = wine
    model = new_model(X_train, TabularConfig(**FAST, log_features=False), n_classes=3)
    np.testing.assert_allclose(model.center.numpy(), X_train.mean(0), rtol=1e-5)
    np.testing.assert_allclose(model.scale.numpy(), X_train.std(0), rtol=1e-4)
    everything = np.concatenate([X_train, X_test])
    assert not np.allclose(model.center.numpy(), everything.mean(0), rtol=1e-5)


def test_missing_values_are_filled_with_training_medians():
    X = np.array([[1.0, 10.0], [2.0, np.nan], [3.0, 30.0], [np.inf, 40.0]], dtype=np.float32)
    model = new_model(X, TabularConfig(**FAST, log_features=False), n_classes=2)
    np.testing.assert_allclose(model.fill.numpy(), [2.0, 30.0])
    filled = model.standardise(np.array([[np.nan, np.nan]])) * model.scale + model.center
    np.testing.assert_allclose(filled.numpy(), [[2.0, 30.0]], rtol=1e-5)


def test_log_features_compress_long_tails_and_reconstruct_in_table_units(wine):
    (X_train, X_test, _, _), *_ = wine
    model = new_model(X_train, TabularConfig(**FAST), n_classes=3)
    np.testing.assert_allclose(model.center.numpy(), np.log1p(X_train).mean(0), rtol=1e-4)
    decoded = model.to_raw(model.standardise(X_test))
    np.testing.assert_allclose(decoded, X_test, rtol=1e-3)


def test_same_seed_same_model_other_seed_other_model(wine):
    (X_train, X_test, y_train, _), *_ = wine
    config = TabularConfig(**FAST)
    a, b = (fit_tabular(X_train, y_train, config, seed=3) for _ in range(2))
    c = fit_tabular(X_train, y_train, config, seed=4)
    np.testing.assert_array_equal(a.predict_proba(X_test), b.predict_proba(X_test))
    assert not np.allclose(a.predict_proba(X_test), c.predict_proba(X_test))


def test_a_diverging_run_stops_with_its_last_good_weights(wine):
    (X_train, _, y_train, _), *_ = wine
    model = new_model(X_train, TabularConfig(lr=1e30, epochs=50), n_classes=3)
    with pytest.raises(TrainingDiverged, match="smaller learning rate"):
        for _ in train_tabular(model, X_train, y_train):
            pass
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_events_carry_train_and_test_metrics_and_log_spaced_snapshots(wine):
    (X_train, X_test, y_train, y_test), *_ = wine
    model = new_model(X_train, TabularConfig(mode="joint", epochs=13, hidden=(16,)), n_classes=3)
    events = list(train_tabular(model, X_train, y_train, X_test, y_test))
    assert [e.epoch for e in events] == list(range(1, 14))
    assert {"total", "recon", "kl", "pred", "accuracy", "accuracy_sampled"} <= set(events[-1].test)
    assert [e.epoch for e in events if e.snapshot] == [1, 2, 3, 5, 8, 13]
    assert events[0].snapshot["test_mu"].shape == (len(X_test), 2)
    record = TabularRecord(y_train, y_test)
    for event in events:
        record.add(event)
    replay = TabularReplay.from_meta(record.replay_meta())
    assert replay.epochs == [1, 2, 3, 5, 8, 13]
    np.testing.assert_allclose(replay.codes["test_mu"][-1], events[-1].snapshot["test_mu"], atol=2e-2)
    assert TabularReplay.from_meta({"epochs": [1], "dims": 2}) is None


def test_vae_then_head_trains_the_vae_then_only_the_head(wine):
    (X_train, _, y_train, _), *_ = wine
    model = new_model(X_train, TabularConfig(mode="vae-then-head", epochs=5, hidden=(16,)), n_classes=3)
    encoder_after_vae = None
    for event in train_tabular(model, X_train, y_train):
        if event.epoch == 5:
            encoder_after_vae = [p.clone() for p in model.encoder.parameters()]
        assert event.phase == ("vae" if event.epoch <= 5 else "head")
    assert event.epoch == 10
    assert all(torch.equal(a, b) for a, b in zip(encoder_after_vae, model.encoder.parameters(), strict=True))


def test_latent_regions_on_a_case_with_known_answers():
    # Class 0: the four points (±1, 0), (0, ±1) → mean (0, 0), covariance diag(2/3, 2/3) (ddof 1).
    # Class 1: the same shape around (10, 0).
    square = np.array([[1, 0], [-1, 0], [0, 1], [0, -1]], dtype=float)
    codes = np.concatenate([square, square + np.array([10, 0])])
    regions = LatentRegions.fit(codes, np.array([0] * 4 + [1] * 4), n_classes=2, ridge=0.0)
    np.testing.assert_allclose(regions.covariances[0], np.eye(2) * 2 / 3)
    point = np.array([[2.0, 0.0]])  # Mahalanobis distance to class 0: 2 / sqrt(2/3) = sqrt(6)
    reading = regions.assess(point, k=2.0)
    assert reading.predicted[0] == 0
    np.testing.assert_allclose(reading.sigma, np.sqrt(6))
    assert not reading.within[0] and regions.assess(point, k=2.5).within[0]
    # t = 2 / sqrt(2/3 · (1 + 1/4)) = 2 / sqrt(5/6), 3 degrees of freedom; the other dimension sits on the mean.
    from scipy import stats

    np.testing.assert_allclose(reading.p_values[0], [2 * stats.t.sf(2 / np.sqrt(5 / 6), 3), 1.0])
    assert not reading.out_of_domain[0]
    assert regions.assess(np.array([[5.0, 30.0]])).out_of_domain[0]
    assert reading.region_probability[0] > 0.99


def test_selective_accuracy_keeps_the_most_confident_rows():
    confidence = np.array([0.9, 0.8, 0.7, 0.6])
    correct = np.array([True, True, False, False])
    assert selective_accuracy(confidence, correct, (0.5, 0.75, 1.0)) == [(0.5, 1.0, 2), (0.75, 2 / 3, 3), (1.0, 0.5, 4)]


def test_pure_noise_columns_are_the_first_to_go():
    rng = np.random.default_rng(0)
    n = 600
    z = rng.normal(size=(n, 2))
    signal = z @ rng.normal(size=(2, 6)) + 0.05 * rng.normal(size=(n, 6))
    noise = rng.normal(size=(n, 2))
    X = np.concatenate([signal[:, :3], noise[:, :1], signal[:, 3:], noise[:, 1:]], axis=1).astype(np.float32)
    names = ["s0", "s1", "s2", "noise_a", "s3", "s4", "s5", "noise_b"]
    y = (z[:, 0] > 0).astype(np.int64)
    X_train, X_test, y_train, y_test = split_table(X, y, 0.25, seed=0)
    config = TabularConfig(mode="joint", epochs=60, beta=0.1)
    r2 = feature_r2(fit_tabular(X_train, y_train, TabularConfig(mode="vae", epochs=60, beta=0.1)), X_test)
    assert r2[[3, 7]].max() < 0.3 < 0.8 < np.delete(r2, [3, 7]).min()
    rounds = feature_elimination(X_train, y_train, X_test, y_test, names, config, drop_per_round=2)
    assert sorted(rounds[0].dropped) == ["noise_a", "noise_b"]
    assert len(rounds) == 2 and rounds[1].dropped == [] and rounds[1].r2.min() >= 0.5


# ---- CSV ---------------------------------------------------------------------------------------------
GOOD = (
    b"a,b,name,label\n1,2,x,yes\n2,3,y,no\n3,4,z,yes\n4,5,w,no\n5,6,v,yes\n6,7,u,no\n7,8,t,yes\n8,9,s,no\n"
    b"9,1,r,yes\n0,2,q,no\n1,1,p,yes\n2,2,o,no\n"
)


def test_a_good_csv_drops_text_columns_with_a_note():
    table = read_csv_table(GOOD, "label")
    assert table.X.shape == (12, 2) and table.feature_names == ["a", "b"]
    assert table.class_names == ["no", "yes"] and table.y[:2].tolist() == [1, 0]
    assert any("name" in note for note in table.notes)


def test_missing_values_drop_rows_or_stay_for_the_median():
    data = GOOD.replace(b"2,3,y", b",3,y")
    assert read_csv_table(data, "label", "drop").X.shape == (11, 2)
    kept = read_csv_table(data, "label", "median")
    assert kept.X.shape == (12, 2) and np.isnan(kept.X).sum() == 1


@pytest.mark.parametrize(
    "data, label, message",
    [
        (b"", "label", "empty"),
        (b"a,label\n", "label", "no rows"),
        (b"a,label\n" + b"1,same\n" * 10, "label", "1 different values"),
        (b"\xff\xfea,b\n1,2\n", "b", "not UTF-8"),
        (("c," * 1_000_000 + "label\n").encode(), "label", "columns"),
        (GOOD, "nope", "no column called"),
        (b"name,label\n" + b"x,1\ny,2\n" * 5, "label", "No numeric feature"),
        (b"a,label\n" + b"1,x\n" * 10 + b"2,y\n", "label", "at least 5 rows"),
    ],
)
def test_bad_csv_files_get_a_clear_message(data, label, message):
    with pytest.raises(TableError, match=message):
        read_csv_table(data, label)


def test_the_header_is_checked_before_the_body():
    assert csv_columns(GOOD) == ["a", "b", "name", "label"]
    with pytest.raises(TableError, match=f"at most {MAX_COLUMNS}"):
        csv_columns(("x," * (MAX_COLUMNS + 5) + "y\n1\n").encode())


# ---- checkpoints -------------------------------------------------------------------------------------
def test_a_tabular_checkpoint_round_trips(wine, tmp_path):
    (X_train, X_test, y_train, _), features, classes = wine
    model = fit_tabular(X_train, y_train, TabularConfig(**FAST), 0, features, classes)
    save_tabular(tmp_path / "t.pt", model, {"dataset": "wine"})
    loaded, meta = load_tabular(tmp_path / "t.pt")
    np.testing.assert_array_equal(loaded.predict_proba(X_test), model.predict_proba(X_test))
    assert loaded.feature_names == features and meta["dataset"] == "wine"
    with pytest.raises(CheckpointError, match="Tabular lab"):
        load_checkpoint(tmp_path / "t.pt")


def test_an_image_checkpoint_is_refused_by_the_tabular_loader():
    buffer = io.BytesIO()
    save_checkpoint(buffer, VAE(VAEConfig(image_shape=(1, 8, 8), hidden=(8,))), {})
    with pytest.raises(CheckpointError, match="image VAE"):
        load_tabular(buffer.getvalue())
    with pytest.raises(CheckpointError, match="not a readable"):
        load_tabular(b"garbage")


@pytest.mark.parametrize(
    "config, message", [({"mode": "magic"}, "mode must be"), ({"latent_dim": 0}, "latent_dim"), ({"lr": 0}, "learning")]
)
def test_impossible_configs_are_refused(config, message):
    with pytest.raises(ValueError, match=message):
        TabularConfig(**config)
