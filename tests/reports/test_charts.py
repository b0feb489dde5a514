"""The chart builders: pure DataFrame -> Figure functions shared by the report and the dashboard."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from reports import charts

HOSTILE = '<script>alert("x")</script><a href="javascript:evil()">click</a> <b>bold</b>'


def _weeks(n: int = 12) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "week_start": pd.date_range("2026-08-31", periods=n, freq="7D").date,
            "total_incident_count": list(range(n)),
            "mean_seconds_to_first_ack": [60.0 * (k + 1) for k in range(n)],
            "p90_seconds_to_first_ack": [120.0 * (k + 1) for k in range(n)],
            "mean_seconds_to_resolve": [3600.0 * (k + 1) for k in range(n)],
            "p90_seconds_to_resolve": [7200.0 * (k + 1) for k in range(n)],
        }
    )


def _texts(fig: go.Figure) -> list[str]:
    """Every label plotly would draw from data: axis categories, trace names, annotations."""
    out: list[str] = []
    for trace in fig.data:
        for attr in ("x", "y", "text", "name"):
            value = getattr(trace, attr, None)
            if value is None:
                continue
            out.extend(
                str(v)
                for v in (
                    value
                    if isinstance(value, (list, tuple))
                    else [value]
                    if isinstance(value, str)
                    else list(value)
                )
            )
    out.extend(str(a.text) for a in fig.layout.annotations)
    return out


@pytest.mark.parametrize(
    "seconds, expected",
    [
        (None, "—"),
        (float("nan"), "—"),
        (0, "0 s"),
        (59.4, "59 s"),
        (60, "1.0 min"),
        (754, "12.6 min"),
        (3 * 3600 - 1, "180.0 min"),
        (3 * 3600, "3.0 h"),
        (90000, "25.0 h"),
        (3 * 86400, "3.0 d"),
        (1_305_000, "15.1 d"),
    ],
)
def test_format_duration(seconds, expected):
    assert charts.format_duration(seconds) == expected


def test_duration_unit_follows_the_largest_value():
    assert charts.duration_unit([30, 600]) == ("min", 60.0)
    assert charts.duration_unit([30, 4 * 3600]) == ("h", 3600.0)
    assert charts.duration_unit([None, 5 * 86400]) == ("d", 86400.0)
    assert charts.duration_unit([]) == ("min", 60.0)


def test_plain_label_escapes_markup_and_shortens_before_escaping():
    assert charts.plain_label("<b>x</b> & y") == "&lt;b&gt;x&lt;/b&gt; &amp; y"
    short = charts.plain_label("<" * 50, max_length=10)
    assert short == "&lt;" * 9 + "…"  # no entity cut in half
    assert charts.plain_label(None) == ""
    assert charts.plain_label("a\n  b") == "a b"


def test_category_colors_are_stable_and_from_the_palette():
    assert charts.category_color("Payments") == charts.category_color("Payments")
    assert charts.category_color("Payments") in charts.CATEGORY_PALETTE
    names = [f"team-{k}" for k in range(40)]
    assert len({charts.category_color(n) for n in names}) > 3


def test_mtta_mttr_trend_draws_four_series_in_readable_units():
    fig = charts.mtta_mttr_trend(_weeks())
    assert [t.name for t in fig.data] == ["MTTA mean", "MTTA p90", "MTTR mean", "MTTR p90"]
    mtta_mean = fig.data[0]
    assert list(mtta_mean.y)[:2] == [1.0, 2.0]  # 60 s and 120 s in minutes
    assert fig.data[2].yaxis == "y2"
    assert list(fig.data[2].y)[0] == pytest.approx(1.0)  # 3600 s in hours (peak 43 200 s)
    assert fig.layout.yaxis2.title.text == "MTTR (h)"
    assert fig.data[0].line.color == charts.METRIC_COLORS["seconds_to_first_ack"]
    assert fig.data[1].line.dash == "dot"


def test_trend_keeps_missing_weeks_as_gaps():
    weeks = _weeks(3)
    weeks.loc[1, "mean_seconds_to_first_ack"] = None
    fig = charts.mtta_mttr_trend(weeks)
    assert pd.isna(list(fig.data[0].y)[1])


@pytest.mark.parametrize(
    "builder",
    [
        lambda df: charts.mtta_mttr_trend(df),
        lambda df: charts.weekly_trend(df, "total_incident_count"),
        lambda df: charts.bar_by_group(
            df, group_column="team_name", value_column="total_incident_count"
        ),
        lambda df: charts.interruptions_by_bucket(df),
        lambda df: charts.sleep_interruptions_by_night(df),
        lambda df: charts.impact_timeline(df),
        lambda df: charts.noisiest_templates(df),
        lambda df: charts.stacked_weekly(df, group_column="team_name", value_column="n"),
    ],
)
def test_empty_frames_give_an_honest_empty_figure(builder):
    for frame in (pd.DataFrame(), None):
        fig = builder(frame)
        assert isinstance(fig, go.Figure)
        assert len(fig.data) == 0
        assert fig.layout.annotations and fig.layout.annotations[0].text.startswith("No ")


def test_bar_by_group_sorts_colours_and_escapes():
    df = pd.DataFrame(
        {"team_name": ["Search", HOSTILE, "Payments"], "total_incident_count": [3, 9, 5]}
    )
    fig = charts.bar_by_group(df, group_column="team_name", value_column="total_incident_count")
    bar = fig.data[0]
    assert list(bar.x) == [9, 5, 3]
    assert list(bar.y)[1:] == ["Payments", "Search"]
    assert "<script" not in list(bar.y)[0] and "&lt;script&gt;" in list(bar.y)[0]
    assert list(bar.marker.color)[1] == charts.category_color("Payments")


def test_bar_by_group_ratio_and_duration_scaling():
    df = pd.DataFrame(
        {"service_name": ["a", "b"], "noise_ratio": [0.25, 0.5], "mttr": [7200.0, 3600.0 * 10]}
    )
    ratio = charts.bar_by_group(
        df, group_column="service_name", value_column="noise_ratio", percent=True
    )
    assert list(ratio.data[0].x) == [50.0, 25.0]
    duration = charts.bar_by_group(
        df, group_column="service_name", value_column="mttr", duration=True, value_label="MTTR"
    )
    assert list(duration.data[0].x) == [10.0, 2.0]
    assert duration.layout.xaxis.title.text == "MTTR (h)"


def test_interruptions_by_bucket_stacks_three_buckets_per_person():
    df = pd.DataFrame(
        {
            "user_name": ["Ann", "Bo", "Ann", "Cy"],
            "total_business_hour_interruptions": [1, 4, 2, 0],
            "total_off_hour_interruptions": [0, 1, 1, 0],
            "total_sleep_hour_interruptions": [3, 0, 0, 0],
        }
    )
    fig = charts.interruptions_by_bucket(df)
    assert fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == ["Business hours", "Off hours", "Sleep hours"]
    assert list(fig.data[0].y) == ["Ann", "Bo"]  # Cy had none; Ann (7) before Bo (5)
    assert list(fig.data[0].x) == [3, 4]
    assert list(fig.data[2].x) == [3, 0]
    assert fig.data[2].marker.color == charts.BUCKET_COLORS["sleep"]


def test_sleep_grid_fills_every_night_and_sorts_people():
    df = pd.DataFrame(
        {
            "user_name": ["Ann", "Bo", "Bo"],
            "night_of": [date(2026, 11, 16), date(2026, 11, 18), date(2026, 11, 16)],
            "sleep_interruptions": [1, 2, 1],
        }
    )
    fig = charts.sleep_interruptions_by_night(df)
    heat = fig.data[0]
    assert list(heat.x) == ["Mon 16", "Tue 17", "Wed 18"]
    assert list(heat.y) == ["Bo", "Ann"]
    assert [list(r) for r in heat.z] == [[1, 0, 2], [1, 0, 0]]


def test_impact_timeline_has_account_row_first_and_real_durations():
    df = pd.DataFrame(
        {
            "scope": ["service", "account"],
            "label": [HOSTILE, None],
            "window_start": [datetime(2026, 11, 17, 1, tzinfo=UTC)] * 2,
            "window_end": [datetime(2026, 11, 17, 3, 30, tzinfo=UTC)] * 2,
            "incident_count": [1, 1],
        }
    )
    fig = charts.impact_timeline(
        df, start=datetime(2026, 11, 16, tzinfo=UTC), end=datetime(2026, 11, 23, tzinfo=UTC)
    )
    assert list(fig.layout.yaxis.categoryarray)[0] == "All services"
    assert fig.data[0].y[0] == "All services"
    assert list(fig.data[0].x) == [2.5 * 3600 * 1000]
    assert all("<script" not in t for t in _texts(fig))
    assert str(list(fig.layout.xaxis.range)[0]).startswith("2026-11-16")


def test_noisiest_templates_escapes_text_and_keeps_top():
    df = pd.DataFrame(
        {
            "template": [HOSTILE, "cpu <*> high", "disk"],
            "incident_count": [4, 10, 0],
            "service_name": ["svc", None, "x"],
            "share_auto_resolved": [0.5, 1.0, 0.0],
        }
    )
    fig = charts.noisiest_templates(df, top=5)
    labels = list(fig.data[0].y)
    assert labels[0] == "cpu &lt;*&gt; high"
    assert "&lt;script&gt;" in labels[1] and "<script" not in labels[1]
    assert "<i>(svc)</i>" in labels[1]  # our own markup survives, the data's does not
    assert len(labels) == 2  # zero counts are dropped
    assert list(fig.data[0].marker.color) == [100.0, 50.0]


def test_sparkline_marks_the_last_point_and_hides_axes():
    fig = charts.sparkline([1, None, 3, 2])
    assert len(fig.data) == 2
    assert list(fig.data[1].y) == [2]
    assert fig.layout.xaxis.visible is False
    assert len(charts.sparkline([None, None]).data) == 0


def test_stacked_weekly_one_trace_per_group():
    df = pd.DataFrame(
        {
            "week_start": [date(2026, 11, 9), date(2026, 11, 16), date(2026, 11, 16)],
            "team_id": ["T1", "T1", "T2"],
            "n": [1, 2, 3],
        }
    )
    fig = charts.stacked_weekly(
        df, group_column="team_id", value_column="n", groups={"T1": "Payments", "T2": "Search"}
    )
    assert [t.name for t in fig.data] == ["Payments", "Search"]
    assert fig.data[0].marker.color == charts.category_color("Payments")


def test_builders_are_pure():
    """No data access inside the chart module: it imports neither duckdb nor the read API."""
    sources = [p.read_text() for p in Path(charts.__file__).parent.glob("*.py")]
    imported = {
        alias.name.split(".")[0]
        for source in sources
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module)])
    }
    assert not imported & {"duckdb", "etl", "streamlit", "kaleido", "os", "pathlib"}


@pytest.mark.browser
def test_figures_export_to_svg_through_one_browser():
    from reports.render import Chart, figures_to_svg

    figs = [
        charts.noisiest_templates(pd.DataFrame({"template": [HOSTILE], "incident_count": [3]})),
        charts.mtta_mttr_trend(_weeks()),
    ]
    svgs = figures_to_svg([Chart(f, 600, 300) for f in figs])
    assert len(svgs) == 2
    assert all(s.lstrip().startswith("<svg") for s in svgs)
    assert "<script" not in svgs[0]
    assert "alert(" in svgs[0]  # the text is drawn, as text


def test_sparkline_svg_breaks_at_gaps_and_marks_this_week():
    import xml.etree.ElementTree as ET

    from reports.render import sparkline_svg

    svg = ET.fromstring(sparkline_svg([None, 1, 2, None, 4, 3], color="#B03A2E"))
    ns = "{http://www.w3.org/2000/svg}"
    lines = svg.findall(f"{ns}polyline")
    assert len(lines) == 2  # the gap splits the line
    assert len(lines[0].get("points").split()) == 2
    marker = svg.findall(f"{ns}circle")[-1]
    assert marker.get("r") == "2.5" and float(marker.get("cx")) == pytest.approx(157.0)
    # higher values are drawn higher (smaller y)
    (x1, y1), (x2, y2) = (tuple(map(float, p.split(","))) for p in lines[0].get("points").split())
    assert y2 < y1
    assert len(ET.fromstring(sparkline_svg([None, None])).findall(f"{ns}polyline")) == 0
    flat = ET.fromstring(sparkline_svg([2, 2]))
    assert all(p.split(",")[1] == "20.0" for p in flat.find(f"{ns}polyline").get("points").split())
