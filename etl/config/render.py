"""``etl/defaults.toml``, rendered from the schema so the two cannot drift."""

from __future__ import annotations

import textwrap
from typing import Any

import annotated_types

from etl.config.schema import _DEFAULTS, SECTIONS
from etl.config.text import _number_text, toml_value

# --------------------------------------------------------------------------- defaults.toml

_HEADER = """\
# pagerlens configuration: every key, with its default. Rendered from the schema in
# etl/config/schema.py (python -m etl.config > etl/defaults.toml); do not edit by hand.
# Copy what you need to pagerlens.toml (or point PAGERLENS_CONFIG at a file) and change it;
# `pagerlens config check` validates a file and shows where each value comes from.
# Changing a value changes the next `pagerlens build`, never the raw data.
"""


def _range(info: Any) -> str:
    low = high = None
    for bound in info.metadata:
        if isinstance(bound, annotated_types.Ge):
            low = f"{_number_text(bound.ge)}"
        elif isinstance(bound, annotated_types.Gt):
            low = f"above {_number_text(bound.gt)} up"
        elif isinstance(bound, annotated_types.Le):
            high = _number_text(bound.le)
    if low is None or high is None:
        return ""
    kind = "whole number" if info.annotation is int else "number"
    return f"{kind}, {low} to {high}"


def render_defaults() -> str:
    """``etl/defaults.toml``: every section and key of the schema with description and default."""
    parts = [_HEADER]
    for name, kind in SECTIONS.items():
        lines = [f"[{name}]"]
        lines += _comment(" ".join((kind.__doc__ or "").split()))
        defaults = getattr(_DEFAULTS, name)
        for key, info in kind.model_fields.items():
            lines += _comment(info.description or "")
            assignment = f"{key} = {toml_value(getattr(defaults, key))}"
            bounds = _range(info)
            lines.append(f"{assignment}  # {bounds}" if bounds else assignment)
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def _comment(text: str) -> list[str]:
    return ["# " + line for line in textwrap.wrap(text, width=98)] if text else []
