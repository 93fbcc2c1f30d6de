"""Workspaces (ui/workspace.py) and atomic checkpoint writes: plain Python, no Streamlit."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
import torch

from ui.workspace import MAX_TABLES, SavedModel, WorkspaceFull, WorkspaceLimits, WorkspaceStore
from vae.checkpoint import checkpoint_bytes, load_checkpoint, save_checkpoint, write_atomically
from vae.models import VAE, VAEConfig
from vae.tabular import TabularConfig, TabularVAE, new_model

MB = 2**20
DAY = 86400
MODEL_A, MODEL_B, MODEL_C = "trained-cccccccccccc", "uploaded-aaaaaaaaaaaa", "trained-bbbbbbbbbbbb"


@pytest.fixture
def model() -> VAE:
    torch.manual_seed(0)
    return VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,)))


@pytest.fixture
def store(tmp_path) -> WorkspaceStore:
    return WorkspaceStore(tmp_path / "root", WorkspaceLimits())


def _set_mtime(path: Path, when: float) -> None:
    os.utime(path, (when, when))


def _all_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _save_in_order(store: WorkspaceStore, ws: str, model: VAE, model_ids: list[str], start: float) -> None:
    """Save models one second apart (by mtime), so "oldest" never depends on the clock's resolution."""
    for i, model_id in enumerate(model_ids):
        store.save_model(ws, model_id, model, {"name": model_id})
        _set_mtime(store.root / ws / "models" / f"{model_id}.pt", start + i)


def _short_repr(value: object) -> str:
    return repr(value)[:30]


def _weights_equal(a: VAE, b: VAE) -> bool:
    pairs = zip(a.state_dict().items(), b.state_dict().items(), strict=True)
    return all(ka == kb and torch.equal(va, vb) for (ka, va), (kb, vb) in pairs)


# --- atomic writes ---------------------------------------------------------------------------------


def test_failed_save_checkpoint_keeps_the_old_file_and_no_temporary(tmp_path, model, monkeypatch):
    """A save that dies halfway leaves the previous checkpoint readable, and nothing else in the folder."""
    path = tmp_path / "m.pt"
    save_checkpoint(path, model, {"name": "old"})
    old_bytes = path.read_bytes()

    def half_a_save(obj, file):
        file.write(b"PK\x03\x04 half of a zip file")
        raise OSError("disk full")

    monkeypatch.setattr("vae.checkpoint.torch.save", half_a_save)
    other = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,)))
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, other, {"name": "new"})
    monkeypatch.undo()

    assert path.read_bytes() == old_bytes
    loaded, meta = load_checkpoint(path)
    assert meta == {"name": "old"} and _weights_equal(loaded, model)
    assert _all_files(tmp_path) == ["m.pt"]


def test_save_checkpoint_replaces_a_file_and_leaves_no_temporary(tmp_path, model):
    """A save that succeeds replaces the old content (to a path given as str too)."""
    path = tmp_path / "m.pt"
    path.write_bytes(b"an older file")
    save_checkpoint(str(path), model, {"name": "new"})
    assert load_checkpoint(path)[1] == {"name": "new"}
    assert _all_files(tmp_path) == ["m.pt"]


@pytest.mark.parametrize("error", [OSError, KeyboardInterrupt])
def test_failed_write_atomically_keeps_the_old_file(tmp_path, error):
    """Whatever interrupts the writer (even Ctrl-C), the old content stays and the temporary goes."""
    path = tmp_path / "runs.json"
    path.write_bytes(b'{"old": true}')

    def half_a_write(file):
        file.write(b'{"new": tr')
        file.flush()
        raise error("interrupted")

    with pytest.raises(error):
        write_atomically(path, half_a_write)
    assert path.read_bytes() == b'{"old": true}'
    assert _all_files(tmp_path) == ["runs.json"]


def test_write_atomically_writes_the_new_content(tmp_path):
    """The writer's bytes end up at the path, beside nothing else."""
    write_atomically(tmp_path / "a.bin", lambda f: f.write(b"first"))
    write_atomically(tmp_path / "a.bin", lambda f: f.write(b"second"))
    assert (tmp_path / "a.bin").read_bytes() == b"second"
    assert _all_files(tmp_path) == ["a.bin"]


# --- workspaces, models, runs ------------------------------------------------------------------------


def test_create_gives_distinct_unguessable_ids(store):
    """An id is secrets.token_urlsafe(16): 22 url-safe characters, new each time."""
    first, second = store.create(), store.create()
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", first) and re.fullmatch(r"[A-Za-z0-9_-]{22}", second)
    assert first != second
    assert store.exists(first) and store.exists(second) and store.is_valid_id(first)
    assert store.model_ids(first) == [] and store.runs(first) == []


