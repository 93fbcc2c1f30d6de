"""Links (URL parameters) through AppTest: they set each page's controls, and hostile ones do no harm.

The gestures themselves (open a link, reload, the share dialog) are tested in a real browser in
tests/e2e/test_links.py.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO, needs_mnist
from ui import links
from ui.workspace import WorkspaceStore

TIMEOUT = 120
PAGE_PARAMS = {  # every page's documented parameters (README, "Links")
    "home": [],
    "train": ["dataset", "leave_out", "images", "arch", "latent", "hidden", "kind", "clusters", "cvae", "beta",
              "likelihood", "warmup", "epochs", "batch", "lr", "seed"],
    "explore": ["digit", "z1", "z2", "n", "c", "colour", "from", "to", "frames"],
    "generate": ["c", "seed", "t", "rows", "cols", "table_cols", "codes", "pick", "spread"],
    "anomaly": ["c", "q", "method", "normal", "noise", "relative", "protocol"],
    "lessons": ["lesson", "step", "teacher"],
    "compare": ["models", "digit"],
    "tabular": ["table", "mode", "latent", "beta", "epochs", "seed", "test"],
}  # fmt: skip
# values no parameter accepts (an empty value is a valid, empty `leave_out`)
HOSTILE = ["abc", "NaN", "inf", "-99", "1e309", "10" * 5000, "../", "..%2F..%2Fetc", "", "0x10", "1,2,,99", "`x`"]
pytestmark = pytest.mark.usefixtures("app_data_dir")


def open_link(page: str, **params: str) -> AppTest:
    """A fresh session opening `/<page>?params`: its first run is that page, as in a browser."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    for name, value in params.items():
        at.query_params[name] = value
    if page != "home":
        at.switch_page(f"app_pages/{page}.py")
    at.run()
    return at


def notice(at: AppTest) -> str:
    return " ".join(w.value for w in at.warning if w.value.startswith("Some of this link was ignored"))


def assert_within_bounds(at: AppTest) -> None:
    """No number or slider on the page holds a value outside the bounds its widget declares."""
    for widget in [*at.number_input, *at.slider]:
        values = widget.value if isinstance(widget.value, tuple | list) else [widget.value]
        for value in values:
            assert widget.proto.min <= value <= widget.proto.max, (widget.label, value)


@needs_mnist
@pytest.mark.parametrize("page", list(PAGE_PARAMS))
@pytest.mark.parametrize("model", ["mnist_z2", "mnist_cvae"])
def test_a_link_with_every_parameter_hostile_changes_nothing_and_says_so(page, model):
    """Each hostile value in every parameter of the page at once: no exception, defaults, one notice naming them."""
    names = [*PAGE_PARAMS[page], "ws"]
    defaults = open_link(page, model=model)
    for value in HOSTILE:
        at = open_link(page, model=model, **dict.fromkeys(names, value))
        assert not at.exception, (value, at.exception)
        assert_within_bounds(at)
        said = notice(at)
        ignored = [n for n in names if f"`{n}=" in said]
        assert set(names) - set(ignored) <= {"leave_out"}, (value, said)
        # the defaults are in place: every widget shows what a link-less visit shows
        assert [w.value for w in at.number_input] == [w.value for w in defaults.number_input], value
        assert [w.value for w in at.slider] == [w.value for w in defaults.slider], value
        assert len(said) < 3000  # quoted values are cut short: a 10,000-character value is not echoed back


def test_notices_quote_values_cut_short_and_inert():
    at = open_link("home", model="x" * 10_000, ws="`[click](http://example.invalid)`")
    said = notice(at)
    assert "x" * links.MAX_SHOWN + "…" in said and "x" * (links.MAX_SHOWN + 1) not in said
    assert "`ws=[click](http://example.invalid)`" in said  # inside a code span: shown, never a link


@needs_mnist
def test_a_link_sets_each_pages_controls():
    at = open_link("anomaly", model="mnist_no9", q="0.9", method="elbo", protocol="classes", normal="1,7", noise="1")
    assert not at.exception and not notice(at)
    assert at.sidebar.selectbox(key="model_id").value == "mnist_no9"
    assert at.slider(key="anomaly_q").value == pytest.approx(0.9)
    assert at.radio(key="anomaly_method").value == "elbo"
    assert at.multiselect(key="anomaly_normal").value == [1, 7]
    assert at.checkbox(key="anomaly_noise").value is True

    at = open_link("generate", model="mnist_cvae", c="3", seed="42", t="0.5", rows="2", cols="5")
    assert not at.exception and not notice(at)
    assert at.selectbox(key="generate_class").value == 3
    assert at.number_input(key="generate_seed").value == 42
    assert at.slider(key="generate_t").value == pytest.approx(0.5)
    assert (at.slider(key="generate_rows").value, at.slider(key="generate_cols").value) == (2, 5)

    at = open_link("explore", model="mnist_z2", digit="123", z1="0.5", z2="-1.25", n="7", to="4000")
    assert not at.exception and not notice(at)
    assert at.number_input(key="explore_index").value == 123
    assert (at.number_input(key="explore_z1").value, at.number_input(key="explore_z2").value) == (0.5, -1.25)
    assert at.slider(key="explore_n").value == 7
    assert at.number_input(key="explore_from").value == 123  # not in the link: follows the digit
    assert at.number_input(key="explore_to").value == 4000


