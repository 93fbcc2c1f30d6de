"""Hostile and odd input: each gets a clear message, the app keeps working, and nothing is lost.

Checkpoint uploads, image uploads and drawings in the Anomaly lab, a fuzz of the library's upload
paths, odd training settings, and the shared shipped models staying bit-identical while sessions
use them. Most app tests use a tiny untrained model of 8×8 `digits` images: fast, and no MNIST needed.
"""

from __future__ import annotations

import io
import pickle
import re
import struct
import tomllib
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

import ui.training
from tests.conftest import REPO, CreatesAFile, needs_mnist
from tests.test_app import PAGES, canvas_state, fill_train_form, picker, start
from ui.models import _load_shipped, max_upload_mb, shipped_names
from vae.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint
from vae.models import VAE, VAEConfig
from vae.preprocess import BlankImageError, UnreadableImageError, drawing_to_mnist, read_image

pytestmark = pytest.mark.usefixtures("app_data_dir")


# --- helpers --------------------------------------------------------------------------------------
def tiny_checkpoint(meta: dict | None = None, seed: int = 0, **config) -> bytes:
    """An untrained small model's checkpoint: 8×8 images like `digits`, unless `config` says otherwise."""
    torch.manual_seed(seed)
    model = VAE(VAEConfig(**{"image_shape": (1, 8, 8), "latent_dim": 2, "hidden": (16,), **config}))
    return checkpoint_bytes(model, {"dataset": "digits"} if meta is None else meta)


def raw_checkpoint(config: dict, state_dict: dict, meta: object = None) -> bytes:
    """A checkpoint written by hand, so that its parts can disagree."""
    buffer = io.BytesIO()
    torch.save({"format_version": 1, "config": config, "state_dict": state_dict, "meta": meta or {}}, buffer)
    return buffer.getvalue()


def text_of(elements) -> str:
    """The text of some message elements (errors, captions…), joined."""
    return " ".join(element.value for element in elements)


def upload_checkpoint(at: AppTest, name: str, data: bytes) -> AppTest:
    """Put a file in the sidebar's checkpoint uploader and rerun."""
    return at.sidebar.file_uploader[0].upload(name, data).run()


def start_with_upload(data: bytes, page: str | None = None) -> tuple[AppTest, str]:
    """The app with a good checkpoint uploaded and selected (optionally on `page`) → (app, the model's id)."""
    at = start()
    upload_checkpoint(at, "good.pt", data)
    assert not at.exception and not at.sidebar.error, text_of(at.sidebar.error)
    model_id = picker(at).value
    assert model_id.startswith("uploaded-")
    if page:
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at, model_id


def visit_every_page(at: AppTest) -> dict[str, list[str]]:
    """Render each page, failing on any exception → the error messages each page showed."""
    errors = {}
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        errors[page] = [e.value for e in at.main.error]
    return errors


