import pytest
import torch

from vae.generation import class_table, fit_class_codes, has_class_codes, sample_grid, samples_like
from vae.latent import clustering_nmi, encode_dataset, interpolate, manifold, pca_2d, prior_grid, traversal
from vae.models import VAE, VAEConfig


def vae(latent_dim=2, num_classes=0) -> VAE:
    torch.manual_seed(0)
    return VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=latent_dim, hidden=(16,), num_classes=num_classes)).eval()


def test_prior_grid_follows_the_normal_quantiles():
    axis, z = prior_grid(5, 0.05, 0.95)
    torch.testing.assert_close(axis[[0, 2, 4]], torch.tensor([-1.6449, 0.0, 1.6449]), atol=1e-4, rtol=0)
    assert z.shape == (25, 2)
    # row-major, top row has the largest z2; columns run left to right in z1
    assert torch.equal(z[0], torch.tensor([axis[0], axis[-1]]))
    assert torch.equal(z[4], torch.tensor([axis[-1], axis[-1]]))
    assert torch.equal(z[-1], torch.tensor([axis[-1], axis[0]]))
    for bad in ((0.0, 0.9), (0.5, 0.5), (0.2, 1.0)):
        with pytest.raises(ValueError):
            prior_grid(3, *bad)


def test_manifold_decodes_the_grid():
    model = vae()
    images = manifold(model, n=4)
    _, z = prior_grid(4)
    assert images.shape == (16, 1, 8, 8)
    torch.testing.assert_close(images, model.decode(z))
    assert manifold(vae(num_classes=10), n=3, y=7).shape == (9, 1, 8, 8)
    with pytest.raises(ValueError, match="2-D latent"):
        manifold(vae(latent_dim=3))


def test_interpolation_starts_and_ends_at_the_endpoints():
    model = vae()
    a, b = torch.tensor([-1.0, 2.0]), torch.tensor([1.5, -0.5])
    frames = interpolate(model, a, b, steps=6)
    assert frames.shape == (6, 1, 8, 8)
    torch.testing.assert_close(frames[0], model.decode(a[None])[0])
    torch.testing.assert_close(frames[-1], model.decode(b[None])[0])
    with pytest.raises(ValueError):
        interpolate(model, a, b, steps=1)


def test_traversal_varies_one_dimension_per_row():
    model = vae(latent_dim=4)
    z = torch.tensor([0.1, 0.2, 0.3, 0.4])
    values = torch.linspace(-2, 2, 5)
    images = traversal(model, z, values, dims=[1, 3])
    assert images.shape == (10, 1, 8, 8)
    expected_row_2 = z.repeat(5, 1)
    expected_row_2[:, 3] = values
    torch.testing.assert_close(images[5:], model.decode(expected_row_2))


def test_pca_keeps_the_dominant_direction():
    torch.manual_seed(0)
    t = torch.randn(500, 1)
    codes = torch.cat([3 * t, 0.5 * torch.randn(500, 1), 0.01 * torch.randn(500, 3)], dim=1) + 7
    projection = pca_2d(codes)
    assert projection.points.shape == (500, 2)
    assert abs(projection.components[0, 0]) > 0.99  # first direction is the stretched axis
    assert projection.explained[0] > 0.9 and projection.explained[0] + projection.explained[1] > 0.99
    torch.testing.assert_close(projection.points.mean(0), torch.zeros(2), atol=1e-4, rtol=0)
    with pytest.raises(ValueError):
        pca_2d(torch.randn(10, 1))


def test_clustering_nmi_separates_clear_clusters_from_noise():
    torch.manual_seed(0)
    labels = torch.arange(3).repeat_interleave(100)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    clear = centres[labels] + 0.5 * torch.randn(300, 2)
    assert clustering_nmi(clear, labels) > 0.95
    assert clustering_nmi(torch.randn(300, 2), labels) < 0.1


def test_encode_dataset_matches_encode():
    model = vae(num_classes=10)
    images = torch.randint(0, 256, (7, 1, 8, 8), dtype=torch.uint8)
    labels = torch.arange(7)
    mu, logvar = encode_dataset(model, images, labels, batch_size=3)
    expected_mu, _ = model.encode(images.float() / 255, labels)
    torch.testing.assert_close(mu, expected_mu)
    assert logvar.shape == (7, 2)


def test_generation_shapes_seeds_and_temperature():
    model = vae()
    grid = sample_grid(model, 3, 4, seed=1)
    assert grid.shape == (12, 1, 8, 8) and torch.equal(grid, sample_grid(model, 3, 4, seed=1))
    assert not torch.equal(grid, sample_grid(model, 3, 4, seed=2))
    cold = sample_grid(model, 1, 5, temperature=0.0)
    assert torch.allclose(cold, cold[0].expand_as(cold))  # temperature 0: every sample is the prior mean
    with pytest.raises(ValueError):
        sample_grid(model, 2, 2, temperature=-1)


