"""The models a session can use — shipped, trained here, uploaded — and the sidebar picker."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import streamlit as st

from ui import links
from ui.workspace import MODEL_ID, WorkspaceFull, WorkspaceStore
from vae.card import model_card
from vae.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint
from vae.models import VAE

CHECKPOINT_DIR = Path(__file__).resolve().parents[1] / "checkpoints"
_SESSION_MODELS = "session_models"  # id -> ModelEntry: this session's trained and uploaded models
_WORKSPACE = "workspace_id"  # where they are kept on the server (None until the first one)
_WORKSPACE_NEWS = "workspace_news"  # messages about the workspace, shown once in the sidebar
_PAGE_MODEL = "page_workspace_model"  # (page URL, name): a page's own model that lives in the workspace
_PICKER = "model_id"  # the picker's widget key: the chosen model's id
_SELECT_NEXT = "select_model_next"  # a model to select on the next run (widgets can't change mid-run)
_UPLOAD_ERRORS = "upload_errors"  # sha -> message for refused uploads


@dataclass
class ModelEntry:
    """A model the app can use. Shipped models are shared by every session: never mutate them."""

    id: str  # a shipped model's name, or a workspace model's id ("trained-…", "uploaded-…"): the URL's `model`
    name: str
    source: Literal["shipped", "trained", "uploaded"]
    model: VAE
    meta: dict

    @property
    def summary(self) -> str:
        """One line: dataset, latent size, kind, test −ELBO."""
        cfg = self.model.config
        parts = [self.meta.get("dataset", "?").upper(), f"z={cfg.latent_dim}", cfg.arch]
        parts.append(
            f"{cfg.clusters} clusters, no labels"
            if cfg.clusters
            else "conditional"
            if cfg.conditional
            else "classifier head"
            if cfg.head_classes
            else "unconditional"
        )
        if cfg.members > 1:
            parts.append(f"an ensemble of {cfg.members} networks")
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


# The first is every session's starting model; mnist_ae and mnist_beta4 are lesson 3's β = 0 and β = 4;
# mnist_cvae (2-D latent) draws the lessons' pictures, mnist_cvae_z8 (8-D) names drawn digits best.
SHIPPED_MODELS = ("mnist_z2", "mnist_cvae", "mnist_cvae_z8", "mnist_no9", "mnist_ae", "mnist_beta4", "mnist_clusters")
BEST_CLASSIFIER = "mnist_cvae_z8"  # the conditional model the Anomaly lab points to for "is this a c?"


def shipped_names() -> list[str]:
    """The shipped models, in order. Only these: a checkpoint someone else writes into checkpoints/ is not one."""
    return [name for name in SHIPPED_MODELS if (CHECKPOINT_DIR / f"{name}.pt").exists()]


@st.cache_resource(show_spinner=False)
def _load_shipped(name: str) -> tuple[VAE, dict]:
    """Loaded once per server process and shared by every session."""
    model, meta = load_checkpoint(CHECKPOINT_DIR / f"{name}.pt")
    for parameter in model.parameters():
        parameter.requires_grad_(False)  # nobody trains a shared model by accident
    return model, meta


def shipped_entry(name: str) -> ModelEntry:
    model, meta = _load_shipped(name)
    return ModelEntry(name, name, "shipped", model, meta)


# --- the workspace: this visitor's models, kept on the server ----------------------------------------
@st.cache_resource(show_spinner=False)
def workspace_store() -> WorkspaceStore:
    """One store per server (VAE_LAB_WORKSPACE_DIR and the VAE_LAB_WORKSPACE_* caps)."""
    return WorkspaceStore()


def workspace_id() -> str | None:
    return st.session_state.get(_WORKSPACE)


def ensure_workspace() -> str:
    """This session's workspace id, creating the workspace on first use (the sidebar puts it in the URL)."""
    if workspace_id() is None:
        st.session_state[_WORKSPACE] = workspace_store().create()
    return st.session_state[_WORKSPACE]


def ensure_workspace_in_url() -> str:
    """`ensure_workspace`, written into the URL at once: for a page that saves after the sidebar was drawn."""
    workspace = ensure_workspace()
    links.set_app_params(model=current_model().id, ws=workspace)
    return workspace


def session_models() -> dict[str, ModelEntry]:
    return st.session_state.setdefault(_SESSION_MODELS, {})


def tell(message: str) -> None:
    """A message about the workspace for the sidebar (shown once, on the next sidebar draw)."""
    st.session_state.setdefault(_WORKSPACE_NEWS, []).append(message)


def keep_in_workspace(entry: ModelEntry, workspace: str) -> None:
    """Save a trained or uploaded model in the workspace, so a refresh or another device finds it.

    Plain Python (no `st` calls besides session state): a training's `finally` may call it.
    """
    try:
        saved = workspace_store().save_model(workspace, entry.id, entry.model, {**entry.meta, "name": entry.name})
    except WorkspaceFull as err:
        tell(str(err))
        return
    except OSError as err:
        tell(f"{entry.name} could not be saved on the server ({err.strerror}): it stays in this tab only.")
        return
    if saved.removed:
        caps = workspace_store().limits
        gone = [session_models()[i].name if i in session_models() else i for i in saved.removed]
        models = f"{caps.max_models} model{'s' * (caps.max_models != 1)}"
        tell(
            f"Your workspace keeps at most {models} and {caps.max_mb:.0f} MB: the oldest "
            f"({', '.join(gone)}) made room for {entry.name}; {'they stay' if len(gone) > 1 else 'it stays'} "
            "in this tab until you leave it (download to keep)."
        )


