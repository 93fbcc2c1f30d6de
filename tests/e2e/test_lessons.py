"""Lessons in a real browser: a teacher's link, every step walked with the Next button, a step's full page."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

from bench.browser import SEVEN, SLOW_MS, draw_stroke, wait_idle, wait_loaded
from tests.conftest import needs_mnist
from tests.e2e.helpers import assert_no_exception, screenshot_whole_page
from ui.lessons import LESSONS

PROJECTOR = {"width": 1024, "height": 768}


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def on_projector(new_page, url: str) -> Page:
    """A fresh session at 1024×768 (the sidebar stays open at this width) that has opened `url`."""
    page = new_page()
    page.set_viewport_size(PROJECTOR)
    page.goto(url)
    wait_loaded(page)
    return page


def step_line(page: Page):
    return page.get_by_text(re.compile(r"· step \d+ of \d+:"))


@needs_mnist
def test_walk_every_step_of_every_lesson_on_a_projector(new_page, app_url, screenshots):
    page = new_page()
    page.set_viewport_size(PROJECTOR)  # the sidebar stays open at this width
    for lesson in LESSONS:
        page.goto(f"{app_url}/lessons?lesson={lesson.slug}")
        wait_loaded(page)
        for number, step in enumerate(lesson.steps, start=1):
            expect(step_line(page)).to_contain_text(
                f"step {number} of {len(lesson.steps)}: {step.title}", timeout=SLOW_MS
            )
            wait_idle(page, SLOW_MS)
            assert_no_exception(page)
            expect(page.get_by_test_id("stAlertContainer").filter(has_text="Error")).to_have_count(0)
            expect(page).to_have_url(
                re.compile(rf"lesson={lesson.slug}&step={number}|step={number}.*lesson={lesson.slug}")
            )
            screenshot_whole_page(page, screenshots / f"lesson_{lesson.slug}_{number}_1024x768.png")
            if number < len(lesson.steps):
                page.get_by_role("button", name="Next").click()


@needs_mnist
def test_a_teachers_link_opens_the_step_alone_and_its_full_page_in_the_same_state(new_page, app_url, screenshots):
    student = on_projector(new_page, f"{app_url}/lessons?lesson=latent&step=3&teacher=1")
    expect(step_line(student)).to_contain_text("step 3 of 4: One digit, one ellipse")
    expect(student.get_by_role("combobox", name="Lesson")).to_have_count(0)  # teacher mode: the step alone
    assert student.get_by_test_id("stSidebar").bounding_box()["width"] == 0  # closed: the projector gets the room
    student.screenshot(path=screenshots / "lesson_teacher_mode_1024x768.png", full_page=True)

    student.get_by_label("Test digit #", exact=True).fill("42")
    student.get_by_label("Test digit #", exact=True).press("Tab")
    wait_idle(student)
    student.get_by_role("link", name="Open this on its full page (mnist_z2)").click()
    expect(student.get_by_role("heading", name="Latent explorer", level=1)).to_be_visible(timeout=SLOW_MS)
    wait_idle(student, SLOW_MS)
    expect(student.get_by_label("Test digit #", exact=True)).to_have_value("42")
    expect(student).to_have_url(re.compile(r"/explore\?.*model=mnist_z2"))
    assert_no_exception(student)


@needs_mnist
def test_draw_a_digit_and_see_its_posterior(new_page, app_url, screenshots):
    page = on_projector(new_page, f"{app_url}/lessons?lesson=elbo&step=1")
    page.get_by_text("one you draw").click()
    expect(page.get_by_text("Draw a digit in the black square")).to_be_visible()
    draw_stroke(page, SEVEN)
    expect(page.get_by_text(re.compile(r"q\(z \| x = your digit\) = N\(μ, σ²\)"))).to_be_visible(timeout=30_000)
    wait_idle(page)
    assert_no_exception(page)
    screenshot_whole_page(page, screenshots / "lesson_elbo_drawn_1024x768.png")


@needs_mnist
def test_a_teacher_hides_the_answer_and_the_buttons_for_the_class(new_page, app_url, screenshots):
    teacher = on_projector(new_page, f"{app_url}/lessons?lesson=beta&step=2")
    chooser = teacher.get_by_test_id("stMultiSelect").filter(has_text="In teacher mode, also hide")
    for part in ("the answer", "Back / Next"):
        chooser.click()
        teacher.get_by_role("option", name=part, exact=True).click()
        teacher.keyboard.press("Escape")
        wait_idle(teacher)
    teacher.get_by_test_id("stCheckbox").get_by_text("Teacher mode", exact=True).click()  # the toggle
    expect(teacher).to_have_url(re.compile(r"teacher=1.*hide=answer(%2C|,)nav|hide=answer(%2C|,)nav.*teacher=1"))
    wait_idle(teacher)
    student = on_projector(new_page, teacher.url)
    expect(step_line(student)).to_contain_text("step 2 of")
    expect(student.get_by_text("Show the answer")).to_have_count(0)
    expect(student.get_by_role("button", name="Next")).to_have_count(0)
    expect(student.get_by_text("Try this")).to_be_visible()
    assert_no_exception(student)
    student.screenshot(path=screenshots / "lesson_teacher_hide_1024x768.png", full_page=True)
