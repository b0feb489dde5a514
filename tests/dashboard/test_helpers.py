"""The dashboard's pure helpers: markdown escaping, durations, the impact timeline."""

from __future__ import annotations


def test_markdown_escaping_and_durations():
    from dashboard import fmt

    escaped = fmt.md_escape("[x](javascript:alert(1)) **b** <i> :red[y] $z$")
    for raw in ("[x](", "**b**", "<i>", ":red[", "$z$"):
        assert raw not in escaped
    assert fmt.md_escape("a\nb") == "a b"
    assert fmt.duration(45) == "45 s"
    assert fmt.duration(600) == "10 min"
    assert fmt.duration(3 * 3600) == "3.0 h"
    assert fmt.duration(None) == "–"
    assert fmt.change(10, 7) == "+3"
    assert fmt.change(0.25, 0.2, kind="ratio") == "+5.0 pts"
    assert fmt.change(1, None) is None


def test_timeline_keeps_account_windows_and_the_longest_service_windows():
    import pandas as pd

    from dashboard.data import timeline_windows

    windows = pd.DataFrame(
        {
            "scope": ["account"] + ["service"] * 5,
            "window_start": pd.to_datetime(
                [
                    "2026-01-01",
                    "2026-01-05",
                    "2026-01-02",
                    "2026-01-04",
                    "2026-01-03",
                    "2026-01-06",
                ],
                utc=True,
            ),
            "duration_seconds": [10.0, 50.0, 40.0, 30.0, 20.0, 5.0],
        }
    )
    shown = timeline_windows(windows, limit=2)
    assert shown["scope"].tolist() == ["account", "service", "service"]
    assert sorted(shown["duration_seconds"].tolist()) == [10.0, 40.0, 50.0]
    assert shown["window_start"].is_monotonic_increasing
    assert len(timeline_windows(windows, limit=10)) == 6