def test_save_and_load_a_model(store, model):
    """A saved model comes back with the same weights, config and metadata."""
    ws = store.create()
    saved = store.save_model(ws, MODEL_A, model, {"name": "digits", "history": [{"epoch": 1}]})
    assert saved == SavedModel(MODEL_A, [])
    loaded, meta = store.load_model(ws, MODEL_A)
    assert loaded.config == model.config and meta == {"name": "digits", "history": [{"epoch": 1}]}
    assert _weights_equal(loaded, model)


def test_model_ids_oldest_first(store, model):
    """Models are listed by age, not by name; other files in the folder are not models."""
    ws = store.create()
    _save_in_order(store, ws, model, [MODEL_A, MODEL_B, MODEL_C], start=time.time() - 100)
    (store.root / ws / "models" / "notes.pt").write_bytes(b"not a model id")
    assert store.model_ids(ws) == [MODEL_A, MODEL_B, MODEL_C]
    assert sorted(store.model_ids(ws)) != store.model_ids(ws)  # the control: name order differs


def test_runs_round_trip_in_order(store):
    """Run records come back as stored, oldest first."""
    ws = store.create()
    records = [{"run": i, "curve": [1.5, 1.25, 1.0 / (i + 1)], "outcome": "done" if i else "stopped"} for i in range(4)]
    run_ids = ["ffffffffffff", "000000000000", "aaaaaaaaaaaa", "555555555555"]
    start = time.time() - 100
    for i, (run_id, record) in enumerate(zip(run_ids, records, strict=True)):
        store.add_run(ws, run_id, record)
        _set_mtime(store.root / ws / "runs" / f"{run_id}.json", start + i)
    assert store.runs(ws) == records


def _table_model(features: int = 3) -> TabularVAE:
    X = torch.randn(20, features, generator=torch.Generator().manual_seed(0)).numpy()
    return new_model(X, TabularConfig(), [f"f{i}" for i in range(features)], ["no", "yes"])


def test_the_tabular_lab_keeps_the_last_model_of_each_table(store):
    """Saved per table, by name: a second save of one table replaces it, another table is kept beside it."""
    ws = store.create()
    first, second, wine = _table_model(), _table_model(), _table_model(features=5)
    torch.nn.init.zeros_(next(second.parameters()))
    store.save_tabular_model(ws, "mine.csv", first, {"name": "first"})
    store.save_tabular_model(ws, "wine", wine, {"name": "wine"})
    store.save_tabular_model(ws, "mine.csv", second, {"name": "second"})
    loaded, meta = store.load_tabular_model(ws, "mine.csv")
    assert meta["name"] == "second" and _weights_equal(loaded, second) and not _weights_equal(loaded, first)
    assert store.load_tabular_model(ws, "wine")[1]["name"] == "wine"
    assert store.load_tabular_model(ws, "breast-cancer") is None
    assert store.load_tabular_model(store.create(), "wine") is None  # another workspace has its own


@pytest.mark.parametrize("table", ["../../models/trained-cccccccccccc", "/etc/passwd", "a" * 5000, "é\x00 ; rm -rf"])
def test_a_table_name_never_reaches_the_file_system(store, table):
    """A CSV's name is the visitor's: the file is named by its hash, inside the workspace's tables folder."""
    ws = store.create()
    store.save_tabular_model(ws, table, _table_model(), {"name": "t"})
    files = _all_files(store.root / ws)
    assert [f for f in files if f.startswith("tables/")] == [files[files.index("tables") + 1]]
    assert re.fullmatch(r"tables/[0-9a-f]{16}\.pt", files[files.index("tables") + 1])
    assert store.load_tabular_model(ws, table)[1]["name"] == "t"


def test_only_the_latest_tables_are_kept_and_a_broken_file_reads_as_none(store):
    ws = store.create()
    start = time.time() - 100
    for i in range(MAX_TABLES + 2):
        store.save_tabular_model(ws, f"table {i}.csv", _table_model(), {"name": str(i)})
        _set_mtime(store._table_path(ws, f"table {i}.csv"), start + i)
    kept = [i for i in range(MAX_TABLES + 2) if store.load_tabular_model(ws, f"table {i}.csv") is not None]
    assert kept == list(range(2, MAX_TABLES + 2))
    store._table_path(ws, "table 5.csv").write_bytes(b"not a checkpoint")
    assert store.load_tabular_model(ws, "table 5.csv") is None


