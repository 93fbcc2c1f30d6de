"""Lessons: short steps that explain a VAE beside live parts of the app; a teacher runs one from a link."""

import streamlit as st

from ui import links
from ui.lessons import LESSONS, lesson_by_slug

MAX_STEPS = max(len(lesson.steps) for lesson in LESSONS)
# What a teacher may hide from the students' view in teacher mode (TF Playground's `_hide`), by link: `hide=answer,nav`.
HIDEABLE = {
    "nav": "Back / Next",
    "text": "the explanation",
    "try": "Try this",
    "question": "the question",
    "answer": "the answer",
    "link": "the link to the full page",
}
TEACHER_HELP = "On: only the step and its controls, for a projector (link parameter teacher=1). Off: every lesson."
view = [
    links.ChoiceParam(name="lesson", key="lesson_slug", default=LESSONS[0].slug,
                      choices=tuple(lesson.slug for lesson in LESSONS)),
    links.IntParam(name="step", key="lesson_step", default=1, low=1, high=MAX_STEPS),
    links.FlagParam(name="teacher", key="lesson_teacher", default=False),
    links.ChoicesParam(name="hide", key="lesson_hide", default=[], choices=tuple(HIDEABLE), max_items=len(HIDEABLE)),
]  # fmt: skip
links.restore(view, "lessons")
teacher = st.session_state.lesson_teacher  # (app.py also opens a teacher's link with the sidebar closed)

st.title("Lessons")
if not teacher:
    st.caption(
        "Six short lessons on the shipped models. Each step: a few sentences, something live to try, and a "
        "question. **Teacher mode** keeps only the step and its controls, for a projector; its link opens the "
        "same lesson and step for every student."
    )
    top = st.columns([2, 1, 2], vertical_alignment="bottom")
    top[0].selectbox(
        "Lesson",
        [lesson.slug for lesson in LESSONS],
        format_func=lambda slug: lesson_by_slug(slug).title,
        key="lesson_slug",
        on_change=lambda: st.session_state.update(lesson_step=1),
    )
    top[1].toggle("Teacher mode", key="lesson_teacher", help=TEACHER_HELP)
    top[2].multiselect(
        "In teacher mode, also hide",
        list(HIDEABLE),
        format_func=HIDEABLE.get,
        key="lesson_hide",
        help="Parts of the step the students should not see on the projector or in the link (parameter hide=…)",
    )
lesson = lesson_by_slug(st.session_state.lesson_slug)
st.session_state.lesson_step = min(st.session_state.lesson_step, len(lesson.steps))
hidden = set(st.session_state.lesson_hide) if teacher else set()
if teacher:  # the same widget as above (type, label, help): a different one would lose the switch's state
    st.toggle("Teacher mode", key="lesson_teacher", help=TEACHER_HELP)


def move(by: int) -> None:
    st.session_state.lesson_step = min(max(st.session_state.lesson_step + by, 1), len(lesson.steps))


number = st.session_state.lesson_step
step = lesson.steps[number - 1]
heading = f"**{lesson.title}** · step {number} of {len(lesson.steps)}: **{step.title}**"
if "nav" in hidden:
    st.markdown(heading)
else:
    nav = st.columns([1, 4, 1], vertical_alignment="center")
    nav[0].button("Back", icon=":material/arrow_back:", on_click=move, args=(-1,), disabled=number == 1,
                  use_container_width=True)  # fmt: skip
    nav[1].markdown(heading)
    nav[2].button("Next", icon=":material/arrow_forward:", on_click=move, args=(1,),
                  disabled=number == len(lesson.steps), use_container_width=True)  # fmt: skip
links.publish(view, "lessons")

asks = {"try", "question"} - hidden
text_col, ask_col = st.columns([3, 2]) if "text" not in hidden and asks else (st.container(), st.container())
if "text" not in hidden:
    text_col.markdown(step.text)
with ask_col:
    if "try" not in hidden:
        st.markdown(f":material/touch_app: **Try this:** {step.try_this}")
    if "question" not in hidden:
        st.markdown(f":material/help: **{step.question}**")
        if "answer" not in hidden:
            with st.expander("Show the answer"):
                st.markdown(step.answer)
page, params = step.show(f"lesson_{lesson.slug}_{number}")
if "link" not in hidden:
    shown_on = params.get("model") or params.get("models", "").replace(",", ", ")
    st.page_link(page, label=f"Open this on its full page ({shown_on})", icon=":material/open_in_new:",
                 query_params=params)  # fmt: skip