def test_class_table_shares_z_along_columns():
    model = vae(num_classes=10)
    table = class_table(model, cols=3, seed=0).reshape(10, 3, 1, 8, 8)
    z = 1.0 * torch.randn(3, 2, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(table[4], model.decode(z, torch.full((3,), 4)))
    with pytest.raises(ValueError, match="conditional"):
        class_table(vae())


def test_samples_like_stay_near_the_original_code():
    model = vae()
    x = torch.rand(1, 1, 8, 8)
    near = samples_like(model, x, n=6, spread=0.0)
    torch.testing.assert_close(near, model.reconstruct(x).expand(6, -1, -1, -1))
    assert samples_like(model, x, n=4, spread=2.0).shape == (4, 1, 8, 8)
    wide, hot = samples_like(model, x, n=8, spread=1.0), samples_like(model, x, n=8, spread=1.0, temperature=2.0)
    cold = samples_like(model, x, n=8, spread=1.0, temperature=0.0)
    torch.testing.assert_close(cold, near[:1].expand(8, -1, -1, -1))  # temperature 0: no draw at all
    assert (hot - near[:1]).abs().mean() > (wide - near[:1]).abs().mean()  # hotter wanders further


def test_class_codes_are_the_mean_and_covariance_of_each_class_posterior():
    model = vae(latent_dim=3, num_classes=10)
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (60, 1, 8, 8), dtype=torch.uint8, generator=generator)
    labels = torch.arange(60) % 5  # classes 5-9 have no images
    assert not has_class_codes(model)
    fit_class_codes(model, images, labels, batch_size=7)
    mu, logvar = model.encode(images.float() / 255, labels)
    for c in range(5):
        of_c = labels == c
        expected = torch.cov(mu[of_c].T, correction=0) + torch.diag(logvar[of_c].exp().mean(0))
        torch.testing.assert_close(model.class_code_means[c], mu[of_c].mean(0), atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(model.class_code_covariances[c], expected, atol=1e-5, rtol=1e-4)
    assert not model.class_code_covariances[5:].any() and not has_class_codes(model)  # not every class: prior only
    with pytest.raises(ValueError, match="fitted"):
        sample_grid(model, 1, 2, y=1, codes="class")
    fit_class_codes(model, images, torch.arange(60) % 10)
    assert has_class_codes(model)
    with pytest.raises(ValueError, match="conditional"):
        fit_class_codes(vae(), images, labels)


def test_codes_from_a_class_are_drawn_around_where_its_digits_lie():
    model = vae(latent_dim=3, num_classes=10)
    fit_class_codes(model, torch.randint(0, 256, (40, 1, 8, 8), dtype=torch.uint8), torch.arange(40) % 10)
    cold = sample_grid(model, 1, 4, y=6, temperature=0.0, codes="class")
    torch.testing.assert_close(cold, model.decode(model.class_code_means[[6] * 4], torch.full((4,), 6)))
    model.class_code_means[6] = 0.0
    scale = torch.tensor([[2.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, -0.5, 0.5]])  # lower triangular
    model.class_code_covariances[6] = scale @ scale.T
    noise = torch.randn(5, 3, generator=torch.Generator().manual_seed(2))
    expected = model.decode(noise @ scale.T, torch.full((5,), 6))
    torch.testing.assert_close(sample_grid(model, 1, 5, y=6, seed=2, codes="class"), expected)
    table = class_table(model, cols=5, seed=2, codes="class").reshape(10, 5, 1, 8, 8)
    torch.testing.assert_close(table[6], expected)  # each row's draws placed where its class lies
    assert not torch.allclose(table[6], class_table(model, cols=5, seed=2).reshape(10, 5, 1, 8, 8)[6])
    with pytest.raises(ValueError, match="prior, class"):
        sample_grid(model, 1, 1, y=0, codes="posterior")
    model.class_code_covariances[3] = -torch.eye(3)  # not a covariance (a hostile checkpoint): prior only
    assert not has_class_codes(model)


def test_class_codes_travel_in_the_checkpoint_and_older_checkpoints_load_without_them():
    import io

    from vae.checkpoint import load_checkpoint, save_checkpoint

    model = vae(latent_dim=3, num_classes=10)
    fit_class_codes(model, torch.randint(0, 256, (30, 1, 8, 8), dtype=torch.uint8), torch.arange(30) % 10)
    buffer = io.BytesIO()
    save_checkpoint(buffer, model)
    loaded, _ = load_checkpoint(buffer.getvalue())
    assert has_class_codes(loaded)
    torch.testing.assert_close(loaded.class_code_covariances, model.class_code_covariances)
    payload = torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)
    del payload["state_dict"]["class_code_means"], payload["state_dict"]["class_code_covariances"]  # as before 0.x
    old = io.BytesIO()
    torch.save(payload, old)
    loaded, _ = load_checkpoint(old.getvalue())
    assert not has_class_codes(loaded) and sample_grid(loaded, 1, 2, y=3).shape == (2, 1, 8, 8)