@needs_mnist
def test_a_pick_beyond_the_class_says_it_shows_the_last_one():
    at = open_link("generate", model="mnist_z2", c="5", pick="5000")
    assert not at.exception and not notice(at)  # 5000 is a valid pick: there are not that many 5s
    fives = 892  # test images of the 5 in MNIST
    assert at.number_input(key="generate_pick").value == fives - 1
    captions = " ".join(c.value for c in at.caption)
    said = f"There are {fives} test 5s, numbered 0 to {fives - 1}: showing the last one instead of number 5000"
    assert said in captions
    assert at.query_params["pick"] == str(fives - 1)  # the address names the digit shown
    at.number_input(key="generate_pick").set_value(10).run()
    assert "showing the last one" not in " ".join(c.value for c in at.caption)  # said once, not forever


@needs_mnist
def test_the_url_follows_the_controls():
    at = open_link("generate", model="mnist_cvae")
    at.number_input(key="generate_seed").set_value(9).run()
    at.slider(key="generate_t").set_value(1.5).run()
    assert at.query_params["seed"] == "9" and at.query_params["t"] == "1.5"
    assert at.query_params["model"] == "mnist_cvae"
    at.sidebar.selectbox(key="model_id").set_value("mnist_z2").run()
    assert at.query_params["model"] == "mnist_z2"


def test_no_link_can_ask_for_more_than_the_hosted_limits(monkeypatch):
    monkeypatch.setenv("VAE_LAB_MAX_EPOCHS", "5")
    monkeypatch.setenv("VAE_LAB_MAX_LATENT", "3")
    monkeypatch.setenv("VAE_LAB_MAX_HIDDEN", "64")
    monkeypatch.setenv("VAE_LAB_MAX_TRAIN_SIZE", "2000")
    at = open_link("train", epochs="50", latent="64", hidden="1024", images="60000")
    assert not at.exception
    assert at.number_input(key="train_epochs").value == 5
    assert at.number_input(key="train_latent").value == 2
    assert at.number_input(key="train_hidden").value == 64
    assert at.number_input(key="train_images").value == 2000
    said = notice(at)
    assert all(f"`{n}=" in said for n in ("epochs", "latent", "hidden", "images")), said
    assert "from 1 to 5" in said  # the notice gives the limit


@needs_mnist
def test_a_page_switch_keeps_each_pages_settings():
    at = open_link("anomaly", model="mnist_no9", q="0.9")
    at.switch_page("app_pages/generate.py").run()
    at.switch_page("app_pages/anomaly.py").run()
    assert not at.exception
    assert at.slider(key="anomaly_q").value == pytest.approx(0.9)
    assert at.query_params["q"] == "0.9"


def train_on_digits(at: AppTest) -> str:
    """Train a 2-epoch digits model on the Train page → its id (the form's settings come from the link)."""
    at.button(key="train_submit").click().run()
    assert not at.exception, at.exception
    return at.sidebar.selectbox(key="model_id").value


def test_a_new_session_with_the_link_finds_the_workspace_and_its_model():
    first = open_link("train", dataset="digits", epochs="2")
    model_id = train_on_digits(first)
    workspace = first.query_params["ws"]
    assert model_id.startswith("trained-") and first.query_params["model"] == model_id
    assert store_has(workspace, model_id)

    again = open_link("home", ws=workspace, model=model_id)  # a reload, or the link on another device
    assert not again.exception and not notice(again)
    assert again.sidebar.selectbox(key="model_id").value == model_id
    assert again.session_state["session_models"][model_id].meta["epochs"] == 2


def test_a_model_of_another_workspace_or_a_vanished_workspace_is_a_notice():
    mine = open_link("train", dataset="digits", epochs="1")
    my_model = train_on_digits(mine)
    theirs = open_link("train", dataset="digits", epochs="1")
    train_on_digits(theirs)

    at = open_link("home", ws=theirs.query_params["ws"], model=my_model)
    assert f"`model={my_model}` (no such model of this workspace; mnist_z2 is used)" in notice(at)
    assert at.sidebar.selectbox(key="model_id").value == "mnist_z2"
    assert my_model not in at.session_state["session_models"]  # their workspace never shows my model

    at = open_link("home", ws="A" * 22)  # well formed, but no such workspace (evicted, or never made)
    assert "`ws=" + "A" * 22 + "` (this workspace no longer exists" in notice(at)
    assert not at.exception


def store_has(workspace: str, model_id: str) -> bool:
    """The model is on the server's disk, where a new session finds it."""
    return model_id in WorkspaceStore().model_ids(workspace)


def test_a_full_workspace_says_which_model_made_room(monkeypatch):
    from ui.models import workspace_store

    monkeypatch.setenv("VAE_LAB_WORKSPACE_MAX_MODELS", "1")
    workspace_store.clear()  # the store reads its limits when it is made
    try:
        at = open_link("train", dataset="digits", epochs="1")
        train_on_digits(at)
        second = train_on_digits(at)
        said = " ".join(i.value for i in at.sidebar.info)
        assert "keeps at most 1 model and" in said
        assert "the oldest (digits-z2-mlp-1) made room for digits-z2-mlp-2" in said
        assert WorkspaceStore().model_ids(at.query_params["ws"]) == [second]
    finally:
        workspace_store.clear()


def test_a_click_carrying_an_older_address_does_not_undo_a_choice():
    """The browser can send a click before it shows the address the last run wrote: that is no link."""
    at = open_link("train")
    older = {name: at.query_params[name] for name in at.query_params}  # dataset=mnist, epochs=10, …
    at.selectbox(key="train_dataset").set_value("digits").run()
    assert at.query_params["dataset"] == "digits"
    for name, value in older.items():  # the click's request still carries the address before the choice
        at.query_params[name] = value
    at.number_input(key="train_epochs").set_value(2)
    train_on_digits(at)
    assert at.session_state["training_run"].request.dataset == "digits"
    assert at.session_state["training_run"].request.settings.epochs == 2