# --- caps on one workspace --------------------------------------------------------------------------


def test_max_models_removes_the_oldest(tmp_path, model):
    """A third model in a two-model workspace pushes out the oldest, and says so."""
    store = WorkspaceStore(tmp_path, WorkspaceLimits(max_models=2))
    ws = store.create()
    _save_in_order(store, ws, model, [MODEL_A, MODEL_B], start=time.time() - 100)
    saved = store.save_model(ws, MODEL_C, model, {})
    assert saved == SavedModel(MODEL_C, [MODEL_A])
    assert store.model_ids(ws) == [MODEL_B, MODEL_C]
    assert not (tmp_path / ws / "models" / f"{MODEL_A}.pt").exists()


def test_a_model_larger_than_a_workspace_is_refused(tmp_path, model):
    """WorkspaceFull, and the file it wrote is gone."""
    store = WorkspaceStore(tmp_path, WorkspaceLimits(max_mb=0.001))
    ws = store.create()
    with pytest.raises(WorkspaceFull, match="at most"):
        store.save_model(ws, MODEL_A, model, {})
    assert list((tmp_path / ws / "models").iterdir()) == []
    assert store.model_ids(ws) == []


def test_size_cap_removes_the_oldest_models(tmp_path, model):
    """Room for two and a half models: the third save removes the oldest one only."""
    size = len(checkpoint_bytes(model, {"name": MODEL_A}))
    store = WorkspaceStore(tmp_path, WorkspaceLimits(max_models=20, max_mb=2.5 * size / MB))
    ws = store.create()
    _save_in_order(store, ws, model, [MODEL_A, MODEL_B], start=time.time() - 100)
    assert store.model_ids(ws) == [MODEL_A, MODEL_B]  # two fit
    saved = store.save_model(ws, MODEL_C, model, {"name": MODEL_C})
    assert saved.removed == [MODEL_A]
    assert store.model_ids(ws) == [MODEL_B, MODEL_C]
    assert sum(p.stat().st_size for p in (tmp_path / ws).rglob("*") if p.is_file()) <= 2.5 * size


# --- eviction across workspaces ---------------------------------------------------------------------


def test_garbage_collection_removes_old_workspaces_but_not_keep(tmp_path):
    """Unused past max_age_days → removed; `keep` stays however old; other folders are not workspaces."""
    store = WorkspaceStore(tmp_path, WorkspaceLimits(max_age_days=1))
    now = time.time()
    old, fresh, kept = store.create(), store.create(), store.create()
    _set_mtime(tmp_path / old / "last_used", now - 2 * DAY)
    _set_mtime(tmp_path / fresh / "last_used", now - 3600)
    _set_mtime(tmp_path / kept / "last_used", now - 10 * DAY)
    stranger = tmp_path / "not-a-workspace"
    (stranger / "models").mkdir(parents=True)
    _set_mtime(stranger, now - 100 * DAY)

    assert store.collect_garbage(keep=kept, now=now) == [old]
    assert not (tmp_path / old).exists()
    assert store.exists(fresh) and store.exists(kept) and stranger.is_dir()


def test_garbage_collection_ages_by_last_used(tmp_path):
    """Without `keep`, everything unused past the limit goes, and nothing younger."""
    store = WorkspaceStore(tmp_path, WorkspaceLimits(max_age_days=1))
    now = time.time()
    a, b = store.create(), store.create()
    _set_mtime(tmp_path / a / "last_used", now - 2 * DAY)
    _set_mtime(tmp_path / b / "last_used", now - 0.5 * DAY)
    assert store.collect_garbage(now=now) == [a]
    assert store.collect_garbage(now=now + DAY) == [b]
    assert list(tmp_path.iterdir()) == []


def test_total_size_cap_removes_least_recently_used_first(tmp_path):
    """Three 10 kB workspaces under a 25 kB cap: the least recently used one goes, unless it is `keep`."""
    now = time.time()
    limits = WorkspaceLimits(max_total_mb=25_000 / MB, max_age_days=1000)
    store = WorkspaceStore(tmp_path, limits)
    workspaces = [store.create() for _ in range(3)]
    # creation order is not use order: the second is the least recently used, then the third, then the first
    for ws, age in zip(workspaces, [10, 300, 200], strict=True):
        (tmp_path / ws / "padding").write_bytes(b"\0" * 10_000)
        _set_mtime(tmp_path / ws / "last_used", now - age)
    first, second, third = workspaces

    assert store.collect_garbage(keep=second, now=now) == [third]
    assert [store.exists(ws) for ws in workspaces] == [True, True, False]
    assert store.collect_garbage(now=now) == []  # 20 kB fit
    tighter = WorkspaceStore(tmp_path, WorkspaceLimits(max_total_mb=15_000 / MB, max_age_days=1000))
    assert tighter.collect_garbage(now=now) == [second]
    assert [store.exists(ws) for ws in workspaces] == [True, False, False]
    tiny = WorkspaceStore(tmp_path, WorkspaceLimits(max_total_mb=1_000 / MB, max_age_days=1000))
    assert tiny.collect_garbage(keep=first, now=now) == []  # `keep` stays even alone over the cap
    assert store.exists(first)


