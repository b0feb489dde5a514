"""The noise marts' tables (column specs, written from frames) and ``pagerlens recommend``'s
files: ``recommendations.csv`` and one Markdown file per team."""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

import duckdb
import pandas as pd

from etl.noise.advice import alertmanager_config
from etl.noise.settings import NoiseSettings
from etl.warehouse import connect_readonly, table_exists

ALERT_GROUP_SCHEMA = {
    "group_id": "varchar",
    "member_templates": "varchar[]",
    "member_template_ids": "varchar[]",
    "service_ids": "varchar[]",
    "service_names": "varchar[]",
    "team_ids": "varchar[]",
    "alert_types": "bigint",
    "occurrences": "bigint",
    "incidents_in_occurrences": "bigint",
    "member_incidents": "bigint",
    "p50_spread_seconds": "double",
    "p90_spread_seconds": "double",
    "first_seen": "timestamptz",
    "last_seen": "timestamptz",
    "example_incidents": "json",
    "model": "json",
    "quality": "json",
}


RECOMMENDATION_SCHEMA = {
    "recommendation_id": "varchar",
    "team_id": "varchar",
    "team_name": "varchar",
    "kind": "varchar",
    "service_id": "varchar",
    "service_name": "varchar",
    "template_id": "varchar",
    "template": "varchar",
    "group_id": "varchar",
    "title": "varchar",
    "evidence": "json",
    "config_snippet": "varchar",
    "config_artifacts": "json",
    "replay_start": "timestamptz",
    "replay_end": "timestamptz",
    "incidents_before": "bigint",
    "incidents_after": "bigint",
    "notifications_before": "bigint",
    "notifications_after": "bigint",
    "sleep_interruptions_before": "bigint",
    "sleep_interruptions_after": "bigint",
    "pages_saved": "bigint",
    "major_incidents_affected": "bigint",
    "risk": "varchar",
}
RECOMMENDATION_COLUMNS = list(RECOMMENDATION_SCHEMA)

# The recommendations not made because the account already has the setting
# (etl/noise/existing.py): what is configured and what the rule would have proposed.
ALREADY_ON_SCHEMA = {
    "kind": "varchar",
    "team_id": "varchar",
    "team_name": "varchar",
    "service_id": "varchar",
    "service_name": "varchar",
    "template_id": "varchar",
    "template": "varchar",
    "group_id": "varchar",
    "configured": "varchar",
    "proposed": "varchar",
    # What shows it is on (the Event Orchestration rule), when there is more than a setting.
    "evidence": "json",
}


