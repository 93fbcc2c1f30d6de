"""The clustering VAE on the pages (AppTest): Train offers it, the explorer and Generate show its clusters."""

import json

import pytest

from tests.conftest import needs_mnist
from tests.test_app import captions, picker, start

pytestmark = pytest.mark.usefixtures("app_data_dir")


def test_training_a_clustering_model_draws_its_nmi_every_epoch():
    at = start("app_pages/train.py")
    at.radio(key="train_kind").set_value("clusters").run()
    assert at.number_input(key="train_clusters").value == 10
    next(s for s in at.selectbox if s.label == "Dataset").set_value("digits").run()
    at.number_input(key="train_epochs").set_value(2)
    at.number_input(key="train_clusters").set_value(6)
    at.button[0].click().run()
    assert not at.exception, at.exception
    entry = at.session_state["session_models"][picker(at).value]
    assert entry.model.config.clusters == 6 and entry.name.startswith("digits-z2-mlp-k6-")
    assert [round(h["test_nmi"], 4) == h["test_nmi"] for h in entry.meta["history"]] == [True, True]
    assert len(entry.meta["clusters"]["majority_label"]) == 6  # names the clusters after the labels they hold
    curves = at.get("plotly_chart")[0].proto.spec
    assert "clusters vs labels" in curves
    assert "6 clusters, no labels" in " ".join(c.value for c in at.sidebar.caption)


def test_an_old_cvae_link_still_picks_the_conditional_kind():
    at = start()
    at.query_params["cvae"] = "1"
    at.switch_page("app_pages/train.py").run()
    assert at.radio(key="train_kind").value == "cvae"
    assert not at.warning, [w.value for w in at.warning]


def trace_names(at) -> list[str]:
    """The legend of the page's first chart (the latent scatter): one trace per colour."""
    return [trace["name"] for trace in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]]


@needs_mnist
def test_the_explorer_colours_by_cluster_and_shows_the_table_and_prototypes():
    at = start()
    picker(at).set_value("mnist_clusters").run()
    at.switch_page("app_pages/explore.py").run()
    assert not at.exception, at.exception
    assert any("NMI" in m.value and "without ever seeing a label" in m.value for m in at.markdown)
    assert trace_names(at)[:10] == [str(d) for d in range(10)]  # coloured by the true label first
    at.radio(key="explore_colour").set_value("cluster").run()
    assert all(name.startswith(f"{k} · mostly ") for k, name in enumerate(trace_names(at)[:10]))
    assert at.query_params["colour"] == "cluster"
    assert any("decoded centre" in c.value for c in at.caption)
    assert any(c.startswith("Rows: clusters 0 · mostly") for c in captions(at))  # the prototypes
    decode_as = next(s for s in at.selectbox if s.label == "Decode as cluster")
    decode_as.set_value(3).run()
    assert any("Every code decoded as cluster 3 · mostly" in c for c in captions(at))
    assert not at.exception


@needs_mnist
def test_generate_digits_of_a_cluster_found_without_labels():
    at = start()
    picker(at).set_value("mnist_clusters").run()
    at.switch_page("app_pages/generate.py").run()
    assert not at.exception, at.exception
    next(s for s in at.selectbox if s.label == "Cluster").set_value(4).run()
    assert any(c.startswith("48 digits of cluster 4 · mostly") for c in captions(at))
    assert any(c.startswith("Rows: clusters 0 · mostly") for c in captions(at))
    assert at.query_params["c"] == "4"
