import numpy as np
import pytest
import torch

from vae.anomaly import (
    ScoredSet,
    anomaly_scores,
    best_f1_threshold,
    blurred_ink_error,
    class_score_matrix,
    conformal_p_value,
    curves,
    flagging_quantile,
    format_score,
    gaussian_blur,
    generative_accuracy_key,
    ink_relative_error,
    methods_for,
    noise_images,
    novelty_scores,
    operating_point,
    quantile_threshold,
    relative_to_best_other,
    score_protocol,
    shift,
    shifted_elbo,
    shifted_ink_error,
    split_protocol,
)
from vae.data import load_dataset, to_float
from vae.losses import elbo_terms
from vae.models import VAE, VAEConfig
from vae.training import TrainSettings, train


@pytest.fixture(scope="module")
def digits_model():
    """A small VAE really trained on scikit-learn's digits, and the digits test split."""
    x, y = load_dataset("digits", train=True)
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=4, hidden=(64,)))
    for _ in train(model, x, y, TrainSettings(epochs=30, batch_size=64, lr=3e-3)):
        pass
    return model, *load_dataset("digits", train=False)


@pytest.mark.parametrize("method", methods_for(VAEConfig(image_shape=(1, 8, 8))))
def test_digits_score_lower_than_noise(digits_model, method):
    model, images, _ = digits_model
    digits = anomaly_scores(model, to_float(images[:100]), method=method, k=20)
    noise = anomaly_scores(model, noise_images(100, (1, 8, 8)), method=method, k=20)
    assert digits.shape == noise.shape == (100,)
    assert torch.isfinite(digits).all()
    assert digits.max() < noise.min()  # every real digit looks more normal than every noise image


def test_scores_are_reproducible_and_methods_checked(digits_model):
    model, images, _ = digits_model
    x = to_float(images[:20])
    torch.testing.assert_close(anomaly_scores(model, x, method="elbo"), anomaly_scores(model, x, method="elbo"))
    with pytest.raises(ValueError, match="unknown method"):
        anomaly_scores(model, x, method="vibes")


def test_ink_score_judges_thin_and_bold_digits_on_one_scale():
    thin, bold = torch.zeros(1, 1, 28, 28), torch.zeros(1, 1, 28, 28)
    thin[..., 4:24, 13:15] = 1.0  # a 1 two pixels wide
    bold[..., 4:24, 8:20] = 1.0  # a bar six times the ink
    half_thin, half_bold = thin.clone(), bold.clone()
    half_thin[..., 14:24, :] = 0.0  # each reconstruction misses the lower half of the stroke
    half_bold[..., 14:24, :] = 0.0
    assert ink_relative_error(thin, thin).item() == 0.0
    assert ink_relative_error(thin, torch.zeros_like(thin)).item() == pytest.approx(1.0)
    assert ink_relative_error(thin, half_thin).item() == pytest.approx(ink_relative_error(bold, half_bold).item())
    assert ink_relative_error(thin, half_thin).item() == pytest.approx(0.5)
    # the squared error itself says the bold digit is six times worse
    assert ((bold - half_bold) ** 2).sum() == 6 * ((thin - half_thin) ** 2).sum()
    assert format_score(0.1234, "ink") == "0.123" and format_score(123.45, "elbo") == "123.5 nats"


def test_blurred_ink_forgives_a_stroke_a_pixel_off_but_not_a_missing_one():
    stroke = torch.zeros(1, 1, 28, 28)
    stroke[..., 4:24, 13] = 1.0  # a 1 one pixel wide
    beside, missing = stroke.roll(1, -1), torch.zeros_like(stroke)  # drawn a pixel to the right / not at all
    # the plain ink score cannot tell them apart: every bit of ink is wrong in both
    assert ink_relative_error(stroke, beside).item() == pytest.approx(ink_relative_error(stroke, missing).item())
    assert blurred_ink_error(stroke, stroke).item() == 0.0
    assert blurred_ink_error(stroke, beside).item() < 0.5 * blurred_ink_error(stroke, missing).item()
    blurred = gaussian_blur(stroke)
    assert blurred.shape == stroke.shape and blurred.sum().item() == pytest.approx(stroke.sum().item())  # ink kept
    assert blurred[0, 0, 14, 12].item() == pytest.approx(blurred[0, 0, 14, 14].item()) and blurred[0, 0, 14, 12] > 0
    assert format_score(0.1234, "blurred_ink") == "0.123"


