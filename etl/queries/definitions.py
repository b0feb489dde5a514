"""Metric definitions quoted from ``docs/metrics.md``, for help text and report footnotes.

The definitions are written once, in ``docs/metrics.md``: each metric has a heading
``### <column_name>`` followed by a one-paragraph definition. The dashboard and the report quote
that paragraph verbatim through this module rather than paraphrasing it, so a definition changed
in the document changes everywhere at the next run.

Parsing is deliberately small: a heading line of level 3 whose text is the column name (optionally
in backticks), then the first paragraph below it (the lines up to the next blank line or heading),
with its line breaks joined by single spaces. Nothing else of the Markdown is interpreted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

# etl/metrics.md is docs/metrics.md (a link in the repository, a copy in the wheel): package
# data, so the definitions travel with an installed pagerlens.
DEFAULT_METRICS_DOC = Path(__file__).resolve().parents[1] / "metrics.md"

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _heading_name(text: str) -> str:
    # "`seconds_to_first_ack`" or "seconds_to_first_ack" -> seconds_to_first_ack
    return text.strip().strip("`").strip()


@lru_cache(maxsize=8)
def _parse(path: str, mtime_ns: int) -> dict[str, str]:
    # mtime_ns is part of the cache key so an edited document is re-read by a long-running
    # dashboard without a restart.
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    definitions: dict[str, str] = {}
    i = 0
    while i < len(lines):
        match = _HEADING.match(lines[i])
        i += 1
        if not match or len(match.group(1)) != 3:
            continue
        name = _heading_name(match.group(2))
        while i < len(lines) and not lines[i].strip():
            i += 1
        paragraph: list[str] = []
        while i < len(lines) and lines[i].strip() and not _HEADING.match(lines[i]):
            paragraph.append(lines[i].strip())
            i += 1
        if paragraph and name not in definitions:
            definitions[name] = " ".join(paragraph)
    return definitions


def all_definitions(path: str | os.PathLike | None = None) -> dict[str, str]:
    """Every ``### name`` -> first paragraph in the metrics document (empty if it is missing)."""
    doc = Path(path) if path is not None else DEFAULT_METRICS_DOC
    try:
        mtime = doc.stat().st_mtime_ns
    except FileNotFoundError:
        return {}
    return dict(_parse(str(doc), mtime))


def definition(column: str, path: str | os.PathLike | None = None) -> str | None:
    """The definition of one metric, quoted verbatim from ``docs/metrics.md``; None if absent.

    >>> definition("seconds_to_first_ack")  # doctest: +SKIP
    'The time from the incident\\'s creation to its first acknowledgement by a person ...'
    """
    return all_definitions(path).get(column)


def definitions(
    columns: Iterable[str], path: str | os.PathLike | None = None
) -> dict[str, str | None]:
    """Definitions for several columns, in the order given; a missing one maps to None."""
    known = all_definitions(path)
    return {column: known.get(column) for column in columns}
