"""Workspaces: the models a visitor trained or uploaded, kept on the server so a refresh loses nothing.

A workspace is a folder named by an unguessable random id (128 bits), which the browser carries in
its URL as `ws=`. Whoever has the id can use the workspace; nothing lists workspaces. Plain Python
(no Streamlit), so it is tested on its own:

    <root>/<workspace id>/models/<model id>.pt     checkpoints, in the library's safe format
    <root>/<workspace id>/runs/<run id>.json       one record per training run (curves, outcome)
    <root>/<workspace id>/tables/<hash>.pt         the Tabular lab's last model of each table
    <root>/<workspace id>/last_used                touched on every use: age limit and LRU eviction
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from vae.checkpoint import CheckpointError, load_checkpoint, save_checkpoint, write_atomically
from vae.models import VAE
from vae.tabular import TabularVAE, load_tabular, save_tabular

WORKSPACE_ID = re.compile(r"[A-Za-z0-9_-]{22}")  # secrets.token_urlsafe(16): 16 random bytes
MODEL_ID = re.compile(r"(trained|uploaded)-[0-9a-f]{12}")
RUN_ID = re.compile(r"[0-9a-f]{12}")
MB = 2**20
MAX_TABLES = 8  # tables whose last model a workspace keeps (tabular models weigh about 0.1 MB)


def _env_number(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if math.isfinite(value) and value > 0 else default  # inf would crash int(): garbage too


@dataclass(frozen=True)
class WorkspaceLimits:
    """Caps on what workspaces may hold (environment variables, for a hosted copy)."""

    max_models: int = 20  # VAE_LAB_WORKSPACE_MAX_MODELS: per workspace; the oldest goes first
    max_mb: float = 200  # VAE_LAB_WORKSPACE_MAX_MB: per workspace; the oldest goes first
    max_total_mb: float = 2000  # VAE_LAB_WORKSPACES_MAX_MB: all workspaces; least recently used go first
    max_age_days: float = 30  # VAE_LAB_WORKSPACE_MAX_AGE_DAYS: unused this long, a workspace is removed

    @classmethod
    def from_env(cls) -> WorkspaceLimits:
        return cls(
            max_models=max(1, int(_env_number("VAE_LAB_WORKSPACE_MAX_MODELS", cls.max_models))),
            max_mb=_env_number("VAE_LAB_WORKSPACE_MAX_MB", cls.max_mb),
            max_total_mb=_env_number("VAE_LAB_WORKSPACES_MAX_MB", cls.max_total_mb),
            max_age_days=_env_number("VAE_LAB_WORKSPACE_MAX_AGE_DAYS", cls.max_age_days),
        )


def default_root() -> Path:
    """VAE_LAB_WORKSPACE_DIR, else a folder in the system's temporary directory."""
    return Path(os.environ.get("VAE_LAB_WORKSPACE_DIR") or Path(tempfile.gettempdir()) / "vae-lab-workspaces")


class WorkspaceFull(Exception):
    """A model too large for any workspace (the message says so)."""


@dataclass
class SavedModel:
    """What `save_model` did: the model's id, and the older models it removed to stay under the caps."""

    model_id: str
    removed: list[str]