def test_shift_moves_an_image_a_pixel_and_blanks_what_comes_in():
    x = torch.zeros(2, 1, 5, 5)
    x[:, 0, 2, 2] = 1.0  # a dot in the middle
    x[:, 0, 0, 4] = 2.0  # and one in the top right corner
    moved = shift(x, 1, -1)  # a pixel down and a pixel left
    assert moved.shape == x.shape
    assert moved[0, 0, 3, 1] == 1.0 and moved[0, 0, 1, 3] == 2.0 and moved.sum() == x.sum()
    assert shift(x, 0, 1)[0, 0, 0].tolist() == [0.0, 0.0, 0.0, 0.0, 0.0]  # the corner dot left the image
    assert torch.equal(shift(x, 0, 0), x)


def test_shifted_ink_averages_the_blurred_ink_over_the_digit_as_it_is_and_moved_a_pixel_each_way():
    template = torch.zeros(1, 1, 28, 28)
    template[..., 6:22, 12:15] = 1.0  # the one digit this "model" knows, wherever it is shown
    model = VAE(VAEConfig(), seed=0).eval()
    model.reconstruct = lambda x, y=None: template.expand_as(x)
    digit = template.roll(1, -1)  # the same digit, a pixel to the right
    other = torch.zeros(1, 1, 28, 28)
    other[..., 12:15, 6:22] = 1.0  # a bar across: another digit
    x = torch.cat([digit, other])
    # the images as they are and a pixel up, down, left, right (their borders are blank: a roll is a move)
    moved = [x, x.roll(-1, -2), x.roll(1, -2), x.roll(-1, -1), x.roll(1, -1)]
    expected = torch.stack([blurred_ink_error(m, template.expand_as(m)) for m in moved]).mean(0)
    assert torch.allclose(shifted_ink_error(model, x), expected)
    assert torch.allclose(anomaly_scores(model, x, method="shifted_ink"), expected)
    assert expected[0] < 0.5 * expected[1]  # the moved digit is still far more normal than the other one
    assert format_score(0.1234, "shifted_ink") == "0.123"
    # offered on MNIST's 28 × 28, not on 8 × 8 digits, which a pixel moves by an eighth
    assert "shifted_ink" in methods_for(model) and "shifted_ink" not in methods_for(VAEConfig(image_shape=(1, 8, 8)))


def test_shifted_elbo_is_the_lowest_elbo_over_the_digit_placed_up_to_a_pixel_away(monkeypatch):
    monkeypatch.setattr(VAE, "reparameterize", staticmethod(lambda mu, logvar, generator=None: mu))  # z = μ
    model = VAE(VAEConfig(hidden=(16,), num_classes=10), seed=0).eval()
    x = torch.zeros(3, 1, 28, 28)
    x[..., 4:24, 5:23] = torch.rand(3, 1, 20, 18)  # blank borders: a roll is a move
    y = torch.tensor([1, 4, 7])
    placements = [x.roll((dy, dx), (-2, -1)) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    expected = torch.stack([elbo_terms(model, m, y).total for m in placements]).min(0).values
    with torch.no_grad():
        assert torch.allclose(shifted_elbo(model, x, y), expected)
        assert torch.allclose(anomaly_scores(model, x, y, method="shifted_elbo"), expected)
        assert (expected <= elbo_terms(model, x, y).total + 1e-4).all()  # as it is is one of the nine
    assert format_score(123.44, "shifted_elbo") == "123.4 nats"
    assert "shifted_elbo" in methods_for(model) and "shifted_elbo" not in methods_for(VAEConfig(image_shape=(1, 8, 8)))
    # a card keeps the −ELBO's accuracy under its old name, the others under their own
    assert generative_accuracy_key("elbo") == "test_generative_accuracy"
    assert generative_accuracy_key("shifted_elbo") == "test_generative_accuracy_shifted_elbo"


def test_conditional_scores_need_the_tested_class():
    model = VAE(VAEConfig(image_shape=(1, 8, 8), hidden=(8,), num_classes=10)).eval()
    x = torch.rand(3, 1, 8, 8)
    assert anomaly_scores(model, x, y=4).shape == (3,)
    with pytest.raises(ValueError, match="reference class"):
        score_protocol(model, torch.zeros(4, 1, 8, 8, dtype=torch.uint8), torch.tensor([0, 0, 1, 1]), [0])


def test_quantile_threshold_arithmetic():
    calibration = np.arange(101, dtype=float)  # 0..100
    assert quantile_threshold(calibration, 0.9) == pytest.approx(90.0)
    assert quantile_threshold(calibration, 0.995) == pytest.approx(99.5)
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError):
            quantile_threshold(calibration, bad)
    # the quantile is a false-alarm budget: about 1 − q of fresh normal scores exceed it
    rng = np.random.default_rng(0)
    threshold = quantile_threshold(rng.normal(size=20_000), 0.95)
    assert np.mean(rng.normal(size=20_000) > threshold) == pytest.approx(0.05, abs=0.006)


