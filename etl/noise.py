"""Noise marts: alert templates, co-firing alert groups and noise-reduction recommendations.

Called at the end of every build by :func:`etl.transform.build_marts` on the open build
connection (:func:`build_noise_marts`), it writes three public tables (``docs/grouping.md``):

- ``alert_templates``: one row per alert type (template) and service, with counts, first and
  last seen, shares auto-resolved / acknowledged / waking someone, median time to resolve;
- ``alert_groups``: alert types that fire together across services (scikit-learn clustering
  of :mod:`etl.clustering`), with occurrences, spread in time, examples, model figures;
- ``recommendations``: one row per change an owning team could make, with its evidence, a
  ready-to-paste configuration snippet, and the counterfactual of replaying the last
  ``replay_weeks`` weeks of history with the change.

and one helper table ``int_incident_noise`` (incident -> template, group, flapping flag).
:func:`write_recommendations` renders the published table as CSV plus one Markdown file per
team (``pagerlens recommend``).
"""

from __future__ import annotations

import csv
import dataclasses
import html
import json
import logging
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from etl.clustering import GroupingSettings, find_groups
from etl.config import Config, ConfigError
from etl.grouping import mine_templates, template_id
from etl.warehouse import connect_readonly, table_exists

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).with_name("models") / "noise"
# PagerDuty's allowed auto-pause timeouts (AutoPauseNotificationsParameters.timeout).
AUTO_PAUSE_TIMEOUTS = (120, 180, 300, 600, 900)
RECOMMENDATION_COLUMNS = [
    "recommendation_id",
    "team_id",
    "team_name",
    "kind",
    "service_id",
    "service_name",
    "template_id",
    "template",
    "group_id",
    "title",
    "evidence",
    "config_snippet",
    "replay_start",
    "replay_end",
    "incidents_before",
    "incidents_after",
    "notifications_before",
    "notifications_after",
    "sleep_interruptions_before",
    "sleep_interruptions_after",
    "pages_saved",
    "major_incidents_affected",
    "risk",
]


@dataclass(frozen=True)
class NoiseSettings:
    """Thresholds of the noise recommendations (defaults documented in docs/grouping.md)."""

    replay_weeks: int = 4  # counterfactual period: the last N weeks of synced history
    min_incidents: int = 5  # an alert type needs this many incidents to get a recommendation
    transient_share: float = 0.5  # pause_transient: share of incidents that are transient
    never_acked_share: float = 0.9  # stop_paging: share of incidents nobody acknowledged
    flap_window_seconds: int = 3600  # transient re-triggers this close form a flapping episode
    flap_min_incidents: int = 2  # ... of at least this many incidents
    maintenance_min_weeks: int = 3  # a weekly slot must recur in this many distinct weeks
    maintenance_concentration: float = 20.0  # ... each half hour 20x its uniform share
    min_group_occurrences: int = 2  # group_alerts: the group fired together this often
    examples: int = 3


def _settings(kind: type, overrides: tuple[tuple[str, object], ...], section: str):
    """Settings from the configuration's ``[section]``; an unknown key is a ConfigError."""
    known = {f.name for f in dataclasses.fields(kind)}
    unknown = sorted(key for key, _ in overrides if key not in known)
    if unknown:
        raise ConfigError(f"[{section}]: unknown key(s) {', '.join(unknown)}")
    return kind(**dict(overrides))


def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()


def _params(sql: str, values: dict[str, object]) -> dict[str, object]:
    names = set(re.findall(r"\$([a-z_][a-z0-9_]*)", re.sub(r"--[^\n]*", "", sql)))
    return {k: v for k, v in values.items() if k in names}


def _run(con: duckdb.DuckDBPyConnection, sql: str, values: dict[str, object]):
    return con.execute(sql, _params(sql, values))


