"""The latent explorer (and generation) in a real browser."""

import re

from playwright.sync_api import expect

from bench.browser import choose, go_to, open_page, streamlit_server, wait_idle, wait_loaded
from tests.conftest import MNIST_ROOT, needs_mnist
from tests.e2e.helpers import assert_no_exception


@needs_mnist
def test_box_selection_decodes_the_box_centre(page, app_url, screenshots):
    open_page(page, app_url, "Latent explorer", "Latent explorer")
    assert_no_exception(page)
    decoded = page.get_by_text(re.compile(r"decoded at \("))
    before = decoded.inner_text()
    page.screenshot(path=screenshots / "explore.png", full_page=True)

    chart = page.locator(".js-plotly-plot").first
    chart.hover()  # the toolbar shows on hover
    chart.locator(".modebar-btn[data-val='select']").first.click()  # the chart opens in pan mode, where clicks decode
    plot = chart.locator(".nsewdrag").first
    box = plot.bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.15, box["y"] + box["height"] * 0.15
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 60, y0 + 40, steps=8)
    page.mouse.up()
    expect(decoded).not_to_have_text(before, timeout=30_000)
    wait_idle(page)
    assert_no_exception(page)
    page.screenshot(path=screenshots / "explore_box_selected.png", full_page=True)


# The outermost dot of the scatter (least likely to sit under another) and where it is on the screen.
OUTERMOST_DOT = """() => {
  const chart = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
  const xaxis = chart._fullLayout.xaxis, yaxis = chart._fullLayout.yaxis;
  let best = null;
  for (const trace of chart._fullData) {
    if (!trace.customdata) continue;
    for (let i = 0; i < trace.x.length; i++) {
      const r = trace.x[i] ** 2 + trace.y[i] ** 2;
      if (!best || r > best.r) best = {r, x: trace.x[i], y: trace.y[i], index: trace.customdata[i]};
    }
  }
  const area = chart.querySelector('.nsewdrag').getBoundingClientRect();
  return {x: area.left + xaxis.l2p(best.x), y: area.top + yaxis.l2p(best.y), index: best.index};
}"""


@needs_mnist
def test_clicking_a_dot_decodes_that_digit(page, app_url, screenshots):
    open_page(page, app_url, "Latent explorer", "Latent explorer")
    digit = page.get_by_label("Test digit #", exact=True)
    expect(digit).to_have_value("0")
    decoded = page.get_by_text(re.compile(r"decoded at \("))
    before = decoded.inner_text()
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    dot = page.evaluate(OUTERMOST_DOT)
    assert dot["index"] != 0
    page.mouse.move(dot["x"], dot["y"])  # hover first, as a person does: plotly picks the point under the mouse
    page.mouse.click(dot["x"], dot["y"])
    expect(digit).to_have_value(str(dot["index"]), timeout=30_000)
    expect(decoded).not_to_have_text(before)
    expect(page).to_have_url(re.compile(rf"digit={dot['index']}\b"))
    wait_idle(page)
    assert_no_exception(page)
    page.screenshot(path=screenshots / "explore_dot_clicked.png", full_page=True)


# The scatter's drawn axis ranges against the extent of its dots, on both axes.
RANGES_AND_EXTENT = """() => {
  const chart = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
  const spans = {};
  for (const axis of ["x", "y"]) {
    const values = chart._fullData.filter(t => t.customdata).flatMap(t => Array.from(t[axis]));
    const range = chart._fullLayout[axis + "axis"].range;
    spans[axis] = {drawn: range[1] - range[0], dots: Math.max(...values) - Math.min(...values)};
  }
  return spans;
}"""


@needs_mnist
def test_on_a_projector_the_scatter_fills_its_narrow_column(new_page, app_url, screenshots):
    """At 1024 × 768 with the sidebar open the column is tall and narrow: equal axes once stretched z₂ to
    ±15 and left the dots a small blob in the middle."""
    page = new_page()
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{app_url}/explore?model=mnist_z2")
    wait_loaded(page)
    expect(page.get_by_test_id("stSidebar")).to_be_visible()
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    spans = page.evaluate(RANGES_AND_EXTENT)
    for axis, span in spans.items():
        assert span["drawn"] <= 1.3 * span["dots"], (axis, span)  # the dots span most of each axis
    assert_no_exception(page)
    page.screenshot(path=screenshots / "explore_1024x768.png", full_page=True)