def test_conformal_p_value_counts_the_calibration_scores_at_least_as_bad():
    calibration = np.array([1.0, 2.0, 3.0, 4.0])
    assert conformal_p_value(calibration, 5.0) == 1 / 5  # worse than all: only itself
    assert conformal_p_value(calibration, 3.0) == 3 / 5  # 3 and 4 score at least as badly, and itself
    assert conformal_p_value(calibration, 0.0) == 1.0
    rng = np.random.default_rng(0)
    normal, new = rng.normal(size=999), rng.normal(size=20_000)  # exchangeable: P(p ≤ α) ≤ α
    p = np.array([conformal_p_value(normal, s) for s in new[:2000]])
    assert abs(np.mean(p <= 0.1) - 0.1) < 0.02
    with pytest.raises(ValueError):
        conformal_p_value(np.array([]), 1.0)


def test_flagging_quantile_inverts_the_threshold():
    """An image is flagged at q exactly when q is below its flagging quantile."""
    rng = np.random.default_rng(1)
    calibration = rng.gamma(2.0, size=501)
    for score in [*rng.gamma(2.0, size=40), -1.0, 100.0]:
        q_star = flagging_quantile(calibration, score)
        for q in np.linspace(0.001, 0.999, 200):
            if abs(q - q_star) > 1e-9:
                assert (score > quantile_threshold(calibration, q)) == (q < q_star)
    assert flagging_quantile(calibration, -1.0) == 0.0  # less strange than every normal image
    assert flagging_quantile(calibration, 100.0) == 1.0  # stranger than all of them
    with pytest.raises(ValueError):
        flagging_quantile(np.array([]), 1.0)


def test_operating_point_counts():
    scored = ScoredSet(
        calibration=np.array([0.0]),
        scores=np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        is_anomaly=np.array([False, False, False, True, True, True]),
        groups=np.array(["normal"] * 3 + ["anomaly"] * 3),
        labels=np.zeros(6, dtype=int),
        description="",
    )
    op = operating_point(scored, 2.5)  # flags 3, 4, 5, 6
    assert op.confusion.tolist() == [[2, 1], [0, 3]]
    assert op.false_positive_rate == pytest.approx(1 / 3) and op.true_positive_rate == 1.0
    assert op.report["anomaly"]["precision"] == pytest.approx(0.75)
    assert op.report["normal"]["recall"] == pytest.approx(2 / 3)
    assert curves(scored).auroc == 1.0 and curves(scored).average_precision == 1.0


def test_protocol_keeps_calibration_images_out_of_the_evaluation(digits_model):
    model, images, labels = digits_model
    scored = score_protocol(model, images, labels, normal_classes=[0, 1, 2], noise=25)
    n_normal = int(torch.isin(labels, torch.tensor([0, 1, 2])).sum())
    assert len(scored.calibration) + (scored.groups == "normal").sum() == n_normal
    assert (scored.groups == "anomaly").sum() == len(labels) - n_normal
    assert (scored.groups == "noise").sum() == 25 and (scored.labels[scored.groups == "noise"] == -1).all()
    assert scored.is_anomaly.sum() == len(labels) - n_normal + 25
    with pytest.raises(ValueError, match="both normal and anomalous"):
        score_protocol(model, images, labels, normal_classes=list(range(10)))