class WorkspaceStore:
    """All workspaces under one root folder. Every method refuses ids that are not well formed."""

    def __init__(self, root: str | os.PathLike | None = None, limits: WorkspaceLimits | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.limits = limits or WorkspaceLimits.from_env()

    # --- workspaces -----------------------------------------------------------------------------
    @staticmethod
    def is_valid_id(workspace_id: object) -> bool:
        return isinstance(workspace_id, str) and WORKSPACE_ID.fullmatch(workspace_id) is not None

    def create(self) -> str:
        """A new, empty workspace → its id."""
        workspace_id = secrets.token_urlsafe(16)
        (self._folder(workspace_id) / "models").mkdir(parents=True)
        (self._folder(workspace_id) / "runs").mkdir()
        self.touch(workspace_id)
        return workspace_id

    def exists(self, workspace_id: object) -> bool:
        return self.is_valid_id(workspace_id) and (self.root / workspace_id / "models").is_dir()

    def touch(self, workspace_id: str) -> None:
        """Mark the workspace as used now (it is the last to be evicted)."""
        (self._folder(workspace_id) / "last_used").write_text(str(time.time()))

    def _folder(self, workspace_id: object) -> Path:
        if not self.is_valid_id(workspace_id):
            raise ValueError("not a workspace id")
        return self.root / str(workspace_id)

    # --- models -----------------------------------------------------------------------------------
    def model_ids(self, workspace_id: str) -> list[str]:
        """The workspace's model ids, oldest first ([] for a workspace that does not exist)."""
        if not self.exists(workspace_id):
            return []
        files = [p for p in (self._folder(workspace_id) / "models").glob("*.pt") if MODEL_ID.fullmatch(p.stem)]
        return [p.stem for p in sorted(files, key=_modified_or_zero)]

    def load_model(self, workspace_id: str, model_id: str) -> tuple[VAE, dict]:
        """Read one model back with the library's safe loader (raises CheckpointError, also for a missing file)."""
        return load_checkpoint(self._model_path(workspace_id, model_id))

    def save_model(self, workspace_id: str, model_id: str, model: VAE, meta: dict) -> SavedModel:
        """Write a model atomically, then remove the oldest others until the workspace is within its caps."""
        path = self._model_path(workspace_id, model_id)
        save_checkpoint(path, model, meta)
        size_mb = path.stat().st_size / MB
        if size_mb > self.limits.max_mb:
            path.unlink()
            raise WorkspaceFull(
                f"This model is {size_mb:.0f} MB and a workspace holds at most {self.limits.max_mb:.0f} MB: "
                "it stays in this browser tab only (download it to keep it)."
            )
        removed: list[str] = []
        older = [m for m in self.model_ids(workspace_id) if m != model_id]
        while older and (len(older) + 1 > self.limits.max_models or self._size_mb(workspace_id) > self.limits.max_mb):
            oldest = older.pop(0)
            self._model_path(workspace_id, oldest).unlink(missing_ok=True)
            removed.append(oldest)
        self.touch(workspace_id)
        self.collect_garbage(keep=workspace_id)
        return SavedModel(model_id, removed)

    def remove_model(self, workspace_id: str, model_id: str) -> None:
        self._model_path(workspace_id, model_id).unlink(missing_ok=True)

    def _model_path(self, workspace_id: str, model_id: str) -> Path:
        if not isinstance(model_id, str) or MODEL_ID.fullmatch(model_id) is None:
            raise ValueError("not a model id")
        return self._folder(workspace_id) / "models" / f"{model_id}.pt"

    # --- the Tabular lab's models: the last one of each table ---------------------------------------
    def save_tabular_model(self, workspace_id: str, table: str, model: TabularVAE, meta: dict) -> None:
        """Keep `model` as the workspace's model of `table`, replacing the one before; beyond `MAX_TABLES`
        tables the least recently saved is dropped."""
        path = self._table_path(workspace_id, table)
        path.parent.mkdir(exist_ok=True)
        save_tabular(path, model, meta)
        for older in sorted(path.parent.glob("*.pt"), key=_modified_or_zero)[:-MAX_TABLES]:
            older.unlink(missing_ok=True)
        self.touch(workspace_id)
        self.collect_garbage(keep=workspace_id)

    def load_tabular_model(self, workspace_id: str, table: str) -> tuple[TabularVAE, dict] | None:
        """The workspace's model of `table`; None when it keeps none (or the file cannot be read)."""
        path = self._table_path(workspace_id, table)
        try:
            return load_tabular(path) if path.is_file() else None
        except CheckpointError:
            return None

    def _table_path(self, workspace_id: str, table: str) -> Path:
        """One file per table, named by a hash of the table's name (a CSV's name is whatever its owner chose)."""
        return self._folder(workspace_id) / "tables" / f"{hashlib.sha256(table.encode()).hexdigest()[:16]}.pt"

    # --- training runs ----------------------------------------------------------------------------
    def add_run(self, workspace_id: str, run_id: str, record: dict) -> None:
        """Store one training run's record (plain JSON data), one file per run: no lost updates."""
        text = json.dumps(record, allow_nan=False).encode()
        write_atomically(self._run_path(workspace_id, run_id), lambda f: f.write(text))

    def remove_run(self, workspace_id: str, run_id: str) -> None:
        self._run_path(workspace_id, run_id).unlink(missing_ok=True)

    def _run_path(self, workspace_id: str, run_id: str) -> Path:
        if not isinstance(run_id, str) or RUN_ID.fullmatch(run_id) is None:
            raise ValueError("not a run id")
        return self._folder(workspace_id) / "runs" / f"{run_id}.json"

    def runs(self, workspace_id: str) -> list[dict]:
        """Every stored run record, oldest first (unreadable ones are skipped)."""
        if not self.exists(workspace_id):
            return []
        records = []
        for path in sorted((self._folder(workspace_id) / "runs").glob("*.json"), key=_modified_or_zero):
            try:
                records.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue
        return records

    # --- caps across workspaces -------------------------------------------------------------------
    def _size_mb(self, workspace_id: str) -> float:
        return sum(p.stat().st_size for p in self._folder(workspace_id).rglob("*") if p.is_file()) / MB

    def collect_garbage(self, keep: str | None = None, now: float | None = None) -> list[str]:
        """Remove workspaces unused for longer than the age limit, then the least recently used ones
        until all of them fit in the total size limit (never `keep`). → the removed ids."""
        now = time.time() if now is None else now
        if not self.root.is_dir():
            return []
        found = [p.name for p in self.root.iterdir() if self.is_valid_id(p.name) and p.is_dir()]
        last_used = {w: _modified_or_zero(self.root / w / "last_used") for w in found}
        removed = [w for w in found if w != keep and now - last_used[w] > self.limits.max_age_days * 86400]
        remaining = sorted((w for w in found if w not in removed), key=last_used.get)
        sizes = {w: self._size_mb(w) for w in remaining}
        total = sum(sizes.values())
        for workspace_id in remaining:
            if total <= self.limits.max_total_mb:
                break
            if workspace_id != keep:
                removed.append(workspace_id)
                total -= sizes[workspace_id]
        for workspace_id in removed:
            shutil.rmtree(self.root / workspace_id, ignore_errors=True)
        return removed


def _modified_or_zero(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
