"""Repository-level promises: lint, layering, the README's commands, the shipped checkpoints."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from tests.conftest import REPO
from vae.checkpoint import load_checkpoint
from vae.generation import has_class_codes

SHIPPED = ["mnist_z2", "mnist_cvae", "mnist_cvae_z8", "mnist_no9", "mnist_ae", "mnist_beta4", "mnist_clusters"]


def test_ruff_is_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_library_never_imports_streamlit():
    offenders = [
        p.name for p in (REPO / "vae").glob("*.py") if re.search(r"^\s*(import|from) streamlit", p.read_text(), re.M)
    ]
    assert offenders == []


def test_test_sets_and_image_grids_need_no_torchvision(tmp_path):
    """Importing torchvision costs the app's server ~160 MB: only a download (or a .gz to extract) may need it."""
    from tests.test_data import write_idx

    write_idx(tmp_path / "MNIST" / "raw")
    script = (
        "import sys, torch\n"
        "from ui.images import png_bytes\n"
        "from vae.data import load_dataset, to_float\n"
        "from vae.plots import image_grid\n"
        f"images, _ = load_dataset('mnist', train=False, root={str(tmp_path)!r}, download=False)\n"
        "image_grid(to_float(images), nrow=3, scale=2), png_bytes(to_float(images), nrow=3)\n"
        "assert 'torchvision' not in sys.modules, 'torchvision was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_ci_runs_the_readme_test_command():
    ci_command = [
        line
        for line in (REPO / ".ci" / "run").read_text().splitlines()
        if "pytest" in line and not line.startswith("#")
    ]
    assert len(ci_command) == 1
    assert ci_command[0].strip() in (REPO / "README.md").read_text()


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_and_model_card(name):
    path = REPO / "checkpoints" / f"{name}.pt"
    model, meta = load_checkpoint(path)
    assert path.stat().st_size <= 10_000_000  # an ensemble too: its networks are stored in half precision
    card = (REPO / "checkpoints" / f"{name}.md").read_text()
    assert meta["command"] in card and f"--out checkpoints/{name}.pt" in meta["command"]
    assert f"{meta['metrics']['test_neg_elbo']:.2f}" in card
    assert meta["dataset"] == "mnist" and model.config.image_shape == (1, 28, 28)
    assert model.config.conditional == name.startswith("mnist_cvae")
    if model.config.conditional:  # how often it names a test digit right, measured by its training run
        assert f"right on **{meta['metrics']['test_generative_accuracy']:.2%}**" in card
        assert has_class_codes(model) and "## Generating" in card  # the Generate page draws where its digits lie
    assert meta["classes"] == (list(range(9)) if name == "mnist_no9" else list(range(10)))
    script = (REPO / "checkpoints" / "train_all.sh").read_text().replace("\\\n  ", "").replace("$PY ", "python ")
    assert meta["command"] in script.splitlines()  # the script re-trains it with the very command that made it
    members = meta.get("members", [])  # an ensemble: each network's own training command, in the script too
    assert len(members) == (model.config.members if model.config.members > 1 else 0)
    assert all(member["command"] in script.splitlines() and member["command"] in card for member in members)


def test_readme_library_example_runs(tmp_path, monkeypatch):
    """The README's five-line library example, executed as written (it trains on `digits`)."""
    readme = (REPO / "README.md").read_text()
    example = readme.split("### The library in five lines\n```python\n")[1].split("```")[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})
    assert (tmp_path / "digits.pt").exists()


