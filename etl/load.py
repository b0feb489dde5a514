"""Loading API records into the raw tables: validate, reject, upsert in bulk.

Every record lands in ``raw_<resource>(id, payload json, fetched_at)`` keyed by its id, with the
full JSON as the API returned it (keys sorted, so the same record always serialises to the same
text whichever endpoint returned it). Loading is an idempotent upsert: running the same sync
twice, or re-reading an overlap, leaves the same rows.

Records are validated before loading. A record with no id, an unparsable or zone-less
timestamp, or a field of the wrong type goes to ``_rejects`` with its source and the reason,
is counted, and the run goes on. Unknown log entry types are *kept*: PagerDuty adds types, and
the marts ignore what they do not know.

Log entries fetched with ``include[]=incidents`` carry the incident inline. The loader stores
the log entry with the incident reduced to a reference and upserts the inline incident into
``raw_incidents``, but only when it was created inside the synced scope: the warehouse holds
the incidents created in ``[scope_since, scope_until)`` and every log entry in that range,
whichever incident it belongs to (docs/etl.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from etl.sqlfiles import sql_text
from etl.warehouse import RAW_RESOURCES

# Field checks per resource: (dotted path, kind, required). Kinds: str, int, bool, ts (ISO 8601
# with a zone), ref (object with a string id), obj, list. A missing optional field is fine; a
# present one must have the right kind (null allowed unless required).
FIELD_CHECKS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "incidents": (
        ("created_at", "ts", True),
        ("status", "str", True),
        ("incident_number", "int", False),
        ("service", "ref", True),
        ("urgency", "str", False),
        ("title", "str", False),
        ("last_status_change_at", "ts", False),
        ("resolved_at", "ts", False),
        ("alert_counts", "obj", False),
        ("priority", "obj", False),
        ("escalation_policy", "ref", False),
        ("assignments", "list", False),
        ("acknowledgements", "list", False),
        ("teams", "list", False),
    ),
    "log_entries": (
        ("type", "str", True),
        ("created_at", "ts", True),
        ("incident", "ref", True),
        ("agent", "obj", False),
        ("channel", "obj", False),
        ("service", "ref", False),
    ),
    "alerts": (
        ("created_at", "ts", True),
        ("incident", "ref", True),
        ("status", "str", False),
        ("summary", "str", False),
        ("service", "ref", False),
        ("body", "obj", False),
    ),
    "services": (("name", "str", False), ("escalation_policy", "ref", False)),
    "teams": (("name", "str", False),),
    "users": (("name", "str", False), ("email", "str", False), ("contact_methods", "list", False)),
    "escalation_policies": (("name", "str", False), ("escalation_rules", "list", False)),
    "schedules": (("name", "str", False), ("time_zone", "str", False)),
    "oncalls": (
        ("escalation_policy", "ref", True),
        ("user", "ref", True),
        ("escalation_level", "int", True),
        ("schedule", "ref", False),
        ("start", "ts", False),
        ("end", "ts", False),
    ),
    "priorities": (("name", "str", False), ("order", "int", False)),
    "maintenance_windows": (
        ("start_time", "ts", True),
        ("end_time", "ts", True),
        ("services", "list", True),
    ),
}

# The keys kept when a log entry's inline incident is reduced to a reference. The type is
# normalised so an entry reads the same whether or not it was fetched with include[]=incidents.
INCIDENT_REFERENCE_KEYS = ("id", "summary", "html_url")


class RecordError(ValueError):
    """A record failed validation; the message is the reason stored in ``_rejects``."""


def sql(name: str) -> str:
    """The text of ``etl/sql/load/<name>.sql``."""
    return sql_text(f"sql/load/{name}.sql")


def parse_timestamp(value: object) -> datetime:
    """An ISO 8601 timestamp with a zone (``Z`` or an offset) as an aware datetime."""
    if not isinstance(value, str):
        raise RecordError(f"expected a timestamp string, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise RecordError(f"bad timestamp {value[:40]!r}") from None
    if parsed.tzinfo is None:
        raise RecordError(f"timestamp without a time zone {value[:40]!r}")
    return parsed


def _lookup(record: Mapping[str, Any], dotted: str) -> tuple[bool, Any]:
    current: Any = record
    for part in dotted.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return False, None
        current = current[part]
    return True, current


def _check_kind(path: str, kind: str, value: Any) -> None:
    ok: bool
    if kind == "str":
        ok = isinstance(value, str)
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "obj":
        ok = isinstance(value, dict)
    elif kind == "list":
        ok = isinstance(value, list)
    elif kind == "ref":
        ok = isinstance(value, dict) and isinstance(value.get("id"), str) and bool(value["id"])
        if not ok:
            raise RecordError(f"{path}: expected an object with a string id")
        return
    elif kind == "ts":
        try:
            parse_timestamp(value)
        except RecordError as exc:
            raise RecordError(f"{path}: {exc}") from None
        return
    else:  # pragma: no cover - a typo in FIELD_CHECKS
        raise AssertionError(kind)
    if not ok:
        raise RecordError(f"{path}: expected {kind}, got {type(value).__name__}")


def oncall_id(record: Mapping[str, Any]) -> str:
    """Synthetic key of an on-call entry, which has no id of its own."""

    def ref_id(key: str) -> str:
        ref = record.get(key)
        return str(ref.get("id") or "") if isinstance(ref, dict) else ""

    parts = [
        ref_id("schedule"),
        ref_id("escalation_policy"),
        ref_id("user"),
        str(record.get("escalation_level", "")),
        str(record.get("start") or ""),
        str(record.get("end") or ""),
    ]
    return hashlib.md5("|".join(parts).encode("utf-8")).hexdigest()


def validate(resource: str, record: Any) -> str:
    """Check one record and return its key; raise :class:`RecordError` with the reason."""
    if not isinstance(record, dict):
        raise RecordError(f"expected a JSON object, got {type(record).__name__}")
    for path, kind, required in FIELD_CHECKS.get(resource, ()):
        present, value = _lookup(record, path)
        if not present or value is None:
            if required:
                raise RecordError(f"missing {path}")
            continue
        _check_kind(path, kind, value)
    if resource == "oncalls":
        return oncall_id(record)
    key = record.get("id")
    if not isinstance(key, str) or not key:
        raise RecordError("missing id" if key in (None, "") else "id is not a string")
    return key


def incident_reference(incident: Mapping[str, Any]) -> dict[str, Any]:
    """The reference form of an incident object, as stored inside a log entry."""
    reference = {key: incident.get(key) for key in INCIDENT_REFERENCE_KEYS if key in incident}
    reference["type"] = "incident_reference"
    return reference


def _canonical_json(record: Any) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _record_key_for_reject(record: Any) -> str | None:
    if isinstance(record, dict):
        key = record.get("id")
        return str(key)[:200] if key is not None else None
    return None


@dataclass
class Scope:
    """The incidents the warehouse holds: created in ``[since, until)``."""

    since: datetime
    until: datetime

    def contains(self, created_at: str) -> bool:
        """Whether an incident created at ``created_at`` (ISO 8601) is in scope."""
        try:
            moment = parse_timestamp(created_at)
        except RecordError:
            return False
        return self.since <= moment < self.until


@dataclass
class LoadCounts:
    """What one run loaded and rejected, per resource."""

    loaded: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)

    @property
    def rejects(self) -> int:
        return sum(self.rejected.values())


class Loader:
    """Buffers validated records per resource and upserts them in bulk batches.

    Not thread-safe by design: the extractor's workers fetch pages concurrently and hand them
    to the one thread that owns the DuckDB connection. ``touched_incidents`` (a temp table)
    collects every incident id loaded in this run, for the alert fetch that follows.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        run_id: str,
        scope: Scope,
        *,
        batch_size: int = 2000,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.con = con
        self.run_id = run_id
        self.scope = scope
        self.batch_size = batch_size
        self._clock = clock
        self._buffers: dict[str, dict[str, str]] = {name: {} for name in RAW_RESOURCES}
        self._rejects: list[dict[str, Any]] = []
        self.counts = LoadCounts()
        con.execute("create or replace temp table touched_incidents (id varchar primary key)")

    # -- public ------------------------------------------------------------------------------
    def add(self, resource: str, records: Iterable[Any], source: str | None = None) -> int:
        """Validate and buffer records of ``resource``; returns how many were accepted.

        ``source`` names the endpoint for rejects (defaults to the resource). Log entries are
        split into the entry (incident reduced to a reference) and, when in scope, the inline
        incident. Incidents are only kept when created inside the scope.
        """
        if resource not in self._buffers:
            raise ValueError(f"unknown resource {resource!r}")
        source = source or resource
        accepted = 0
        for record in records:
            try:
                key = validate(resource, record)
            except RecordError as exc:
                self._reject(source, record, str(exc))
                continue
            if resource == "log_entries":
                incident = record["incident"]
                if incident.get("type") == "incident":
                    self._add_inline_incident(source, incident)
                record = dict(record)
                record["incident"] = incident_reference(incident)
            elif resource == "incidents" and not self.scope.contains(record["created_at"]):
                # date_range=all and the change feed reach incidents created before the
                # scope; the warehouse keeps only its scope (see the module docstring).
                continue
            self._buffer(resource, key, record)
            accepted += 1
        return accepted

    def flush(self) -> None:
        """Write every buffered record and reject."""
        for resource in RAW_RESOURCES:
            self._flush_resource(resource)
        self._flush_rejects()

    # -- internals ---------------------------------------------------------------------------
    def _add_inline_incident(self, source: str, incident: dict[str, Any]) -> None:
        try:
            key = validate("incidents", incident)
        except RecordError as exc:
            self._reject(f"{source} (inline incident)", incident, str(exc))
            return
        if self.scope.contains(incident["created_at"]):
            self._buffer("incidents", key, incident)

    def _buffer(self, resource: str, key: str, record: Any) -> None:
        buffer = self._buffers[resource]
        # A later copy of the same id within a batch wins, as it would across batches.
        buffer.pop(key, None)
        buffer[key] = _canonical_json(record)
        if len(buffer) >= self.batch_size:
            self._flush_resource(resource)

    def _flush_resource(self, resource: str) -> None:
        buffer = self._buffers[resource]
        if not buffer:
            return
        # Lists bound as parameters and unnested: one bulk statement per batch, without
        # pandas or pyarrow (importing them costs 1-4 s and ~80 MB of RSS, measured).
        ids = list(buffer.keys())
        self.con.execute(
            sql("upsert_raw").format(table=_raw_table(resource)),
            {"ids": ids, "payloads": list(buffer.values()), "fetched_at": self._clock()},
        )
        if resource == "incidents":
            self.con.execute(sql("track_touched"), {"ids": ids})
        self.counts.loaded[resource] = self.counts.loaded.get(resource, 0) + len(buffer)
        buffer.clear()

    def _reject(self, source: str, record: Any, reason: str) -> None:
        resource = source.split(" ", 1)[0]
        self.counts.rejected[resource] = self.counts.rejected.get(resource, 0) + 1
        try:
            text = _canonical_json(record)
        except (TypeError, ValueError):
            text = repr(record)
        self._rejects.append(
            {
                "source": source,
                "record_key": _record_key_for_reject(record),
                "reason": reason,
                "payload": text[:100_000],
            }
        )
        if len(self._rejects) >= self.batch_size:
            self._flush_rejects()

    def reject_page(self, source: str, reason: str, body: Any = None) -> None:
        """Record a whole page that could not be used (for example a body without its list);
        ``body`` is the decoded answer, stored as its canonical JSON like a rejected record."""
        self._reject(source, body, reason)

    def _flush_rejects(self) -> None:
        if not self._rejects:
            return
        self.con.execute(
            sql("insert_rejects"),
            {
                "sources": [r["source"] for r in self._rejects],
                "record_keys": [r["record_key"] for r in self._rejects],
                "reasons": [r["reason"] for r in self._rejects],
                "payloads": [r["payload"] for r in self._rejects],
                "run_id": self.run_id,
                "rejected_at": self._clock(),
            },
        )
        self._rejects.clear()


def _raw_table(resource: str) -> str:
    if resource not in RAW_RESOURCES:
        raise ValueError(f"unknown resource {resource!r}")
    return f"raw_{resource}"


def read_watermarks(con: duckdb.DuckDBPyConnection) -> dict[str, datetime]:
    """The ``_watermarks`` table as a dict of aware datetimes (UTC)."""
    rows = con.execute(sql("read_watermarks")).fetchall()
    return {resource: _as_utc(value) for resource, value in rows}


def write_watermark(con: duckdb.DuckDBPyConnection, resource: str, value: datetime) -> None:
    """Set one watermark."""
    con.execute(
        sql("upsert_watermark"),
        {"resource": resource, "value": value, "updated_at": datetime.now(UTC)},
    )


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