def add_session_model(entry: ModelEntry, saved: bool = False) -> None:
    """Keep a model for this session (and in its workspace, unless `saved` already) and select it next run."""
    session_models()[entry.id] = entry
    if not saved:
        keep_in_workspace(entry, ensure_workspace())
    st.session_state[_SELECT_NEXT] = entry.id


def _open_workspace_from_link() -> None:
    """A `ws=` in an incoming link: use that workspace, or say why not."""
    wanted = links.take("ws")
    if wanted is None or wanted == workspace_id():
        return
    store = workspace_store()
    if not store.is_valid_id(wanted):
        links.ignore("ws", wanted, "not a workspace id")
    elif not store.exists(wanted):
        days = store.limits.max_age_days
        links.ignore(
            "ws", wanted, f"this workspace no longer exists: workspaces unused for {days:g} days, or the least "
            "recently used when the server runs out of room, are removed; a new one starts with your next model"
        )  # fmt: skip
    else:
        st.session_state[_WORKSPACE] = wanted
        st.session_state[_SESSION_MODELS] = {}


def _sync_workspace() -> None:
    """Load the workspace's models this session does not hold yet (trained elsewhere, or before a refresh)."""
    workspace = workspace_id()
    if workspace is None:
        return
    store = workspace_store()
    if not store.exists(workspace):  # evicted while in use: what is in memory stays usable here
        tell(
            "Your workspace was removed from the server (unused, or to make room): "
            "a new one starts with your next model."
        )
        st.session_state[_WORKSPACE] = None
        return
    store.touch(workspace)
    models = session_models()
    for model_id in store.model_ids(workspace):
        if model_id in models:
            continue
        try:
            model, meta = store.load_model(workspace, model_id)
        except (CheckpointError, OSError):
            continue  # removed or replaced while we listed: the next run sees the new state
        source = "uploaded" if model_id.startswith("uploaded-") else "trained"
        models[model_id] = ModelEntry(model_id, str(meta.get("name") or model_id)[:40], source, model, meta)


def all_entries() -> dict[str, ModelEntry]:
    entries = {name: shipped_entry(name) for name in shipped_names()}
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
    entry_id = f"uploaded-{digest}"
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
    """Sidebar: choose a model, see its card, upload one, download the chosen one, share the view."""
    _open_workspace_from_link()
    _sync_workspace()
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

    entries = all_entries()
    if _SELECT_NEXT in st.session_state:
        st.session_state[_PICKER] = st.session_state.pop(_SELECT_NEXT)
    wanted = links.take("model")
    if wanted is not None and wanted in entries:
        st.session_state[_PICKER] = wanted
    elif wanted is not None:
        where = "of this workspace" if MODEL_ID.fullmatch(wanted) else "shipped"
        links.ignore("model", wanted, f"no such model {where}; {next(iter(entries))} is used")
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
        links.set_app_params(model=entry.id, ws=workspace_id())
        st.caption(entry.summary)
        for message in st.session_state.pop(_WORKSPACE_NEWS, []):
            st.info(message, icon=":material/inventory_2:")
        st.download_button(
            "Download this model (.pt)",
            data=entry.file_bytes,
            file_name=f"{entry.name}.pt",
            mime="application/octet-stream",
            on_click="ignore",
            use_container_width=True,
        )
        if st.button("Model card", icon=":material/description:", use_container_width=True):
            card_dialog(entry)
        if st.button("Share this view", icon=":material/share:", use_container_width=True):
            share_dialog(entry)
    return entry


@st.dialog("Model card", width="large")
def card_dialog(entry: ModelEntry) -> None:
    """The chosen model's full model card: how it was made, what it scored, its training history."""
    shipped_card = CHECKPOINT_DIR / f"{entry.name}.md"
    if entry.source == "shipped" and shipped_card.exists():
        st.markdown(shipped_card.read_text())
        return
    try:
        st.markdown(model_card(entry.model.config, entry.meta))
    except (KeyError, TypeError, ValueError):  # an uploaded file from elsewhere: its metadata is not a training record
        st.markdown(f"**{entry.name}**: {entry.summary}")
        st.caption("This checkpoint carries no complete training record, so there is no model card to show.")


def page_shows_workspace_model(name: str | None) -> None:
    """Called by a page that shows a model of its own (not the sidebar's): the name of that model if it lives in
    the workspace, else None. The share dialog then gives the link that carries the workspace."""
    st.session_state[_PAGE_MODEL] = (st.context.url, name) if name else None


@st.dialog("Share this view", width="large")
def share_dialog(entry: ModelEntry) -> None:
    """The link that opens this page with this model and these settings, ready to copy."""
    link = links.current_link()
    name, in_workspace = entry.name, entry.source != "shipped"
    page_model = st.session_state.get(_PAGE_MODEL)
    if page_model and page_model[0] == st.context.url:  # this page shows a model of its own, from the workspace
        name, in_workspace = page_model[1], True
    if not in_workspace:
        without_workspace = links.current_link(drop=("ws",))
        st.markdown("Anyone who opens this link sees this page, with this model and these settings:")
        st.code(without_workspace, language=None, wrap_lines=True)
        if link != without_workspace:
            st.caption(
                "To come back to your own trained models on another device, keep this one for yourself "
                "(whoever has it can use your workspace):"
            )
            st.code(link, language=None, wrap_lines=True)
    else:
        st.markdown("This link opens this page with your model and these settings:")
        st.code(link, language=None, wrap_lines=True)
        st.caption(
            f"**{name}** lives in your workspace, so the link carries it (`ws=`): whoever opens it can use "
            "your trained models and add their own. To share a view without them, switch to a shipped model first."
        )
