"""Training inside a page: progress, live curves, reconstructions, the forming latent space, Stop.

The loop runs in the page's own script run. A click on Stop (or on anything else, or a reload)
makes Streamlit stop that run at its next `st` call. The run's `finally` keeps the last completed
epoch — saved in the visitor's workspace, with the run's record, in plain Python (any `st` call
there would be interrupted too) — and signals `ended`; the next script run selects the model.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Literal

import streamlit as st
import torch

from ui.data import cached_dataset
from ui.images import display_scale
from ui.latent import show_replay
from ui.limits import training_slot
from ui.models import (
    ModelEntry,
    add_session_model,
    ensure_workspace_in_url,
    keep_in_workspace,
    session_models,
    workspace_id,
    workspace_store,
)
from vae.anomaly import calibrate_combined, default_calibration_images, generative_accuracy, generative_accuracy_key
from vae.checkpoint import training_meta
from vae.clusters import cluster_report
from vae.data import CLASS_NAMES, filter_classes, hold_out, to_float
from vae.generation import fit_class_codes
from vae.latent import encode_dataset
from vae.models import VAE, VAEConfig
from vae.plots import image_grid, latent_scatter, loss_curves, runs_curves
from vae.replay import ReplayRecorder
from vae.training import TrainingDiverged, TrainSettings, epoch_metrics, train

RUN_KEY = "training_run"
HELD_OUT = 2000  # test images evaluated after every epoch (kept small so epochs stay quick)
SCATTER_POINTS = 2000
_REDRAW_S = 0.25  # progress bar refresh: also how quickly a Stop click is noticed
TRAIN_BUTTON = "train_submit"  # the Train page's submit button key: True in the run its click started


@dataclass
class TrainingRequest:
    """What the form asked for."""

    dataset: str
    classes: list[int]
    train_size: int
    config: VAEConfig
    settings: TrainSettings


@dataclass
class TrainingRun:
    """A run's outcome, kept in the session so the page can show it after the run ends."""

    request: TrainingRequest
    name: str  # the kept model's name
    workspace: str  # where the kept model and this record are saved
    train_images: int = 0  # images actually used (fewer than asked when classes are left out)
    held_out: tuple[torch.Tensor, torch.Tensor] | None = None  # the test images and labels each epoch is scored on
    history: list[dict] = field(default_factory=list)
    status: Literal["running", "finished", "stopped", "diverged"] = "running"
    message: str = ""
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    kept: ModelEntry | None = None  # the last completed epoch's model, once the run ended
    registered: bool = False  # the kept model joined the session's models
    ended: threading.Event = field(default_factory=threading.Event)  # set once the outcome is stored
    replay: ReplayRecorder | None = None  # snapshots of the latent space as it forms
    clusters: dict | None = None  # a clustering VAE's clusters against the held-out labels (`cluster_report`)
    calibration: torch.Tensor | None = None  # a classifier-head model's set-aside training images (never trained on)
    # a CVAE's training images and labels, to fit where each class's codes lie once it ends (then let go)
    class_code_data: tuple[torch.Tensor, torch.Tensor] | None = None

    def keep(self, last_good_state: dict | None) -> None:
        """Plain Python, for the run's `finally`: the kept model and this run's record go to the workspace."""
        if last_good_state is None:
            self.message = self.message or "Stopped before the first epoch finished: there is no model to keep."
        else:
            self.kept = self._entry(last_good_state)
            keep_in_workspace(self.kept, self.workspace)
        self.class_code_data = None  # the session keeps the run: not a copy of the training set with it
        with contextlib.suppress(OSError, ValueError):  # a full disk, a non-finite number: the model is still kept
            workspace_store().add_run(self.workspace, self.run_id, self.record())

    def discard(self) -> None:
        """Forget this run and its model: Train was clicked again while it ran, so the new run replaces it."""
        if self.kept is not None:
            workspace_store().remove_model(self.workspace, self.kept.id)
            self.kept = None
        workspace_store().remove_run(self.workspace, self.run_id)

    def _entry(self, state: dict) -> ModelEntry:
        request, cfg, last = self.request, self.request.config, self.history[-1]
        model = VAE(cfg)
        model.load_state_dict(state)
        model.eval()
        if self.calibration is not None:
            calibrate_combined(model, to_float(self.calibration))
        if self.replay is not None:
            self.replay.record(model, len(self.history), always=True)  # a stopped run's last epoch too
        metrics = epoch_metrics(last, len(self.held_out[0]))
        if cfg.conditional:  # as the CLI: the model as a classifier, on its card, and its class codes fitted
            metrics[generative_accuracy_key("elbo")] = generative_accuracy(model, *self.held_out)
            if self.class_code_data is not None:
                fit_class_codes(model, *self.class_code_data)
        meta = training_meta(
            name=self.name,
            dataset=request.dataset,
            classes=request.classes,
            train_images=self.train_images,
            settings=request.settings.to_dict(),
            history=self.history,
            metrics=metrics,
            status=self.status,
            device=str(model.device),
            **(self.replay.meta() if self.replay else {}),
            **({"clusters": self.clusters} if self.clusters else {}),
            **({"calibration_images": len(self.calibration)} if self.calibration is not None else {}),
            **({"class_codes_images": len(self.class_code_data[0])} if self.class_code_data is not None else {}),
        )
        # ids key caches shared by all sessions, so they must be unique across sessions, not just here
        return ModelEntry(f"trained-{self.run_id}", self.name, "trained", model, meta)

    def record(self) -> dict:
        """What the workspace remembers of this run (plain JSON data)."""
        return {
            "run_id": self.run_id,
            "name": self.name,
            "model_id": self.kept.id if self.kept else None,
            "dataset": self.request.dataset,
            "classes": self.request.classes,
            "train_images": self.train_images,
            "config": self.request.config.to_dict(),
            "settings": self.request.settings.to_dict(),
            "status": self.status,
            "history": self.history,
        }


