import subprocess
import sys

import pytest

from tests.conftest import REPO, needs_mnist
from vae.checkpoint import load_checkpoint


def cli(*args):
    return subprocess.run([sys.executable, "-m", "vae", *args], capture_output=True, text=True, cwd=REPO, timeout=300)


def test_train_then_eval_on_digits(tmp_path):
    out = tmp_path / "digits_z2.pt"
    result = cli(
        "train",
        "--dataset",
        "digits",
        "--hidden",
        "32",
        "--epochs",
        "3",
        "--eval-k",
        "5",
        "--exclude-classes",
        "9",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert "epoch 3/3" in result.stderr and "test -ELBO" in result.stdout
    _, meta = load_checkpoint(out)
    assert meta["classes"] == list(range(9)) and meta["epochs"] == 3 and len(meta["history"]) == 3
    assert meta["command"].startswith("python -m vae train --dataset digits")
    card = out.with_suffix(".md").read_text()
    assert meta["command"] in card and f"{meta['metrics']['test_neg_elbo']:.2f}" in card

    evaluated = cli("eval", str(out), "--k", "5")
    assert evaluated.returncode == 0, evaluated.stderr
    assert "classes [0, 1, 2, 3, 4, 5, 6, 7, 8]" in evaluated.stdout and "log p(x) >=" in evaluated.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--epochs", "0", "--out", "x.pt"], "must be a positive integer"),
        (["train", "--lr", "abc", "--out", "x.pt"], "invalid _positive_float value"),
        (["train", "--dataset", "cifar", "--out", "x.pt"], "invalid choice"),
        (["train", "--exclude-classes", "12", "--out", "x.pt"], "classes are 0..9"),
        (["train", "--dataset", "digits"], "--out"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_are_argparse_errors(args, message):
    result = cli(*args)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_help_everywhere():
    for args in ([], ["train"], ["eval"]):
        result = cli(*args, "--help")
        assert result.returncode == 0 and "usage:" in result.stdout


def test_missing_data_is_a_clear_message(tmp_path):
    result = cli(
        "train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--no-download", "--out", str(tmp_path / "m.pt")
    )
    assert result.returncode == 2 and "was not found in" in result.stderr and "Traceback" not in result.stderr


def test_eval_of_a_bad_file(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    result = cli("eval", str(bad))
    assert result.returncode == 2 and "not a readable PyTorch checkpoint" in result.stderr


@needs_mnist
def test_every_excluded_class_is_refused(mnist_root, tmp_path):
    result = cli(
        "train",
        "--exclude-classes",
        *map(str, range(10)),
        "--data-dir",
        str(mnist_root),
        "--out",
        str(tmp_path / "m.pt"),
    )
    assert result.returncode == 2 and "no images left" in result.stderr