def hover_the_outermost_dot(page) -> None:
    """Move the mouse onto the scatter's outermost dot (no click); the panel must show that digit's strokes."""
    preview = page.frame_locator("iframe[title='st.iframe']").first
    expect(preview.locator("#label")).to_have_text("Hover over a dot: its digit shows here.")
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    dot = page.evaluate(OUTERMOST_DOT)
    page.mouse.move(dot["x"] - 30, dot["y"])
    page.mouse.move(dot["x"], dot["y"], steps=5)  # the mouse arrives on the dot, no click
    expect(preview.locator("#label")).to_have_text(re.compile(rf"^Test digit #{dot['index']} \(\d\)$"))
    ink = preview.locator("#thumb").evaluate(
        "c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data"
        ".filter((v, i) => i % 4 === 0 && v > 128).length"
    )  # bright red channels: ink
    assert ink > 50  # the digit's strokes were drawn from the sprite sheet, not a black square


@needs_mnist
def test_hovering_a_dot_shows_its_digit_beside_the_chart(page, app_url, screenshots):
    open_page(page, app_url, "Latent explorer", "Latent explorer")
    hover_the_outermost_dot(page)
    expect(page.get_by_label("Test digit #", exact=True)).to_have_value("0")  # hovering chooses nothing
    assert_no_exception(page)
    page.screenshot(path=screenshots / "explore_hover_preview.png")


@needs_mnist
def test_the_hover_preview_works_behind_a_proxy_path(new_page, tmp_path):
    """Served under a base path (`server.baseUrlPath`, as behind a proxy), the sprite sheet is found there too."""
    with streamlit_server(tmp_path / "streamlit.log", {"VAE_DATA_DIR": str(MNIST_ROOT)}, base_path="vae") as (url, _):
        assert url.endswith("/vae")
        page = new_page()
        page.goto(f"{url}/explore")
        wait_loaded(page)
        hover_the_outermost_dot(page)
        assert_no_exception(page)


def test_generate_digits_of_a_chosen_class(page, app_url, screenshots):
    open_page(page, app_url, "Generate", "Generate", model="mnist_cvae")
    choose(page, "Class", "3")
    expect(page.get_by_text("48 generated 3s")).to_be_visible()
    assert_no_exception(page)
    page.screenshot(path=screenshots / "generate_class.png", full_page=True)
    page.get_by_role("tab", name="All classes").click()
    expect(page.get_by_text("Rows: classes 0 to 9")).to_be_visible()
    page.screenshot(path=screenshots / "generate_all_classes.png", full_page=True)


def test_a_cvae_draws_from_where_its_training_digits_lie_or_from_the_prior(page, app_url, screenshots):
    open_page(page, app_url, "Generate", "Generate", model="mnist_cvae_z8")
    codes = page.get_by_role("radiogroup").filter(has_text="Where its training digits lie")
    expect(codes.get_by_label("Where its training digits lie")).to_be_checked()
    choose(page, "Class", "6")
    expect(page.get_by_text("48 generated 6s")).to_be_visible()
    grid = page.get_by_test_id("stImage").first.locator("img")
    fitted = grid.get_attribute("src")
    page.screenshot(path=screenshots / "generate_class_codes.png", full_page=True)
    codes.get_by_text("The prior N(0, I)").click()
    wait_idle(page)
    expect(page).to_have_url(re.compile(r"[?&]codes=prior(&|$)"))
    expect(grid).not_to_have_attribute("src", fitted)  # other codes, other sixes
    assert_no_exception(page)


@needs_mnist
def test_generate_from_a_cluster_found_without_labels_and_colour_the_map_by_cluster(page, app_url, screenshots):
    open_page(page, app_url, "Generate", "Generate", model="mnist_clusters")
    select = page.get_by_test_id("stSelectbox").filter(has_text="Cluster")
    select.locator("input").click()
    page.get_by_role("option", name=re.compile(r"^4 · mostly ")).click()
    expect(page.get_by_text(re.compile(r"^48 digits of cluster 4 · mostly"))).to_be_visible(timeout=15_000)
    assert "c=4" in page.url
    assert_no_exception(page)
    page.screenshot(path=screenshots / "generate_cluster.png", full_page=True)

    go_to(page, "Latent explorer", "Latent explorer")
    legend = page.locator(".js-plotly-plot .legendtext").first
    expect(legend).to_have_text("0")  # coloured by the true label
    page.get_by_test_id("stRadioGroup").get_by_text("cluster found", exact=True).click()
    expect(legend).to_have_text(re.compile(r"^0 · mostly "), timeout=15_000)
    wait_idle(page)
    assert "colour=cluster" in page.url
    assert_no_exception(page)
    page.screenshot(path=screenshots / "explore_clusters.png", full_page=True)
