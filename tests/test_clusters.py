"""The clustering VAE (seed 003's Gumbel VAE): its model, objective pieces, scores and checkpoint."""

import io
import itertools

import numpy as np
import pytest
import torch

from vae.checkpoint import load_checkpoint, save_checkpoint
from vae.clusters import (
    TAU_END,
    TAU_START,
    cluster_report,
    cluster_scores,
    gumbel_softmax,
    gumbel_temperature,
    pick_seed,
    random_affine,
)
from vae.data import load_dataset, to_float
from vae.generation import class_table, sample_grid
from vae.latent import interpolate
from vae.losses import elbo_terms, importance_sampled_log_likelihood
from vae.models import VAE, VAEConfig
from vae.training import TrainSettings, train


def small(clusters: int = 10) -> VAE:
    return VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(32,), clusters=clusters), seed=0).eval()


def test_shapes_and_cluster_probs_rows_sum_to_one():
    model, x = small(7), torch.rand(5, 1, 8, 8)
    probs = model.cluster_probs(x)
    assert probs.shape == (5, 7)
    torch.testing.assert_close(probs.sum(1), torch.ones(5))
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (5, 2)
    assert model.decode(mu, torch.tensor([0, 1, 2, 3, 6])).shape == (5, 1, 8, 8)
    assert model.reconstruct(x).shape == (5, 1, 8, 8)
    assert model.sample(4, generator=torch.Generator().manual_seed(0)).shape == (4, 1, 8, 8)
    out = model(x)
    assert out.cluster_logits.shape == (5, 7) and out.y.shape == (5, 7)
    assert sample_grid(model, 2, 3, y=4).shape == (6, 1, 8, 8)
    assert class_table(model, cols=3).shape == (21, 1, 8, 8)  # one row per cluster


def test_a_cluster_changes_what_is_decoded_and_decoding_needs_one():
    model = small()
    z = torch.zeros(1, 2)
    assert not torch.allclose(model.decode(z, torch.tensor([0])), model.decode(z, torch.tensor([1])))
    with pytest.raises(ValueError, match="pass y"):
        model.decode(z)
    with pytest.raises(ValueError, match="infers its clusters itself"):
        model.encode(torch.rand(1, 1, 8, 8), torch.tensor([0]))


def test_config_rules():
    with pytest.raises(ValueError, match="at least 2"):
        VAEConfig(clusters=1)
    with pytest.raises(ValueError, match="not both"):
        VAEConfig(clusters=10, num_classes=10)
    assert VAEConfig(clusters=10).decoder_labels == 10 and not VAEConfig(clusters=10).conditional
    assert VAEConfig.from_dict(VAEConfig(latent_dim=3).to_dict() | {"clusters": 0}).clusters == 0


def test_temperature_falls_from_start_to_end():
    steps = [gumbel_temperature(p) for p in np.linspace(0, 1, 11)]
    assert steps[0] == pytest.approx(TAU_START) and steps[-1] == pytest.approx(TAU_END)
    assert all(a > b for a, b in itertools.pairwise(steps))
    assert gumbel_temperature(-1) == pytest.approx(TAU_START) and gumbel_temperature(2) == pytest.approx(TAU_END)


def test_gumbel_softmax_samples_the_categorical():
    logits = torch.log(torch.tensor([[0.7, 0.2, 0.1]])).expand(20_000, 3)
    sample = gumbel_softmax(logits, 0.05, torch.Generator().manual_seed(0))
    torch.testing.assert_close(sample.sum(1), torch.ones(20_000))
    assert (sample.max(1).values > 0.9).float().mean() > 0.95  # a low temperature is almost one-hot
    shares = torch.bincount(sample.argmax(1), minlength=3) / 20_000
    torch.testing.assert_close(shares, torch.tensor([0.7, 0.2, 0.1]), atol=0.015, rtol=0)
    soft = gumbel_softmax(logits[:1000], 5.0, torch.Generator().manual_seed(0))
    assert soft.max(1).values.mean() < 0.5  # a high one is soft
    with pytest.raises(ValueError, match="positive"):
        gumbel_softmax(logits, 0.0)


def test_random_affine_keeps_the_ink_roughly_and_moves_it():
    images, _ = load_dataset("digits")
    x = to_float(images[:64])
    moved = random_affine(x, torch.Generator().manual_seed(0))
    assert moved.shape == x.shape and not torch.allclose(moved, x)
    ratio = moved.sum((1, 2, 3)) / x.sum((1, 2, 3))
    assert ratio.min() > 0.6 and ratio.max() < 1.5


