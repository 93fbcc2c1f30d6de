"""The models a session can use — shipped, trained here, uploaded — and the sidebar picker."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import streamlit as st

from vae.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint
from vae.models import VAE

CHECKPOINT_DIR = Path(__file__).resolve().parents[1] / "checkpoints"
_SESSION_MODELS = "session_models"  # id -> ModelEntry, this browser session only
_PICKER = "model_id"  # the picker's widget key: the chosen model's id
_SELECT_NEXT = "select_model_next"  # a model to select on the next run (widgets can't change mid-run)
_UPLOAD_ERRORS = "upload_errors"  # sha -> message for refused uploads


@dataclass
class ModelEntry:
    """A model the app can use. Shipped models are shared by every session: never mutate them."""

    id: str
    name: str
    source: Literal["shipped", "trained", "uploaded"]
    model: VAE
    meta: dict

    @property
    def summary(self) -> str:
        """One line: dataset, latent size, kind, test −ELBO."""
        cfg = self.model.config
        parts = [self.meta.get("dataset", "?").upper(), f"z={cfg.latent_dim}", cfg.arch]
        parts.append("conditional" if cfg.conditional else "unconditional")
        classes = self.meta.get("classes")
        if classes is not None and len(classes) < 10:
            parts.append("classes " + ",".join(map(str, classes)))
        neg_elbo = self.meta.get("metrics", {}).get("test_neg_elbo")
        if neg_elbo is not None:
            parts.append(f"test −ELBO {neg_elbo:.1f}")
        return " · ".join(parts)

    def file_bytes(self) -> bytes:
        """The checkpoint file, for the download button."""
        if self.source == "shipped":
            return (CHECKPOINT_DIR / f"{self.name}.pt").read_bytes()
        return checkpoint_bytes(self.model, self.meta)


SHIPPED_ORDER = ("mnist_z2", "mnist_cvae", "mnist_no9")  # the first is every session's starting model


def shipped_names() -> list[str]:
    """Checkpoints in checkpoints/: the curated ones first, any others alphabetically."""
    names = sorted(p.stem for p in CHECKPOINT_DIR.glob("*.pt"))
    return sorted(names, key=lambda n: (SHIPPED_ORDER.index(n) if n in SHIPPED_ORDER else len(SHIPPED_ORDER), n))


@st.cache_resource(show_spinner=False)
def _load_shipped(name: str) -> tuple[VAE, dict]:
    """Loaded once per server process and shared by every session."""
    model, meta = load_checkpoint(CHECKPOINT_DIR / f"{name}.pt")
    for parameter in model.parameters():
        parameter.requires_grad_(False)  # nobody trains a shared model by accident
    return model, meta


def shipped_entry(name: str) -> ModelEntry:
    model, meta = _load_shipped(name)
    return ModelEntry(f"shipped:{name}", name, "shipped", model, meta)


def session_models() -> dict[str, ModelEntry]:
    return st.session_state.setdefault(_SESSION_MODELS, {})


def add_session_model(entry: ModelEntry) -> None:
    """Keep a model for this session and select it (on the next run, as widgets are already drawn)."""
    session_models()[entry.id] = entry
    st.session_state[_SELECT_NEXT] = entry.id


def all_entries() -> dict[str, ModelEntry]:
    entries = {f"shipped:{name}": shipped_entry(name) for name in shipped_names()}
    entries.update(session_models())
    return entries


def current_model() -> ModelEntry:
    """The model chosen in the sidebar (the first shipped one before anything is chosen)."""
    entries = all_entries()
    return entries.get(st.session_state.get(_PICKER), next(iter(entries.values())))


def max_upload_mb() -> int:
    """server.maxUploadSize (.streamlit/config.toml): the browser enforces it, a script can send more."""
    return int(st.get_option("server.maxUploadSize"))


def _take_upload(upload) -> None:
    """Validate an uploaded checkpoint; keep it, or remember why it was refused."""
    data = upload.getvalue()
    digest = hashlib.sha256(data).hexdigest()[:12]
    entry_id = f"uploaded:{digest}"
    errors = st.session_state.setdefault(_UPLOAD_ERRORS, {})
    if entry_id in session_models() or digest in errors:
        return
    if len(data) > max_upload_mb() * 2**20:
        errors[digest] = (
            f"**{upload.name}** was not loaded: it is {len(data) / 2**20:.1f} MB, and uploaded checkpoints are "
            f"limited to {max_upload_mb()} MB (the shipped models are about 4 MB)."
        )
        return
    try:
        model, meta = load_checkpoint(data)
    except CheckpointError as err:
        errors[digest] = f"**{upload.name}** was not loaded. {err}"
        return
    name = Path(upload.name).stem[:40] or "uploaded"
    add_session_model(ModelEntry(entry_id, name, "uploaded", model, meta))


def model_picker() -> ModelEntry:
    """Sidebar: choose a model, see its card, upload one, download the chosen one."""
    sidebar = st.sidebar
    sidebar.subheader("Model")
    picker_slot = sidebar.container()
    with sidebar.expander("Upload a checkpoint (.pt)"):
        upload = st.file_uploader(
            "A file saved by VAE Lab (Download button below, or `python -m vae train`).",
            type=["pt"],
            key="checkpoint_upload",
        )
        if upload is not None:
            _take_upload(upload)
            digest = hashlib.sha256(upload.getvalue()).hexdigest()[:12]
            if digest in st.session_state.get(_UPLOAD_ERRORS, {}):
                st.error(st.session_state[_UPLOAD_ERRORS][digest])

    if _SELECT_NEXT in st.session_state:
        st.session_state[_PICKER] = st.session_state.pop(_SELECT_NEXT)
    entries = all_entries()
    if st.session_state.get(_PICKER) not in entries:
        st.session_state[_PICKER] = next(iter(entries))
    labels = {"shipped": "", "trained": " (trained here)", "uploaded": " (uploaded)"}
    with picker_slot:
        chosen = st.selectbox(
            "Model",
            options=list(entries),
            format_func=lambda i: entries[i].name + labels[entries[i].source],
            key=_PICKER,
            label_visibility="collapsed",
        )
        entry = entries[chosen]
        st.caption(entry.summary)
        st.download_button(
            "Download this model (.pt)",
            data=entry.file_bytes,
            file_name=f"{entry.name}.pt",
            mime="application/octet-stream",
            on_click="ignore",
            use_container_width=True,
        )
    return entry
