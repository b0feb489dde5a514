"""Each metric is defined once, in the models: readers never aggregate incident durations.

The rule: outside ``etl/models``, no SQL read query (``etl/queries/sql/**``) and no Python of
``reports``/``dashboard`` (code, or SQL in its strings) applies a mean or a percentile to a
duration column. A duration column is one of the incidents mart's durations
(``seconds_to_first_ack``, ``seconds_to_resolve``, ``seconds_open``, ``raw_seconds_to_*``), an
aggregate is ``avg``/``mean``/``median``/``quantile*``/``percentile*``/``approx_quantile``/
``reservoir_quantile``/``list_aggregate`` in SQL, and ``.mean()``/``.median()``/``.quantile()``/
``np.(nan)mean``/``np.(nan)percentile``/``np.(nan)quantile``/``statistics.*`` in Python whose
receiver or arguments name such a column. Readers may filter, pick, sum counts and format the
marts' figures (``mean_seconds_to_resolve`` is a column, not an aggregate).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DURATION = re.compile(r"(?<![a-z_])(raw_)?seconds_(to_first_ack|to_resolve|open)\b")
SQL_AGGREGATE = re.compile(
    r"\b(avg|mean|median|quantile\w*|percentile\w*|approx_quantile|reservoir_quantile"
    r"|list_aggregate|list_avg|list_median)\s*\(",
    re.IGNORECASE,
)
PY_AGGREGATES = {
    "mean",
    "median",
    "quantile",
    "percentile",
    "nanmean",
    "nanpercentile",
    "nanquantile",
    "nanmedian",
    "fmean",
    "quantiles",
}


def _argument(text: str, open_paren: int) -> str:
    """The text inside the parentheses opened at ``open_paren`` (balanced)."""
    depth = 0
    for i in range(open_paren, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[open_paren + 1 : i]
    return text[open_paren + 1 :]


def sql_offences(text: str) -> list[str]:
    """Aggregates over duration columns in one SQL text (comments ignored)."""
    code = re.sub(r"--[^\n]*", "", text)
    found = []
    for match in SQL_AGGREGATE.finditer(code):
        inner = _argument(code, match.end() - 1)
        after = code[match.end() + len(inner) + 1 :]
        within = re.match(r"\s*within\s+group\s*\(", after, re.IGNORECASE)
        if within:  # percentile_cont(0.9) within group (order by seconds_to_resolve)
            inner += " " + _argument(after, within.end() - 1)
        if DURATION.search(inner):
            found.append(f"{match.group(1)}({inner.strip()})")
    return found


def python_offences(source: str) -> list[str]:
    """Mean/percentile calls over duration columns in Python code, and in its SQL strings."""
    found = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in PY_AGGREGATES:
                segment = ast.get_source_segment(source, node) or ""
                if DURATION.search(segment):
                    found.append(segment)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.extend(sql_offences(node.value))
    return found


def _offenders() -> dict[str, list[str]]:
    out = {}
    for path in sorted((ROOT / "etl" / "queries" / "sql").rglob("*.sql")):
        if hits := sql_offences(path.read_text()):
            out[str(path.relative_to(ROOT))] = hits
    for package in ("reports", "dashboard"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if hits := python_offences(path.read_text()):
                out[str(path.relative_to(ROOT))] = hits
    return out


def test_readers_never_aggregate_durations():
    assert _offenders() == {}


# The rule catches what the readers did before issue 12 (excerpts of the removed queries and
# of the ways Python could do the same), and lets through what readers legitimately do.
@pytest.mark.parametrize(
    "sql",
    [
        "select week_start, avg(seconds_to_first_ack) as m from incidents group by 1",
        "quantile_cont(seconds_to_resolve, 0.9) as p90_seconds_to_resolve",
        "select percentile_disc(0.5) within group (order by seconds_to_resolve) from incidents",
        "select median(epoch(resolved_at - created_at) + 0 * seconds_to_resolve) from incidents",
        "select list_aggregate(list(seconds_to_first_ack), 'quantile_cont', 0.5) from incidents",
        "select AVG( i.seconds_to_resolve ) from incidents i",
    ],
)
def test_the_rule_catches_duration_aggregates_in_sql(sql):
    assert sql_offences(sql)


@pytest.mark.parametrize(
    "code",
    [
        "frame['seconds_to_resolve'].mean()",
        "frame.groupby('service_id')['seconds_to_first_ack'].quantile(0.9)",
        "np.percentile(incidents.seconds_to_resolve.dropna(), 95)",
        "statistics.median(row.seconds_to_first_ack for row in rows)",
        "reader.df('select avg(seconds_to_resolve) from incidents')",
    ],
)
def test_the_rule_catches_duration_aggregates_in_python(code):
    assert python_offences(code)


@pytest.mark.parametrize(
    "text",
    [
        "select mean_seconds_to_resolve, p90_seconds_to_first_ack from service_weekly",
        "select sum(total_interruptions) from responder_weekly",
        "select avg(up_time_pct) from service_weekly",
        "select week_start, unnest(incident_metrics(filtered)) from filtered group by 1",
        "-- avg(seconds_to_resolve) in a comment\nselect 1",
    ],
)
def test_the_rule_lets_readers_pick_and_count(text):
    assert sql_offences(text) == []
    assert python_offences(f"frame[['mean_seconds_to_resolve']].round(1)\nx = {text!r}") == []