def test_hungarian_accuracy_on_a_hand_made_case():
    clusters = np.array([0, 0, 1, 1, 2, 2, 2])
    labels = np.array([1, 1, 0, 0, 2, 0, 2])
    scores = cluster_scores(clusters, labels)
    assert scores.mapping == {0: 1, 1: 0, 2: 2}
    assert scores.accuracy == pytest.approx(6 / 7)
    assert cluster_scores(labels, labels).nmi == pytest.approx(1.0)
    # clusters renamed are the same clustering: a perfect score
    assert cluster_scores((labels + 1) % 3, labels).accuracy == 1.0
    with pytest.raises(ValueError, match="as many"):
        cluster_scores(clusters[:3], labels)


def test_elbo_and_log_likelihood_count_the_categorical_latent():
    model, x = small(), to_float(load_dataset("digits", train=False)[0][:20])
    generator = torch.Generator().manual_seed(0)
    terms = elbo_terms(model, x, generator=generator)
    mu, logvar = model.encode(x)
    kl_z = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
    assert (terms.kl > kl_z).all()  # KL(q(y|x) || uniform) > 0 is added
    log_px = importance_sampled_log_likelihood(model, x, k=50, generator=generator)
    assert torch.isfinite(log_px).all()
    assert (log_px > -terms.total - 5).float().mean() > 0.8  # a tighter bound than the one-sample ELBO, mostly


def test_checkpoint_round_trip_keeps_the_clusters():
    model, x = small(), torch.rand(3, 1, 8, 8)
    buffer = io.BytesIO()
    save_checkpoint(buffer, model, {"dataset": "digits"})
    loaded, _ = load_checkpoint(buffer.getvalue())
    assert loaded.config.clusters == 10
    torch.testing.assert_close(loaded.cluster_probs(x), model.cluster_probs(x))


def test_a_short_training_without_labels_finds_the_digits_better_than_kmeans_on_pixels():
    from sklearn.cluster import KMeans

    images, _ = load_dataset("digits")
    test_images, test_labels = load_dataset("digits", train=False)
    config = VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(128, 64), clusters=10, beta=2)  # the recipe's β
    model = VAE(config, seed=0)
    settings = TrainSettings(epochs=100, batch_size=64, seed=0)  # 1,438 images: 100 epochs take about 20 s
    history = [
        e.as_record() for e in train(model, images, None, settings, test_images, test_labels) if e.kind == "epoch"
    ]
    assert "test_nmi" in history[-1] and "test_cluster_accuracy" in history[-1]
    kmeans = KMeans(n_clusters=10, n_init=3, random_state=0).fit_predict(to_float(test_images).flatten(1).numpy())
    baseline = cluster_scores(kmeans, test_labels.numpy()).nmi
    metrics, found = cluster_report(model, test_images, test_labels)
    assert metrics["test_nmi"] == pytest.approx(history[-1]["test_nmi"], abs=1e-4)
    assert metrics["test_nmi"] > baseline, (metrics, baseline)
    assert sorted(found["matched_label"]) == list(range(10))


def test_pick_seed_keeps_the_start_with_the_lowest_training_elbo():
    images, _ = load_dataset("digits")
    config = VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(32,), clusters=5)
    chosen, probed = pick_seed(config, images[:300], TrainSettings(epochs=10, batch_size=64), [3, 4, 5], 2)
    assert sorted(probed) == [3, 4, 5] and probed[chosen] == min(probed.values())
    assert len(set(probed.values())) == 3  # each start really differs
    with pytest.raises(ValueError, match="at least one"):
        pick_seed(config, images, TrainSettings(), [])


def test_interpolation_mixes_the_clusters_of_both_ends():
    model = small(4)
    ends = (torch.tensor([1.0, 0, 0, 0]), torch.tensor([0, 0, 0, 1.0]))
    frames = interpolate(model, torch.zeros(2), torch.zeros(2), steps=3, y_ends=ends)
    torch.testing.assert_close(frames[0], model.decode(torch.zeros(1, 2), torch.tensor([0]))[0])
    torch.testing.assert_close(frames[-1], model.decode(torch.zeros(1, 2), torch.tensor([3]))[0])
    assert not torch.allclose(frames[1], frames[0]) and not torch.allclose(frames[1], frames[2])


@pytest.mark.parametrize("method", ["ink", "recon", "elbo", "iwae"])
def test_every_anomaly_score_works_on_a_clustering_model(method):
    from vae.anomaly import anomaly_scores

    x = to_float(load_dataset("digits", train=False)[0][:30])
    scores = anomaly_scores(small(), x, None, method, k=5)
    assert scores.shape == (30,) and torch.isfinite(scores).all()
