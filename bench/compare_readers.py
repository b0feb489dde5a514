"""Record what the readers show, and compare two recordings (a refactoring's before and after).

    # on the old code
    .venv/bin/python -m bench.compare_readers record --db /tmp/demo.duckdb --out /tmp/before
    # on the new code, same warehouse
    .venv/bin/python -m bench.compare_readers record --db /tmp/demo.duckdb --out /tmp/after
    .venv/bin/python -m bench.compare_readers compare /tmp/before /tmp/after

``record`` writes the weekly report (PDF text through ``pdftotext``, and its CSVs) for two
weeks, and every page-data function of ``dashboard.data`` for a dozen filter combinations
(``frames.pkl``). ``compare`` prints, per item, ``same``, or what differs (columns added or
dropped, rows, the first differing cells); floats are compared with a relative tolerance of
1e-9 (an average computed in a different order differs in the last bits). Warehouse: build one
with ``pagerlens demo --no-dashboard --days 90 --end 2026-03-02 --db PATH``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import pickle
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

REPORT_WEEKS = ("2026-W09", "2026-W05")
# The page-level data functions and the filters they run with: (name, call).
DAY = date.fromisoformat


def _filter_sets(data) -> dict[str, object]:
    choices = data.filter_choices()
    teams, services = list(choices.teams), list(choices.services)
    first, last = choices.first_day, choices.last_day
    f = data.Filters
    return {
        "default": f(start=DAY("2025-12-08"), end=last),
        "all": f(start=first, end=last),
        "one_team": f(start=first, end=last, team_ids=(teams[0],)),
        "two_teams": f(start=first, end=last, team_ids=tuple(teams[:2])),
        "one_service": f(start=first, end=last, service_ids=(services[0],)),
        "high": f(start=first, end=last, urgencies=("high",)),
        "low": f(start=first, end=last, urgencies=("low",)),
        "team_high": f(start=first, end=last, team_ids=(teams[1],), urgencies=("high",)),
        "partial_weeks": f(start=DAY("2026-01-07"), end=DAY("2026-02-12")),
        "one_day": f(start=DAY("2026-02-18"), end=DAY("2026-02-18")),
        "service_low": f(
            start=DAY("2026-01-01"), end=last, service_ids=tuple(services[1:3]), urgencies=("low",)
        ),
        "unknown_team": f(start=first, end=last, team_ids=("PNOSUCH",)),
    }


def _page_data(data, view) -> dict[str, object]:
    out: dict[str, object] = {}
    teams = data.team_metrics(view)
    out["weekly_overview"] = data.weekly_overview(view)
    out["team_metrics"] = teams
    out["service_metrics"] = data.service_metrics(view)
    if not teams.empty and pd.notna(teams["team_id"].iloc[0]):
        out["service_metrics_team"] = data.service_metrics(view, team_id=teams["team_id"].iloc[0])
    out["incident_list"] = data.incident_list(view)
    people = data.responders(view)
    out["responders"] = people
    out["heatmap_all"] = data.interruption_heatmap(view, [])
    if not people.empty:
        out["heatmap_one"] = data.interruption_heatmap(view, [people["user_id"].iloc[0]])
    out["alert_templates"] = data.alert_templates(view)
    out["recommendations"] = data.recommendations(view)
    out["impact_windows"] = data.impact_windows(view)
    return out


def record(db: Path, out: Path) -> None:
    """Write the report outputs and the dashboard frames of ``db`` under ``out``."""
    os.environ["PAGERLENS_DB"] = str(db)
    out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    with contextlib.redirect_stderr(io.StringIO()):
        from dashboard import data
    from reports.weekly import write_report

    for week in REPORT_WEEKS:
        folder = out / "report" / week
        written = write_report(db, week=week, out_dir=folder)
        pdf = next(p for p in written if p.suffix == ".pdf")
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        (folder / "report.txt").write_text(text)
    frames: dict[str, object] = {}
    for label, view in _filter_sets(data).items():
        for name, value in _page_data(data, view).items():
            frames[f"{label}/{name}"] = value
    frames["filter_choices"] = data.filter_choices()
    frames["major_free_streaks"] = data.major_free_streaks()
    frames["stale_open_majors"] = data.stale_open_majors()
    frames["alert_groups"] = data.alert_groups()
    frames["report_weeks"] = data.report_weeks()
    frames["sync_runs"] = data.sync_runs()
    frames["reject_summary"] = data.reject_summary()
    frames["reject_samples"] = data.reject_samples()
    with open(out / "frames.pkl", "wb") as handle:
        pickle.dump(frames, handle)
    print(f"recorded {len(frames)} dashboard items and {len(REPORT_WEEKS)} reports in {out}")


def _differences(a: object, b: object) -> list[str]:
    if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame):
        notes = []
        added = [c for c in b.columns if c not in a.columns]
        dropped = [c for c in a.columns if c not in b.columns]
        if added:
            notes.append(f"columns added {added}")
        if dropped:
            notes.append(f"columns dropped {dropped}")
        if len(a) != len(b):
            return [*notes, f"rows {len(a)} -> {len(b)}"]
        for column in [c for c in a.columns if c in b.columns]:
            left, right = a[column].reset_index(drop=True), b[column].reset_index(drop=True)
            if pd.api.types.is_numeric_dtype(left) and pd.api.types.is_numeric_dtype(right):
                x, y = left.astype("float64").to_numpy(), right.astype("float64").to_numpy()
                bad = ~np.isclose(x, y, rtol=1e-9, atol=1e-9, equal_nan=True)
            else:
                bad = np.array([_cell(p) != _cell(q) for p, q in zip(left, right, strict=True)])
            if bad.any():
                i = int(np.argmax(bad))
                notes.append(
                    f"{column}: {int(bad.sum())} cells, first row {i}: {a[column].iloc[i]!r} -> {b[column].iloc[i]!r}"
                )
        return notes
    if type(a) is not type(b):
        return [f"type {type(a).__name__} -> {type(b).__name__}"]
    return [] if _cell(a) == _cell(b) else [f"{a!r} -> {b!r}"]


def _cell(value: object) -> object:
    if isinstance(value, np.ndarray):
        return value.tolist()
    with contextlib.suppress(TypeError, ValueError):
        if pd.isna(value):
            return None
    if isinstance(value, dict):
        return {k: _cell(v) for k, v in value.items()}
    return value


def compare(before: Path, after: Path) -> int:
    """Print what differs between two recordings; the number of differing items."""
    differing = 0
    for week in REPORT_WEEKS:
        for path in sorted((before / "report" / week).glob("*")):
            if path.suffix not in (".csv", ".txt"):
                continue
            other = after / "report" / week / path.name
            old, new = path.read_text().splitlines(), other.read_text().splitlines()
            # The PDF says when it was generated.
            old = [line for line in old if "generated" not in line.lower()]
            new = [line for line in new if "generated" not in line.lower()]
            if old == new:
                print(f"same       report/{week}/{path.name}")
            else:
                differing += 1
                changed = [(o, n) for o, n in zip(old, new, strict=False) if o != n][:3]
                print(f"DIFFERENT  report/{week}/{path.name}: {len(old)} -> {len(new)} lines")
                for o, n in changed:
                    print(f"    - {o.strip()}\n    + {n.strip()}")
    with open(before / "frames.pkl", "rb") as handle:
        old_frames = pickle.load(handle)
    with open(after / "frames.pkl", "rb") as handle:
        new_frames = pickle.load(handle)
    for key in sorted(set(old_frames) | set(new_frames)):
        if key not in new_frames or key not in old_frames:
            differing += 1
            print(f"DIFFERENT  {key}: only in {'before' if key in old_frames else 'after'}")
            continue
        notes = _differences(old_frames[key], new_frames[key])
        if notes:
            differing += 1
            print(f"DIFFERENT  {key}: " + "; ".join(notes))
        else:
            print(f"same       {key}")
    print(f"{differing} item(s) differ")
    return differing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("--db", type=Path, required=True)
    rec.add_argument("--out", type=Path, required=True)
    cmp_ = sub.add_parser("compare")
    cmp_.add_argument("before", type=Path)
    cmp_.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "record":
        record(args.db.resolve(), args.out)
        return 0
    return 1 if compare(args.before, args.after) else 0


if __name__ == "__main__":
    sys.exit(main())
