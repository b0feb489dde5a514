"""The report's pure helpers: the definitions parser, major-free streaks, what got worse."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from etl.queries import definitions as defs
from reports import weekly
from reports.weekly import ReportWeek


def test_definitions_parser(tmp_path):
    doc = tmp_path / "metrics.md"
    doc.write_text(
        "# Metrics\n\n## Per incident\n\n### `seconds_to_first_ack`\n\nThe time from creation\n"
        "to the first human acknowledgement.\n\nSecond paragraph, not quoted.\n\n"
        "### noise_ratio\nNoise incidents / all incidents.\n### empty\n\n## Other\ntext\n",
        encoding="utf-8",
    )
    assert defs.definition("seconds_to_first_ack", doc) == (
        "The time from creation to the first human acknowledgement."
    )
    assert defs.definition("noise_ratio", doc) == "Noise incidents / all incidents."
    assert defs.definition("empty", doc) is None
    assert defs.definitions(["noise_ratio", "nope"], doc) == {
        "noise_ratio": "Noise incidents / all incidents.",
        "nope": None,
    }
    assert defs.all_definitions(tmp_path / "absent.md") == {}


def test_major_free_streaks_as_of_an_instant():
    day = 86400.0
    windows = pd.DataFrame(
        {
            "window_start": [datetime(2026, 1, 3, tzinfo=UTC), datetime(2026, 1, 10, tzinfo=UTC)],
            "window_end": [datetime(2026, 1, 4, tzinfo=UTC), datetime(2026, 1, 11, tzinfo=UTC)],
        }
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    # gaps: 2 d before the first window, 6 d between, then 3 d to Jan 14
    assert weekly.data._streaks(windows, start, datetime(2026, 1, 14, tzinfo=UTC)) == (
        3 * day,
        6 * day,
    )
    # inside the second window: the current streak is zero, the first window's gaps count
    assert weekly.data._streaks(windows, start, datetime(2026, 1, 10, 12, tzinfo=UTC)) == (
        0.0,
        6 * day,
    )
    # no windows at all: the whole period
    assert weekly.data._streaks(windows.iloc[0:0], start, datetime(2026, 1, 2, tzinfo=UTC)) == (
        day,
        day,
    )
    assert weekly.data._streaks(windows, None, datetime(2026, 1, 2, tzinfo=UTC)) == (None, None)


def test_what_got_worse_ranks_relative_worsening():
    this, last = ReportWeek(date(2026, 11, 16)), ReportWeek(date(2026, 11, 9))
    df = pd.DataFrame(
        [
            # A: incidents 10 -> 12 (+20%), MTTR 100 -> 400 (+300%)
            ("A", "Alpha", this.monday, 12, 60.0, 400.0, 0, 0.1, 0, 100.0),
            ("A", "Alpha", last.monday, 10, 60.0, 100.0, 0, 0.1, 0, 100.0),
            # B: sleep 0 -> 2 (first occurrence: +100%)
            ("B", "Beta", this.monday, 5, 60.0, 100.0, 2, 0.0, 0, 100.0),
            ("B", "Beta", last.monday, 5, 60.0, 100.0, 0, 0.0, 0, 100.0),
            # C: everything better
            ("C", "Gamma", this.monday, 1, 30.0, 50.0, 0, 0.0, 0, 100.0),
            ("C", "Gamma", last.monday, 4, 60.0, 100.0, 1, 0.5, 0, 100.0),
            # D: busy last week only
            ("D", "Delta", last.monday, 3, 60.0, 100.0, 0, 0.0, 0, 100.0),
        ],
        columns=[
            "team_id",
            "team_name",
            "week_start",
            "total_incident_count",
            "mean_seconds_to_first_ack",
            "mean_seconds_to_resolve",
            "total_sleep_hour_interruptions",
            "noise_ratio",
            "total_major_incidents",
            "up_time_pct",
        ],
    )
    out = weekly.data._compare_groups(df, "team_id", "team_name", this, last)
    # nothing got worse for C and D: then by incidents this week
    assert list(out["team_id"]) == ["A", "B", "C", "D"]
    by_id = out.set_index("team_id")
    assert by_id.loc["A", "worst_change_metric"] == "MTTR"
    assert by_id.loc["A", "worst_change"] == pytest.approx(3.0)
    assert by_id.loc["B", "worst_change_metric"] == "sleep interruptions"
    assert pd.isna(by_id.loc["C", "worst_change_metric"])
    assert by_id.loc["D", "total_incident_count"] == 0
    assert by_id.loc["D", "previous_total_incident_count"] == 3