def test_saving_a_model_marks_its_workspace_used_and_sweeps_stale_ones(tmp_path, model):
    """save_model touches its own workspace first, so the sweep after it removes only the others."""
    store = WorkspaceStore(tmp_path, WorkspaceLimits(max_age_days=1))
    mine, stale = store.create(), store.create()
    for ws in (mine, stale):
        _set_mtime(tmp_path / ws / "last_used", time.time() - 5 * DAY)
    store.save_model(mine, MODEL_A, model, {})
    assert store.exists(mine) and not store.exists(stale)
    assert time.time() - (tmp_path / mine / "last_used").stat().st_mtime < DAY


def test_saving_never_sweeps_away_its_own_workspace(tmp_path, model):
    """Over the total cap with nothing else to remove, the workspace being saved to stays."""
    store = WorkspaceStore(tmp_path, WorkspaceLimits(max_total_mb=1_000 / MB))
    ws, other = store.create(), store.create()
    store.save_model(ws, MODEL_A, model, {"name": "kept"})
    assert store.exists(ws) and not store.exists(other)
    assert store.load_model(ws, MODEL_A)[1] == {"name": "kept"}


# --- hostile ids ----------------------------------------------------------------------------------------

HOSTILE_WORKSPACE_IDS = [
    "../etc",
    "..",
    "",
    ".",
    "a/b",
    "x" * 10000,
    None,
    123,
    "aaaaaaaaaa/bbbbbbbbbbb",  # 22 characters
    "aaaaaaaaaaaaaaaaaaaaa.",  # 22 characters
    "../aaaaaaaaaaaaaaaaaaa",  # 22 characters
    "aaaaaaaaaaaaaaaaaaaaaa\n",
    "/tmp",
]
BAD_MODEL_IDS = ["../../x", "trained-XYZ", "shipped-aaaaaaaaaaaa", "trained-aaaaaaaaaaaa/../../x", "", None]
BAD_RUN_IDS = ["../../x", "ABCDEF012345", "0" * 11, "0" * 13, "000000000000\n", "../000000000", "", None, 123]


def test_hostile_workspace_ids_do_not_exist(tmp_path, store, monkeypatch):
    """Every hostile id is refused before the filesystem is asked, even where a folder of that name exists."""
    store.create()
    for ws in HOSTILE_WORKSPACE_IDS:
        decoy = os.path.normpath(store.root / ws / "models") if isinstance(ws, str) and len(ws) < 100 else ""
        if decoy.startswith(str(tmp_path)):  # where a careless `root / ws / "models"` would find a folder
            os.makedirs(decoy, exist_ok=True)
    assert (tmp_path / "etc" / "models").is_dir() and (store.root / "a" / "b" / "models").is_dir()

    root = os.path.normpath(store.root)
    asked: list[str] = []
    real_stat = Path.stat

    def spy(self, *args, **kwargs):
        asked.append(os.path.normpath(os.path.abspath(self)))
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", spy)
    for ws in HOSTILE_WORKSPACE_IDS:
        assert not store.exists(ws), ws
        assert not store.is_valid_id(ws), ws
        assert store.model_ids(ws) == [] and store.runs(ws) == [], ws
    outside = [p for p in asked if os.path.commonpath([p, root]) != root]
    assert outside == []
    store.exists("A" * 22)  # the control: the spy does see a lookup
    monkeypatch.undo()
    assert asked and asked[-1] == os.path.join(root, "A" * 22, "models")


def test_missing_but_well_formed_workspace(store):
    """A well-formed id nobody created: it does not exist, and holds nothing."""
    ws = "A" * 22
    assert store.is_valid_id(ws) and not store.exists(ws)
    assert store.model_ids(ws) == [] and store.runs(ws) == []
    assert not (store.root / ws).exists()


