"""The account's existing PagerDuty configuration, as the sync stored it: what each
recommendation rule checks before proposing a change (docs/grouping.md "Already configured").

Read from ``stg_service_settings``, ``stg_maintenance_windows``, ``service_setting_flags`` and
``skipped_resources``; a table absent from an older warehouse reads as empty (nothing known to
be on), and maintenance windows the sync could not read are *unknown*, said so in evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from etl.warehouse import table_exists

WINDOWS_UNKNOWN = (
    "unknown: the last sync could not read /maintenance_windows ({reason}), so a window "
    "already booked in PagerDuty cannot be seen"
)
WINDOWS_NOT_SYNCED = "unknown: this warehouse holds no synced maintenance windows table"


@dataclass(frozen=True)
class ExistingConfig:
    """Per service: its settings (``stg_service_settings`` rows), its booked maintenance
    windows (start, end) and the settings that distort its metrics; ``windows_unknown``: why
    an empty list of windows does not mean none (None when it does)."""

    settings: dict[str, dict] = field(default_factory=dict)
    windows: dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]] = field(default_factory=dict)
    distortions: dict[str, dict] = field(default_factory=dict)
    windows_unknown: str | None = None

    def auto_pause(self, service_id: object) -> int | None:
        """The auto-pause timeout (seconds, 0 if PagerDuty's default) when it is on."""
        row = self.settings.get(str(service_id))
        if not row or not row.get("auto_pause_enabled"):
            return None
        timeout = row.get("auto_pause_timeout_seconds")
        return int(timeout) if _known(timeout) else 0

    def grouping(self, service_id: object) -> str | None:
        """The service's alert grouping (type and window) when it has one, else None."""
        row = self.settings.get(str(service_id))
        kind = row.get("alert_grouping_type") if row else None
        if not _known(kind):
            return None
        window = row.get("alert_grouping_window_seconds")
        if kind == "alert_grouping_setting_reference":
            return "an Alert Grouping Setting"
        return f"{kind} grouping" + (f" ({int(window)} s window)" if _known(window) else "")

    def low_urgency(self, service_id: object) -> bool:
        row = self.settings.get(str(service_id)) or {}
        return row.get("urgency_rule_type") == "constant" and row.get("constant_urgency") == "low"

    def booked(self, service_id: object, start: str, end: str) -> bool:
        """Whether the proposed window [start, end) overlaps a window already booked."""
        begin, finish = pd.Timestamp(start), pd.Timestamp(end)
        return any(b < finish and begin < e for b, e in self.windows.get(str(service_id), []))

    def evidence(self, service_ids: list[object]) -> dict:
        """The settings of these services that distort the metrics, for the evidence."""
        found = {
            str(s): self.distortions[str(s)] for s in service_ids if str(s) in self.distortions
        }
        return {"settings_distorting_metrics": found} if found else {}


def _known(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value))


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def read_existing(con: duckdb.DuckDBPyConnection) -> ExistingConfig:
    """The existing configuration from the build's tables (empty where a table is absent)."""
    settings, windows, distortions = {}, {}, {}
    if table_exists(con, "stg_service_settings"):
        settings = {
            str(r["service_id"]): r for r in _rows(con, "select * from stg_service_settings")
        }
    unknown = None if table_exists(con, "stg_maintenance_windows") else WINDOWS_NOT_SYNCED
    if unknown is None:
        for r in _rows(
            con,
            "select service_id, start_at, end_at from stg_maintenance_windows "
            "where start_at is not null and end_at is not null order by start_at",
        ):
            windows.setdefault(str(r["service_id"]), []).append(
                (pd.Timestamp(r["start_at"]), pd.Timestamp(r["end_at"]))
            )
    if table_exists(con, "skipped_resources"):
        skipped = _rows(
            con,
            "select reason from skipped_resources where resource = 'maintenance_windows'",
        )
        if skipped:
            unknown = WINDOWS_UNKNOWN.format(reason=skipped[0]["reason"] or "skipped")
    if table_exists(con, "service_setting_flags"):
        for r in _rows(
            con,
            "select service_id, auto_resolve_distorts_mttr, ack_timeout_retriggers, distortion "
            "from service_setting_flags "
            "where auto_resolve_distorts_mttr or ack_timeout_retriggers",
        ):
            distortions[str(r["service_id"])] = {
                "auto_resolve_distorts_mttr": bool(r["auto_resolve_distorts_mttr"]),
                "ack_timeout_retriggers": bool(r["ack_timeout_retriggers"]),
                "distortion": r["distortion"],
            }
    return ExistingConfig(settings, windows, distortions, unknown)


class AlreadyOn(dict):
    """A recommendation not made because the account already has the setting: its kind,
    team, service, alert type, what is configured and what the rule would have proposed
    (a row of ``recommendations_already_on``)."""


def already_on(first: pd.Series, kind: str, configured: str, proposed: str) -> AlreadyOn:
    """The already-on row of a rule over the incidents whose first row is ``first``."""
    return AlreadyOn(
        kind=kind,
        team_id=first["team_id"],
        team_name=first["team_name"],
        service_id=first["service_id"],
        service_name=first["service_name"],
        template_id=first.get("template_id"),
        template=first.get("template"),
        group_id=first.get("group_id") if kind == "group_alerts" else None,
        configured=configured,
        proposed=proposed,
    )