def png(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    """The image saved as a file (PNG unless `fmt` says otherwise)."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def photo_of_a_seven(mode: str = "L", size: int = 200) -> Image.Image:
    """A dark 7 on light paper, the way a phone photo or scan of a digit looks."""
    image = Image.new("RGB", (size, size), (235, 230, 225))
    corners = [(0.2, 0.2), (0.8, 0.2), (0.4, 0.85)]
    ImageDraw.Draw(image).line([(x * size, y * size) for x, y in corners], fill=(25, 25, 40), width=size // 12)
    return image.convert(mode)


# --- 1. checkpoint uploads --------------------------------------------------------------------------
def pickle_that_runs_code(marker: Path) -> bytes:
    """The legacy (non-zip) torch format: a bare pickle whose unpickling would create `marker`.

    (test_checkpoint shows that a plain `pickle.loads` of these bytes does create it.)
    """
    return pickle.dumps({"format_version": 1, "config": {}, "state_dict": {}, "meta": CreatesAFile(marker)}, protocol=2)


def weights_for_another_config(_: Path) -> bytes:
    small, other = VAE(VAEConfig(image_shape=(1, 8, 8), hidden=(16,))), VAE(VAEConfig(image_shape=(1, 8, 8)))
    return raw_checkpoint(small.config.to_dict(), other.state_dict())


def config_for_a_giant_model(_: Path) -> bytes:
    """A few kilobytes that describe a model of 10¹² weights: building it would exhaust memory."""
    model = VAE(VAEConfig(image_shape=(1, 8, 8), hidden=(16,)))
    return raw_checkpoint({**model.config.to_dict(), "hidden": [1_000_000, 1_000_000]}, model.state_dict())


def nan_weights(_: Path) -> bytes:
    model = VAE(VAEConfig(image_shape=(1, 8, 8), hidden=(16,)))
    return raw_checkpoint(model.config.to_dict(), {k: v * float("nan") for k, v in model.state_dict().items()})


def oversize(_: Path) -> bytes:
    """A *valid* checkpoint just over the limit (long metadata): only the size check can refuse it."""
    return tiny_checkpoint(meta={"dataset": "digits", "notes": "x" * (max_upload_mb() * 2**20)})


REFUSED_CHECKPOINTS: dict[str, tuple[Callable[[Path], bytes], str]] = {  # case → (bytes from tmp_path, message)
    "legacy pickle that runs code": (pickle_that_runs_code, "refused without running it"),
    "truncated checkpoint": (lambda _: tiny_checkpoint()[:-1000], "not a readable PyTorch checkpoint"),
    "weights for another config": (weights_for_another_config, "weights do not fit the model"),
    "config for a giant model": (config_for_a_giant_model, "VAE Lab loads at most"),
    "NaN weights": (nan_weights, "contains NaN or infinite values"),
    "fractional latent size": (
        lambda _: raw_checkpoint({**VAEConfig().to_dict(), "latent_dim": 2.5}, {}),
        "latent_dim must be a whole number, got 2.5",
    ),
    "PNG named .pt": (lambda _: png(photo_of_a_seven()), "not a readable PyTorch checkpoint"),
    "oversize": (oversize, f"limited to {max_upload_mb()} MB"),
}


@pytest.mark.parametrize("case", REFUSED_CHECKPOINTS)
def test_a_refused_checkpoint_keeps_the_chosen_model_and_every_page(case, tmp_path):
    make, message = REFUSED_CHECKPOINTS[case]
    at, good_id = start_with_upload(tiny_checkpoint())
    upload_checkpoint(at, "x.pt", make(tmp_path / "pwned"))
    assert not at.exception, at.exception
    errors = text_of(at.sidebar.error)
    assert "x.pt" in errors and message in errors
    assert not (tmp_path / "pwned").exists()  # no code ran
    assert picker(at).value == good_id  # still the model chosen before, not lost
    assert list(at.session_state["session_models"]) == [good_id]
    visit_every_page(at)
    assert picker(at).value == good_id


def test_the_upload_limit_matches_the_browsers():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == max_upload_mb()


NO_TEST_SET = {  # case → (checkpoint, what the pages needing a test set say)
    "3×32×32 images": (
        lambda: tiny_checkpoint(meta={}, image_shape=(3, 32, 32)),
        "takes 3×32×32 images, which no dataset here has",
    ),
    "3×32×32 images said to be MNIST": (
        lambda: tiny_checkpoint(meta={"dataset": "mnist"}, image_shape=(3, 32, 32)),
        "says it was trained on mnist, whose images are 1×28×28, but the model takes 3×32×32 images",
    ),
    "conditional on 20 classes": (lambda: tiny_checkpoint(num_classes=20), "conditional on 20 classes"),
}


def test_nonsense_metadata_is_ignored_where_the_pages_would_trip_on_it():
    nonsense = {"dataset": 5, "classes": "all of them", "metrics": {"test_neg_elbo": "great"}, "name": ["x"]}
    at, model_id = start_with_upload(tiny_checkpoint(meta=nonsense))
    visit_every_page(at)
    assert picker(at).value == model_id
    assert "?" in text_of(at.sidebar.caption)  # the card: dataset unknown, no score


@pytest.mark.parametrize("case", NO_TEST_SET)
def test_a_checkpoint_no_dataset_fits_is_explained_where_a_test_set_is_needed(case):
    make, reason = NO_TEST_SET[case]
    at, model_id = start_with_upload(make())  # well-formed: it is accepted
    errors = visit_every_page(at)
    for page in ("app_pages/explore.py", "app_pages/anomaly.py"):
        assert any(reason in e and "no test set to use it with" in e for e in errors[page]), errors[page]
    assert not errors["app_pages/home.py"] and not errors["app_pages/train.py"]
    at.switch_page("app_pages/generate.py").run()
    assert at.image, "the prior still generates images"
    assert picker(at).value == model_id


# --- 2. image uploads in the Anomaly lab -------------------------------------------------------------
def png_bomb(width: int, height: int) -> bytes:
    """A genuine 1-bit PNG of width × height black pixels: a few hundred kB that decode to width·height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit per pixel, grayscale
    rows = zlib.compress(bytes((1 + -(-width // 8)) * height), 1)  # each row: filter byte 0, then zeros
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def animated_gif() -> bytes:
    """Two frames: a 7, then a blank page (a verdict means the first frame was scored)."""
    seven, blank = photo_of_a_seven(), Image.new("L", (200, 200), 235)
    return png(seven, "GIF", save_all=True, append_images=[blank], duration=100, loop=0)


class OddImage(NamedTuple):
    make: Callable[[], bytes]
    is_what_it_says: Callable[[Image.Image], bool] | None  # checks the file Pillow opens (None: it cannot)
    expected: str  # "verdict", or "error: …" / "info: …" with words the message contains


IMAGES = {
    "truncated PNG": OddImage(lambda: png(photo_of_a_seven())[:400], None, "error: not an image that can be read"),
    "text": OddImage(lambda: b"Dear diary, today I met a VAE.\n" * 20, None, "error: not an image that can be read"),
    "1×1 pixel": OddImage(lambda: png(Image.new("L", (1, 1), 255)), lambda im: im.size == (1, 1), "info: looks blank"),
    "20000×20000 PNG bomb": OddImage(
        lambda: png_bomb(20_000, 20_000), None, "error: too large: the limit is 25,000,000 pixels"
    ),  # Pillow itself refuses to open it
    "6000×6000 PNG": OddImage(
        lambda: png_bomb(6000, 6000), lambda im: im.size == (6000, 6000), "error: 6000×6000 pixels; the limit is"
    ),  # Pillow opens it: the app's own guard refuses it
    "16-bit PNG": OddImage(
        lambda: png(Image.fromarray(np.asarray(photo_of_a_seven()).astype(np.uint16) * 257)),
        lambda im: im.mode == "I;16",
        "verdict",
    ),
    "palette PNG": OddImage(lambda: png(photo_of_a_seven("P")), lambda im: im.mode == "P", "verdict"),
    "CMYK JPEG": OddImage(lambda: png(photo_of_a_seven("CMYK"), "JPEG"), lambda im: im.mode == "CMYK", "verdict"),
    "transparent RGBA PNG": OddImage(
        lambda: png(Image.new("RGBA", (120, 120), (255, 0, 0, 0))), lambda im: im.mode == "RGBA", "info: looks blank"
    ),
    "animated GIF": OddImage(animated_gif, lambda im: im.n_frames == 2, "verdict"),
}


def probe_outcome(at: AppTest) -> str:
    """What the Anomaly lab says about the drawn or uploaded digit: a verdict, an error or an info."""
    standing = [i.value for i in at.main.info if i.value.startswith("Your digit scores")]
    at_q = [m.value for m in [*at.main.success, *at.main.error] if m.value.startswith("At q = ")]
    assert len(standing) == len(at_q), (standing, at_q)  # a scored digit: where it stands, and the verdict at q
    verdicts = [f"{s} {v}" for s, v in zip(standing, at_q, strict=True)]
    errors = [e.value for e in at.main.error if not e.value.startswith("At q = ")]
    infos = [i.value for i in at.main.info if not i.value.startswith("Your digit scores")]
    for text in verdicts + errors + infos:
        assert not re.search(r"\bnan\b", text, re.IGNORECASE), text
    outcomes = [f"verdict: {v}" for v in verdicts] + [f"error: {e}" for e in errors] + [f"info: {i}" for i in infos]
    assert len(outcomes) == 1, outcomes
    return outcomes[0]


@pytest.mark.parametrize("case", IMAGES)
def test_an_odd_image_upload_gets_a_verdict_or_a_message(case):
    make, is_what_it_says, expected = IMAGES[case]
    data = make()
    if is_what_it_says is not None:
        assert is_what_it_says(Image.open(io.BytesIO(data)))
    at, _ = start_with_upload(tiny_checkpoint(), "app_pages/anomaly.py")
    uploader = next(u for u in at.file_uploader if u.label == "…or upload an image")
    uploader.upload(f"{case}.png", data).run()
    assert not at.exception, at.exception
    outcome = probe_outcome(at)
    kind, _, words = expected.partition(": ")
    assert outcome.startswith(kind) and words in outcome, outcome
    if kind != "verdict":
        assert f"{case}.png" in outcome  # the message names the file


# --- 3. fuzz: random and mutated bytes through the library's upload paths ----------------------------
def seed_files() -> list[bytes]:
    """Real files of every kind the upload paths see: images in several formats, and a checkpoint."""
    seven = photo_of_a_seven(size=64)
    return [
        png(seven),
        png(seven.convert("RGBA")),
        png(seven.convert("P")),
        png(Image.fromarray(np.asarray(seven).astype(np.uint16) * 257)),
        png(seven.convert("RGB"), "JPEG"),
        png(seven.convert("CMYK"), "JPEG"),
        png(seven, "GIF", save_all=True, append_images=[seven.rotate(90)]),
        png(seven, "BMP"),
        png(seven, "TIFF"),
        png(seven, "WEBP"),
        tiny_checkpoint(),
    ]


def fuzz_inputs(count: int, seed: int = 0) -> Iterator[bytes]:
    """Mutated real files (bits flipped, cut short, bytes inserted or overwritten) and pure random bytes."""
    rng = np.random.default_rng(seed)
    seeds = seed_files()
    for n in range(count):
        if n % 4 == 3:
            yield rng.bytes(int(rng.integers(0, 4000)))
            continue
        data = bytearray(seeds[rng.integers(len(seeds))])
        at = int(rng.integers(len(data)))
        if n % 4 == 0:  # flip a few bits
            for position in rng.integers(0, len(data), int(rng.integers(1, 12))):
                data[position] ^= 1 << int(rng.integers(8))
        elif n % 4 == 1:  # cut short
            data = data[:at]
        else:  # replace 0 to 15 bytes (0: an insertion) by 1 to 15 random ones
            data[at : at + int(rng.integers(0, 16))] = rng.bytes(int(rng.integers(1, 16)))
        yield bytes(data)


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch and Pillow warn about what they are refusing
def test_fuzzed_uploads_raise_only_the_documented_errors():
    failures, readable_images, readable_checkpoints = [], 0, 0
    for n, data in enumerate(fuzz_inputs(1000)):
        try:
            digit = drawing_to_mnist(read_image(data))
            readable_images += 1
            if digit.shape != (1, 1, 28, 28) or not torch.isfinite(digit).all() or digit.min() < 0 or digit.max() > 1:
                failures.append(f"#{n} image: bad tensor {digit.shape}, range {digit.min()}..{digit.max()}")
        except (BlankImageError, UnreadableImageError):
            pass
        except Exception as err:
            failures.append(f"#{n} image ({data[:12]!r}…, {len(data)} bytes): {type(err).__name__}: {err}")
        try:
            load_checkpoint(data)
            readable_checkpoints += 1
        except CheckpointError:
            pass
        except Exception as err:
            failures.append(f"#{n} checkpoint ({data[:12]!r}…, {len(data)} bytes): {type(err).__name__}: {err}")
    assert failures == []
    assert readable_images > 50 and readable_checkpoints > 0  # the mutations are not all trivially broken


# --- 4. the canvas ----------------------------------------------------------------------------------
def dot() -> Image.Image:
    """One click on the canvas: a dot as wide as the pen (20 px)."""
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 255))  # the canvas background is opaque black
    ImageDraw.Draw(image).ellipse([130, 130, 150, 150], fill=(255, 255, 255, 255))
    return image


CANVASES: dict[str, tuple[dict, tuple[str, ...]]] = {  # case → (canvas state, acceptable outcomes)
    "blank": (canvas_state(draw=False), ("info: Nothing drawn yet",)),
    "a single dot": (canvas_state(image=dot()), ("verdict", "info: Nothing drawn yet")),
    "all white": (canvas_state(image=Image.new("RGBA", (280, 280), (255, 255, 255, 255))), ("verdict",)),
}


@pytest.mark.parametrize("case", CANVASES)
def test_odd_drawings(case):
    state, acceptable = CANVASES[case]
    at, _ = start_with_upload(tiny_checkpoint(), "app_pages/anomaly.py")
    at.session_state["canvas_0"] = state
    at.run()
    assert not at.exception, at.exception
    outcome = probe_outcome(at)
    assert outcome.startswith(acceptable), outcome


# --- 5. odd training settings -----------------------------------------------------------------------
def train_digits(at: AppTest, **settings) -> AppTest:
    """Fill the Train form (digits, small and quick unless `settings` say otherwise) and click Train."""
    fill_train_form(at, **{"dataset": "digits", "epochs": 2, "hidden": 64, **settings})
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def test_a_learning_rate_of_10_diverges_and_says_nothing_was_kept():
    at = start("app_pages/train.py")
    before = picker(at).value
    train_digits(at, lr=10.0)
    message = text_of(at.error)
    assert "Training diverged" in message and "smaller learning rate" in message
    assert "No epoch finished: no model was kept." in message
    assert picker(at).value == before
    assert not at.session_state["session_models"]


def poisoned_after(epochs: int):
    """ui.training's `train`, with NaN weights after `epochs` epochs: the run then diverges for real.

    A learning rate of 10 diverges in the first epoch on digits; this makes a later divergence certain.
    """
    real_train = ui.training.train

    def train(model: VAE, *args, **kwargs):
        for event in real_train(model, *args, **kwargs):
            yield event
            if event.kind == "epoch" and event.epoch == epochs:
                with torch.no_grad():
                    model.to_mu.weight.fill_(float("nan"))

    return train


def test_divergence_after_some_epochs_keeps_and_selects_the_last_good_one(monkeypatch):
    monkeypatch.setattr(ui.training, "train", poisoned_after(2))
    at = train_digits(start("app_pages/train.py"), epochs=5)
    assert "Training diverged" in text_of(at.error)
    assert "The model from epoch 2 was kept and selected." in text_of(at.error)
    kept = at.session_state["session_models"][picker(at).value]
    assert kept.meta["epochs"] == 2 and kept.meta["status"] == "diverged"
    assert all(torch.isfinite(p).all() for p in kept.model.parameters())


def test_a_one_dimensional_code_works_on_every_page():
    at = train_digits(start("app_pages/train.py"), latent_dim=1)
    assert any("Trained 2 epochs" in s.value for s in at.success)
    assert "z=1" in text_of(at.sidebar.caption)
    errors = visit_every_page(at)
    assert not any(errors.values()), errors
    at.switch_page("app_pages/explore.py").run()
    assert any("jittered" in chart.proto.spec for chart in at.get("plotly_chart"))  # the strip plot of z₁
    assert any("Row d varies latent dimension d" in c.value for c in at.caption)  # the traversal


def test_a_batch_larger_than_the_dataset_trains():
    at = train_digits(start("app_pages/train.py"), batch_size=4096)
    assert any("Trained 2 epochs on 1,438 images" in s.value for s in at.success)
    assert picker(at).value.startswith("trained-")


# --- 6. the shipped models are shared by every session: nothing may change them ------------------------
@needs_mnist
def test_shipped_models_stay_bit_identical_while_sessions_use_them_and_train():
    shared = {name: _load_shipped(name)[0] for name in shipped_names()}  # the server-wide cached objects
    at = start()
    for name in shipped_names():
        picker(at).set_value(name).run()
        visit_every_page(at)
        at.session_state["canvas_0"] = canvas_state()  # score a drawing with it too
        at.run()
        assert not at.exception, at.exception

    # Two visitors training. AppTest is not thread-safe: every run installs its own mock of streamlit's
    # process-wide Runtime singleton (and patches config.get_option) and sets it to None when it ends,
    # under any other run's feet. Tried with two threads: the longer run's script runner then failed
    # with "Runtime hasn't been created!" and its trained model was lost. So the sessions take turns.
    sessions = [start("app_pages/train.py") for _ in range(2)]
    for seed, session in enumerate(sessions):
        train_digits(session, epochs=3, seed=seed)
    for session in sessions:
        visit_every_page(session)
    trained = [session.session_state["session_models"] for session in sessions]
    assert [len(models) for models in trained] == [1, 1]  # each sees its own model only
    (first_id, first), (second_id, second) = (next(iter(models.items())) for models in trained)
    assert first_id != second_id and picker(sessions[0]).value == first_id and picker(sessions[1]).value == second_id
    assert not all(torch.equal(a, b) for a, b in zip(first.model.parameters(), second.model.parameters(), strict=True))

    for name in shipped_names():
        cached, _ = _load_shipped(name)
        assert cached is shared[name]  # the same object the pages used, not a reload
        fresh, _ = load_checkpoint(REPO / "checkpoints" / f"{name}.pt")
        for (key, a), (_, b) in zip(cached.state_dict().items(), fresh.state_dict().items(), strict=True):
            assert torch.equal(a, b), f"{name}: {key} changed"
