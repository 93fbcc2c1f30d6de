"""Tabular lab: a VAE with a classifier head on tables (seed 004's VAEC) — train, watch, predict, study."""

import streamlit as st

from ui import links
from ui.tabular import (
    choose_table,
    download_buttons,
    shipped_run,
    show_curves,
    show_feature_study,
    show_replay,
    show_results,
    show_row_prediction,
    training_form,
    uploaded_run,
    warn_if_collapsed,
)

st.title("Tabular lab")
links.restore([], "tabular")
links.publish([], "tabular")
st.markdown(
    "A VAE whose encoder also feeds a **classifier head**: rows of numbers in, a class out, and a 2-D latent "
    "space where you can watch the classes separate. The head reads the posterior mean; in training it "
    "reads a sampled z, and the KL term keeps the code near a standard normal."
)

table = choose_table()
if table is not None:
    trained = training_form(table)
    loaded = uploaded_run(table)
    if trained is not None or loaded is not None:
        st.session_state.tab_run = trained or loaded
run = st.session_state.get("tab_run")
if run is None or (table is not None and run.table != table.name):
    shipped = shipped_run()
    run = shipped if shipped is not None and (table is None or table.name == shipped.table) else None
if run is None:
    st.info("No model for this table yet: choose the settings above and press **Train** (a few seconds).")
    st.stop()

config = run.model.config
st.subheader(f"Model: {run.meta.get('name', 'tabular')} ({run.source})")
st.caption(
    f"Mode `{config.mode}`, latent {config.latent_dim}, β {config.beta:g}, {config.epochs} epochs on "
    f"{len(run.y_train)} training rows of {run.table}; tested on {len(run.y_test)} rows."
)
warn_if_collapsed(run)
tabs = st.tabs(["Curves", "Latent over epochs", "Results", "Predict a row", "Feature study"])
with tabs[0]:
    show_curves(run)
with tabs[1]:
    show_replay(run)
with tabs[2]:
    show_results(run)
with tabs[3]:
    show_row_prediction(run)
with tabs[4]:
    show_feature_study(run)
download_buttons(run)