def build_noise_marts(
    con: duckdb.DuckDBPyConnection, config: Config, settings: NoiseSettings | None = None
) -> dict:
    """Write alert_templates, alert_groups, recommendations and int_incident_noise on ``con``.

    The per-incident inputs stay in DuckDB (temp table ``noise_base``); Python reads the
    distinct summaries (templates), a narrow frame of incidents (flapping, grouping, the
    recommendation rules) and the replay period's notifications.

    Returns row counts, timings and the grouping model's quality figures.
    """
    settings = settings or _settings(NoiseSettings, config.recommendations, "recommendations")
    grouping_settings = _settings(GroupingSettings, config.grouping, "grouping")
    started = time.perf_counter()
    timings: dict[str, float] = {}
    params = config.sql_params()

    _run(con, "create or replace temp table noise_base as " + _sql("noise_incidents"), params)
    _fill_summaries_from_alerts(con)
    timings["load"] = time.perf_counter() - started
    log.debug("noise: inputs in %.2fs", timings["load"])

    mark = time.perf_counter()
    _write_templates(con)
    incidents = _frame(
        con,
        "select base.* exclude (summary, has_event_summary), "
        "map.template_id, map.template "
        "from noise_base as base join noise_summary_templates as map using (summary) "
        "order by base.created_at, base.incident_id",
        categories=CATEGORY_COLUMNS,
    )
    timings["templates"] = time.perf_counter() - mark
    log.debug("noise: templates of %d incidents in %.2fs", len(incidents), timings["templates"])

    incidents["is_flapping"] = flag_flapping(incidents, config, settings)
    mark = time.perf_counter()
    # A flapping alert is its own problem (pause_transient); its many repeats would only add
    # chance co-occurrences to the storm model.
    # Nor can an incident without a creation time (a data issue) fire with others.
    timed = incidents["created_at"].notna()
    grouping = find_groups(
        incidents.loc[~incidents["is_flapping"] & timed, GROUPING_COLUMNS], grouping_settings
    )
    timings["grouping"] = time.perf_counter() - mark
    log.debug("noise: grouping in %.2fs", timings["grouping"])
    assigned = grouping.assignments.set_index("incident_id")
    incidents["group_id"] = incidents["incident_id"].map(assigned["group_id"])
    incidents["occurrence_id"] = incidents["incident_id"].map(assigned["occurrence_id"])

    _write_incident_noise(con, incidents)
    con.execute("create or replace table alert_templates as " + _sql("alert_templates"))
    groups = _group_table(grouping, incidents, settings)
    _write_frame(con, "alert_groups", groups, ALERT_GROUP_SCHEMA)

    mark = time.perf_counter()
    notifications = None
    if not incidents.empty:
        start, _ = replay_window(incidents, settings.replay_weeks)
        sql = _sql("noise_notifications")
        values = _params(sql, params | {"replay_start": start})
        notifications = _frame(con, sql, values, categories=("user_id",))
    timings["replay_input"] = time.perf_counter() - mark
    log.debug("noise: tables written, replay input read in %.2fs", timings["replay_input"])
    mark = time.perf_counter()
    recommendations = build_recommendations(incidents, notifications, grouping, config, settings)
    timings["recommendations"] = time.perf_counter() - mark
    _write_frame(con, "recommendations", recommendations, RECOMMENDATION_SCHEMA)
    for name in ("noise_base", "noise_summary_templates"):
        con.execute(f"drop table if exists {name}")

    counts = {
        name: con.execute(f"select count(*) from {name}").fetchall()[0][0]  # noqa: S608
        for name in ("alert_templates", "alert_groups", "recommendations")
    }
    result = {
        "rows": counts,
        "templates": int(incidents["template_id"].nunique()),
        "flapping_incidents": int(incidents["is_flapping"].sum()),
        "grouping": grouping.quality,
        "seconds": {k: round(v, 3) for k, v in timings.items()}
        | {"total": round(time.perf_counter() - started, 3)},
        "settings": asdict(settings),
    }
    log.info("noise marts: %s", counts)
    return result


# resolved_at: storms are also told apart by incidents that resolve together (joint events).
GROUPING_COLUMNS = [
    "incident_id",
    "created_at",
    "resolved_at",
    "template_id",
    "template",
    "service_id",
]
# Few distinct values per column: categoricals keep the frame small and its row selections cheap.
CATEGORY_COLUMNS = (
    "template_id",
    "template",
    "service_id",
    "service_name",
    "team_id",
    "team_name",
    "noise_reason",
)


def _frame(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    values: dict[str, object] | None = None,
    categories: tuple[str, ...] = (),
) -> pd.DataFrame:
    """A query's result as a DataFrame, read through Arrow (a third of ``.df()``'s time on
    string columns); the ``categories`` columns arrive as pandas categoricals."""
    table = con.sql(sql, params=values or None).to_arrow_table()
    for name in categories:
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, pc.dictionary_encode(table.column(name)))
    frame = table.to_pandas()
    for name, kind in zip(table.schema.names, table.schema.types, strict=True):
        if pa.types.is_timestamp(kind):
            frame[name] = pd.to_datetime(frame[name], utc=True)
    return frame


