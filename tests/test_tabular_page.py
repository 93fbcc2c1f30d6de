"""The Tabular lab page through AppTest: the shipped model's views, training, CSV uploads, a row's prediction."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO

PAGE = "app_pages/tabular.py"
pytestmark = pytest.mark.usefixtures("app_data_dir")


def open_lab() -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def text(at: AppTest) -> str:
    return " ".join(m.value for m in [*at.markdown, *at.caption, *at.subheader, *at.info, *at.warning, *at.error])


def test_the_shipped_model_shows_every_view_instantly():
    at = open_lab()
    assert "Model: breast_cancer_vaec (shipped)" in text(at)
    assert len(at.tabs) == 5
    assert any("LogisticRegression" in str(df.value) for df in at.dataframe)
    assert "σ** from the benign region" in text(at) or "σ** from the malignant region" in text(
        at
    )  # the row prediction's confidence reading


def test_training_on_wine_replaces_the_model_with_the_new_run():
    at = open_lab()
    at.radio(key="tab_table").set_value("wine").run()
    assert "No model for this table yet" in text(at)
    at.number_input(key="tab_epochs").set_value(20)
    at.button[0].click().run()  # the form's Train button
    assert not at.exception, at.exception
    assert "Model: wine-variational-mlp (trained here)" in text(at)
    assert at.session_state.tab_run.model.class_names == ["class_0", "class_1", "class_2"]


def test_a_trained_model_comes_back_with_the_workspace_and_the_table():
    """What a refresh (or a link with ws=) does: the trained model of the linked table, from the workspace."""
    at = open_lab()
    at.radio(key="tab_table").set_value("wine").run()
    at.number_input(key="tab_epochs").set_value(20)
    at.button[0].click().run()
    assert at.query_params["table"] == "wine" and at.query_params["ws"]
    at.radio(key="tab_table").set_value("breast-cancer").run()
    assert "Model: breast_cancer_vaec (shipped)" in text(at)
    at.radio(key="tab_table").set_value("wine").run()  # back: the trained model, not "no model yet"
    assert "Model: wine-variational-mlp (trained here)" in text(at)

    later = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    later.query_params.update(ws=at.query_params["ws"], table="wine")
    later.switch_page(PAGE).run()
    assert not later.exception, later.exception
    assert "Model: wine-variational-mlp (trained here)" in text(later)
    assert later.session_state.tab_run.model.state_dict()["encoder.0.weight"].equal(
        at.session_state.tab_run.model.state_dict()["encoder.0.weight"]
    )


def test_a_link_to_a_table_opens_it_and_a_bad_one_is_named():
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    at.query_params["table"] = "wine"
    at.switch_page(PAGE).run()
    assert at.radio(key="tab_table").value == "wine" and "No model for this table yet" in text(at)
    bad = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    bad.query_params["table"] = "../../etc"
    bad.switch_page(PAGE).run()
    assert bad.radio(key="tab_table").value == "breast-cancer"
    assert "`table=../../etc` (expects one of breast-cancer, wine, csv" in text(bad)


def open_link(**params: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    at.query_params.update(params)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def test_a_link_sets_the_training_form_and_training_follows_it():
    at = open_link(table="wine", mode="joint", latent="3", beta="0.5", epochs="12", seed="7", test="0.3")
    form = {k: at.session_state[k] for k in ("tab_mode", "tab_latent", "tab_beta", "tab_epochs", "tab_seed")}
    assert form == {"tab_mode": "joint", "tab_latent": 3, "tab_beta": 0.5, "tab_epochs": 12, "tab_seed": 7}
    assert at.slider(key="tab_test_fraction").value == 0.3
    at.button[0].click().run()
    run = at.session_state.tab_run
    assert (run.model.config.mode, run.model.config.latent_dim, run.model.config.epochs) == ("joint", 3, 12)
    assert (run.meta["seed"], run.meta["test_fraction"], len(run.y_test)) == (7, 0.3, 54)  # 30% of 178 rows
    assert at.query_params["epochs"] == "12" and at.query_params["mode"] == "joint"

    bad = open_link(epochs="99999", mode="rm -rf", test="0.9")
    assert (bad.session_state.tab_epochs, bad.session_state.tab_mode) == (40, "variational-mlp")
    assert "`epochs=99999` (expects a whole number from 1 to 2,000" in text(bad)
    assert "`mode=rm -rf`" in text(bad) and "`test=0.9`" in text(bad)


def test_more_rows_times_epochs_than_the_server_allows_is_refused_in_words(monkeypatch):
    monkeypatch.setenv("VAE_LAB_MAX_TABULAR_ROW_EPOCHS", "10000")  # breast-cancer trains on 426 rows
    at = open_link(epochs="30")
    at.button[0].click().run()
    assert "426 training rows × 30 epochs is more than this server trains in one go" in text(at)
    assert "at most 23 epochs on this table" in text(at)
    assert "Model: breast_cancer_vaec (shipped)" in text(at)  # nothing trained, nothing lost
    at.number_input(key="tab_epochs").set_value(23)
    at.button[0].click().run()
    assert "Model: breast-cancer-variational-mlp (trained here)" in text(at)


def test_a_busy_server_asks_to_retry():
    from ui.limits import training_slots

    slots = training_slots()
    taken = 0
    while slots.acquire(blocking=False):
        taken += 1
    try:
        at = open_lab()
        at.button[0].click().run()
        assert "The server is busy training" in text(at) and "Model: breast_cancer_vaec (shipped)" in text(at)
    finally:
        for _ in range(taken):
            slots.release()


def test_a_huge_beta_is_explained_as_a_collapse():
    at = open_lab()
    at.number_input(key="tab_beta").set_value(10.0)
    at.button[0].click().run()
    assert "The encoder gave up" in text(at)


def test_editing_a_row_moves_its_prediction():
    at = open_lab()
    before = at.metric[0].value
    editor_key = "tab_row_editor_0"
    assert before in ("malignant", "benign"), before
    # every feature far below its training range: an out-of-domain row
    at.session_state[editor_key] = {
        "edited_rows": {i: {"value": -1000.0} for i in range(30)},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert "Out of domain" in text(at)


def test_a_loaded_model_gets_back_its_own_split_and_only_on_its_own_table():
    """What an uploaded .pt goes through: the page rebuilds its training and test rows from its metadata."""
    from dataclasses import replace

    from ui.tabular import SHIPPED_PATH, TableChoice, run_on_table
    from vae.tabular import load_table, load_tabular

    model, meta = load_tabular(SHIPPED_PATH.read_bytes())
    breast_cancer, wine = (TableChoice(name, *load_table(name)) for name in ("breast-cancer", "wine"))
    run = run_on_table(model, meta, breast_cancer, "uploaded: mine.pt")
    assert (len(run.y_train), len(run.y_test)) == (meta["train_rows"], meta["test_rows"])
    assert run.source == "uploaded: mine.pt" and run.table == "breast-cancer"
    accuracy = (model.predict(run.X_test) == run.y_test).mean()
    assert accuracy == pytest.approx(meta["results"]["VAE lab model"]["accuracy"])  # the rows it was tested on
    with pytest.raises(ValueError, match="Choose the table it was trained on"):
        run_on_table(model, meta, wine, "uploaded")
    with pytest.raises(ValueError, match="does not say how its table was split"):
        run_on_table(model, {**meta, "seed": None}, breast_cancer, "uploaded")
    fewer_rows = replace(breast_cancer, X=breast_cancer.X[:500], y=breast_cancer.y[:500])
    with pytest.raises(ValueError, match="not the same table"):
        run_on_table(model, meta, fewer_rows, "uploaded")