def prepare_data(request: TrainingRequest) -> tuple[torch.Tensor, ...]:
    """Training subset and held-out images of the chosen classes (seeded, so runs repeat)."""
    images, labels = filter_classes(*cached_dataset(request.dataset, True), keep=request.classes)
    test_images, test_labels = filter_classes(*cached_dataset(request.dataset, False), keep=request.classes)
    generator = torch.Generator().manual_seed(request.settings.seed)
    subset = torch.randperm(len(images), generator=generator)[: request.train_size]
    held_out = torch.randperm(len(test_images), generator=generator)[:HELD_OUT]
    return images[subset], labels[subset], test_images[held_out], test_labels[held_out]


def run_training(request: TrainingRequest) -> None:
    """Train while drawing progress; the result joins the session's models and is selected."""
    with training_slot() as granted:
        if not granted:
            return
        images, labels, test_images, test_labels = prepare_data(request)
        cfg = request.config
        calibration = None
        if cfg.head_classes:  # set aside before training, as the CLI does: the combined score's scale
            n = default_calibration_images(len(images))
            images, labels, calibration = hold_out(images, labels, n, seed=request.settings.seed)
        model = VAE(cfg, seed=request.settings.seed)  # the global RNG is shared by every session
        number = len(session_models()) + 1
        kind = (
            "-cvae" if cfg.conditional else f"-k{cfg.clusters}" if cfg.clusters else "-head" if cfg.head_classes else ""
        )
        name = f"{request.dataset}-z{cfg.latent_dim}-{cfg.arch}{kind}-{number}"
        run = TrainingRun(
            request,
            name,
            ensure_workspace_in_url(),
            len(images),
            (test_images, test_labels),
            calibration=calibration,
            class_code_data=(images, labels) if cfg.conditional else None,
        )
        run.replay = ReplayRecorder(test_images, test_labels, request.settings.epochs)
        st.session_state[RUN_KEY] = run
        _live_view(run, model, images, labels, test_images, test_labels)
    register_outcome(run)
    st.rerun()  # redraw the sidebar with the new model selected


def _live_view(run: TrainingRun, model: VAE, images, labels, test_images, test_labels) -> None:
    request = run.request
    st.button("Stop", icon=":material/stop_circle:", help="Keeps the last completed epoch")
    progress = st.progress(0.0, text="Starting…")
    curves, pictures = st.empty(), st.empty()
    last_good: dict | None = None
    last_draw = 0.0
    try:
        for event in train(model, images, labels, request.settings, test_images, test_labels):
            if event.kind == "epoch":  # keep the finished epoch before any `st` call (a Stop can land there)
                run.history.append(event.as_record())
                last_good = copy.deepcopy(model.state_dict())
                run.replay.record(model, event.epoch)
                if model.config.clusters:  # names the clusters by the held-out labels they hold most
                    run.clusters = cluster_report(model, test_images, test_labels)[1]
            done = event.fraction_done
            if event.kind == "step" and time.perf_counter() - last_draw < _REDRAW_S:
                continue
            last_draw = time.perf_counter()
            eta = event.elapsed_s / done * (1 - done)
            progress.progress(
                done,
                text=f"Epoch {event.epoch}/{event.epochs} · step {event.step}/{event.steps_per_epoch} · "
                f"train −ELBO {event.train.total:.1f} · about {eta:.0f} s left",
            )
            if event.kind == "epoch":
                curves.plotly_chart(loss_curves(run.history), key=f"curves_{event.epoch}")
                with pictures.container():
                    show_model_pictures(model, test_images, test_labels, request.dataset, key=f"live_{event.epoch}")
        run.status = "finished"
    except TrainingDiverged as err:
        run.status, run.message = "diverged", str(err)
    finally:  # no `st` calls in here: after a Stop click they would be interrupted too
        if run.status == "running":
            run.status = "stopped"
        try:
            run.keep(last_good)
        finally:
            run.ended.set()