def _fill_summaries_from_alerts(con: duckdb.DuckDBPyConnection) -> None:
    """The first alert's summary for incidents whose trigger entry carried none (parsing the
    alerts' JSON is skipped when every incident has its event summary)."""
    ((missing,),) = con.execute(
        "select count(*) from noise_base where not has_event_summary"
    ).fetchall()
    if not missing:
        return
    con.execute(  # the SQL text is a file of this package, no user input
        "update noise_base set summary = found.alert_summary from ("  # noqa: S608
        + _sql("noise_alert_summaries")
        + ") as found where found.incident_id = noise_base.incident_id"
    )


def _write_templates(con: duckdb.DuckDBPyConnection) -> None:
    """Mine the templates of the distinct summaries into the temp table
    ``noise_summary_templates`` (summary, template, template_id)."""
    distinct = [row[0] for row in con.execute("select distinct summary from noise_base").fetchall()]
    templates = mine_templates(distinct)
    ids = {t: template_id(t) for t in set(templates)}
    mapping = pa.table(
        {
            "summary": pa.array(distinct, pa.string()),
            "template": pa.array(templates, pa.string()),
            "template_id": pa.array([ids[t] for t in templates], pa.string()),
        }
    )
    con.register("noise_template_rows", mapping)
    try:
        con.execute(
            "create or replace temp table noise_summary_templates as "
            "select * from noise_template_rows"
        )
    finally:
        con.unregister("noise_template_rows")


def _write_incident_noise(con: duckdb.DuckDBPyConnection, incidents: pd.DataFrame) -> None:
    """int_incident_noise: incident -> template, flapping flag, group and occurrence. Only the
    flapping or grouped incidents go back to DuckDB (as Arrow); the rest is joined there."""
    marked = incidents[incidents["is_flapping"] | incidents["group_id"].notna()]
    flags = pa.table(
        {
            "incident_id": pa.array(marked["incident_id"], pa.string(), from_pandas=True),
            "is_flapping": pa.array(marked["is_flapping"], pa.bool_()),
            "group_id": pa.array(marked["group_id"], pa.string(), from_pandas=True),
            "occurrence_id": pa.array(marked["occurrence_id"], pa.string(), from_pandas=True),
        }
    )
    con.register("noise_incident_flags", flags)
    try:
        con.execute(
            """
            create or replace table int_incident_noise as
            select
                base.incident_id,
                base.created_at,
                base.service_id,
                base.team_id,
                base.summary,
                map.template_id,
                map.template,
                coalesce(flags.is_flapping, false) as is_flapping,
                flags.group_id,
                flags.occurrence_id,
                base.sleep_interruptions
            from noise_base as base
            join noise_summary_templates as map on map.summary = base.summary
            left join noise_incident_flags as flags on flags.incident_id = base.incident_id
            """
        )
    finally:
        con.unregister("noise_incident_flags")


# --- flapping ---------------------------------------------------------------------------------


def flag_flapping(incidents: pd.DataFrame, config: Config, settings: NoiseSettings) -> pd.Series:
    """True for incidents of a flapping alert: transient (auto-resolved within
    ``transient_seconds``, never acknowledged) and re-triggering on the same service and
    template within ``flap_window_seconds``, in episodes of at least ``flap_min_incidents``."""
    transient = incidents["noise_reason"].eq("transient")
    frame = incidents.loc[transient, ["incident_id", "created_at", "template_id", "service_id"]]
    flagged = pd.Series(False, index=incidents.index)
    if frame.empty:
        return flagged
    frame = frame.sort_values(["template_id", "service_id", "created_at", "incident_id"])
    key = frame["template_id"].astype(str) + "|" + frame["service_id"].astype(str)
    gap = frame.groupby(key)["created_at"].diff().dt.total_seconds()
    episode = (gap.isna() | (gap > settings.flap_window_seconds)).cumsum()
    size = episode.map(episode.value_counts())
    flagged.loc[frame.index[(size >= settings.flap_min_incidents).to_numpy()]] = True
    return flagged


# --- groups -----------------------------------------------------------------------------------

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


