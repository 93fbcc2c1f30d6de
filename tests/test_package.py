"""The library as a package: the wheel holds `vae/` only, its metadata, and the public API of `import vae`."""

from __future__ import annotations

import ast
import configparser
import email.message
import email.parser
import importlib.metadata
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import vae
from tests.conftest import REPO

NOT_PACKAGED = ("app.py", "app_pages/", "ui/", "tests/", "bench/", "checkpoints/", "docs/", "artifacts/")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """`pip wheel . --no-deps` of the repository's files (tracked and new, as git lists them).

    Built from a copy: setuptools leaves `build/` and `*.egg-info/` in the tree it builds. pip builds in an
    isolated environment that has setuptools and not torch, so the version must be read without importing `vae`.
    """
    source, dist = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist")
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in filter(None, listed.split("\0")):
        if (REPO / name).is_file():  # a tracked file deleted in the working tree is not there
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(dist), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = dist.glob("*.whl")
    return built


def test_wheel_holds_the_library_only(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert [n for n in names if not (n.startswith("vae/") or n.split("/")[0].endswith(".dist-info"))] == []
    assert [n for n in names if n.startswith(NOT_PACKAGED) or n.endswith((".pt", ".md", ".png"))] == []
    modules = sorted(n.removeprefix("vae/") for n in names if n.startswith("vae/"))
    assert modules == sorted(p.name for p in (REPO / "vae").glob("*.py"))


def read_metadata(wheel: Path) -> tuple[email.message.Message, configparser.ConfigParser]:
    """The wheel's METADATA and its entry points."""
    with zipfile.ZipFile(wheel) as archive:
        (dist_info,) = {n.split("/")[0] for n in archive.namelist() if n.split("/")[0].endswith(".dist-info")}
        metadata = email.parser.Parser().parsestr(archive.read(f"{dist_info}/METADATA").decode())
        entry_points = configparser.ConfigParser()
        if f"{dist_info}/entry_points.txt" in archive.namelist():
            entry_points.read_string(archive.read(f"{dist_info}/entry_points.txt").decode())
    return metadata, entry_points


def test_wheel_metadata(wheel):
    metadata, entry_points = read_metadata(wheel)
    assert metadata["Name"] == "vae-lab"
    assert metadata["Version"] == vae.__version__
    assert entry_points.has_section("console_scripts"), "no console scripts"
    assert entry_points["console_scripts"].get("vae-lab") == "vae.__main__:main"
    assert {"app", "dev"} <= set(metadata.get_all("Provides-Extra") or [])
    requires = [Requirement(r) for r in metadata.get_all("Requires-Dist") or []]
    core = {r.name for r in requires if r.marker is None}
    assert core >= {"torch", "numpy", "scikit-learn", "pillow", "plotly"}
    assert "streamlit" not in core, "the library never imports Streamlit"
    app = {r.name for r in requires if r.marker and r.marker.evaluate({"extra": "app"})}
    assert app >= {"streamlit", "streamlit-drawable-canvas"}


def test_every_import_of_the_library_is_a_declared_dependency(wheel):
    """What vae/*.py imports (lazy imports included) is installed by `pip install vae-lab`, without extras."""
    imported = set()
    for path in (REPO / "vae").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"vae"}
    metadata, _ = read_metadata(wheel)
    declared = {canonicalize_name(Requirement(r).name) for r in metadata.get_all("Requires-Dist") or [] if ";" not in r}
    distributions = importlib.metadata.packages_distributions()
    undeclared = {m for m in third_party if not {canonicalize_name(d) for d in distributions.get(m, [m])} & declared}
    assert undeclared == set(), "imported by vae/ but not in pyproject.toml's dependencies"


def test_public_api():
    from vae import (  # noqa: F401
        VAE,
        CheckpointError,
        TrainSettings,
        VAEConfig,
        load_checkpoint,
        load_dataset,
        save_checkpoint,
        train,
    )
    from vae.models import VAE as models_vae

    assert VAE is models_vae and issubclass(CheckpointError, Exception)
    assert sorted(vae.__all__) == sorted(["__version__", *vae._EXPORTS])
    for name in vae.__all__:
        assert getattr(vae, name) is not None, name
    assert set(vae.__all__) <= set(dir(vae))
    with pytest.raises(AttributeError):
        vae.no_such_name  # noqa: B018


def run_python(code: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter that imports this checkout's `vae`, from any folder."""
    return subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(REPO)!r})\n{code}"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_import_vae_is_light():
    """`import vae` loads no torch and never Streamlit; `from vae import VAE` stays off sklearn.metrics and Plotly."""
    result = run_python(
        "import vae\n"
        "assert 'streamlit' not in sys.modules, 'streamlit'\n"
        "assert 'torch' not in sys.modules, 'torch'\n"
        "from vae import VAE, VAEConfig, train, TrainSettings, load_dataset, save_checkpoint, load_checkpoint\n"
        "heavy = {'streamlit', 'torchvision', 'plotly', 'sklearn.metrics'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    assert result.returncode == 0, result.stderr


def test_docstring_example_runs(tmp_path):
    example = textwrap.dedent(vae.__doc__.split("save it:\n\n")[1])
    result = run_python("import torch; torch.set_num_threads(1)\n" + example, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "digits.pt").exists()