def settle_interrupted_run(timeout_s: float = 15.0) -> None:
    """Called first in every script run: select the model of a training that was interrupted.

    The interrupted run stops at its next `st` call (within a fraction of a second); waiting for
    it here, before the sidebar is drawn, lets this run show the kept model as selected.
    """
    run = st.session_state.get(RUN_KEY)
    if run is not None and not run.registered:
        run.ended.wait(timeout_s)
        if st.session_state.get(TRAIN_BUTTON):  # a second click on Train (a double click) restarts the run
            run.discard()
        register_outcome(run)


def register_outcome(run: TrainingRun) -> None:
    """The kept model (none before epoch 1) joins the session's models and is selected, once."""
    if run.registered or not run.ended.is_set():
        return
    run.registered = True
    if run.kept is not None:
        add_session_model(run.kept, saved=True)


def run_history() -> list[dict]:
    """Every run recorded in this session's workspace, oldest first."""
    workspace = workspace_id()
    return workspace_store().runs(workspace) if workspace else []


@torch.no_grad()
def show_model_pictures(model: VAE, test_images, test_labels, dataset: str, key: str) -> None:
    """Ten test digits over their reconstructions, and for 2-D models the latent scatter."""
    left, right = st.columns([3, 2]) if model.config.latent_dim == 2 else (st.container(), None)
    first_of_each = [int((test_labels == c).nonzero()[0]) for c in test_labels.unique()[:10]]
    x = to_float(test_images[first_of_each])
    y = test_labels[first_of_each] if model.config.conditional else None
    pair = torch.cat([x, model.reconstruct(x, y)])
    left.image(image_grid(pair, nrow=len(x), scale=display_scale(pair, 84)), width="stretch")
    left.caption("Top: test digits the model never trained on. Bottom: their reconstructions.")
    if right is not None:
        mu, _ = encode_dataset(model, test_images[:SCATTER_POINTS], test_labels[:SCATTER_POINTS])
        names = CLASS_NAMES[dataset]
        right.markdown("**Latent means of test images**")
        fig = latent_scatter(mu, test_labels[:SCATTER_POINTS], names)
        right.plotly_chart(fig, key=f"scatter_{key}")


def show_last_run(run: TrainingRun) -> None:
    """The outcome of the session's last run: message, curves, pictures of the kept model."""
    epochs = run.request.settings.epochs
    done = len(run.history)
    if run.status == "finished":
        set_aside = 0 if run.calibration is None else len(run.calibration)
        fewer = (
            f" (of {run.request.train_size:,} asked for: all the training images of the chosen classes)"
            if run.train_images + set_aside < run.request.train_size
            else ""
        )
        calibration = f", {set_aside:,} more set aside to calibrate its combined score" if set_aside else ""
        st.success(
            f"Trained {done} epochs on {run.train_images:,} images{fewer}{calibration}. "
            "The model is selected in the sidebar and every page now uses it."
        )
    elif run.status == "stopped":
        kept = "The last completed epoch was kept and selected." if done else run.message
        st.warning(f"Stopped after {done} of {epochs} epochs. {kept}")
    elif run.status == "diverged":
        kept = (
            f"The model from epoch {done} was kept and selected." if done else "No epoch finished: no model was kept."
        )
        st.error(f"Training diverged: {run.message} {kept}")
    if run.history:
        st.plotly_chart(loss_curves(run.history), key="curves_last")
    entry = run.kept
    if entry is not None:
        request = run.request
        _, _, test_images, test_labels = prepare_data(request)
        show_model_pictures(entry.model, test_images, test_labels, request.dataset, key="last")
        st.markdown("**Replay: the latent space forming, epoch by epoch**")
        show_replay(entry.meta, CLASS_NAMES[request.dataset], key="train_replay")


def show_run_history(runs: list[dict]) -> None:
    """Every run of this workspace: a table, and their held-out −ELBO curves on one chart."""
    if not runs:
        return
    st.subheader(f"Runs in your workspace ({len(runs)})")
    st.plotly_chart(runs_curves([(r["name"], r["history"]) for r in runs]), key="runs_curves")
    st.dataframe(
        {  # the model's name already says dataset, latent size and architecture
            "model": [r["name"] for r in runs],
            "classes": [",".join(map(str, r["classes"])) if len(r["classes"]) < 10 else "all" for r in runs],
            "images": [r["train_images"] for r in runs],
            "β": [r["config"]["beta"] for r in runs],
            "epochs": [f"{len(r['history'])}/{r['settings']['epochs']}" for r in runs],
            "outcome": [r["status"] for r in runs],
            "−ELBO": [r["history"][-1]["test_total"] if r["history"] else None for r in runs],
        },
        hide_index=True,
        column_config={
            "−ELBO": st.column_config.NumberColumn(format="%.1f", help="Held-out −ELBO after the last epoch (nats)")
        },
    )
