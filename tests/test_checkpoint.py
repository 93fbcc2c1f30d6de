import io
import pickle

import pytest
import torch

from tests.conftest import CreatesAFile
from vae.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint, save_checkpoint
from vae.models import VAE, VAEConfig


@pytest.fixture
def model() -> VAE:
    torch.manual_seed(0)
    return VAE(VAEConfig(image_shape=(1, 8, 8), hidden=(16,), num_classes=10, latent_dim=3))


def test_round_trip_keeps_weights_config_and_meta(tmp_path, model):
    meta = {"dataset": "digits", "history": [{"epoch": 1, "test_total": 30.5}], "classes": [0, 1]}
    save_checkpoint(tmp_path / "m.pt", model, meta)
    loaded, loaded_meta = load_checkpoint(tmp_path / "m.pt")
    assert loaded.config == model.config and loaded_meta == meta and not loaded.training
    z, y = torch.randn(4, 3), torch.tensor([0, 1, 2, 3])
    torch.testing.assert_close(loaded.decode(z, y), model.eval().decode(z, y))


def test_round_trip_through_bytes(model):
    loaded, _ = load_checkpoint(checkpoint_bytes(model, {"name": "x"}))
    for a, b in zip(loaded.state_dict().values(), model.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_metadata_must_be_plain_data(tmp_path, model):
    with pytest.raises(TypeError, match="plain data"):
        save_checkpoint(tmp_path / "m.pt", model, {"when": torch.__version__})


@pytest.mark.parametrize("zip_format", [True, False])
def test_code_in_a_pickle_is_refused_without_running(tmp_path, zip_format):
    marker = tmp_path / "pwned.txt"
    payload = {"format_version": 1, "config": {}, "state_dict": {}, "meta": CreatesAFile(marker)}
    path = tmp_path / "evil.pt"
    if zip_format:
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(CheckpointError, match="refused without running"):
        load_checkpoint(path)
    assert not marker.exists()
    # the control: an ordinary unpickle really would have created the file
    if not zip_format:
        pickle.loads(path.read_bytes()).get("meta").close()
        assert marker.exists()


def test_truncated_file(tmp_path, model):
    data = checkpoint_bytes(model)
    with pytest.raises(CheckpointError, match="not a readable PyTorch checkpoint"):
        load_checkpoint(data[: len(data) // 2])


@pytest.mark.parametrize("content", [b"", b"hello, world", bytes(range(256)) * 40, b"\x89PNG\r\n\x1a\n" + b"\0" * 100])
def test_not_a_checkpoint_at_all(content):
    with pytest.raises(CheckpointError):
        load_checkpoint(content)


def test_a_torch_file_that_is_not_ours():
    buffer = io.BytesIO()
    torch.save({"weights": torch.zeros(3)}, buffer)
    with pytest.raises(CheckpointError, match="not a VAE Lab checkpoint"):
        load_checkpoint(buffer.getvalue())


def test_weights_for_another_architecture(model):
    other = VAE(VAEConfig(image_shape=(1, 8, 8), hidden=(16,), num_classes=10, latent_dim=5))
    buffer = io.BytesIO()
    torch.save(
        {"format_version": 1, "config": model.config.to_dict(), "state_dict": other.state_dict(), "meta": {}}, buffer
    )
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(buffer.getvalue())


def test_unknown_version_and_bad_config(model):
    for change, message in (({"format_version": 99}, "version 99"), ({"config": {"latent_dim": -1}}, "invalid")):
        buffer = io.BytesIO()
        payload = {"format_version": 1, "config": model.config.to_dict(), "state_dict": model.state_dict(), "meta": {}}
        torch.save({**payload, **change}, buffer)
        with pytest.raises(CheckpointError, match=message):
            load_checkpoint(buffer.getvalue())


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="No checkpoint file"):
        load_checkpoint(tmp_path / "absent.pt")


def test_a_saved_checkpoint_is_an_ordinary_readable_file(tmp_path):
    save_checkpoint(tmp_path / "m.pt", VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,))))
    assert (tmp_path / "m.pt").stat().st_mode & 0o777 == 0o644  # not mkstemp's private 0600
