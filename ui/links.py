"""Links that reproduce a view: every page's main controls live in the URL (`st.query_params`).

The URL is a public interface (README, "Links"): names stay stable, and every value is checked
against the same bounds as its widget, so no link can ask for more than the hosted limits allow.
A parameter that is unknown, malformed or out of range is ignored and a short notice says so.

A page declares its parameters, restores them before drawing its widgets, publishes them after:

    view = [IntParam("seed", "generate_seed", 0, low=0, high=2**31 - 1), ...]
    links.restore(view)     # a new URL (a link, a reload, back/forward) sets the widgets
    ... widgets with key=param.key and no value= (the default comes from the Param) ...
    links.publish(view)     # the URL follows the widgets

`model` and `ws` (the workspace) belong to every page: the sidebar `take`s them from an incoming
link and writes them with `set_app_params`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import streamlit as st

APP_PARAMS = ("model", "ws")  # every page's, set by the sidebar's model picker
STREAMLIT_PARAMS = ("embed", "embed_options")  # Streamlit's own: left alone
MAX_SHOWN = 40  # characters of an ignored value quoted back in a notice

_WRITTEN = "links_written"  # the query parameters this session wrote lately, newest last
_RECENT_WRITES = 8  # a rerun request can carry an address that is a few of our writes old
_INCOMING = "links_incoming"  # URL parameters from outside, until a page's `restore` has used them
_APP_VALUES = "links_app_values"  # model and ws, as the sidebar last set them
_NOTICES = "links_notices"  # this run's "parameter ignored" notices, shown by the page's `restore`
_REMEMBERED = "links_remembered"  # page → its last published parameters: a page switch loses nothing


@dataclass(frozen=True, kw_only=True)
class Param:
    """One URL parameter, and the session-state key of the widget it sets."""

    name: str
    key: str
    default: Any  # or a function of nothing, called when needed (a default that depends on another value)

    def parse(self, text: str) -> Any:
        """URL text → the widget's value; raises ValueError when the text is not acceptable."""
        raise NotImplementedError

    def format(self, value: Any) -> str:
        return str(value)

    def expects(self) -> str:
        """What a valid value looks like, in words (for the notice)."""
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class IntParam(Param):
    low: int
    high: int

    def parse(self, text: str) -> int:
        value = int(text.strip())  # "1e3", "2.5", "abc" raise ValueError
        if not self.low <= value <= self.high:
            raise ValueError
        return value

    def expects(self) -> str:
        return f"a whole number from {self.low:,} to {self.high:,}"


@dataclass(frozen=True, kw_only=True)
class FloatParam(Param):
    low: float
    high: float
    decimals: int | None = None  # round to the widget's step

    def parse(self, text: str) -> float:
        value = float(text.strip())
        if not math.isfinite(value) or not self.low <= value <= self.high:
            raise ValueError
        return round(value, self.decimals) if self.decimals is not None else value

    def format(self, value: Any) -> str:
        return repr(float(value))  # the shortest text that reads back as exactly this number

    def expects(self) -> str:
        return f"a number from {self.low:g} to {self.high:g}"


@dataclass(frozen=True, kw_only=True)
class ChoiceParam(Param):
    choices: tuple[str, ...]

    def parse(self, text: str) -> str:
        if text not in self.choices:
            raise ValueError
        return text

    def expects(self) -> str:
        return "one of " + ", ".join(self.choices)


@dataclass(frozen=True, kw_only=True)
class ClassesParam(Param):
    """A set of class numbers, comma-separated (`normal=0,1,2`)."""

    low: int
    high: int
    allow_empty: bool = False

    def parse(self, text: str) -> list[int]:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if len(parts) > self.high - self.low + 1:
            raise ValueError
        values = sorted({int(p) for p in parts})
        if (not values and not self.allow_empty) or any(not self.low <= v <= self.high for v in values):
            raise ValueError
        return values

    def format(self, value: Any) -> str:
        return ",".join(str(v) for v in sorted(value))

    def expects(self) -> str:
        return f"class numbers from {self.low} to {self.high}, comma-separated"


