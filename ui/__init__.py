"""Streamlit-only helpers shared by the pages (the model math lives in `vae/`)."""
