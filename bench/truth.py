"""A simulated account's raw tables and planted dependency graph, for the grouping-quality
benchmark and the noise tests (tests import this module; benchmarks never import tests)."""

from __future__ import annotations

import json

import duckdb
import pandas as pd

from etl.noise.dependency_storms import EDGE_COLUMNS, components
from etl.warehouse import ensure_raw_schema
from simulator.dependencies import account_answers


def load_account(con: duckdb.DuckDBPyConnection, account) -> None:
    """The account's incidents, log entries, alerts, catalogs and service dependencies as raw
    rows, the way the loader stores them (log entries keep only a reference to their incident;
    a service's dependencies are the simulator's answer, keyed by the service id)."""
    ensure_raw_schema(con)

    def put(name: str, rows: list[dict]) -> None:
        frame = pd.DataFrame(
            {"id": [r["id"] for r in rows], "payload": [json.dumps(r) for r in rows]}
        )
        con.register("fixture_rows", frame)
        con.execute(
            f"insert or replace into raw_{name} "  # noqa: S608
            "select id, payload::json, now() from fixture_rows"
        )
        con.unregister("fixture_rows")

    put("incidents", [i.incident for i in account.incidents])
    entries = []
    for item in account.incidents:
        for entry in item.log_entries:
            entry = dict(entry)
            inline = entry.get("incident") or {}
            # The loader keeps log entries with the incident reduced to a reference.
            entry["incident"] = {k: inline.get(k) for k in ("id", "type", "summary", "html_url")}
            entries.append(entry)
    put("log_entries", entries)
    put("alerts", [alert for item in account.incidents for alert in item.alerts])
    for name in ("services", "teams", "users", "escalation_policies", "priorities"):
        put(name, getattr(account, name))
    answers = account_answers(account)
    put("service_dependencies", [{"id": key, **answer} for key, answer in answers.items()])


def dependency_components(dependencies: list[dict]) -> dict[str, str]:
    """Connected components of the planted service-dependency graph (the ground truth's
    ``service_dependencies``): service -> a name of its component, as the noise step finds
    them in the synced graph (etl/noise/dependency_storms.py)."""
    edges = pd.DataFrame(
        [(upstream, dep["service_id"]) for dep in dependencies for upstream in dep["depends_on"]],
        columns=list(EDGE_COLUMNS),
    )
    return components(edges)
