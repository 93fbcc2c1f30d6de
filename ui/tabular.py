"""The Tabular lab's parts: the table choice, training live, and the views of one run."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ui import links
from ui.limits import HostedLimits, training_slot
from ui.models import ensure_workspace_in_url, workspace_id, workspace_store
from vae.checkpoint import CheckpointError
from vae.plots import (
    add_point,
    confusion_figure,
    feature_r2_bars,
    latent_scatter,
    tabular_curves,
    tabular_replay_figure,
)
from vae.tables import MAX_BYTES, MAX_COLUMNS, MAX_ROWS, TableError, csv_columns, read_csv_table
from vae.tabular import (
    MODES,
    TabularConfig,
    TabularVAE,
    load_table,
    load_tabular,
    new_model,
    split_table,
    tabular_checkpoint_bytes,
    train_tabular,
)
from vae.tabular_report import TabularRecord, TabularReplay, results, tabular_meta
from vae.tabular_study import LatentRegions, feature_elimination, feature_r2
from vae.training import TrainingDiverged

SHIPPED = "breast_cancer_vaec"
SHIPPED_PATH = Path(__file__).resolve().parents[1] / "checkpoints" / f"{SHIPPED}.pt"
BUNDLED = {"breast-cancer": "Breast cancer (Wisconsin, 569 rows)", "wine": "Wine (178 rows)"}
UPLOAD = "csv"
TABLE_PARAM = links.ChoiceParam(name="table", key="tab_table", default="breast-cancer", choices=(*BUNDLED, UPLOAD))
RUN_KEY = "tab_run"  # the run the page shows
_DEFAULT = TabularConfig()
FORM_PARAMS = [  # the training form's defaults, from a link (a teacher's settings)
    links.ChoiceParam(name="mode", key="tab_mode", default=_DEFAULT.mode, choices=tuple(MODES)),
    links.IntParam(name="latent", key="tab_latent", default=_DEFAULT.latent_dim, low=1, high=8),
    links.FloatParam(name="beta", key="tab_beta", default=_DEFAULT.beta, low=0.0, high=10.0, decimals=3),
    links.IntParam(name="epochs", key="tab_epochs", default=_DEFAULT.epochs, low=1, high=2000),
    links.IntParam(name="seed", key="tab_seed", default=0, low=0, high=2**31 - 1),
    links.FloatParam(name="test", key="tab_test_fraction", default=0.25, low=0.1, high=0.5, decimals=2),
]


@dataclass(frozen=True)
class TableChoice:
    name: str  # "breast-cancer", "wine" or the CSV's file name
    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    class_names: list[str]


@dataclass(frozen=True)
class TabularRun:
    """A trained (or shipped) model with the split it was trained and tested on."""

    model: TabularVAE
    meta: dict
    table: str
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    source: str  # "shipped", "trained here" or "uploaded: <file name>"

    @property
    def replay(self) -> TabularReplay | None:
        return TabularReplay.from_meta(self.meta.get("tabular_replay"))

    @property
    def class_names(self) -> list[str]:
        return self.model.class_names


def table_summary(features: list[str], classes: list[str]) -> str:
    """ "30 columns (mean radius, mean texture, …), classes malignant, benign": enough to tell two tables apart."""
    shown = ", ".join(features[:3]) + (", …" if len(features) > 3 else "")
    return f"{len(features)} columns: {shown}; classes {', '.join(classes)}"


def run_on_table(model: TabularVAE, meta: dict, table: TableChoice, source: str) -> TabularRun:
    """A loaded model with the split it was trained and tested on, rebuilt from the test fraction and seed in
    its metadata. ValueError, in words fit to show, when `table` is not the table it was trained on."""
    if model.feature_names != table.feature_names or model.class_names != table.class_names:
        trained_on = table_summary(model.feature_names, model.class_names)
        raise ValueError(
            f"it was trained on {meta.get('dataset', 'another table')} ({trained_on}); {table.name} has "
            f"{table_summary(table.feature_names, table.class_names)}. Choose the table it was trained on."
        )
    fraction, seed = meta.get("test_fraction"), meta.get("seed")
    if not (isinstance(fraction, float) and 0 < fraction < 1 and isinstance(seed, int) and seed >= 0):
        raise ValueError("its metadata does not say how its table was split into training and test rows.")
    X_train, X_test, y_train, y_test = split_table(table.X, table.y, fraction, seed)
    if (len(y_train), len(y_test)) != (meta.get("train_rows"), meta.get("test_rows")):
        raise ValueError(
            f"it was trained on {meta.get('train_rows')} rows and tested on {meta.get('test_rows')}; {table.name} "
            f"splits into {len(y_train)} and {len(y_test)}, so it is not the same table."
        )
    return TabularRun(model, meta, table.name, X_train, X_test, y_train, y_test, source)


@st.cache_resource(show_spinner=False)
def shipped_run() -> TabularRun | None:
    """The shipped breast-cancer model with its own split, loaded once per server and shared."""
    try:
        model, meta = load_tabular(SHIPPED_PATH)
    except CheckpointError:
        return None
    name = meta["dataset"]
    return run_on_table(model, meta, TableChoice(name, *load_table(name)), "shipped")


def uploaded_run(table: TableChoice) -> TabularRun | None:
    """A tabular checkpoint uploaded for the chosen table (one downloaded from this page or made by the CLI);
    returned once per new file, so a model trained afterwards is not replaced. A bad file says why."""
    upload = st.file_uploader(
        "…or load a model trained on this table (.pt)",
        type=["pt"],
        key="tab_model_upload",
        help="A model downloaded from this page or trained with `python -m vae train-tabular`. Its training and "
        "test rows are rebuilt from the test fraction and seed it was trained with.",
    )
    if upload is None or st.session_state.get("tab_loaded_file") == upload.file_id:
        return None
    st.session_state.tab_loaded_file = upload.file_id
    try:
        model, meta = load_tabular(upload.getvalue())
        return run_on_table(model, meta, table, f"uploaded: {upload.name}")
    except (CheckpointError, ValueError) as err:
        st.error(f"**{upload.name}** cannot be used here: {err}")
        return None


def keep_run(run: TabularRun) -> None:
    """Show `run` from now on, and keep it as the workspace's model of its table: a refresh, a link with the
    workspace, or coming back to the table finds it."""
    st.session_state[RUN_KEY] = run
    try:
        meta = {**run.meta, "source": run.source}
        workspace_store().save_tabular_model(ensure_workspace_in_url(), run.table, run.model, meta)
    except OSError as err:
        st.warning(f"This model could not be saved on the server ({err.strerror}): it stays in this tab only.")


def run_for_table(table: TableChoice | None) -> TabularRun | None:
    """The run to show for `table`: this tab's, else the workspace's model of the table, else the shipped
    model if it is of this table (no table chosen yet: this tab's run or the shipped one)."""
    run = st.session_state.get(RUN_KEY)
    if run is not None and (table is None or run.table == table.name):
        return run
    kept = workspace_store().load_tabular_model(workspace_id(), table.name) if table and workspace_id() else None
    if kept is not None:
        model, meta = kept
        source = meta.pop("source", "from your workspace")
        try:
            st.session_state[RUN_KEY] = run_on_table(model, meta, table, source)
            return st.session_state[RUN_KEY]
        except ValueError:  # a CSV of the same name with other columns: this table has no model yet
            pass
    shipped = shipped_run()
    return shipped if shipped is not None and (table is None or table.name == shipped.table) else None


@st.cache_data(show_spinner=False)
def bundled_table(name: str) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """`vae.tabular.load_table`, read once per server."""
    return load_table(name)


def choose_table() -> TableChoice | None:
    """Radio: a bundled table or an upload. A bad upload shows why and returns None."""
    options = [*BUNDLED, UPLOAD]
    choice = st.radio(
        "Table", options, format_func=lambda o: BUNDLED.get(o, "Your CSV"), horizontal=True, key=TABLE_PARAM.key
    )
    if choice != UPLOAD:
        X, y, features, classes = bundled_table(choice)
        return TableChoice(choice, X, y, features, classes)
    upload = st.file_uploader(
        "A CSV file with a header line",
        type=["csv"],
        key="tab_csv",
        help=f"Numeric feature columns and one label column of 2–20 classes; at most {MAX_BYTES // 2**20} MB, "
        f"{MAX_ROWS:,} rows and {MAX_COLUMNS} columns. Text columns are dropped.",
    )
    if upload is None:
        st.info("Upload a CSV to train on your own table, or pick a bundled one.")
        return None
    data = upload.getvalue()
    try:
        columns = csv_columns(data)
        row = st.columns(2)
        label = row[0].selectbox("Label column", columns, index=len(columns) - 1, key="tab_label")
        missing = row[1].radio(
            "Rows with missing values",
            ["drop", "median"],
            format_func={"drop": "drop them", "median": "fill with the median"}.get,
            horizontal=True,
            key="tab_missing",
        )
        table = read_csv_table(data, label, missing)
    except TableError as err:
        st.error(f"**{upload.name}** cannot be used: {err}")
        return None
    for note in table.notes:
        st.caption(note)
    return TableChoice(upload.name, table.X, table.y, table.feature_names, table.class_names)


def training_form(table: TableChoice) -> TabularRun | None:
    """The settings form; on submit, trains live (progress, curves) and returns the run."""
    with st.form("tab_form"):
        row = st.columns(3)
        mode = row[0].selectbox(
            "Mode", list(MODES), key="tab_mode", help="\n\n".join(f"**{m}**: {d}" for m, d in MODES.items())
        )
        latent_dim = row[1].number_input("Latent dimensions", 1, 8, key="tab_latent")
        beta = row[2].number_input("β (KL weight)", 0.0, 10.0, step=0.01, format="%.3f", key="tab_beta")
        row = st.columns(3)
        epochs = row[0].number_input("Epochs", 1, 2000, key="tab_epochs")
        seed = row[1].number_input("Seed", 0, 2**31 - 1, key="tab_seed")
        test_fraction = row[2].slider("Test fraction", 0.1, 0.5, step=0.05, key="tab_test_fraction")
        submitted = st.form_submit_button("Train", type="primary")
    if not submitted:
        return None
    config = replace(_DEFAULT, mode=mode, latent_dim=int(latent_dim), beta=float(beta), epochs=int(epochs))
    try:
        X_train, X_test, y_train, y_test = split_table(table.X, table.y, test_fraction, int(seed))
    except ValueError as err:  # e.g. fewer test rows than classes
        st.error(f"This table cannot be split into training and test rows with test fraction {test_fraction}: {err}")
        return None
    budget = HostedLimits.from_env().max_tabular_row_epochs
    if len(X_train) * config.epochs > budget:
        st.error(
            f"{len(X_train):,} training rows × {config.epochs:,} epochs is more than this server trains in one go "
            f"(its limit: {budget:,} rows × epochs): at most {max(1, budget // len(X_train)):,} epochs on "
            "this table."
        )
        return None
    with training_slot() as granted:
        return _train(table, config, int(seed), test_fraction, (X_train, X_test, y_train, y_test)) if granted else None


def _train(
    table: TableChoice, config: TabularConfig, seed: int, test_fraction: float, split: tuple[np.ndarray, ...]
) -> TabularRun | None:
    """Train live (a progress bar, the curves every few epochs) → the run; None if it diverged in its first epoch."""
    X_train, X_test, y_train, y_test = split
    model = new_model(X_train, config, table.feature_names, table.class_names, seed=seed)
    record = TabularRecord(y_train, y_test)
    bar, chart = st.progress(0.0, "Training…"), st.empty()
    every = max(1, config.epochs // 20)
    try:
        for event in train_tabular(model, X_train, y_train, X_test, y_test, seed=seed):
            record.add(event)
            bar.progress(event.fraction_done, f"Epoch {event.epoch} of {event.epochs} ({event.phase})")
            if event.epoch % every == 0 or event.epoch == event.epochs:
                chart.plotly_chart(tabular_curves(record.history), key=f"tab_live_{event.epoch}")
    except TrainingDiverged as err:
        st.error(f"Training diverged: {err}")
        if not record.history:
            return None
    bar.empty()
    chart.empty()
    scored = results(model, X_train, y_train, X_test, y_test, seed)
    meta = tabular_meta(
        model, record, scored, name=f"{table.name}-{config.mode}", dataset=table.name, test_fraction=test_fraction,
        seed=seed,
    )  # fmt: skip
    return TabularRun(model, meta, table.name, *split, "trained here")


def warn_if_collapsed(run: TabularRun) -> None:
    """Say so when the encoder gave up (every row at the prior) and the head only guesses the majority."""
    last = run.meta["history"][-1] if run.meta["history"] else {}
    majority = np.bincount(run.y_test).max() / len(run.y_test)
    if run.model.config.has_head and last.get("test_accuracy", 1) <= majority + 0.01 and last.get("test_kl", 1) < 0.05:
        st.warning(
            f"The encoder gave up (KL {last['test_kl']:.3f} nats): every row sits at the prior, so the head can only "
            f"guess the most common class ({majority:.0%} of the test rows). β = {run.model.config.beta:g} "
            "outweighs the prediction loss; lower it (the default is "
            f"{TabularConfig().beta:g}).",
            icon=":material/warning:",
        )


def show_curves(run: TabularRun) -> None:
    st.plotly_chart(tabular_curves(run.meta["history"]), key="tab_curves")
    st.caption(
        "Dotted: training rows; solid: test rows. The accuracy is shown with the head reading the posterior mean "
        "(what predictions use) and a sampled z (what training sees). Reconstruction and KL are in nats per row."
    )


def show_replay(run: TabularRun) -> None:
    replay = run.replay
    if replay is None:
        st.info("This model carries no latent snapshots.")
        return
    views = {
        "sampled z, fixed axes (±5)": ("train_z", "test_z", 5.0),
        "means, fixed axes (±3)": ("train_mu", "test_mu", 3.0),
        "means, fitted axes": ("train_mu", "test_mu", None),
    }
    view = st.radio("Show", list(views), horizontal=True, key="tab_replay_view")
    train_key, test_key, axis_range = views[view]
    st.plotly_chart(
        tabular_replay_figure(
            replay.epochs, replay.codes[train_key], replay.codes[test_key], replay.train_labels, replay.test_labels,
            run.class_names, axis_range,
        ),
        key="tab_replay",
    )  # fmt: skip
    st.caption(
        f"Snapshots after epochs {', '.join(map(str, replay.epochs))}. Press ▶ Play or drag the slider. "
        + ("Latent dimensions beyond the first two are not drawn. " if run.model.config.latent_dim > 2 else "")
        + "Seed 004 watched the classes separate and, after long training, the code squeeze onto one line."
    )


def show_results(run: TabularRun) -> None:
    scored = run.meta["results"]
    names = [n for n in scored if n != "selective_accuracy"]
    st.dataframe(
        pd.DataFrame(
            {"model": names, "accuracy": [scored[n]["accuracy"] for n in names], "F1": [scored[n]["f1"] for n in names]}
        ),
        hide_index=True,
        column_config={
            "accuracy": st.column_config.NumberColumn(format="percent"),
            "F1": st.column_config.NumberColumn(format="%.3f"),
        },
    )
    st.caption(
        f"All on the same {len(run.y_test)} test rows; the baselines are scikit-learn's defaults trained on the same "
        "training rows."
    )
    columns = st.columns(min(3, len(names)))
    for column, name in zip(columns, names, strict=False):
        column.markdown(f"**{name}**")
        column.plotly_chart(
            confusion_figure(np.array(scored[name]["confusion"]), run.class_names), key=f"tab_confusion_{name}"
        )
    if run.model.config.has_head:
        from sklearn.metrics import classification_report

        report = classification_report(
            run.y_test, run.model.predict(run.X_test), target_names=run.class_names, output_dict=True, zero_division=0
        )
        st.markdown("**Classification report** (this model, test rows)")
        st.dataframe(pd.DataFrame(report).T.round(3), key="tab_report")
    if "selective_accuracy" in scored:
        st.markdown(
            "**Selective accuracy**: keep only the rows whose latent mean sits most clearly in its class's region"
        )
        st.dataframe(
            pd.DataFrame(scored["selective_accuracy"], columns=["coverage", "accuracy", "rows kept"]),
            hide_index=True,
            column_config={
                "coverage": st.column_config.NumberColumn(format="percent"),
                "accuracy": st.column_config.NumberColumn(format="percent"),
            },
        )


def show_row_prediction(run: TabularRun) -> None:
    model = run.model
    if not model.config.has_head:
        st.info("A model trained in mode 'vae' has no classifier head: train one with a head to predict rows.")
        return
    index = st.number_input(
        f"Test row (0 to {len(run.X_test) - 1})", 0, len(run.X_test) - 1, 0, key="tab_row",
        help="Then edit any value in the table below and watch the prediction move.",
    )  # fmt: skip
    truth = run.class_names[run.y_test[index]]
    values = pd.DataFrame({"feature": model.feature_names, "value": run.X_test[index].astype(float)})
    left, right = st.columns(2)
    with left:
        edited = st.data_editor(
            values, disabled=["feature"], hide_index=True, key=f"tab_row_editor_{index}", height=320, width="stretch",
            column_config={"value": st.column_config.NumberColumn(format="%.4g")},
        )  # fmt: skip
    row = edited["value"].to_numpy(dtype=np.float32)[None, :]
    proba = model.predict_proba(row)[0]
    predicted = int(proba.argmax())
    mu = model.encode(row)[0]
    train_codes = model.encode(run.X_train)[0]
    regions = LatentRegions.fit(train_codes, run.y_train, len(run.class_names))
    reading = regions.assess(mu, np.array([predicted]))
    with right:
        st.metric(
            "Prediction", run.class_names[predicted], f"{proba[predicted]:.1%} (true class: {truth})", delta_color="off"
        )
        st.bar_chart(pd.DataFrame({"probability": proba}, index=run.class_names), height=160, horizontal=True)
        sigma = float(reading.sigma[0])
        st.markdown(
            f"Its latent mean lies **{sigma:.2f} σ** from the {run.class_names[predicted]} region "
            f"({'within' if reading.within[0] else 'outside'} 2 σ); per latent dimension, the t-test p-values are "
            + ", ".join(f"z{d + 1}: {p:.3f}" for d, p in enumerate(reading.p_values[0]))
            + f". Posterior of that region among the class regions: {reading.region_probability[0]:.1%}."
        )
        if reading.out_of_domain[0]:
            st.warning(
                f"Out of domain: this row lies beyond {regions.domain_radius():.1f} σ of every class's region, "
                "where the head was never trained. Do not trust its prediction.",
                icon=":material/warning:",
            )
    if model.config.latent_dim >= 2:
        fig = latent_scatter(train_codes, run.y_train, run.class_names, marker_size=6)
        st.plotly_chart(add_point(fig, mu[0], "this row"), key="tab_row_latent")
        st.caption("Training rows' latent means (first two dimensions) and this row as a star.")


def show_feature_study(run: TabularRun) -> None:
    model = run.model
    r2 = feature_r2(model, run.X_test) if model.config.has_decoder else None
    if r2 is not None:
        st.markdown("**How well this model reconstructs each feature** (R² on the test rows; 1 is perfect)")
        st.plotly_chart(feature_r2_bars(model.feature_names, r2), key="tab_r2")
    st.markdown(
        "**Seed 004's study**: train a VAE, drop the three least reconstructable features, retrain, and repeat "
        "until every feature left reconstructs with R² ≥ 0.5, measuring the classifier's accuracy each round."
    )
    if st.button("Run the feature study", key="tab_study"):
        with st.spinner("Training two models per round…"):
            rounds = feature_elimination(
                run.X_train, run.y_train, run.X_test, run.y_test, model.feature_names, model.config,
                seed=int(run.meta.get("seed", 0)),
            )  # fmt: skip
        st.session_state.tab_study_rounds = (id(run.model), rounds)
    stored = st.session_state.get("tab_study_rounds")
    if stored and stored[0] == id(run.model):
        rounds = stored[1]
        st.dataframe(
            pd.DataFrame(
                {
                    "round": range(1, len(rounds) + 1),
                    "features": [len(r.features) for r in rounds],
                    "lowest R²": [float(r.r2.min()) for r in rounds],
                    "test accuracy": [r.accuracy for r in rounds],
                    "dropped next": [", ".join(r.dropped) for r in rounds],
                }
            ),
            hide_index=True,
            column_config={"test accuracy": st.column_config.NumberColumn(format="percent")},
        )
        first = rounds[0]
        left, right = st.columns(2)
        left.markdown("**R² of every feature in round 1** (a VAE on all of them, test rows)")
        left.plotly_chart(feature_r2_bars(first.features, first.r2), key="tab_study_r2")
        right.markdown("**Test accuracy against the features kept**")
        right.plotly_chart(
            go.Figure(
                go.Scatter(x=[len(r.features) for r in rounds], y=[r.accuracy for r in rounds], mode="lines+markers"),
                layout={"height": 300, "margin": {"l": 10, "r": 10, "t": 10, "b": 10}, "xaxis_title": "features kept",
                        "yaxis_title": "test accuracy", "yaxis_tickformat": ".1%"},
            ),
            key="tab_study_accuracy",
        )  # fmt: skip


def download_buttons(run: TabularRun) -> None:
    from vae.card import tabular_card

    row = st.columns(2)
    name = run.meta.get("name", "tabular")
    row[0].download_button(
        "Download the model (.pt)", tabular_checkpoint_bytes(run.model, run.meta), f"{name}.pt", key="tab_download"
    )
    row[1].download_button("Model card (.md)", tabular_card(run.model.config, run.meta), f"{name}.md", key="tab_card")