def test_the_shipped_tabular_model_is_what_its_command_makes(tmp_path):
    """Its card quotes the CLI command, train_all.sh runs that command, and running it again gives the same model."""
    from vae.__main__ import main
    from vae.tabular import load_table, load_tabular, split_table

    model, meta = load_tabular(REPO / "checkpoints" / "breast_cancer_vaec.pt")
    card = (REPO / "checkpoints" / "breast_cancer_vaec.md").read_text()
    assert meta["command"] in card
    assert f"| VAE lab model | {meta['results']['VAE lab model']['accuracy']:.2%} |" in card
    script = (REPO / "checkpoints" / "train_all.sh").read_text().replace("$PY ", "python ")
    assert meta["command"] in script.splitlines()
    arguments = meta["command"].removeprefix("python -m vae ").split()
    out = tmp_path / "again.pt"
    assert main([*arguments[: arguments.index("--out")], "--out", str(out), "--quiet"]) == 0
    again, _ = load_tabular(out)
    X, y, _, _ = load_table(meta["dataset"])
    _, X_test, _, _ = split_table(X, y, meta["test_fraction"], meta["seed"])
    np.testing.assert_allclose(again.predict_proba(X_test), model.predict_proba(X_test), atol=1e-5)


@pytest.mark.parametrize("name", ["leave_one_out", "one_class", "generative_classifier"])
def test_the_benchmark_recipes_load_into_the_library_types(name):
    from bench.recipe import load_recipe
    from vae.anomaly import methods_for
    from vae.models import VAEConfig
    from vae.training import TrainSettings

    recipe = load_recipe(name)
    assert isinstance(recipe.config, VAEConfig) and isinstance(recipe.settings, TrainSettings)
    assert recipe.config.image_shape == (1, 28, 28) and recipe.method in methods_for(recipe.config)


def test_the_generative_classifier_recipe_is_the_shipped_mnist_cvae_z8s():
    from bench.recipe import load_recipe
    from vae.training import settings_with_defaults

    recipe = load_recipe("generative_classifier")
    model, meta = load_checkpoint(REPO / "checkpoints" / "mnist_cvae_z8.pt")
    assert model.config == recipe.config
    assert {**settings_with_defaults(meta["settings"]), "seed": 0} == {**recipe.settings.to_dict(), "seed": 0}


def test_the_z2_likelihood_benchmark_trains_the_shipped_mnist_z2s_recipe():
    from bench.z2_likelihood import RECIPES, SHIPPED

    model, meta = load_checkpoint(REPO / "checkpoints" / "mnist_z2.pt")
    assert model.config == RECIPES[SHIPPED].network
    assert meta["settings"] == RECIPES[SHIPPED].settings.to_dict()


def test_a_recipe_with_a_wrong_field_says_which(tmp_path):
    from bench.recipe import load_recipe

    text = json.loads((REPO / "bench" / "recipes" / "leave_one_out.json").read_text())
    for change, message in (
        ({"method": "vibes"}, "unknown score method"),
        ({"vae_config": {**text["vae_config"], "head_classes": 0}}, "unknown score method 'combined' for this model"),
        ({"calibration_images": 0}, "the combined score needs calibration_images"),
        ({"vae_config": {"latnt_dim": 2}}, "latnt_dim"),
    ):
        path = tmp_path / "r.json"
        path.write_text(json.dumps({**text, **change}))
        with pytest.raises(ValueError, match=message):
            load_recipe(path)


def test_the_novelty_validation_split_holds_out_training_images_only():
    from bench.novelty import VALIDATION_ANOMALIES, validation_split

    n = 5000
    ids = torch.arange(n)
    images = torch.stack([ids // 256, ids % 256], 1).to(torch.uint8).reshape(n, 1, 1, 2)  # each image unique
    labels = ids % 10
    train_images, train_labels, held, is_anomaly = validation_split(images, labels, [3], seed=0)

    def id_of(x: torch.Tensor) -> set[int]:
        return set((x[:, 0, 0, 0].long() * 256 + x[:, 0, 0, 1].long()).tolist())

    assert (train_labels == 3).all() and len(train_images) == 450  # nine tenths of the 500 threes
    assert not id_of(train_images) & id_of(held)  # validation images are never trained on
    assert is_anomaly.sum() == VALIDATION_ANOMALIES and (~is_anomaly).sum() == 50
    assert (labels[sorted(id_of(held[is_anomaly]))] != 3).all() and (
        labels[sorted(id_of(held[~is_anomaly]))] == 3
    ).all()
