"""Merges and custom fields of the simulated account through the real pipeline (pipeline_db).

The ground truth (``<db>.ground_truth.json``) lists the planted merges; the custom-field values
are recomputed here in Python from the raw log entries, independently of the SQL.
"""

from __future__ import annotations

import json

import duckdb

from tests.etl.models_support import fetch


def _truth(db) -> dict:
    return json.loads(db.with_name(db.name + ".ground_truth.json").read_text(encoding="utf-8"))


def test_the_planted_merges_are_flagged_and_left_out_of_the_counts(pipeline_db):
    planted = {
        (m["incident_id"], m["merged_into_incident_id"])
        for m in _truth(pipeline_db)["merged_incidents"]
    }
    assert planted
    with duckdb.connect(str(pipeline_db), read_only=True) as con:
        flagged = fetch(
            con,
            "select incident_id, merged_into_incident_id from incidents"
            " where merged_into_incident_id is not null",
        )
        counts = fetch(
            con,
            "select (select sum(total_incident_count) from service_weekly) as weekly,"
            " (select count(*) from incidents where merged_into_incident_id is null) as kept,"
            " (select count(*) from noise_incidents where incident_id in"
            "   (select incident_id from incidents where merged_into_incident_id is not null))"
            "   as merged_in_noise",
        )[0]
    assert {(r["incident_id"], r["merged_into_incident_id"]) for r in flagged} == planted
    assert counts["weekly"] == counts["kept"]
    assert counts["merged_in_noise"] == 0


def test_custom_field_values_are_the_last_change_of_each_field(pipeline_db):
    with duckdb.connect(str(pipeline_db), read_only=True) as con:
        raw = con.execute(
            "select payload from raw_log_entries"
            " where payload->>'type' = 'custom_field_value_change_log_entry'"
        ).fetchall()
        table = fetch(con, "select * from incident_custom_fields")
        rejects = fetch(con, "select count(*) as n from incident_custom_field_rejects")[0]["n"]
        incident_ids = {r[0] for r in con.execute("select incident_id from incidents").fetchall()}
    last: dict[tuple[str, str], tuple] = {}
    for (payload,) in raw:
        entry = json.loads(payload)
        for item in entry["channel"]["changeset"]["customer_fields"]:
            key = (entry["incident"]["id"], item["name"])
            stamp = (entry["created_at"], entry["id"])
            if key[0] in incident_ids and (key not in last or stamp > last[key][0]):
                last[key] = (stamp, ", ".join(item["value"]), entry["agent"]["id"])
    assert last, "the simulated account has custom fields"
    assert rejects == 0
    got = {
        (r["incident_id"], r["field_name"]): (r["value"], r["changed_by"], r["data_type"])
        for r in table
    }
    assert got == {key: (value, user, "string") for key, (_, value, user) in last.items()}
