import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence

from vae.losses import (
    elbo_terms,
    importance_sampled_log_likelihood,
    kl_to_standard_normal,
    reconstruction_nll,
)
from vae.models import VAE, VAEConfig

SHAPES = [(1, 28, 28), (1, 8, 8)]


def make_config(shape, arch, conditional, **kw) -> VAEConfig:
    return VAEConfig(
        image_shape=shape,
        latent_dim=3,
        hidden=(32,),
        arch=arch,
        conv_channels=(4, 8),
        num_classes=10 if conditional else 0,
        **kw,
    )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("arch", ["mlp", "conv"])
@pytest.mark.parametrize("conditional", [False, True])
def test_shapes_and_ranges(shape, arch, conditional):
    torch.manual_seed(0)
    model = VAE(make_config(shape, arch, conditional)).eval()
    x = torch.rand(5, *shape)
    y = torch.arange(5) if conditional else None
    mu, logvar = model.encode(x, y)
    assert mu.shape == logvar.shape == (5, 3)
    out = model(x, y)
    assert out.logits.shape == (5, *shape) and out.z.shape == (5, 3)
    decoded = model.decode(mu, y)
    assert decoded.shape == (5, *shape) and decoded.min() >= 0 and decoded.max() <= 1
    assert model.reconstruct(x, y).shape == (5, *shape)
    samples = model.sample(4, y=7 if conditional else None)
    assert samples.shape == (4, *shape)


@pytest.mark.parametrize("shape", [(1, 7, 7), (3, 13, 10)])
def test_conv_handles_odd_sizes_and_colour(shape):
    model = VAE(VAEConfig(image_shape=shape, arch="conv", hidden=(16,), conv_channels=(4, 8)))
    assert model.decode(torch.zeros(2, 2)).shape == (2, *shape)


def test_label_rules_are_enforced():
    plain = VAE(make_config((1, 8, 8), "mlp", False))
    cvae = VAE(make_config((1, 8, 8), "mlp", True))
    x = torch.rand(2, 1, 8, 8)
    with pytest.raises(ValueError, match="unconditional"):
        plain.encode(x, torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="pass y"):
        cvae.encode(x)
    with pytest.raises(ValueError, match=r"0\.\.9"):
        cvae.encode(x, torch.tensor([1, 10]))
    with pytest.raises(ValueError, match="2 labels for 3"):
        cvae.decode(torch.zeros(3, 3), torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="expected images of shape"):
        plain.encode(torch.rand(2, 1, 28, 28))


@pytest.mark.parametrize(
    "bad",
    [
        dict(latent_dim=0),
        dict(hidden=(0,)),
        dict(arch="rnn"),
        dict(beta=-1),
        dict(likelihood="poisson"),
        dict(image_shape=(1, 2, 2), arch="conv"),
        dict(num_classes=10, members=0),
        dict(num_classes=10, members=10**9),  # an untrusted checkpoint's config must not build a billion networks
        dict(num_classes=10, members=2.0),
        dict(fourier_features=-1),
        dict(fourier_features=10**6),  # untrusted: a million features would be a huge first layer
        dict(fourier_features=True),
    ],
)
def test_config_rejects_nonsense(bad):
    with pytest.raises(ValueError):
        VAEConfig(**bad)


def test_config_round_trips_through_plain_dict():
    config = VAEConfig(image_shape=(1, 8, 8), hidden=(10, 5), num_classes=3, beta=4.0)
    assert VAEConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown"):
        VAEConfig.from_dict({**config.to_dict(), "colour": "red"})


def test_fourier_features_feed_the_decoder_sines_and_cosines_of_fixed_frequencies(tmp_path):
    from vae.checkpoint import load_checkpoint, save_checkpoint
    from vae.models import FourierFeatures

    config = VAEConfig(image_shape=(1, 8, 8), hidden=(16,), fourier_features=3)
    model = VAE(config, seed=0)
    features = model.decoder_input
    assert isinstance(features, FourierFeatures)
    z = torch.tensor([[0.5, -1.0]])
    angles = z @ features.frequencies.T
    assert torch.allclose(features(z), torch.cat([z, angles.sin(), angles.cos()], 1))
    assert model.decode(torch.zeros(4, 2)).shape == (4, 1, 8, 8)
    assert features.frequencies.std() > 0.3  # drawn, not left at zero like the fitted statistics
    assert torch.equal(VAE(config, seed=0).decoder_input.frequencies, features.frequencies)  # the seed draws them
    assert not torch.equal(VAE(config, seed=1).decoder_input.frequencies, features.frequencies)
    assert all(p.data_ptr() != features.frequencies.data_ptr() for p in model.parameters())  # never trained
    save_checkpoint(tmp_path / "f.pt", model, {"name": "f"})
    loaded, _ = load_checkpoint(tmp_path / "f.pt")
    assert torch.equal(loaded.decoder_input.frequencies, features.frequencies)
    assert torch.equal(loaded.decode(z), model.decode(z))


def test_kl_matches_torch_distributions():
    torch.manual_seed(0)
    mu, logvar = torch.randn(6, 4), torch.randn(6, 4)
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(torch.zeros(4), torch.ones(4))
    expected = kl_divergence(q, p).sum(1)
    torch.testing.assert_close(kl_to_standard_normal(mu, logvar), expected)


def test_reconstruction_nll_matches_distributions():
    torch.manual_seed(0)
    x = torch.rand(3, 1, 8, 8)
    logits = torch.randn(3, 1, 8, 8) * 3
    bern = VAE(VAEConfig(image_shape=(1, 8, 8)))
    # grayscale targets are outside Bernoulli's {0, 1} support check, but the formula is the same
    expected = -Bernoulli(logits=logits, validate_args=False).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(reconstruction_nll(bern, logits, x), expected)
    gauss = VAE(VAEConfig(image_shape=(1, 8, 8), likelihood="gaussian", gaussian_std=0.2))
    expected = -Normal(torch.sigmoid(logits), 0.2).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(reconstruction_nll(gauss, logits, x), expected)


def test_extreme_logits_stay_finite():
    model = VAE(VAEConfig(image_shape=(1, 8, 8)))
    x = torch.randint(0, 2, (2, 1, 8, 8)).float()
    assert torch.isfinite(reconstruction_nll(model, torch.full((2, 1, 8, 8), 1e4), x)).all()


def test_importance_sampling_tightens_the_bound():
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,))).eval()
    with torch.no_grad():  # a poor, over-confident posterior far from the prior: a loose ELBO
        model.to_mu.bias.fill_(2.0)
        model.to_logvar.bias.fill_(-4.0)
    x = torch.rand(20, 1, 8, 8)
    with torch.no_grad():
        neg_elbo = torch.stack([elbo_terms(model, x).total for _ in range(200)]).mean(0)
    gen = torch.Generator().manual_seed(0)
    ll_1 = importance_sampled_log_likelihood(model, x, k=1, generator=gen)
    ll_500 = importance_sampled_log_likelihood(model, x, k=500, generator=gen)
    assert ll_1.shape == (20,)
    # K=1 is a one-sample ELBO; many samples give a higher (tighter) bound on log p(x).
    assert (ll_500 > -neg_elbo).all()
    assert ll_500.mean() > ll_1.mean()


def test_importance_sampling_for_conditional_models():
    model = VAE(VAEConfig(image_shape=(1, 8, 8), hidden=(16,), num_classes=10)).eval()
    x = torch.rand(4, 1, 8, 8)
    ll = importance_sampled_log_likelihood(model, x, torch.tensor([0, 1, 2, 3]), k=30, chunk=7)
    assert ll.shape == (4,) and torch.isfinite(ll).all()
