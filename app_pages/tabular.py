"""Tabular lab: a VAE with a classifier head on tables (seed 004's VAEC) — train, watch, predict, study."""

import streamlit as st

from ui import links
from ui.models import page_shows_workspace_model
from ui.tabular import (
    FORM_PARAMS,
    TABLE_PARAM,
    choose_table,
    download_buttons,
    keep_run,
    run_for_table,
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
view = [TABLE_PARAM, *FORM_PARAMS]
links.restore(view, "tabular")
links.publish(view, "tabular")  # the form's values change only when it is submitted, which reruns the page
st.markdown(
    "A VAE whose encoder also feeds a **classifier head**: rows of numbers in, a class out, and a 2-D latent "
    "space where you can watch the classes separate. The head reads the posterior mean; in training it "
    "reads a sampled z, and the KL term keeps the code near a standard normal."
)

table = choose_table()
if table is not None:
    trained, loaded = training_form(table), uploaded_run(table)  # both drawn, whichever gave a run
    if trained is not None or loaded is not None:
        keep_run(trained or loaded)
run = run_for_table(table)
page_shows_workspace_model(run.meta.get("name", "tabular") if run is not None and run.source != "shipped" else None)
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
