"""Home: what a VAE is, what each page does, and the model in use."""

import streamlit as st

from ui import links
from ui.models import current_model

st.title("VAE Lab")
links.restore([], "home")  # only `model` (and `ws`): anything else in a link is named as ignored
links.publish([], "home")
st.markdown(
    """
A **variational autoencoder** squeezes each image through a tiny code. The **encoder** maps an image
to a small cloud of likely codes (a mean and a spread); the **decoder** turns any code back into an
image. Training makes reconstructions good *and* keeps the clouds close to a standard normal
distribution, so that every point of the code space decodes to something plausible. That is what
lets a VAE **generate** new images and notice images that are **unlike** anything it learned.
"""
)

st.subheader("What you can do here")
st.markdown(
    """
- **Lessons** — six short lessons (the latent space, the ELBO, what β does, conditional generation, what a
  VAE can flag, the threshold), each step a few sentences beside something live; a teacher runs one from
  a link in teacher mode.
- **Train** — train a VAE on MNIST or scikit-learn's small digits while you watch the loss curves, the
  reconstructions and (for a 2-D code) the latent space take shape. Stop at any time: the last finished
  epoch is kept and selected.
- **Latent explorer** — see where every test digit lands in the code space, decode any point you
  pick, watch one digit morph into another, and (for a 2-D code) the whole decoded manifold.
- **Generate** — new digits from random codes; with a conditional model, digits of the class you
  choose, or every class in the same handwriting.
- **Anomaly lab** — score the whole test set, move the threshold and watch the classification report,
  confusion matrix and ROC curve follow; draw a digit (or upload a photo) and see whether the model
  calls it an anomaly, and why.
- **Compare models** — two to four models side by side: metrics, latent spaces, manifolds, reconstructions.
- **Tabular lab** — the same idea on tables: a VAE with a classifier head on the breast-cancer or wine
  table, or your own CSV; watch the classes separate in the latent space, predict a row you edit, and
  see how sure the latent space is about it.
- Choose a model in the **sidebar**: the shipped ones start instantly; you can also upload a checkpoint
  or download the one in use.
"""
)

entry = current_model()
st.info(f"Model in use: **{entry.name}** — {entry.summary}", icon=":material/neurology:")
st.caption("MNIST: Yann LeCun, Corinna Cortes and Christopher J.C. Burges (CC BY-SA 3.0).")
