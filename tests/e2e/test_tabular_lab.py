"""The Tabular lab with the mouse and the keyboard: train on breast-cancer and play the latent replay,
train on wine and find the model again after a refresh, upload a CSV (a good one and a broken one), download
a model and load it back, edit a row and watch its prediction."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from bench.browser import SLOW_MS, wait_idle, wait_loaded
from tests.e2e.helpers import assert_no_exception, play_replay, screenshot_whole_page, set_number
from vae.tabular import load_table


def open_lab(page, app_url: str) -> None:
    page.goto(f"{app_url}/tabular")
    wait_loaded(page)
    expect(page.get_by_role("heading", name=re.compile("Model: breast_cancer_vaec"))).to_be_visible()


def upload(page, path, label: str = "A CSV file") -> None:
    """Click the button of the uploader labelled `label` and pick the file, as a person does."""
    uploader = page.get_by_test_id("stMain").get_by_test_id("stFileUploader").filter(has_text=label)
    with page.expect_file_chooser() as chooser:
        uploader.get_by_role("button", name=re.compile("^(Upload|Browse files|Add files)$")).first.click()
    chooser.value.set_files(str(path))


def test_train_on_breast_cancer_then_play_the_latent_over_epochs(page, app_url, screenshots):
    open_lab(page, app_url)
    set_number(page, "Epochs", 30)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_role("heading", name="Model: breast-cancer-variational-mlp (trained here)")).to_be_visible(
        timeout=SLOW_MS
    )
    curves = page.get_by_test_id("stPlotlyChart").first
    expect(curves).to_contain_text("accuracy (sampled z)")
    page.get_by_role("tab", name="Latent over epochs").click()
    replay = page.get_by_test_id("stPlotlyChart").filter(has_text="test rows")
    expect(replay).to_be_visible()
    play_replay(page, replay, last_epoch=30)
    page.get_by_text("means, fitted axes").click()
    wait_idle(page)
    assert_no_exception(page)
    screenshot_whole_page(page, screenshots / "tabular_replay_1400.png")


def test_a_trained_model_survives_a_refresh_and_a_trip_to_another_table(page, app_url, screenshots):
    open_lab(page, app_url)
    page.get_by_text("Wine (178 rows)").click()
    expect(page.get_by_text("No model for this table yet")).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]table=wine\b"))
    set_number(page, "Epochs", 20)
    page.get_by_role("button", name="Train", exact=True).click()
    trained = page.get_by_role("heading", name="Model: wine-variational-mlp (trained here)")
    expect(trained).to_be_visible(timeout=SLOW_MS)
    expect(page).to_have_url(re.compile(r"[?&]ws=[\w-]{22}\b"))
    expect(page).to_have_url(re.compile(r"[?&]epochs=20\b"))  # the form's settings, for a link
    page.reload()
    wait_loaded(page)
    expect(trained).to_be_visible()
    page.get_by_text("Breast cancer (Wisconsin, 569 rows)").click()
    expect(page.get_by_role("heading", name="Model: breast_cancer_vaec (shipped)")).to_be_visible()
    page.get_by_text("Wine (178 rows)").click()
    expect(trained).to_be_visible()
    wait_idle(page)
    page.get_by_role("button", name="Share this view").click()  # a teacher shares the model shown, not the sidebar's
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("wine-variational-mlp lives in your workspace, so the link carries it")
    shown = dialog.get_by_test_id("stCode").first.inner_text().strip()
    assert re.search(r"[?&]ws=[\w-]{22}\b", shown) and re.search(r"[?&]table=wine\b", shown), shown
    assert_no_exception(page)


def test_a_link_sets_the_table_and_the_training_form(page, app_url):
    page.goto(f"{app_url}/tabular?table=wine&mode=joint&latent=3&beta=0.5&epochs=12&seed=7&test=0.3&junk=1")
    wait_loaded(page)
    expect(page.get_by_role("radio", name="Wine (178 rows)")).to_be_checked()
    expect(page.get_by_label("Epochs", exact=True)).to_have_value("12")
    expect(page.get_by_label("Latent dimensions", exact=True)).to_have_value("3")
    expect(page.get_by_label("β (KL weight)", exact=True)).to_have_value("0.500")
    expect(page.get_by_label("Seed", exact=True)).to_have_value("7")
    expect(page.get_by_test_id("stForm").get_by_role("combobox", name="Mode")).to_have_value("joint")
    expect(page.get_by_role("slider", name="Test fraction")).to_have_value("0.3")
    expect(page.get_by_test_id("stAlertContentWarning")).to_contain_text("junk=1 (not a setting of this page)")
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_role("heading", name="Model: wine-joint (trained here)")).to_be_visible(timeout=SLOW_MS)
    expect(page.get_by_text("12 epochs on 124 training rows of wine; tested on 54 rows")).to_be_visible()
    assert_no_exception(page)


def test_upload_a_csv_train_on_it_and_survive_a_broken_one(page, app_url, tmp_path, screenshots):
    X, y, features, classes = load_table("wine")
    lines = [",".join([*features, "grower", "cultivar"])]
    lines += [
        ",".join([*(f"{v:g}" for v in row), f"farm{i % 3}", classes[c]])
        for i, (row, c) in enumerate(zip(X, y, strict=True))
    ]
    good = tmp_path / "my_wine.csv"
    good.write_text("\n".join(lines) + "\n")
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"\xff\xfe\x00garbage")

    open_lab(page, app_url)
    page.get_by_text("Your CSV").click()
    upload(page, broken)
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text("not UTF-8")
    upload(page, good)
    expect(page.get_by_text("Non-numeric columns dropped: grower.")).to_be_visible()
    set_number(page, "Epochs", 20)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_role("heading", name="Model: my_wine.csv-variational-mlp (trained here)")).to_be_visible(
        timeout=SLOW_MS
    )
    page.get_by_role("tab", name="Results").click()
    expect(page.get_by_text("LogisticRegression", exact=True)).to_be_visible()
    assert_no_exception(page)

    # 20 classes of 5 rows, and a test fraction of 0.1: 10 test rows cannot hold every class
    tiny = tmp_path / "tiny.csv"
    tiny.write_text("x,label\n" + "".join(f"{i},c{i % 20}\n" for i in range(100)))
    upload(page, tiny)
    expect(page.get_by_text("Non-numeric columns dropped: grower.")).to_have_count(0)
    page.get_by_role("slider", name="Test fraction").focus()
    for _ in range(3):
        page.keyboard.press("ArrowLeft")  # 0.25 → 0.10
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text("cannot be split", timeout=SLOW_MS)
    assert_no_exception(page)


def test_download_the_model_and_load_it_back_on_its_own_table_only(page, app_url, tmp_path, screenshots):
    open_lab(page, app_url)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the model (.pt)").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    model_uploader = "load a model trained on this table"

    page.get_by_text("Wine (178 rows)").click()
    no_model = page.get_by_text("No model for this table yet")
    expect(no_model).to_be_visible()
    wait_idle(page)  # an upload into the page still being redrawn would be lost with the old uploader
    upload(page, saved, model_uploader)
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text("Choose the table it was trained on")
    expect(no_model).to_be_visible()  # nothing replaced, nothing lost
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    upload(page, broken, model_uploader)
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text("broken.pt cannot be used here")

    page.get_by_text("Breast cancer (Wisconsin, 569 rows)").click()
    expect(page.get_by_role("heading", name="Model: breast_cancer_vaec (shipped)")).to_be_visible()
    wait_idle(page)
    upload(page, saved, model_uploader)
    heading = f"Model: breast_cancer_vaec (uploaded: {saved.name})"
    expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=SLOW_MS)
    page.get_by_role("tab", name="Results").click()
    expect(page.get_by_text("LogisticRegression", exact=True)).to_be_visible()
    wait_idle(page)
    assert_no_exception(page)
    screenshot_whole_page(page, screenshots / "tabular_uploaded_1400.png")


def test_edit_a_row_and_its_prediction_follows(page, app_url, screenshots):
    page.set_viewport_size({"width": 1024, "height": 768})
    open_lab(page, app_url)
    page.get_by_role("tab", name="Predict a row").click()
    metric = page.get_by_test_id("stMetricValue")
    expect(metric).to_have_text(re.compile("malignant|benign"))
    expect(page.get_by_text("Out of domain")).to_have_count(0)
    reading = page.get_by_text(re.compile(r"Its latent mean lies"))
    first_row = reading.inner_text()
    set_number(page, "Test row (0 to 142)", 1)  # another test row: another reading
    expect(reading).not_to_have_text(first_row, timeout=SLOW_MS)
    wait_idle(page)
    page.wait_for_timeout(500)  # the row's grid is a new one: let it settle before clicking into it
    grid = page.get_by_test_id("stDataFrame").filter(has_text="feature").first
    grid.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    box = grid.bounding_box()
    # The grid is drawn on a canvas: the first data row (mean radius) sits under a 35-px header, values on the right.
    page.mouse.click(box["x"] + box["width"] - 40, box["y"] + 35 + 17)
    page.keyboard.press("Enter")  # opens the cell's editor
    page.wait_for_timeout(300)
    page.keyboard.press("Control+A")
    page.keyboard.type("100000", delay=80)  # as fast as a person: the editor drops keys typed all at once
    page.keyboard.press("Enter")
    expect(page.get_by_text("Out of domain")).to_be_visible(timeout=SLOW_MS)
    assert_no_exception(page)
    screenshot_whole_page(page, screenshots / "tabular_row_1024.png")


def test_run_the_feature_study(page, app_url, screenshots):
    open_lab(page, app_url)
    page.get_by_role("tab", name="Feature study").click()
    page.get_by_role("button", name="Run the feature study").click()
    expect(page.get_by_text("Test accuracy against the features kept")).to_be_visible(timeout=SLOW_MS)
    table = page.get_by_test_id("stDataFrame").filter(has_text="dropped next")
    expect(table).to_be_visible()
    expect(page.get_by_text(re.compile(r"R² of every feature in round 1"))).to_be_visible()
    assert_no_exception(page)
    screenshot_whole_page(page, screenshots / "tabular_feature_study.png")