@dataclass(frozen=True, kw_only=True)
class ChoicesParam(Param):
    """Several of a set of choices, comma-separated, in order (`models=mnist_z2,mnist_cvae`)."""

    choices: tuple[str, ...]
    max_items: int

    def parse(self, text: str) -> list[str]:
        parts = list(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
        if not parts or len(parts) > self.max_items or any(p not in self.choices for p in parts):
            raise ValueError
        return parts

    def format(self, value: Any) -> str:
        return ",".join(value)

    def expects(self) -> str:
        return f"up to {self.max_items} of " + ", ".join(self.choices[:8]) + (", …" if len(self.choices) > 8 else "")


@dataclass(frozen=True, kw_only=True)
class FlagParam(Param):
    """On or off: `1` or `0`."""

    def parse(self, text: str) -> bool:
        if text.strip() not in ("0", "1"):
            raise ValueError
        return text.strip() == "1"

    def format(self, value: Any) -> str:
        return "1" if value else "0"

    def expects(self) -> str:
        return "0 or 1"


# --- one script run ---------------------------------------------------------------------------------
def read_incoming() -> dict[str, str]:
    """Called first in every full script run: the URL's parameters if they came from outside.

    "Outside" is anything this session did not write itself: a link opened, a reload, the address
    bar. Widgets follow such a URL until a page's `restore` has used it (a run can be interrupted
    before). Otherwise the widgets are the truth: a rerun request can carry an address a few of our
    own writes old (the browser had not caught up), and that must not undo what was just chosen.
    """
    now = st.query_params.to_dict()
    if now not in st.session_state.get(_WRITTEN, []):
        st.session_state[_INCOMING] = now
    st.session_state[_NOTICES] = []
    return st.session_state.setdefault(_INCOMING, {})


def take(name: str) -> str | None:
    """Use up one outside parameter: its value (None when absent, or when the URL is our own).

    Session state keeps what it set even if the run is interrupted, so it is not applied twice.
    """
    return st.session_state.get(_INCOMING, {}).pop(name, None)


def alias(old: str, new: str, values: dict[str, str]) -> None:
    """An outside parameter renamed since: `old=v` is read as `new=values[v]` (unless `new` came too)."""
    incoming = st.session_state.get(_INCOMING, {})
    text = incoming.pop(old, None)
    if text is None:
        return
    if text.lower() in values and new not in incoming:
        incoming[new] = values[text.lower()]
    elif text.lower() not in ("0", "false"):
        ignore(old, text, f"expects one of {', '.join(values)}; the default is used")


def ignore(name: str, value: str, why: str) -> None:
    """Record that a parameter of the incoming URL was ignored (the page's `restore` shows the notice)."""
    shown = value.replace("`", "").replace("\n", " ")
    shown = shown if len(shown) <= MAX_SHOWN else shown[:MAX_SHOWN] + "…"
    st.session_state.setdefault(_NOTICES, []).append(f"`{name}={shown}` ({why})")


def restore(params: Sequence[Param], page: str) -> None:
    """Before the page's widgets: set them from an incoming URL, else from this session, else defaults.

    Shows one notice listing every ignored parameter (unknown, malformed, out of range).
    """
    received = st.session_state.get(_INCOMING, {})
    remembered = st.session_state.setdefault(_REMEMBERED, {}).get(page, {})
    for param in params:
        text = received.get(param.name)
        if text is not None:
            try:
                st.session_state[param.key] = param.parse(text)
            except (ValueError, TypeError):
                ignore(param.name, text, f"expects {param.expects()}; the default is used")
        if param.key in st.session_state:
            continue
        try:  # back on this page after another: its widgets were forgotten, the URL we wrote was not
            st.session_state[param.key] = param.parse(remembered[param.name])
        except (KeyError, ValueError, TypeError):
            st.session_state[param.key] = param.default() if callable(param.default) else param.default
    known = {p.name for p in params} | set(APP_PARAMS) | set(STREAMLIT_PARAMS)
    for name in sorted(set(received) - known):
        ignore(name, received[name], "not a setting of this page")
    st.session_state[_INCOMING] = {}  # used: from now on the widgets are the truth
    notices = st.session_state.get(_NOTICES, [])
    if notices:
        st.warning("Some of this link was ignored: " + "; ".join(notices) + ".", icon=":material/link_off:")
        st.session_state[_NOTICES] = []


def publish(params: Sequence[Param], page: str) -> None:
    """After the page's widgets: write their values (and model, ws) into the URL, if they changed."""
    values = {p.name: p.format(st.session_state[p.key]) for p in params if p.key in st.session_state}
    st.session_state.setdefault(_REMEMBERED, {})[page] = values
    _write({**st.session_state.get(_APP_VALUES, {}), **values})


def set_app_params(**values: str | None) -> None:
    """The sidebar's `model` and `ws` (None removes one); written to the URL at once."""
    app = {k: v for k, v in values.items() if v is not None}
    st.session_state[_APP_VALUES] = app
    current = {k: v for k, v in st.query_params.to_dict().items() if k not in APP_PARAMS}
    _write({**app, **current})


def _write(wanted: dict[str, str]) -> None:
    kept = {k: v for k, v in st.query_params.to_dict().items() if k in STREAMLIT_PARAMS}
    wanted = {**wanted, **kept}
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)
    recent = [w for w in st.session_state.get(_WRITTEN, []) if w != wanted]
    st.session_state[_WRITTEN] = [*recent, wanted][-_RECENT_WRITES:]


def current_link(drop: Sequence[str] = ()) -> str:
    """The full link to this view: the page's address and every parameter now in the URL (but `drop`)."""
    base = st.context.url or ""
    query = urlencode({k: v for k, v in st.query_params.to_dict().items() if k not in drop})
    return f"{base}?{query}" if query else base
