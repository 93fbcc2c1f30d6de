"""Lessons: their shape (the issue's rules), and every step rendering on the shipped models (AppTest).

Walking the steps with the mouse is tested in a real browser in tests/e2e/test_lessons.py.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO, needs_mnist
from tests.test_links import open_link
from ui.lessons import LESSONS
from vae.checkpoint import load_checkpoint

STEPS = [(lesson.slug, number) for lesson in LESSONS for number in range(1, len(lesson.steps) + 1)]
pytestmark = pytest.mark.usefixtures("app_data_dir")


def test_six_lessons_of_three_to_six_short_steps():
    assert len(LESSONS) >= 6
    assert len({lesson.slug for lesson in LESSONS}) == len(LESSONS)
    for lesson in LESSONS:
        assert 3 <= len(lesson.steps) <= 6, lesson.slug
        for step in lesson.steps:
            words = len(re.findall(r"\S+", step.text))
            assert words <= 120, (step.title, words)
            assert step.try_this and step.question and step.answer, step.title


@needs_mnist
@pytest.mark.parametrize(("slug", "number"), STEPS)
def test_every_step_renders_and_links_to_its_full_page(slug, number):
    at = open_link("lessons", lesson=slug, step=str(number))
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    heading = at.markdown[0].value if at.markdown else ""
    assert f"step {number} of" in " ".join(m.value for m in at.markdown), heading
    links = at.get("page_link")
    assert len(links) == 1 and links[0].proto.page.startswith(("explore", "generate", "anomaly", "compare"))
    assert "model" in links[0].proto.query_string or "models" in links[0].proto.query_string


@needs_mnist
def test_lesson_two_takes_a_drawn_digit_and_says_how_before_one_is_drawn():
    at = open_link("lessons", lesson="elbo", step="1")
    assert any("q(z | x = #0)" in m.value for m in at.markdown)
    at.radio(key="lesson_elbo_1_source").set_value("one you draw").run()
    assert not at.exception, at.exception
    assert any("Draw a digit in the black square" in i.value for i in at.info)
    assert not any("q(z | x = #0)" in m.value for m in at.markdown)


def answers(at) -> list:
    return [e for e in at.main.expander if e.label == "Show the answer"]


@needs_mnist
def test_a_teachers_link_hides_what_it_names_and_only_in_teacher_mode():
    at = open_link("lessons", lesson="latent", step="1", teacher="1", hide="answer,nav,link")
    assert not at.exception, at.exception
    assert not answers(at) and not at.get("page_link")
    assert not [b for b in at.button if b.label in ("Back", "Next")]
    assert any("Try this" in m.value for m in at.markdown)  # what the link does not name stays
    everything = open_link("lessons", lesson="latent", step="1", hide="answer,nav,link")  # no teacher mode
    assert answers(everything) and everything.get("page_link")
    refused = open_link("lessons", lesson="latent", step="1", teacher="1", hide="answer,<script>")
    assert answers(refused)  # an unknown part: the parameter is ignored (and named), nothing is hidden
    assert any("hide" in w.value for w in refused.warning), [w.value for w in refused.warning]


@needs_mnist
def test_the_nines_pass_a_reconstruction_score_and_not_the_classifier_head():
    """Lesson 5 step 2's claim, measured live on the shipped mnist_no9 (it never saw a 9)."""
    at = open_link("lessons", lesson="flag", step="2")

    def auroc() -> float:
        return float(next(m.value for m in at.get("metric") if m.label == "AUROC, 9s vs 0–8"))

    assert at.radio(key="lesson_flag_2_method").value == "elbo"
    by_elbo = auroc()
    at.radio(key="lesson_flag_2_method").set_value("head").run()
    assert not at.exception
    assert by_elbo < 0.8 < 0.93 < auroc()
    assert "method=head" in at.get("page_link")[0].proto.query_string


@needs_mnist
def test_a_model_with_a_classifier_head_opens_the_anomaly_lab_on_its_head_score():
    at = open_link("anomaly", model="mnist_no9")
    assert not at.exception
    assert at.radio(key="anomaly_method").value == "head"
    caption = next(c.value for c in at.caption if "classifier head" in c.value)
    aurocs = {m: load_checkpoint(REPO / "checkpoints" / "mnist_no9.pt")[1]["metrics"][f"test_novelty_auroc_{m}"]
              for m in ("head", "ink", "combined")}  # fmt: skip
    assert f"head {aurocs['head']:.3f}, ink {aurocs['ink']:.3f}, head + ink {aurocs['combined']:.3f}" in caption
    at.radio(key="anomaly_method").set_value("combined").run()  # calibrated at training: offered, and it scores
    assert not at.exception
    roc = next(c.proto.spec for c in at.get("plotly_chart") if "ROC (AUROC " in c.proto.spec)
    shown = float(re.search(r"ROC \(AUROC ([0-9.]+)\)", roc).group(1))
    assert abs(shown - aurocs["combined"]) < 0.01  # the 9s vs 0–8 (the lab holds half of 0–8 out to calibrate)
    for method in ("head", "combined"):  # a model without a head: the link is refused
        at = open_link("anomaly", model="mnist_z2", method=method)
        assert not at.exception
        assert at.radio(key="anomaly_method").value == "ink" and method not in at.radio(key="anomaly_method").options
