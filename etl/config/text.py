"""Small text helpers of the configuration's messages and of ``defaults.toml``."""

from __future__ import annotations

import difflib
import json
import math
from datetime import time
from typing import Any


def _number_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _clock_text(value: time) -> str:
    return value.isoformat("seconds" if value.second else "minutes")


def toml_value(value: object) -> str:
    """A value as TOML spells it (the types the schema holds)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, time):
        return json.dumps(_clock_text(value))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return repr(value)


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return f"; did you mean {close[0]}?" if close else ""


def _shown(value: object, limit: int = 40) -> str:
    """A short, printable rendering of an offending value (floats as TOML spells them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    text = toml_value(value) if isinstance(value, bool | str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