def _by_group(incidents: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The incidents of each group (one pass, instead of one scan of all incidents a group)."""
    assigned = incidents[incidents["group_id"].notna()]
    return {str(key): part for key, part in assigned.groupby("group_id", observed=True)}


def _group_model(group: dict, quality: dict) -> dict:
    """How a group was found: from the service graph (a supporting service's neighbourhood,
    etl/noise/dependency_storms.py) or by the co-firing model, with its settings."""
    root = group.get("root_service_id")
    if isinstance(root, str):
        return {
            "method": "service graph: bursts of incidents on a supporting service and its "
            "direct dependents, believed where a day-shifted decoy bursts less often",
            "supporting_service_id": root,
            **quality["settings"],
            "calibration": quality.get("dependency_calibration", {}).get(root),
        }
    return {
        "method": "agglomerative (average linkage) on 1 - "
        "(co-occurrence Jaccard + text_weight * TF-IDF cosine), pairs kept "
        "only above a cut-off calibrated against a seeded time-shift decoy",
        **quality["settings"],
        "calibration": quality.get("calibration"),
    }


def _group_table(grouping, incidents: pd.DataFrame, settings: NoiseSettings) -> pd.DataFrame:
    rows = []
    grouped = _by_group(incidents)
    # The distinct names and owning teams of each service (what a group's row lists).
    service_rows = incidents.drop_duplicates(["service_id", "service_name", "team_id"])
    for group in grouping.groups.to_dict("records"):
        members = grouped.get(group["group_id"], incidents.iloc[:0]).sort_values("created_at")
        examples = members.drop_duplicates("occurrence_id").tail(settings.examples)
        services = service_rows[service_rows["service_id"].isin(group["service_ids"])]
        rows.append(
            {
                "group_id": group["group_id"],
                "member_templates": group["templates"],
                "member_template_ids": group["template_ids"],
                "service_ids": group["service_ids"],
                "service_names": sorted(set(services["service_name"].dropna())),
                "team_ids": sorted(set(services["team_id"].dropna())),
                "alert_types": group["alert_types"],
                "occurrences": group["occurrences"],
                "incidents_in_occurrences": group["incidents_in_occurrences"],
                "member_incidents": group["member_incidents"],
                "p50_spread_seconds": group["p50_spread_seconds"],
                "p90_spread_seconds": group["p90_spread_seconds"],
                "first_seen": group["first_seen"],
                "last_seen": group["last_seen"],
                "example_incidents": json.dumps(_examples(examples)),
                "model": json.dumps(_group_model(group, grouping.quality)),
                "quality": json.dumps(
                    {
                        "cohesion": group["cohesion"],
                        "max_pair_lift": group["max_pair_lift"],
                        "share_of_member_incidents_in_occurrences": round(
                            group["incidents_in_occurrences"] / max(1, group["member_incidents"]), 4
                        ),
                    }
                ),
            }
        )
    return pd.DataFrame(rows, columns=list(ALERT_GROUP_SCHEMA))


def _examples(frame: pd.DataFrame) -> list[dict]:
    # Only the three columns: itertuples over a wide frame builds every column's values.
    return [
        {"incident_id": incident_id, "html_url": html_url, "created_at": created_at.isoformat()}
        for incident_id, html_url, created_at in frame[
            ["incident_id", "html_url", "created_at"]
        ].itertuples(index=False)
    ]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "team"


def _write_frame(
    con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame, schema: dict[str, str]
) -> None:
    """Create ``name`` with a fixed schema (so empty results keep their columns) and fill it."""
    columns = ", ".join(f"{column} {kind}" for column, kind in schema.items())
    con.execute(f"create or replace table {name} ({columns})")
    if frame.empty:
        return
    con.register("noise_frame", frame[list(schema)])
    try:
        casts = ", ".join(f"cast({c} as {k}) as {c}" for c, k in schema.items())
        con.execute(f"insert into {name} select {casts} from noise_frame")  # noqa: S608
    finally:
        con.unregister("noise_frame")


def _md(text: object) -> str:
    """Alert text made inert in Markdown: HTML escaped, Markdown syntax backslash-escaped."""
    escaped = html.escape("" if text is None else str(text), quote=True)
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~>])", r"\\\1", escaped)


def write_recommendations(db_path, out_dir) -> list[Path]:
    """Write ``recommendations.csv`` and one Markdown file per team from the published
    warehouse (read-only). Returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    con = connect_readonly(db_path)
    try:
        if not table_exists(con, "recommendations"):
            raise RuntimeError("no recommendations table: run `pagerlens build` first")
        frame = con.execute(
            "select * from recommendations order by team_name, pages_saved desc, recommendation_id"
        ).df()
        already = pd.DataFrame(columns=list(ALREADY_ON_SCHEMA))
        if table_exists(con, "recommendations_already_on"):  # older warehouses have none
            already = con.execute(
                "select * from recommendations_already_on "
                "order by team_name, kind, service_name, template"
            ).df()
    finally:
        con.close()
    written = [out / "recommendations.csv"]
    with written[0].open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(RECOMMENDATION_COLUMNS)
        for record in frame[RECOMMENDATION_COLUMNS].itertuples(index=False):
            writer.writerow([_csv_cell(v) for v in record])
    teams = _by_team(frame)
    configured = _by_team(already)
    for team_id, team_name in sorted(set(teams) | set(configured)):
        part = teams.get((team_id, team_name), frame.iloc[:0])
        path = out / f"recommendations-{_slug(team_name)}-{_slug(team_id)}.md"
        path.write_text(
            _team_markdown(team_name, part)
            + _already_markdown(configured.get((team_id, team_name), already.iloc[:0]))
        )
        written.append(path)
        fragments = [a for a in _artifacts(part) if a["target"] == "alertmanager"]
        if fragments:
            # What the owner diffs against their own alertmanager.yml (checked by amtool).
            config = out / f"alertmanager-{_slug(team_name)}-{_slug(team_id)}.yml"
            config.write_text(alertmanager_config(fragments))
            written.append(config)
    return written


def _by_team(frame: pd.DataFrame) -> dict[tuple[str, str], pd.DataFrame]:
    keys = [frame["team_id"].fillna("unowned"), frame["team_name"].fillna("Unowned")]
    return {(str(i), str(n)): part for (i, n), part in frame.groupby(keys, sort=True)}


def _already_markdown(part: pd.DataFrame) -> str:
    """The recommendations the team's services already have: listed, never silently dropped."""
    if part.empty:
        return ""
    lines = ["", "## Already configured", ""]
    for r in part.itertuples():
        lines.append(
            f"- already configured: `{r.kind}` on {_md(r.service_name)} for "
            f"{_code(r.template)}: {_md(r.configured)} (pagerlens would propose "
            f"{_md(r.proposed)})"
        )
    return "\n".join(lines) + "\n"


def _artifacts(part: pd.DataFrame) -> list[dict]:
    column = part["config_artifacts"] if "config_artifacts" in part else []
    return [a for value in column for a in _artifact_list(value)]


def _artifact_list(value: object) -> list[dict]:
    if isinstance(value, str) and value:
        return json.loads(value)
    return list(value) if isinstance(value, list) else []


def _csv_cell(value: object) -> object:
    """A CSV cell that a spreadsheet will not run: text starting like a formula gets a quote."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _team_markdown(team_name: str, part: pd.DataFrame) -> str:
    if part.empty:
        return f"# Noise-reduction recommendations for {_md(team_name)}\n\n0 recommendation(s).\n"
    first = part.iloc[0]
    lines = [
        f"# Noise-reduction recommendations for {_md(team_name)}",
        "",
        f"{len(part)} recommendation(s). Counterfactuals replay the incidents created between "
        f"{first['replay_start']:%Y-%m-%d %H:%M} and {first['replay_end']:%Y-%m-%d %H:%M} UTC "
        "with the change applied.",
        "",
        "| kind | service | pages saved | incidents before → after | sleep interruptions before → after | risk |",
        "|---|---|---|---|---|---|",
    ]
    for r in part.itertuples():
        lines.append(
            f"| {r.kind} | {_md(r.service_name)} | {r.pages_saved} | {r.incidents_before} → "
            f"{r.incidents_after} | {r.sleep_interruptions_before} → "
            f"{r.sleep_interruptions_after} | {_md(r.risk)} |"
        )
    for r in part.itertuples():
        evidence = json.loads(r.evidence) if isinstance(r.evidence, str) else r.evidence
        lines += [
            "",
            f"## {_md(r.title)}",
            "",
            f"- Kind: `{r.kind}`; service: {_md(r.service_name)}",
            f"- Alert: {_code(r.template)}",
            f"- Evidence: {evidence.get('incidents')} incidents, "
            f"{evidence.get('share_auto_resolved_within', 0):.0%} auto-resolved within "
            f"{evidence.get('auto_resolved_within_seconds')} s, "
            f"{evidence.get('share_never_acknowledged', 0):.0%} never acknowledged, "
            f"{evidence.get('sleep_hour_pages')} sleep-hour pages",
            *_setting_lines(evidence),
            f"- Replay: notifications {r.notifications_before} → {r.notifications_after}, "
            f"pages saved {r.pages_saved}, major incidents affected {r.major_incidents_affected}",
            "- Examples: "
            + ", ".join(
                f"[{_md(e['incident_id'])}]({_md_url(e['html_url'])})"
                for e in evidence.get("example_incidents", [])
            ),
            f"- Window: first seen {_md(evidence.get('first_seen'))}, last seen "
            f"{_md(evidence.get('last_seen'))}, {evidence.get('alerts')} alerts",
        ]
        lines += _artifact_markdown(getattr(r, "config_artifacts", None), r.config_snippet)
    return "\n".join(lines) + "\n"


def _setting_lines(evidence: dict) -> list[str]:
    """Evidence lines on the existing configuration: settings distorting the metrics, and
    maintenance windows that could not be checked."""
    lines = [
        f"- Setting distorting the metrics on {_md(service)}: {_md(flag.get('distortion'))}"
        for service, flag in (evidence.get("settings_distorting_metrics") or {}).items()
    ]
    windows = evidence.get("existing_maintenance_windows")
    if isinstance(windows, str) and windows.startswith("unknown"):
        lines.append(f"- Existing maintenance windows: {_md(windows)}")
    return lines


def _artifact_markdown(value: object, snippet: object) -> list[str]:
    """Each artifact: where to paste it (escaped text), then its text in a fenced block of its
    language, the fence longer than any backtick run inside."""
    artifacts = _artifact_list(value)
    if not artifacts:
        return ["", _fence(str(snippet or ""), "")]
    lines = []
    for artifact in artifacts:
        if artifact["target"] == "pagerduty_api":
            head = f"PagerDuty API `{artifact['method']} {_inline(artifact['path'])}`"
            language = "json"
        else:
            head = f"Alertmanager `{artifact['part']}`"
            language = "yaml"
        lines += [
            "",
            f"**{head}**: {_md(artifact['where'])}",
            "",
            _fence(artifact["text"], language),
        ]
    return lines


def _inline(text: object) -> str:
    return re.sub(r"[`\s]", "", str(text))


def _fence(text: str, language: str) -> str:
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def _code(text: object) -> str:
    """Alert text as an inline code span: shown verbatim, never interpreted as HTML or
    Markdown. The fence is one backtick longer than any run inside the text."""
    value = " ".join(str("" if text is None else text).split())
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {value} {fence}"


def _md_url(url: object) -> str:
    text = str(url or "")
    if not re.match(r"^https?://[^\s()<>]+$", text):
        return "#"
    return text
