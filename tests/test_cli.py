import contextlib
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from tests.conftest import REPO
from vae import __main__ as vae_cli
from vae import __version__
from vae.anomaly import generative_accuracy, methods_for
from vae.checkpoint import load_checkpoint, save_checkpoint
from vae.data import load_dataset
from vae.generation import fit_class_codes, has_class_codes
from vae.models import VAE, VAEConfig
from vae.replay import LatentReplay
from vae.training import TrainSettings, train

TRAIN_DIGITS = ["train", "--dataset", "digits", "--hidden", "32", "--eval-k", "5", "--device", "cpu"]


def cli(*args, env: dict[str, str] | None = None):
    environment = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "vae", *args], capture_output=True, text=True, cwd=REPO, timeout=300, env=environment
    )


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", train=True), load_dataset("digits", train=False)


@pytest.fixture
def earlier_checkpoint(tmp_path):
    """A good checkpoint already at the path a run will write to."""
    out = tmp_path / "run.pt"
    save_checkpoint(out, VAE(VAEConfig(image_shape=(1, 8, 8), hidden=(8,)), seed=1), {"name": "earlier"})
    return out


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_train_then_eval_on_digits(tmp_path):
    out = tmp_path / "digits_z2.pt"
    result = cli(*TRAIN_DIGITS, "--epochs", "3", "--exclude-classes", "9", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "epoch 3/3  train" in result.stderr and "test -ELBO" in result.stdout
    _, meta = load_checkpoint(out)
    assert meta["classes"] == list(range(9)) and meta["epochs"] == 3 and len(meta["history"]) == 3
    assert meta["status"] == "finished" and meta["device"] == "cpu"
    assert meta["command"].startswith("python -m vae train --dataset digits")
    card = out.with_suffix(".md").read_text()
    assert meta["command"] in card and f"{meta['metrics']['test_neg_elbo']:.2f}" in card
    assert "Status: finished. Training finished: all 3 epochs ran." in card and ", cpu), " in card
    replay = LatentReplay.from_meta(meta)  # the space at epochs 1, 2 and the last, of the same held-out digits
    held_out = meta["metrics"]["test_images"]  # fewer than 1,000 in digits: all of them
    assert replay.epochs == [1, 2, 3] and len(replay.labels) == held_out and replay.codes[0].shape == (held_out, 2)
    assert not np.allclose(replay.codes[0], replay.codes[-1])

    evaluated = cli("eval", str(out), "--k", "5", "--device", "cpu")
    assert evaluated.returncode == 0, evaluated.stderr
    assert "classes [0, 1, 2, 3, 4, 5, 6, 7, 8]" in evaluated.stdout and "log p(x) >=" in evaluated.stdout


def test_version():
    result = cli("--version")
    assert result.returncode == 0 and result.stdout == f"vae-lab {__version__}\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--epochs", "abc"], "argument --epochs: must be a whole number of at least 1, got 'abc'"),
        (["train", "--epochs", "0"], "argument --epochs: must be a whole number of at least 1, got '0'"),
        (["train", "--lr", "abc"], "argument --lr: must be a positive number, got 'abc'"),
        (["train", "--lr", "nan"], "argument --lr: must be a positive number, got 'nan'"),
        (["train", "--beta", "-1"], "argument --beta: must be zero or a positive number, got '-1'"),
        (["train", "--seed", "1.5"], "argument --seed: must be a whole number from 0 to 2**63 - 1, got '1.5'"),
        (["train", "--exclude-classes", "12"], "argument --exclude-classes: must be a class from 0 to 9, got '12'"),
        (["train", "--exclude-classes", *"0123456789"], "excludes every class, which leaves nothing to train on"),
        (["train", "--device", "tpu"], "argument --device: unknown device 'tpu'; choose one of auto, cpu, cuda, mps"),
        (["train", "--dataset", "cifar"], "argument --dataset: invalid choice: 'cifar'"),
        (["eval", "m.pt", "--k", "many"], "argument --k: must be a whole number of at least 1, got 'many'"),
    ],
)
def test_usage_errors_say_in_words_what_was_expected(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # were a check missing, the run would write there
    with pytest.raises(SystemExit) as exit_:
        vae_cli.main([*args, "--out", "x.pt"] if args[0] == "train" else args)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--dataset", "digits", "--out", "x.txt"], "argument --out: must end in .pt, got 'x.txt'"),
        (["train", "--dataset", "digits"], "the following arguments are required: --out"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_other_usage_errors(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # were a check missing, the run would write there
    with pytest.raises(SystemExit) as exit_:
        vae_cli.main(args)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_cuda_on_a_machine_without_it_is_a_usage_error(tmp_path):
    result = cli(*TRAIN_DIGITS, "--device", "cuda", "--out", str(tmp_path / "x.pt"), env={"CUDA_VISIBLE_DEVICES": ""})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "argument --device: CUDA was asked for, but torch finds no CUDA GPU on this machine" in result.stderr


def test_help_everywhere():
    for args in ([], ["train"], ["eval"]):
        result = cli(*args, "--help")
        assert result.returncode == 0 and "usage:" in result.stdout


def test_missing_data_is_one_clear_line(tmp_path, capsys):
    args = ["--dataset", "mnist", "--data-dir", str(tmp_path), "--no-download", "--out", str(tmp_path / "m.pt")]
    assert vae_cli.main(["train", *args]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: The mnist dataset was not found in")


def test_eval_of_a_bad_file_is_one_clear_line(tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    assert vae_cli.main(["eval", str(bad)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: This is not a readable PyTorch checkpoint")


def _default_ctrl_c() -> None:
    """A child started with Ctrl-C ignored (as background jobs are) would ignore it too: give it the default."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
def test_ctrl_c_saves_the_last_completed_epoch(earlier_checkpoint, tmp_path, digits):
    out = earlier_checkpoint
    process = subprocess.Popen(
        [sys.executable, "-m", "vae", *TRAIN_DIGITS, "--epochs", "100", "--batch-size", "16", "--out", str(out)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},  # one thread, like this process: the weights can be compared
        preexec_fn=_default_ctrl_c,
    )
    seen = []
    for line in process.stderr:
        seen.append(line)
        if line.startswith("epoch 2/100 "):
            time.sleep(0.2)  # into a later epoch's 90 steps, where the weights are not yet an epoch's
            process.send_signal(signal.SIGINT)
            break
    _, rest = process.communicate(timeout=120)
    stderr = "".join(seen) + rest
    completed = sum(line.startswith("epoch ") for line in stderr.splitlines())
    assert process.returncode == 130, stderr
    assert f"saved the model from epoch {completed} to {out} and its model card" in stderr
    model, meta = load_checkpoint(out)
    assert meta["status"] == "interrupted" and meta["epochs"] == completed >= 2
    assert [h["epoch"] for h in meta["history"]] == list(range(1, completed + 1))
    assert LatentReplay.from_meta(meta).epochs[-1] == completed  # the replay ends where the model does
    card = out.with_suffix(".md").read_text()
    assert f"**Training was interrupted** (Ctrl-C) after epoch {completed} of 100" in card
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.md", "run.pt"]  # no temporary file left behind

    # The same run repeated here, stopped at the end of that epoch, has exactly the saved weights.
    (x, y), _ = digits
    repeated = VAE(model.config, seed=0)
    for event in train(repeated, x, y, TrainSettings(epochs=100, batch_size=16, seed=0)):
        if event.kind == "epoch" and event.epoch == completed:
            break
    assert same_weights(model.state_dict(), repeated.state_dict())


def interrupted_at_step(step: int):
    """vae_cli's `train`, with a Ctrl-C during that step of epoch 1."""
    real_train = vae_cli.train

    def train_then_ctrl_c(*args, **kwargs):
        for event in real_train(*args, **kwargs):
            if event.step == step:
                raise KeyboardInterrupt
            yield event

    return train_then_ctrl_c


def test_ctrl_c_before_the_first_epoch_saves_nothing(earlier_checkpoint, monkeypatch, capsys):
    out = earlier_checkpoint
    before = out.read_bytes()
    monkeypatch.setattr(vae_cli, "train", interrupted_at_step(3))
    assert vae_cli.main([*TRAIN_DIGITS, "--epochs", "2", "--out", str(out)]) == 130
    assert f"no epoch finished, so nothing was saved to {out}" in capsys.readouterr().err
    assert out.read_bytes() == before and not out.with_suffix(".md").exists()


def test_ctrl_c_while_a_checkpoint_is_written_keeps_the_earlier_file(earlier_checkpoint, monkeypatch, capsys):
    """A Ctrl-C in the middle of each write (a second one in the final save too): the earlier file stays whole."""
    out = earlier_checkpoint

    def half_written(payload, file):
        file.write(b"the first half of a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", half_written)
    assert vae_cli.main([*TRAIN_DIGITS, "--epochs", "3", "--save-every", "1", "--out", str(out)]) == 130
    assert load_checkpoint(out)[1] == {"name": "earlier"}
    assert [p.name for p in out.parent.iterdir()] == ["run.pt"]  # no temporary file left behind


def record_saves(monkeypatch) -> list[tuple]:
    """Every checkpoint the CLI saves, read back from disk as it was written: (model, meta, card text)."""
    real_save = vae_cli.save_with_card
    saves = []

    def save_and_read_back(path, model, meta):
        card = real_save(path, model, meta)
        saves.append((*load_checkpoint(path), card.read_text()))
        return card

    monkeypatch.setattr(vae_cli, "save_with_card", save_and_read_back)
    return saves


def test_save_every_writes_the_run_so_far(tmp_path, monkeypatch):
    saves = record_saves(monkeypatch)
    args = [*TRAIN_DIGITS, "--epochs", "6", "--save-every", "2", "--quiet", "--out", str(tmp_path / "run.pt")]
    assert vae_cli.main(args) == 0
    written = [(meta["status"], meta["epochs"], f"Status: {meta['status']}." in card) for _, meta, card in saves]
    assert written == [("running", 2, True), ("running", 4, True), ("finished", 6, True)]


def test_save_every_of_a_classifier_head_run_saves_it_calibrated(tmp_path, monkeypatch):
    saves = record_saves(monkeypatch)
    args = [*TRAIN_DIGITS, "--model", "classifier", "--epochs", "2", "--save-every", "1", "--quiet"]
    assert vae_cli.main([*args, "--out", str(tmp_path / "run.pt")]) == 0  # on every class (once failed at the end)
    calibrated = [(meta["epochs"], "combined" in methods_for(model)) for model, meta, _ in saves]
    assert calibrated == [(1, True), (2, True)]  # mid-run too, not only the final save


def test_divergence_in_the_first_epoch_saves_nothing(earlier_checkpoint):
    out = earlier_checkpoint
    before = out.read_bytes()
    result = cli(*TRAIN_DIGITS, "--lr", "1e6", "--epochs", "3", "--out", str(out))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "error: training diverged: the loss became nan at epoch 1" in result.stderr
    assert f"no epoch finished, so nothing was saved to {out}" in result.stderr
    assert out.read_bytes() == before


def test_divergence_after_some_epochs_saves_the_last_good_one(tmp_path, monkeypatch, capsys):
    """NaN weights after epoch 2 make epoch 3's loss NaN, as a real divergence would."""
    real_train = vae_cli.train
    after_epoch_2 = {}

    def train_that_diverges_in_epoch_3(model, *args, **kwargs):
        for event in real_train(model, *args, **kwargs):
            yield event
            if event.kind == "epoch" and event.epoch == 2:
                after_epoch_2.update({k: v.clone() for k, v in model.state_dict().items()})
                with torch.no_grad():
                    model.to_mu.weight.fill_(float("nan"))

    monkeypatch.setattr(vae_cli, "train", train_that_diverges_in_epoch_3)
    out = tmp_path / "run.pt"
    assert vae_cli.main([*TRAIN_DIGITS, "--epochs", "5", "--out", str(out)]) == 1
    stderr = capsys.readouterr().err
    assert "error: training diverged: the loss became nan at epoch 3" in stderr
    assert f"saved the model from epoch 2 to {out}" in stderr
    model, meta = load_checkpoint(out)
    assert meta["status"] == "diverged" and meta["epochs"] == 2
    assert meta["metrics"]["test_neg_elbo"] == round(meta["history"][-1]["test_total"], 3)
    assert same_weights(model.state_dict(), after_epoch_2)
    card = out.with_suffix(".md").read_text()
    assert "**Training diverged** in epoch 3 of 5" in card and "not measured: training did not finish" in card


def test_train_tabular_on_a_csv_writes_a_model_and_its_card(tmp_path, capsys):
    from vae.tabular import load_table, load_tabular

    X, y, features, classes = load_table("wine")
    rows = [",".join([*features, "kind"])] + [",".join([*map(str, r), classes[c]]) for r, c in zip(X, y, strict=True)]
    table = tmp_path / "wine.csv"
    table.write_text("\n".join(rows))
    out = tmp_path / "wine.pt"
    assert (
        vae_cli.main(
            ["train-tabular", "--csv", str(table), "--label", "kind", "--epochs", "5", "--out", str(out), "--quiet"]
        )
        == 0
    )
    model, meta = load_tabular(out)
    assert model.class_names == classes and meta["dataset"] == "wine.csv"
    card = out.with_suffix(".md").read_text()
    assert "--label kind" in card and "| LogisticRegression |" in card
    assert "LogisticRegression: test accuracy" in capsys.readouterr().out


def test_train_tabular_refuses_what_it_cannot_use(tmp_path, capsys):
    with pytest.raises(SystemExit) as usage:
        vae_cli.main(["train-tabular", "--csv", "x.csv", "--out", str(tmp_path / "x.pt")])
    assert usage.value.code == 2 and "--csv and --label go together" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"a,label\n1,x\n")
    assert vae_cli.main(["train-tabular", "--csv", str(bad), "--label", "label", "--out", str(tmp_path / "x.pt")]) == 1
    assert "error: The label column 'label' has 1 different values" in capsys.readouterr().err


def test_train_clusters_with_restarts_writes_its_clusters_and_how_the_seed_was_chosen(tmp_path, capsys):
    out = tmp_path / "clusters.pt"
    args = [*TRAIN_DIGITS, "--model", "clusters", "--clusters", "6", "--epochs", "4", "--restarts", "3"]
    assert vae_cli.main([*args, "--seed", "5", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "clusters vs the test labels: NMI" in printed.out
    model, meta = load_checkpoint(out)
    assert model.config.clusters == 6 and not model.config.conditional
    probed = meta["restarts"]["probed"]
    assert sorted(probed) == ["5", "6", "7"] and meta["seed"] == meta["restarts"]["chosen"]
    assert probed[str(meta["seed"])] == min(probed.values())  # the lowest training −ELBO is kept
    assert 0 <= meta["metrics"]["test_nmi"] <= 1 and len(meta["clusters"]["size"]) == 6
    assert sum(meta["clusters"]["size"]) == meta["metrics"]["test_images"]
    card = out.with_suffix(".md").read_text()
    assert "## Clusters found without labels" in card and f"Seed {meta['seed']} was chosen among 3" in card
    assert "| test NMI | test cluster accuracy |" in card


def test_a_conditional_model_reports_its_accuracy_as_a_generative_classifier(tmp_path, capsys, digits):
    out = tmp_path / "cvae.pt"
    args = [*TRAIN_DIGITS, "--model", "cvae", "--latent-dim", "4", "--epochs", "15", "--out", str(out)]
    assert vae_cli.main(args) == 0
    printed = capsys.readouterr().out
    model, meta = load_checkpoint(out)
    accuracy = meta["metrics"]["test_generative_accuracy"]
    (_, _), (test_images, test_labels) = digits
    assert accuracy == pytest.approx(generative_accuracy(model, test_images, test_labels))
    assert 0.5 < accuracy <= 1  # far above chance (0.1) on the 8×8 digits
    assert f"test accuracy {accuracy:.2%}" in printed
    assert f"right on **{accuracy:.2%}** of the" in out.with_suffix(".md").read_text()
    # and it knows where each class's training digits lie: what the Generate page draws from
    (train_images, train_labels), _ = digits
    assert has_class_codes(model) and meta["class_codes_images"] == len(train_images)
    fitted = model.class_code_covariances.clone()
    fit_class_codes(model, train_images, train_labels)
    torch.testing.assert_close(model.class_code_covariances, fitted)
    assert (
        f"Each class's codes were fitted on the {len(train_images)} training images"
        in out.with_suffix(".md").read_text()
    )


def test_an_ensemble_of_conditional_models_trained_alone_is_measured_and_carded(tmp_path, capsys, digits):
    paths = [tmp_path / f"seed{seed}.pt" for seed in (0, 1)]
    for seed, path in enumerate(paths):
        args = [*TRAIN_DIGITS, "--model", "cvae", "--latent-dim", "4", "--epochs", "8", "--seed", str(seed)]
        assert vae_cli.main([*args, "--out", str(path), "--quiet"]) == 0
    out = tmp_path / "pair.pt"
    assert vae_cli.main(["ensemble", *map(str, paths), "--out", str(out), "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    model, meta = load_checkpoint(out)
    _, first_meta = load_checkpoint(paths[0])
    _, (test_images, test_labels) = digits
    accuracy = meta["metrics"]["test_generative_accuracy"]
    assert model.config.members == 2 and accuracy == pytest.approx(generative_accuracy(model, test_images, test_labels))
    assert accuracy != first_meta["metrics"]["test_generative_accuracy"]  # the pair's, not its first member's
    assert meta["metrics"]["test_neg_elbo"] == first_meta["metrics"]["test_neg_elbo"]  # pictures: the first's
    assert f"test accuracy {accuracy:.2%}" in printed
    card = out.with_suffix(".md").read_text()
    assert "## An ensemble of 2 networks" in card and f"right on **{accuracy:.2%}**" in card
    assert all(member["command"] in card for member in meta["members"]) and meta["command"] in card
    # members of different recipes, or a single unconditional model, are refused in words
    other = tmp_path / "other.pt"
    assert vae_cli.main([*TRAIN_DIGITS, "--model", "cvae", "--epochs", "2", "--out", str(other), "--quiet"]) == 0
    assert vae_cli.main(["ensemble", str(paths[0]), str(other), "--out", str(tmp_path / "x.pt")]) == 1
    assert "not trained alike (their settings differ)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        vae_cli.main(["ensemble", str(paths[0]), "--out", str(tmp_path / "x.pt")])
    assert "at least 2 member checkpoints" in capsys.readouterr().err


def test_discriminative_epochs_are_recorded_and_refused_where_they_cannot_work(tmp_path, capsys):
    from vae.card import model_card

    out = tmp_path / "hybrid.pt"
    flags = ["--discriminative-weight", "10", "--discriminative-epochs", "2"]
    assert vae_cli.main([*TRAIN_DIGITS, "--model", "cvae", *flags, "--epochs", "3", "--out", str(out), "--quiet"]) == 0
    model, meta = load_checkpoint(out)
    assert meta["settings"]["discriminative_weight"] == 10.0 and meta["settings"]["discriminative_epochs"] == 2
    assert "--discriminative-weight 10" in meta["command"]
    assert "The last 2 epochs added 10 × the cross-entropy" in out.with_suffix(".md").read_text()
    # 8 × 8 digits are not offered the shifted score; a 28 × 28 model's card gives both figures
    assert "test_generative_accuracy_shifted_elbo" not in meta["metrics"]
    meta["metrics"]["test_generative_accuracy_shifted_elbo"] = 0.991
    assert "test images; by the lowest −ELBO of the digit placed up to a pixel away" in model_card(model.config, meta)
    for args, message in [
        ([*TRAIN_DIGITS, *flags], "needs --model cvae"),
        ([*TRAIN_DIGITS, "--model", "cvae", *flags, "--epochs", "1"], "more than the run's 1 epochs"),
        ([*TRAIN_DIGITS, "--model", "cvae", "--discriminative-weight", "-1"], "zero or a positive number"),
    ]:
        with pytest.raises(SystemExit) if "-1" in args else contextlib.nullcontext():
            assert vae_cli.main([*args, "--out", str(tmp_path / "x.pt")]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "x.pt").exists()


@pytest.mark.parametrize("kind", ["clusters", "classifier"])
def test_conditional_and_an_unconditional_kind_contradict_each_other(tmp_path, capsys, kind):
    args = [*TRAIN_DIGITS, "--conditional", "--model", kind, "--out", str(tmp_path / "x.pt")]
    assert vae_cli.main(args) == 2
    assert "contradict" in capsys.readouterr().err


def test_binarize_is_recorded_and_refused_with_the_gaussian_likelihood(tmp_path, capsys):
    out = tmp_path / "binary.pt"
    assert vae_cli.main([*TRAIN_DIGITS, "--binarize", "--epochs", "1", "--out", str(out), "--quiet"]) == 0
    _, meta = load_checkpoint(out)
    assert meta["settings"]["binarize"] is True and "--binarize" in meta["command"]
    assert "train −ELBO below is on those draws" in out.with_suffix(".md").read_text()
    assert meta["settings"]["cosine_lr"] is False
    assert vae_cli.main([*TRAIN_DIGITS, "--cosine-lr", "--epochs", "1", "--out", str(out), "--quiet"]) == 0
    assert load_checkpoint(out)[1]["settings"]["cosine_lr"] is True
    assert "fell along half a cosine from 0.001" in out.with_suffix(".md").read_text()
    args = [*TRAIN_DIGITS, "--binarize", "--likelihood", "gaussian", "--out", str(tmp_path / "g.pt")]
    assert vae_cli.main(args) == 2
    assert "only the bernoulli likelihood" in capsys.readouterr().err
    assert not (tmp_path / "g.pt").exists()


def test_train_a_classifier_head_without_the_nines_reports_how_well_it_flags_them(tmp_path, capsys):
    out = tmp_path / "no9.pt"
    args = [*TRAIN_DIGITS, "--model", "classifier", "--head-weight", "5", "--exclude-classes", "9", "--epochs", "20"]
    assert vae_cli.main([*args, "--out", str(out)]) == 0
    assert "classifier head: test accuracy" in capsys.readouterr().out
    model, meta = load_checkpoint(out)
    assert model.config.head_classes == 10 and model.config.head_weight == 5 and not model.config.conditional
    m = meta["metrics"]
    assert m["test_head_accuracy"] > 0.8 and m["test_novelty_auroc_head"] > 0.8  # the unseen 9s, by the head
    card = out.with_suffix(".md").read_text()
    assert "## Classifier head" in card and f"AUROC **{m['test_novelty_auroc_head']:.4f}**" in card
    assert "unconditional with a classifier head over 10 labels (weight 5)" in card
    assert meta["calibration_images"] == meta["train_images"] // 9  # a tenth of the 0–8 set aside, never trained on
    assert "combined" in methods_for(model) and m["test_novelty_auroc_combined"] > 0.8
    assert f"**{m['test_novelty_auroc_combined']:.4f}** by both" in card and "set aside before training" in card


def test_a_classifier_cannot_set_aside_more_calibration_images_than_half(tmp_path, capsys):
    args = [*TRAIN_DIGITS, "--model", "classifier", "--calibration-images", "5000", "--out", str(tmp_path / "x.pt")]
    assert vae_cli.main(args) == 2
    assert "--calibration-images: can hold out 1 to" in capsys.readouterr().err


def test_eval_printout_says_an_autoencoders_likelihood_is_undefined():
    """β = 0 collapses q(z|x) to a point: its importance weights overflow, and the printout says so in words."""
    metrics = {"test_neg_elbo": 201.1, "test_recon": 129.0, "test_kl": 72.1, "log_likelihood_k": 100, "test_images": 10}
    assert "log p(x) >= -134.91 (importance sampled, K=100)" in vae_cli.format_metrics(
        {**metrics, "test_log_likelihood": -134.91}
    )
    undefined = vae_cli.format_metrics({**metrics, "test_log_likelihood": float("nan")})
    assert "nan" not in undefined and "undefined: q(z|x) has collapsed" in undefined


def test_fourier_features_are_recorded_and_bounded(tmp_path, capsys):
    out = tmp_path / "fourier.pt"
    assert vae_cli.main([*TRAIN_DIGITS, "--fourier-features", "4", "--epochs", "1", "--out", str(out), "--quiet"]) == 0
    assert load_checkpoint(out)[0].config.fourier_features == 4
    assert "the decoder reading z through 4 random Fourier features" in out.with_suffix(".md").read_text()
    with pytest.raises(SystemExit) as exit_:
        vae_cli.main([*TRAIN_DIGITS, "--fourier-features", "5000", "--out", str(tmp_path / "x.pt")])
    assert exit_.value.code == 2 and "a whole number from 0 to 1024, got '5000'" in capsys.readouterr().err