@pytest.mark.parametrize("ws", HOSTILE_WORKSPACE_IDS, ids=_short_repr)
def test_bad_workspace_ids_raise(tmp_path, store, model, ws):
    """Loading, saving, add_run and touch refuse a bad workspace id and write nothing."""
    store.create()
    before = _all_files(tmp_path)
    with pytest.raises(ValueError):
        store.load_model(ws, MODEL_A)
    with pytest.raises(ValueError):
        store.save_model(ws, MODEL_A, model, {})
    with pytest.raises(ValueError):
        store.load_tabular_model(ws, "wine")
    with pytest.raises(ValueError):
        store.save_tabular_model(ws, "wine", _table_model(), {})
    with pytest.raises(ValueError):
        store.add_run(ws, "0" * 12, {"x": 1})
    with pytest.raises(ValueError):
        store.touch(ws)
    assert _all_files(tmp_path) == before


@pytest.mark.parametrize("model_id", BAD_MODEL_IDS, ids=_short_repr)
def test_bad_model_ids_raise(tmp_path, store, model, model_id):
    """A model id is (trained|uploaded)-<12 hex digits>, nothing else, and a bad one writes nothing."""
    ws = store.create()
    before = _all_files(tmp_path)
    with pytest.raises(ValueError):
        store.load_model(ws, model_id)
    with pytest.raises(ValueError):
        store.save_model(ws, model_id, model, {})
    with pytest.raises(ValueError):
        store.remove_model(ws, model_id)
    assert _all_files(tmp_path) == before


@pytest.mark.parametrize("run_id", BAD_RUN_IDS, ids=_short_repr)
def test_bad_run_ids_raise(tmp_path, store, run_id):
    """A run id is 12 lowercase hex digits, and a bad one writes nothing."""
    ws = store.create()
    before = _all_files(tmp_path)
    with pytest.raises(ValueError):
        store.add_run(ws, run_id, {"x": 1})
    with pytest.raises(ValueError):
        store.remove_run(ws, run_id)
    assert _all_files(tmp_path) == before


def test_remove_a_model_and_a_run(store, model):
    ws = store.create()
    store.save_model(ws, "trained-aaaaaaaaaaaa", model, {})
    store.save_model(ws, "trained-bbbbbbbbbbbb", model, {})
    store.add_run(ws, "aaaaaaaaaaaa", {"n": 1})
    store.remove_model(ws, "trained-aaaaaaaaaaaa")
    store.remove_run(ws, "aaaaaaaaaaaa")
    assert store.model_ids(ws) == ["trained-bbbbbbbbbbbb"] and store.runs(ws) == []
    store.remove_model(ws, "trained-aaaaaaaaaaaa")  # already gone: nothing to do


def test_nothing_lists_workspaces(store):
    """Whoever has an id can use a workspace, but no public method tells anyone the ids."""
    public = {name for name in dir(WorkspaceStore) if not name.startswith("_")}
    assert public == {
        "create",
        "exists",
        "touch",
        "is_valid_id",
        "model_ids",
        "load_model",
        "save_model",
        "add_run",
        "runs",
        "collect_garbage",
        "remove_model",
        "remove_run",
        "save_tabular_model",
        "load_tabular_model",
    }
    assert {name for name in vars(store) if not name.startswith("_")} == {"root", "limits"}


# --- limits from the environment ---------------------------------------------------------------------

LIMIT_VARS = (
    "VAE_LAB_WORKSPACE_MAX_MODELS",
    "VAE_LAB_WORKSPACE_MAX_MB",
    "VAE_LAB_WORKSPACES_MAX_MB",
    "VAE_LAB_WORKSPACE_MAX_AGE_DAYS",
)


def test_limits_from_env(monkeypatch):
    """Each cap has its own environment variable."""
    for name, value in zip(LIMIT_VARS, ["5", "12.5", "300", "0.5"], strict=True):
        monkeypatch.setenv(name, value)
    assert WorkspaceLimits.from_env() == WorkspaceLimits(max_models=5, max_mb=12.5, max_total_mb=300, max_age_days=0.5)
    assert WorkspaceStore("unused").limits == WorkspaceLimits.from_env()


@pytest.mark.parametrize("value", ["lots", "", "-3", "0", "nan", "inf", "-inf", "1e400"])
def test_limits_from_env_ignore_garbage(monkeypatch, value):
    """A value that is not a positive finite number falls back to the default."""
    for name in LIMIT_VARS:
        monkeypatch.setenv(name, value)
    assert WorkspaceLimits.from_env() == WorkspaceLimits()
    for name in LIMIT_VARS:
        monkeypatch.delenv(name)
    assert WorkspaceLimits.from_env() == WorkspaceLimits()
