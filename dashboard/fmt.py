"""Formatting helpers for the pages: durations, percentages, and escaping untrusted text.

Text that comes from PagerDuty (incident titles, alert summaries, team and service names) is
never given to Streamlit as HTML; where it must go through Markdown (subheaders, expander
labels) :func:`md_escape` neutralises every Markdown and Streamlit directive character.
"""

from __future__ import annotations

import math
import re

import pandas as pd

# CommonMark lets any ASCII punctuation be backslash-escaped; escaping all of it also disarms
# Streamlit's own directives (`:red[...]`, `$latex$`, emoji shortcodes).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:&\"'=/])")


def md_escape(text: object) -> str:
    """``text`` made literal for st.markdown/st.subheader/labels (newlines become spaces)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def duration(seconds: float | None) -> str:
    """A human duration: ``45 s``, ``12 min``, ``3.4 h``, ``2.1 d``; an en dash when unknown."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "–"
    seconds = float(seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def percent(value: float | None, *, ratio: bool = False, digits: int = 1) -> str:
    """``value`` as a percentage (``ratio=True``: value is a 0-1 ratio)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value * 100 if ratio else value:.{digits}f} %"


def number(value: float | None) -> str:
    """An integer count with thousands separators (a dash for a missing one, also pandas' NA:
    a sync run recorded without its request or reject counts)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{int(round(value)):,}"


def change(current: float | None, previous: float | None, *, kind: str = "count") -> str | None:
    """Week-over-week change for ``st.metric``'s delta (None when not comparable)."""
    if current is None or previous is None:
        return None
    if any(isinstance(v, float) and math.isnan(v) for v in (current, previous)):
        return None
    diff = float(current) - float(previous)
    if kind == "duration":
        sign = "+" if diff >= 0 else "-"
        return f"{sign}{duration(abs(diff))}"
    if kind == "ratio":
        return f"{diff * 100:+.1f} pts"
    if kind == "pct":
        return f"{diff:+.2f} pts"
    return f"{diff:+,.0f}"


_STAT = {"mean": "mean", "p50": "p50", "p90": "p90", "p95": "p95"}
_MEASURE = {"seconds_to_first_ack": "MTTA", "seconds_to_resolve": "MTTR"}


def column_label(column: str) -> str:
    """A readable header for a mart column (``p90_seconds_to_resolve`` -> ``MTTR p90 (min)``)."""
    for suffix, measure in _MEASURE.items():
        if column.endswith(suffix):
            stat = column.removesuffix("_" + suffix)
            if stat in _STAT:
                return f"{measure} {_STAT[stat]} (min)"
            if stat == "":
                return f"{measure} (min)"
    if column.endswith("_seconds") or column.startswith("total_seconds"):
        return column.replace("total_", "").replace("_seconds", "").replace("_", " ") + " (h)"
    return column.removeprefix("total_").replace("_", " ")