def _by_group(incidents: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The incidents of each group (one pass, instead of one scan of all incidents a group)."""
    assigned = incidents[incidents["group_id"].notna()]
    return {str(key): part for key, part in assigned.groupby("group_id", observed=True)}


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
                "model": json.dumps(
                    {
                        "method": "agglomerative (average linkage) on 1 - "
                        "(co-occurrence Jaccard + text_weight * TF-IDF cosine), pairs kept "
                        "only above a cut-off calibrated against a seeded time-shift decoy",
                        **grouping.quality["settings"],
                        "calibration": grouping.quality.get("calibration"),
                    }
                ),
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
    return [
        {
            "incident_id": r.incident_id,
            "html_url": r.html_url,
            "created_at": r.created_at.isoformat(),
        }
        for r in frame.itertuples()
    ]


# --- recommendations and the replay -------------------------------------------------------------

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


def replay_window(incidents: pd.DataFrame, weeks: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The replayed period: incidents created in the last ``weeks`` weeks of the history,
    ``(start, end]`` with ``end`` the newest creation time."""
    end = incidents["created_at"].max()
    return end - pd.Timedelta(weeks=weeks), end


class Replay:
    """Replays the last weeks of history with incidents removed or demoted to low urgency.

    Interruptions are recounted with the merge rule of ``int_interruptions`` over the replay
    period's notifications (``noise_notifications.sql``); a notification's hour bucket comes
    from ``int_notifications`` (the SQL definition), so only the merging is redone here, on
    numpy arrays sorted once by user and time.
    """

    def __init__(
        self,
        incidents: pd.DataFrame,
        notifications: pd.DataFrame | None,
        config: Config,
        weeks: int,
    ) -> None:
        self.config = config
        self.start, self.end = replay_window(incidents, weeks)
        window = incidents[incidents["created_at"] > self.start]
        self.incidents_before = len(window)
        self.window_ids = pd.Index(window["incident_id"].unique())
        notes = notifications if notifications is not None else pd.DataFrame()
        if notes.empty:
            notes = pd.DataFrame(
                {
                    "log_entry_id": pd.Series(dtype="object"),
                    "incident_id": pd.Series(dtype="object"),
                    "user_id": pd.Series(dtype="object"),
                    "created_at": pd.Series(dtype="datetime64[us, UTC]"),
                    "interrupts": pd.Series(dtype=bool),
                    "in_interruptions": pd.Series(dtype=bool),
                    "is_sleep": pd.Series(dtype=bool),
                }
            )
        notes = notes[notes["incident_id"].isin(self.window_ids)]
        users, self.users = pd.factorize(notes["user_id"], use_na_sentinel=True)
        created = pd.to_datetime(notes["created_at"], utc=True)
        seconds = (created - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
        # By user, then time. The order of a user's notifications at the same instant does not
        # matter: they merge, and share their local time and so their bucket.
        order = np.lexsort((seconds, users))
        notes = notes.iloc[order]
        self.user = users[order]
        self.seconds = seconds[order]
        self.incident = self.window_ids.get_indexer(notes["incident_id"])
        self.interrupts = notes["interrupts"].fillna(False).astype(bool).to_numpy()
        self.counted = notes["in_interruptions"].fillna(False).astype(bool).to_numpy()
        self.is_sleep = notes["is_sleep"].fillna(False).astype(bool).to_numpy()
        everyone = np.ones(len(self.users), dtype=bool)
        self.sleep_before_by_user = self._sleep_interruptions(self.counted, everyone)

    def _sleep_interruptions(self, kept: np.ndarray, users: np.ndarray) -> np.ndarray:
        """Sleep interruptions per user among the ``kept`` notifications of ``users``: a
        notification opens an interruption when it is the user's first or comes more than
        the merge window after the previous one (docs/metrics.md "Interruptions")."""
        rows = np.flatnonzero(kept & (self.user >= 0) & users[np.maximum(self.user, 0)])
        counts = np.zeros(len(self.users), dtype=np.int64)
        if not len(rows):
            return counts
        user = self.user[rows]
        seconds = self.seconds[rows]
        opens = np.ones(len(rows), dtype=bool)
        opens[1:] = (user[1:] != user[:-1]) | (
            np.diff(seconds) > self.config.interruption_merge_seconds
        )
        np.add.at(counts, user[opens & self.is_sleep[rows]], 1)
        return counts

    def run(self, removed: set[str], demoted: set[str] = frozenset()) -> dict:
        """Counterfactual figures: ``removed`` incidents never page (suppressed, paused,
        grouped into another incident, in maintenance); ``demoted`` keep their incident but
        lose their interrupting notifications (low urgency / chat)."""
        removed_at = self.window_ids.get_indexer(list(removed))
        removed_at = removed_at[removed_at >= 0]
        demoted_at = self.window_ids.get_indexer(list(demoted))
        demoted_at = demoted_at[demoted_at >= 0]
        is_removed = np.zeros(len(self.window_ids), dtype=bool)
        is_removed[removed_at] = True
        is_demoted = np.zeros(len(self.window_ids), dtype=bool)
        is_demoted[demoted_at] = True
        is_demoted &= ~is_removed
        drop = is_removed[self.incident] | (is_demoted[self.incident] & self.interrupts)
        affected = np.zeros(len(self.users), dtype=bool)
        affected[self.user[drop & (self.user >= 0)]] = True
        after = self._sleep_interruptions(self.counted & ~drop, affected)
        sleep_before = int(self.sleep_before_by_user.sum())
        pages_before = int(self.interrupts.sum())
        pages_after = int((self.interrupts & ~drop).sum())
        return {
            "incidents_before": self.incidents_before,
            "incidents_after": self.incidents_before - int(is_removed.sum()),
            "notifications_before": len(drop),
            "notifications_after": int((~drop).sum()),
            "sleep_interruptions_before": sleep_before,
            "sleep_interruptions_after": sleep_before
            - int(self.sleep_before_by_user[affected].sum())
            + int(after.sum()),
            "pages_saved": pages_before - pages_after,
        }


def build_recommendations(
    incidents: pd.DataFrame,
    notifications: pd.DataFrame | None,
    grouping,
    config: Config,
    settings: NoiseSettings,
) -> pd.DataFrame:
    """One row per recommendation, with evidence, snippet and replayed counterfactual.

    ``notifications``: the replay period's notifications (``noise_notifications.sql``).
    The rules run only on the alert types (template and service) that can pass one of them
    (:func:`_rule_candidates`); the others cannot yield a row.
    """
    if incidents.empty:
        return pd.DataFrame(columns=RECOMMENDATION_COLUMNS)
    replay = Replay(incidents, notifications, config, settings.replay_weeks)
    rows: list[dict] = []
    frame = incidents.assign(
        never_acked=incidents["first_ack_at"].isna(), **_weekly_clock(incidents, config)
    )
    rules = _rule_candidates(frame, settings)
    candidates = frame[rules.any(axis=1).to_numpy()].join(rules)
    candidates = candidates.assign(
        key=candidates["template_id"].astype(str) + "|" + candidates["service_id"].astype(str)
    )
    for key, part in candidates.groupby("key", sort=True):
        can = part.iloc[0]
        row = (
            (can["maintenance_window"] and _maintenance(part, config, settings))
            or (can["pause_transient"] and _pause_transient(part, config, settings))
            or (can["stop_paging"] and _stop_paging(part, config, settings))
            or None
        )
        if row is None:
            continue
        removed, demoted, row = row
        majors = part[part["incident_id"].isin(removed | demoted) & part["is_major"].fillna(False)]
        if len(majors):
            # A change that would hide or silence a major incident is not recommended.
            log.info(
                "recommendation %s for %s dropped: would hide %d major incidents",
                row["kind"],
                key,
                len(majors),
            )
            continue
        rows.append(_finish(row, part, replay, removed, demoted, 0, None, settings))
    grouped = _by_group(frame)
    for group in grouping.groups.to_dict("records"):
        # One co-firing is an anecdote; a grouping rule needs the pattern to repeat.
        if group["occurrences"] >= settings.min_group_occurrences:
            members = grouped.get(group["group_id"], frame.iloc[:0])
            rows.extend(_group_recommendation(group, members, replay, settings))
    result = pd.DataFrame(rows, columns=RECOMMENDATION_COLUMNS)
    return result.sort_values(
        ["team_id", "pages_saved", "recommendation_id"],
        ascending=[True, False, True],
        na_position="last",
    ).reset_index(drop=True)


def _weekly_clock(incidents: pd.DataFrame, config: Config) -> dict[str, np.ndarray]:
    """Each incident's half hour of the week (0 = Monday 00:00-00:30) and its week (weeks
    since 1970 starting on Monday), in the account's time zone: what maintenance windows are
    found in."""
    local = incidents["created_at"].dt.tz_convert(config.account_time_zone)
    slot = local.dt.day_of_week * 48 + local.dt.hour * 2 + local.dt.minute // 30
    days = (local.dt.tz_localize(None) - pd.Timestamp("1970-01-05")).dt.days
    # -1: no creation time (a data issue); such an incident is in no slot and no week.
    return {
        "week_slot": slot.fillna(-1).to_numpy(np.int64),
        "week": (days // 7).fillna(-1).to_numpy(np.int64),
    }


def _rule_candidates(frame: pd.DataFrame, settings: NoiseSettings) -> pd.DataFrame:
    """Per incident, whether its alert type (template, service) can pass each rule: at least
    ``min_incidents`` incidents and the rule's necessary condition (a transient share for
    pause_transient, a never-acknowledged share for stop_paging, a half-hour slot of the week
    dense enough for maintenance_window), computed for every alert type at once. The rules
    themselves then run only where they can yield a row."""
    keys = [frame["template_id"], frame["service_id"].fillna("")]
    by_key = frame.groupby(keys, sort=False, dropna=False, observed=True)
    size = by_key["incident_id"].transform("size").to_numpy()
    transient = frame["noise_reason"].eq("transient").groupby(keys, dropna=False, observed=True)
    never = frame["never_acked"].groupby(keys, dropna=False, observed=True)
    densest = (
        frame.groupby([*keys, "week_slot"], sort=False, dropna=False, observed=True)["incident_id"]
        .transform("size")
        .groupby(keys, dropna=False, observed=True)
        .transform("max")
        .to_numpy()
    )
    enough = size >= settings.min_incidents
    return pd.DataFrame(
        {
            "maintenance_window": enough
            & (densest >= settings.maintenance_concentration * size / SLOTS_PER_WEEK),
            "pause_transient": enough
            & (transient.transform("mean").to_numpy() >= settings.transient_share),
            "stop_paging": enough
            & (never.transform("mean").to_numpy() >= settings.never_acked_share),
        },
        index=frame.index,
    )


def _evidence(part: pd.DataFrame, config: Config, settings: NoiseSettings) -> dict:
    quick = part["auto_resolved"].fillna(False) & (
        part["seconds_to_resolve"] <= config.transient_seconds
    )
    examples = part.sort_values("created_at").tail(settings.examples)
    return {
        "incidents": int(len(part)),
        "alerts": int(part["alert_count"].sum()),
        "first_seen": part["created_at"].min().isoformat(),
        "last_seen": part["created_at"].max().isoformat(),
        "auto_resolved_within_seconds": config.transient_seconds,
        "share_auto_resolved_within": round(float(quick.mean()), 4),
        "share_never_acknowledged": round(float(part["first_ack_at"].isna().mean()), 4),
        "share_flapping": round(float(part["is_flapping"].mean()), 4),
        "sleep_hour_pages": int(part["sleep_interruptions"].sum()),
        "notifications": int(part["total_notifications"].fillna(0).sum()),
        "example_incidents": _examples(examples),
    }


def _base(
    part: pd.DataFrame, kind: str, title: str, snippet: str, config: Config, settings: NoiseSettings
) -> dict:
    first = part.iloc[0]
    return {
        "kind": kind,
        "team_id": first["team_id"],
        "team_name": first["team_name"],
        "service_id": first["service_id"],
        "service_name": first["service_name"],
        "template_id": first["template_id"],
        "template": first["template"],
        "group_id": None,
        "title": title,
        "config_snippet": snippet,
        "evidence": _evidence(part, config, settings),
    }


def _pause_transient(part: pd.DataFrame, config: Config, settings: NoiseSettings):
    transient = part["noise_reason"].eq("transient")
    if transient.mean() < settings.transient_share:
        return None
    # The shortest auto-pause timeout PagerDuty offers that would have caught 90% of them.
    p90 = float(part.loc[transient, "seconds_to_resolve"].quantile(0.9))
    timeout = next((t for t in AUTO_PAUSE_TIMEOUTS if t >= p90), AUTO_PAUSE_TIMEOUTS[-1])
    caught = part[
        part["auto_resolved"].fillna(False)
        & part["first_ack_at"].isna()
        & (part["seconds_to_resolve"] <= timeout)
    ]
    snippet = json.dumps(
        {
            "service": {
                "id": part.iloc[0]["service_id"],
                "auto_pause_notifications_parameters": {"enabled": True, "timeout": timeout},
            }
        },
        indent=2,
    )
    title = (
        f"Auto-pause transient alerts for {timeout // 60} min: "
        f"{transient.mean():.0%} of these incidents resolve on their own"
    )
    row = _base(part, "pause_transient", title, snippet, config, settings)
    row["evidence"]["auto_pause_timeout_seconds"] = timeout
    return set(caught["incident_id"]), set(), row


def _stop_paging(part: pd.DataFrame, config: Config, settings: NoiseSettings):
    never = part["first_ack_at"].isna().mean()
    if never < settings.never_acked_share:
        return None
    service_id = part.iloc[0]["service_id"]
    snippet = (
        "# PagerDuty: route this alert to low urgency (Event Orchestration, service rule)\n"
        + json.dumps(
            {
                "service_id": service_id,
                "rule": {
                    "label": "pagerlens: never acknowledged, stop paging",
                    "conditions": [
                        {
                            "expression": f"event.summary matches part {json.dumps(_constant_part(part.iloc[0]['template']))}"
                        }
                    ],
                    "actions": {"severity": "info"},
                },
            },
            indent=2,
        )
        + "\n# with the service's incident_urgency_rule severity-based (info -> low urgency),\n"
        "# or in Prometheus raise the rule's `for:` (e.g. 5m -> 30m) / route it to chat.\n"
    )
    title = f"Stop paging: {never:.0%} of these incidents were never acknowledged"
    row = _base(part, "stop_paging", title, snippet, config, settings)
    return set(), set(part["incident_id"]), row


SLOTS_PER_WEEK = 7 * 48  # half-hour slots: maintenance windows often end at :30


def _maintenance(part: pd.DataFrame, config: Config, settings: NoiseSettings):
    """A recurring weekly window: the densest half hour of the week, widened to the adjacent
    half hours that are just as unusual, in the account's time zone."""
    slot_of = part["week_slot"].to_numpy()
    counts = np.bincount(slot_of[slot_of >= 0], minlength=SLOTS_PER_WEEK)
    threshold = settings.maintenance_concentration * len(part) / SLOTS_PER_WEEK
    best = int(np.argmax(counts))
    if counts[best] < threshold:
        return None
    first = last = best
    while counts[(first - 1) % SLOTS_PER_WEEK] >= threshold:
        first = (first - 1) % SLOTS_PER_WEEK
        if first == best:
            return None  # every slot is "unusual": not a window
    while counts[(last + 1) % SLOTS_PER_WEEK] >= threshold:
        last = (last + 1) % SLOTS_PER_WEEK
    slots = [(first + i) % SLOTS_PER_WEEK for i in range((last - first) % SLOTS_PER_WEEK + 1)]
    in_slot = pd.Series(np.isin(slot_of, slots), index=part.index)
    ignored = part.loc[in_slot, "first_ack_at"].isna().mean()
    if ignored < settings.never_acked_share:
        return None
    weeks = part.loc[in_slot, "week"].nunique()
    if weeks < settings.maintenance_min_weeks:
        return None
    concentration = in_slot.sum() / (len(part) / SLOTS_PER_WEEK * len(slots))
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    end = (last + 1) % SLOTS_PER_WEEK

    def clock(slot: int) -> str:
        return f"{(slot % 48) // 2:02d}:{30 * (slot % 2):02d}"

    rule = f"weekly {days[first // 48]} {clock(first)}-{clock(end)} {config.account_time_zone}"
    snippet = (
        json.dumps(
            {
                "maintenance_window": {
                    "type": "maintenance_window",
                    "description": f"pagerlens: recurring window ({rule})",
                    "recurrence": rule,
                    "services": [{"id": part.iloc[0]["service_id"], "type": "service_reference"}],
                }
            },
            indent=2,
        )
        + "\n# PagerDuty maintenance windows are one-off: create one per week "
        "(POST /maintenance_windows) or silence the rule in Alertmanager at that time."
    )
    title = f"Maintenance window {rule}: {in_slot.sum()} ignored incidents in {weeks} weeks"
    row = _base(part, "maintenance_window", title, snippet, config, settings)
    row["evidence"]["window"] = rule
    row["evidence"]["incidents_in_window"] = int(in_slot.sum())
    row["evidence"]["weekly_concentration"] = round(float(concentration), 1)
    return set(part.loc[in_slot, "incident_id"]), set(), row


def _constant_part(template: str) -> str:
    pieces = [p.strip() for p in template.split("<*>")]
    return max(pieces, key=len) if pieces else template


def _group_recommendation(
    group: dict, members: pd.DataFrame, replay: Replay, settings: NoiseSettings
) -> list[dict]:
    """The group_alerts row of a group, from its member incidents."""
    members = members.sort_values(["created_at", "incident_id"])
    if members.empty:
        return []
    firsts = members.drop_duplicates("occurrence_id")
    removed = set(members["incident_id"]) - set(firsts["incident_id"])
    hidden_majors = members[
        members["incident_id"].isin(removed) & members["is_major"].fillna(False)
    ]
    # Address the team of the service that fires first most often (the likely root cause).
    root = (
        firsts["service_id"]
        .astype(str)
        .value_counts()
        .sort_index()
        .sort_values(ascending=False, kind="stable")
        .index[0]
    )
    owner = members[members["service_id"] == root].iloc[0]
    window = int(min(3600, max(300, np.ceil((group["p90_spread_seconds"] + 60) / 60) * 60)))
    services = sorted(set(members["service_id"]))
    alertnames = sorted(
        {
            m.group(1)
            for t in group["templates"]
            if (m := re.match(r"\[FIRING:<\*>\]\s*([A-Za-z][\w]*)", t))
        }
    )
    pd_setting = {
        "alert_grouping_setting": {
            "name": f"pagerlens group {group['group_id']}",
            "type": "intelligent",
            "config": {"time_window": window},
            "services": [{"id": s, "type": "service_reference"} for s in services],
        }
    }
    matcher = (
        f'alertname=~"{"|".join(alertnames)}"' if alertnames else "<labels common to these alerts>"
    )
    yaml = "\n".join(
        [
            "route:",
            "  routes:",
            f"    - receiver: pagerduty-{_slug(owner['team_name'] or owner['team_id'] or 'team')}",
            "      matchers:",
            f"        - {json.dumps(matcher)}",
            "      group_by: ['...']",
            "      group_wait: 30s",
            f"      group_interval: {window // 60}m",
            "      # member alerts (templates):",
            *[f"      #   {json.dumps(t)}" for t in group["templates"]],
        ]
    )
    snippet = (
        "# PagerDuty (POST /alert_grouping_settings)\n"
        + json.dumps(pd_setting, indent=2)
        + "\n# Alertmanager\n"
        + yaml
        + "\n"
    )
    evidence = _evidence(members, replay.config, settings) | {
        "group_occurrences": group["occurrences"],
        "services": services,
        "p50_spread_seconds": group["p50_spread_seconds"],
        "p90_spread_seconds": group["p90_spread_seconds"],
        "cohesion": group["cohesion"],
    }
    row = {
        "kind": "group_alerts",
        "team_id": owner["team_id"],
        "team_name": owner["team_name"],
        "service_id": root,
        "service_name": owner["service_name"],
        "template_id": None,
        "template": " | ".join(group["templates"]),
        "group_id": group["group_id"],
        "title": (
            f"Group {group['alert_types']} alert types across {len(services)} services "
            f"into one incident: they fired together {group['occurrences']} times"
        ),
        "config_snippet": snippet,
        "evidence": evidence,
    }
    risk = None
    if len(hidden_majors):
        risk = (
            f"{len(hidden_majors)} major incident(s) would have become alerts of another "
            "incident; keep their priority rules when grouping"
        )
    return [_finish(row, members, replay, removed, set(), len(hidden_majors), risk, settings)]


def _finish(
    row: dict,
    part: pd.DataFrame,
    replay: Replay,
    removed: set[str],
    demoted: set[str],
    majors: int,
    risk: str | None,
    settings: NoiseSettings,
) -> dict:
    figures = replay.run(removed, demoted)
    identity = f"{row['kind']}|{row['service_id']}|{row['template_id']}|{row['group_id']}"
    return (
        row
        | figures
        | {
            "recommendation_id": "R" + template_id(identity)[:12],
            "evidence": json.dumps(row["evidence"], default=str),
            "replay_start": replay.start,
            "replay_end": replay.end,
            "major_incidents_affected": majors,
            "risk": risk or "none",
        }
    )


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


# --- pagerlens recommend ------------------------------------------------------------------------


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
    finally:
        con.close()
    written = [out / "recommendations.csv"]
    with written[0].open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(RECOMMENDATION_COLUMNS)
        for record in frame[RECOMMENDATION_COLUMNS].itertuples(index=False):
            writer.writerow([_csv_cell(v) for v in record])
    for (team_id, team_name), part in frame.groupby(
        [frame["team_id"].fillna("unowned"), frame["team_name"].fillna("Unowned")], sort=True
    ):
        path = out / f"recommendations-{_slug(team_name)}-{_slug(team_id)}.md"
        path.write_text(_team_markdown(team_name, part))
        written.append(path)
    return written


def _csv_cell(value: object) -> object:
    """A CSV cell that a spreadsheet will not run: text starting like a formula gets a quote."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _team_markdown(team_name: str, part: pd.DataFrame) -> str:
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
            f"- Replay: notifications {r.notifications_before} → {r.notifications_after}, "
            f"pages saved {r.pages_saved}, major incidents affected {r.major_incidents_affected}",
            "- Examples: "
            + ", ".join(
                f"[{_md(e['incident_id'])}]({_md_url(e['html_url'])})"
                for e in evidence.get("example_incidents", [])
            ),
            "",
            "```",
            str(r.config_snippet).replace("```", "'''"),
            "```",
        ]
    return "\n".join(lines) + "\n"


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
