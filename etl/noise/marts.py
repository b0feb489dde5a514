"""The noise step of the build: ``build_noise_marts`` writes alert_templates, alert_groups,
recommendations and int_incident_noise from the noise layer's models."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict

import duckdb
import pandas as pd
import pyarrow as pa

from etl.config import Config
from etl.noise.alert_types import no_identities, recognise_identities, write_structured_types
from etl.noise.dependency_storms import EDGE_COLUMNS
from etl.noise.existing import ExistingConfig, read_existing
from etl.noise.flapping import flag_flapping
from etl.noise.groups import GroupingResult, find_groups
from etl.noise.inputs import (
    GROUPING_COLUMNS,
    fill_summaries_from_alerts,
    read_incidents,
    read_replay_notifications,
)
from etl.noise.outputs import (
    ALERT_GROUP_SCHEMA,
    ALREADY_ON_SCHEMA,
    RECOMMENDATION_SCHEMA,
    _group_table,
    _write_frame,
)
from etl.noise.recommend import build_recommendations
from etl.noise.replay import replay_window
from etl.noise.settings import GroupingSettings, NoiseSettings, load_settings
from etl.noise.summary_masks import mask, new_summaries, write_summary_templates
from etl.sqlfiles import sql_text
from etl.warehouse import table_exists

log = logging.getLogger(__name__)


def build_noise_marts(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    settings: NoiseSettings | None = None,
    *,
    structured_identity: bool = True,
    reuse_identities: bool = True,
) -> dict:
    """Write alert_templates, alert_groups, recommendations and int_incident_noise on ``con``.

    Reads the noise layer's model ``noise_incidents`` (run before this step by the model
    runner, :mod:`etl.transform`); Python reads the distinct summaries (templates), a narrow
    frame of incidents (flapping, grouping, the recommendation rules) and the replay period's
    notifications.

    ``structured_identity=False`` types every incident by its text template alone (what the
    benchmark compares the integration-aware identity with). ``reuse_identities=False``
    recognises every incident's identity again instead of reusing those an earlier build
    recognised from the same details (``pagerlens build --full``).

    Returns row counts, timings and the grouping model's quality figures.
    """
    settings = settings or load_settings(NoiseSettings, config.recommendations, "recommendations")
    grouping_settings = load_settings(GroupingSettings, config.grouping, "grouping")
    started = time.perf_counter()
    timings: dict[str, float] = {}

    fill_summaries_from_alerts(con)
    timings["load"] = time.perf_counter() - started
    log.debug("noise: inputs in %.2fs", timings["load"])

    _alert_types(con, structured_identity, reuse_identities, timings)
    mark = time.perf_counter()
    incidents = read_incidents(con)
    dependencies = read_dependencies(con)
    timings["incidents"] = time.perf_counter() - mark
    log.debug("noise: templates of %d incidents in %.2fs", len(incidents), timings["templates"])

    # DuckDB releases the GIL: the replay input is read while Python groups, and the tables
    # are written while Python replays the recommendations. Only one thread uses ``con`` at
    # a time (the worker between submit and result), and the worker never reads a frame the
    # main thread changes.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="noise-sql") as worker:
        start = None if incidents.empty else replay_window(incidents, settings.replay_weeks)[0]
        reading = worker.submit(_read_replay_input, con, config, start)
        grouping = _flag_and_group(
            incidents, dependencies, config, settings, grouping_settings, timings
        )
        notifications, existing, timings["replay_input"] = reading.result()
        flags = _incident_flags(incidents)
        groups = _group_table(grouping, incidents, settings)
        writing = worker.submit(_write_marts, con, flags, groups)
        mark = time.perf_counter()
        already: list = []
        recommendations = build_recommendations(
            incidents, notifications, grouping, config, settings, existing, already
        )
        timings["recommendations"] = time.perf_counter() - mark
        timings["tables"] = writing.result()
    _write_frame(con, "recommendations", recommendations, RECOMMENDATION_SCHEMA)
    already_frame = pd.DataFrame(already, columns=list(ALREADY_ON_SCHEMA))
    _write_frame(con, "recommendations_already_on", already_frame, ALREADY_ON_SCHEMA)
    con.execute("drop table if exists noise_summary_templates")
    con.execute("drop table if exists noise_structured_types")
    return _result(con, incidents, grouping, settings, timings, started)


def _alert_types(
    con: duckdb.DuckDBPyConnection,
    structured_identity: bool,
    reuse_identities: bool,
    timings: dict[str, float],
) -> None:
    """Every incident's alert type (``noise_summary_templates``, ``noise_structured_types``):
    its text template, and its structured identity where the integration sent one.

    Masking the summaries not seen before (:mod:`etl.noise.summary_masks`) is Python alone;
    recognising the identities is mostly DuckDB (which releases the GIL): on two cores the two
    run side by side. Only this thread uses ``con``."""
    mark = time.perf_counter()
    new = new_summaries(con, reuse=reuse_identities)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="noise-templates") as pool:
        masking = pool.submit(mask, new)
        found = (
            recognise_identities(con, reuse=reuse_identities)
            if structured_identity
            else no_identities()
        )
        timings["identities"] = time.perf_counter() - mark
        masked, timings["masking"] = masking.result()
    timings["templates"] = write_summary_templates(con, masked)
    structured = write_structured_types(con, found)
    timings["templates_and_identities"] = time.perf_counter() - mark
    log.debug("noise: %d structured identities in %.2fs", structured, timings["identities"])


def _group(
    incidents: pd.DataFrame, settings: GroupingSettings, dependencies: pd.DataFrame
) -> GroupingResult:
    """Groups of the incidents, each incident's group and occurrence added to ``incidents``."""
    # A flapping alert is its own problem (pause_transient); its many repeats would only add
    # chance co-occurrences to the storm model.
    # Nor can an incident without a creation time (a data issue) fire with others.
    timed = incidents["created_at"].notna()
    grouping = find_groups(
        incidents.loc[~incidents["is_flapping"] & timed, GROUPING_COLUMNS], settings, dependencies
    )
    assigned = grouping.assignments.set_index("incident_id")
    incidents["group_id"] = incidents["incident_id"].map(assigned["group_id"])
    incidents["occurrence_id"] = incidents["incident_id"].map(assigned["occurrence_id"])
    return grouping