def test_relative_to_best_other_removes_what_every_class_shares():
    matrix = np.array([[5.0, 1.0, 3.0], [2.0, 2.5, 9.0]])
    assert relative_to_best_other(matrix, 0).tolist() == [4.0, -0.5]  # below 0: class 0 explains it best
    assert relative_to_best_other(matrix, 1).tolist() == [-2.0, 0.5]
    assert relative_to_best_other(matrix, 2).tolist() == [2.0, 7.0]
    # adding a per-image constant (the image's own complexity) changes nothing
    assert relative_to_best_other(matrix + np.array([[100.0], [-3.0]]), 2).tolist() == [2.0, 7.0]


def test_class_score_matrix_and_the_conditional_protocol():
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=(1, 8, 8), hidden=(8,), num_classes=10)).eval()
    images, labels = load_dataset("digits", train=False)
    matrix = class_score_matrix(model, to_float(images[:5]))
    assert matrix.shape == (5, 10)
    torch.testing.assert_close(matrix[:, 3], anomaly_scores(model, to_float(images[:5]), 3))
    scored = score_protocol(model, images, labels, [3], reference_class=3, noise=10)
    full = class_score_matrix(model, to_float(images)).numpy()
    expected = split_protocol(relative_to_best_other(full, 3), labels.numpy(), [3])
    np.testing.assert_allclose(scored.calibration, expected.calibration, rtol=1e-5)
    raw = score_protocol(model, images, labels, [3], reference_class=3, relative=False)
    assert len(raw.scores) == len(scored.scores) - 10
    with pytest.raises(ValueError, match="conditional"):
        class_score_matrix(VAE(VAEConfig(image_shape=(1, 8, 8), hidden=(8,))), to_float(images[:2]))


def test_an_ensemble_scores_each_class_by_its_networks_mean_and_keeps_them_through_a_checkpoint(tmp_path):
    from vae.checkpoint import load_checkpoint, save_checkpoint
    from vae.models import assemble_ensemble

    config = VAEConfig(image_shape=(1, 8, 8), hidden=(8,), num_classes=10)
    members = [VAE(config, seed=seed).eval() for seed in (0, 1, 2)]
    with torch.no_grad():  # to the precision an ensemble keeps its weights in, so that the means below compare
        for parameter in (p for member in members for p in member.parameters()):
            parameter.copy_(parameter.half())
    ensemble = assemble_ensemble(members)
    assert ensemble.config.members == 3 and len(ensemble.networks()) == 3
    x = to_float(load_dataset("digits", train=False)[0][:6])
    alone = [class_score_matrix(member, x, "shifted_elbo") for member in members]
    torch.testing.assert_close(class_score_matrix(ensemble, x, "shifted_elbo"), torch.stack(alone).mean(0))
    three = torch.full((len(x),), 3)
    torch.testing.assert_close(
        ensemble.reconstruct(x, three), members[0].reconstruct(x, three)
    )  # pictures: the first's
    done = []
    class_score_matrix(ensemble, x, "elbo", progress=done.append)
    assert done == sorted(done) and done[-1] == pytest.approx(1.0)  # one bar over all 3 networks × 10 classes
    save_checkpoint(tmp_path / "ensemble.pt", ensemble)
    stored = torch.load(tmp_path / "ensemble.pt", weights_only=True)["state_dict"]
    assert stored["members.1.to_mu.weight"].dtype == torch.float16  # half the bytes: two networks ship ≤ 10 MB
    assert stored["class_code_means"].dtype == torch.float32  # fitted statistics stay as they were
    unrounded = assemble_ensemble([VAE(config, seed=seed).eval() for seed in (0, 1)])
    for model in (ensemble, unrounded):  # assembling rounded the weights already: the file loses nothing
        save_checkpoint(tmp_path / "again.pt", model)
        again, _ = load_checkpoint(tmp_path / "again.pt")
        assert all(torch.equal(t, again.state_dict()[name]) for name, t in model.state_dict().items())
    with pytest.raises(ValueError, match="share one configuration"):
        assemble_ensemble([members[0], VAE(VAEConfig(image_shape=(1, 8, 8), hidden=(9,), num_classes=10))])
    with pytest.raises(ValueError, match="at least 2"):
        assemble_ensemble(members[:1])
    with pytest.raises(ValueError, match="single models"):
        assemble_ensemble([ensemble, ensemble])
    with pytest.raises(ValueError, match="conditional"):
        VAEConfig(image_shape=(1, 8, 8), hidden=(8,), members=2)
    with pytest.raises(ValueError, match="not trained at once"):
        next(train(ensemble, load_dataset("digits", train=True)[0][:10], torch.zeros(10, dtype=torch.long)))


