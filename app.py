"""VAE Lab's entrypoint: page navigation and the sidebar model picker shared by every page."""

import streamlit as st

from ui import links
from ui.models import model_picker
from ui.training import settle_interrupted_run

# A lesson in teacher mode (`teacher=1`, see app_pages/lessons.py) opens with the sidebar closed: a projector needs
# the room. It is set here, before anything is drawn.
sidebar = "collapsed" if st.query_params.get("teacher") == "1" else "auto"
st.set_page_config(page_title="VAE Lab", page_icon=":material/blur_on:", layout="wide", initial_sidebar_state=sidebar)

pages = st.navigation(
    [
        st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("app_pages/lessons.py", title="Lessons", icon=":material/school:"),
        st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
        st.Page("app_pages/explore.py", title="Latent explorer", icon=":material/scatter_plot:"),
        st.Page("app_pages/generate.py", title="Generate", icon=":material/auto_awesome:"),
        st.Page("app_pages/anomaly.py", title="Anomaly lab", icon=":material/troubleshoot:"),
        st.Page("app_pages/compare.py", title="Compare models", icon=":material/compare:"),
        st.Page("app_pages/tabular.py", title="Tabular lab", icon=":material/table_chart:"),
    ]
)
links.read_incoming()  # before anything reads a widget: a link, a reload or back/forward sets the view
settle_interrupted_run()
model_picker()
pages.run()