def _flag_and_group(
    incidents: pd.DataFrame,
    dependencies: pd.DataFrame,
    config: Config,
    settings: NoiseSettings,
    grouping_settings: GroupingSettings,
    timings: dict[str, float],
) -> GroupingResult:
    """Flapping flags and groups, added to ``incidents`` (Python alone)."""
    mark = time.perf_counter()
    incidents["is_flapping"] = flag_flapping(incidents, config, settings)
    timings["flapping"] = time.perf_counter() - mark
    mark = time.perf_counter()
    grouping = _group(incidents, grouping_settings, dependencies)
    timings["grouping"] = time.perf_counter() - mark
    log.debug("noise: grouping in %.2fs", timings["grouping"])
    return grouping


def read_dependencies(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The account's service dependencies (``stg_service_dependencies``: the Service Graph);
    none in a warehouse built before they were synced."""
    if not table_exists(con, "stg_service_dependencies"):
        return pd.DataFrame(columns=list(EDGE_COLUMNS))
    return con.sql(
        "select supporting_service_id, dependent_service_id from stg_service_dependencies"
        " order by all"
    ).df()


def _read_replay_input(
    con: duckdb.DuckDBPyConnection, config: Config, start: pd.Timestamp | None
) -> tuple[pd.DataFrame | None, ExistingConfig, float]:
    """The notifications of the replay period from ``start`` (None without a start: no
    incidents), the account's existing configuration and the seconds they took."""
    mark = time.perf_counter()
    notifications = None
    if start is not None:
        notifications = read_replay_notifications(con, config.sql_params(), start)
    existing = read_existing(con)
    seconds = time.perf_counter() - mark
    log.debug("noise: replay input read in %.2fs", seconds)
    return notifications, existing, seconds


def _write_marts(con: duckdb.DuckDBPyConnection, flags: pa.Table, groups: pd.DataFrame) -> float:
    """int_incident_noise, alert_templates and alert_groups; the seconds they took."""
    mark = time.perf_counter()
    _write_incident_noise(con, flags)
    con.execute(sql_text("noise/sql/alert_templates.sql"))
    _write_frame(con, "alert_groups", groups, ALERT_GROUP_SCHEMA)
    return time.perf_counter() - mark


def _result(
    con: duckdb.DuckDBPyConnection,
    incidents: pd.DataFrame,
    grouping: GroupingResult,
    settings: NoiseSettings,
    timings: dict[str, float],
    started: float,
) -> dict:
    """The step's figures for the build summary: rows, templates, flapping, model quality."""
    counts = {
        name: con.execute(f"select count(*) from {name}").fetchall()[0][0]  # noqa: S608
        for name in (
            "alert_templates",
            "alert_groups",
            "recommendations",
            "recommendations_already_on",
        )
    }
    result = {
        "rows": counts,
        "templates": int(incidents["template_id"].nunique()),
        "identity_sources": {
            str(k): int(v) for k, v in incidents["identity_source"].value_counts().items()
        },
        "flapping_incidents": int(incidents["is_flapping"].sum()),
        # Recommendations not made: the account already has the setting.
        "already_on": counts["recommendations_already_on"],
        "grouping": grouping.quality,
        "seconds": {k: round(v, 3) for k, v in timings.items()}
        | {"total": round(time.perf_counter() - started, 3)},
        "settings": asdict(settings),
    }
    log.info("noise marts: %s", counts)
    return result


def _incident_flags(incidents: pd.DataFrame) -> pa.Table:
    """The flapping or grouped incidents' flags, group and occurrence (Arrow)."""
    marked = incidents[incidents["is_flapping"] | incidents["group_id"].notna()]
    return pa.table(
        {
            "incident_id": pa.array(marked["incident_id"], pa.string(), from_pandas=True),
            "is_flapping": pa.array(marked["is_flapping"], pa.bool_()),
            "group_id": pa.array(marked["group_id"], pa.string(), from_pandas=True),
            "occurrence_id": pa.array(marked["occurrence_id"], pa.string(), from_pandas=True),
        }
    )


def _write_incident_noise(con: duckdb.DuckDBPyConnection, flags: pa.Table) -> None:
    """int_incident_noise: incident -> alert type, flapping flag, group and occurrence. Only the
    flapping or grouped incidents' ``flags`` (:func:`_incident_flags`) go back to DuckDB; the
    text templates and the structured types are joined there."""
    con.register("noise_incident_flags", flags)
    try:
        con.execute(sql_text("noise/sql/int_incident_noise.sql"))
    finally:
        con.unregister("noise_incident_flags")