def test_score_histogram_shows_the_anomalies_and_caps_the_noise_tail():
    from vae.plots import score_histogram

    rng = np.random.default_rng(0)
    scores = np.concatenate([rng.normal(0, 1, 1000), rng.normal(6, 1, 1000), np.full(500, 500.0)])
    groups = np.array(["normal"] * 1000 + ["anomaly"] * 1000 + ["noise"] * 500)
    fig = score_histogram(scores, groups, threshold=1.6)
    shown = {trace.name.split(" ")[0]: np.asarray(trace.x) for trace in fig.data}
    high = shown["noise"].max()
    assert high == shown["anomaly"].max() and high < 10  # the noise tail piles up at the edge
    assert np.quantile(scores[1000:2000], 0.75) <= high  # three quarters of the anomalies in view
    clipped = int(np.sum(scores > high))
    assert f"{clipped:,} scores above {high:.3g} shown at {high:.3g}" in fig.layout.xaxis.title.text
    near = np.concatenate([scores[:1000], rng.normal(2, 0.5, 1000)])  # every score below 3 × threshold
    tame = score_histogram(near, groups[:2000], threshold=1.6)
    assert "shown at" not in tame.layout.xaxis.title.text


def test_novelty_scores_of_an_unconditional_model_are_its_plain_scores(digits_model):
    model, images, _ = digits_model
    x = to_float(images[:30])
    np.testing.assert_allclose(novelty_scores(model, x, "recon"), anomaly_scores(model, x, method="recon").numpy())
    with pytest.raises(ValueError, match="unconditional"):
        novelty_scores(model, x, "recon", classes=[1])


def test_novelty_scores_of_a_conditional_model_take_the_best_known_class():
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,), num_classes=10)).eval()
    x = to_float(load_dataset("digits", train=False)[0][:12])
    matrix = class_score_matrix(model, x, "recon").numpy()
    np.testing.assert_allclose(novelty_scores(model, x, "recon"), matrix.min(1), rtol=1e-6)
    np.testing.assert_allclose(novelty_scores(model, x, "recon", classes=[2, 7]), matrix[:, [2, 7]].min(1), rtol=1e-6)
    assert (novelty_scores(model, x, "recon", classes=[2, 7]) >= matrix.min(1) - 1e-6).all()
    for bad in ([], [10], [-1]):
        with pytest.raises(ValueError, match="non-empty list of classes"):
            novelty_scores(model, x, "recon", classes=bad)


def test_the_best_f1_threshold_on_a_hand_computed_case():
    normal, anomalies = [0.1, 0.2, 0.3], [0.25, 0.9]
    scored = ScoredSet(
        calibration=np.array(normal), scores=np.array(normal + anomalies),
        is_anomaly=np.array([False] * 3 + [True] * 2), groups=np.array(["normal"] * 3 + ["anomaly"] * 2),
        labels=np.zeros(5, int), description="",
    )  # fmt: skip
    # flag > 0.2: 0.25, 0.3, 0.9 → precision 2/3, recall 1, F1 0.8 (beats > 0.1 and > 0.3: F1 2/3 each)
    threshold, f1 = best_f1_threshold(scored)
    assert f1 == pytest.approx(0.8)
    assert operating_point(scored, threshold).predicted.tolist() == [False, False, True, True, True]


def test_scoring_reports_its_progress_up_to_the_end(digits_model):
    from vae.anomaly import raw_scores

    model, images, _ = digits_model
    seen: list[float] = []
    x = to_float(images).repeat(4, 1, 1, 1)[:1200]  # the digits test split has fewer than 1,200 images
    raw_scores(model, x, "recon", progress=seen.append)
    assert seen == [500 / 1200, 1000 / 1200, 1.0]
    torch.manual_seed(0)
    cvae = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,), num_classes=10)).eval()
    seen.clear()
    raw_scores(cvae, x[:600], "recon", progress=seen.append)
    assert len(seen) == 20 and seen == sorted(seen) and seen[-1] == 1.0 and seen[1] == pytest.approx(0.1)
