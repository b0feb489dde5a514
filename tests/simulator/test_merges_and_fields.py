"""Merged incidents and custom fields in the simulated account, over the real HTTP API.

simulator/processes/merges.py merges duplicates into a surviving incident; custom_fields.py
has responders record root cause and customer impact. Checked on the session's account
(seed 7, 14 days) and on a 90-day account for the proportions.
"""

from __future__ import annotations

from simulator._common import parse_iso
from simulator.account import generate_account
from simulator.processes.custom_fields import FIELDS, has_custom_fields
from tests.conftest import SIM_END
from tests.simulator.server_helpers import client


def test_every_merge_resolves_the_duplicate_and_moves_its_alerts(sim_account, sim_server):
    merges = sim_account.ground_truth["merged_incidents"]
    assert merges, "the account plants merges"
    with client(sim_server) as http:
        for merge in merges:
            dup_id, survivor_id = merge["incident_id"], merge["merged_into_incident_id"]
            dup = http.get(f"/incidents/{dup_id}").json()["incident"]
            assert dup["status"] == "resolved"
            assert dup["resolved_at"] == merge["merged_at"]
            assert dup["resolve_reason"]["type"] == "merge_resolve_reason"
            assert dup["resolve_reason"]["incident"]["id"] == survivor_id
            assert dup["alert_counts"]["all"] == 0
            assert http.get(f"/incidents/{dup_id}/alerts").json()["alerts"] == []
            entries = http.get(f"/incidents/{dup_id}/log_entries").json()["log_entries"]
            last = max(entries, key=lambda e: (e["created_at"], e["id"]))
            assert last["type"] == "resolve_log_entry"
            assert last["agent"]["type"] == "user_reference"
            assert last["created_at"] == merge["merged_at"]
            survivor = http.get(f"/incidents/{survivor_id}").json()["incident"]
            alerts = http.get(f"/incidents/{survivor_id}/alerts").json()["alerts"]
            assert survivor["alert_counts"]["all"] == len(alerts)
            assert {a["incident"]["id"] for a in alerts} == {survivor_id}
            trigger = next(e for e in entries if e["type"] == "trigger_log_entry")
            moved = [a for a in alerts if a["first_trigger_log_entry"]["id"] == trigger["id"]]
            assert moved, "the duplicate's alerts are the survivor's"
            assert all(f"/incidents/{survivor_id}/alerts/" in a["self"] for a in moved)
            # Merged minutes after both triggered, while the survivor was open.
            assert parse_iso(survivor["created_at"]) < parse_iso(merge["merged_at"])
            if survivor["resolved_at"]:
                assert survivor["resolved_at"] > merge["merged_at"]


def test_merges_are_a_few_percent_of_incidents_on_related_services():
    account = generate_account(seed=7, days=90, end=SIM_END)
    merges = account.ground_truth["merged_incidents"]
    by_id = {sim.id: sim for sim in account.incidents}
    share = len(merges) / len(account.incidents)
    assert 0.01 <= share <= 0.05, share
    acked = sum(
        any(e["type"] == "acknowledge_log_entry" for e in by_id[m["incident_id"]].log_entries)
        for m in merges
    )
    assert 0 < acked < len(merges)
    for merge in merges:
        dup, survivor = by_id[merge["incident_id"]], by_id[merge["merged_into_incident_id"]]
        gap = dup.created_epoch - survivor.created_epoch
        assert 0 < gap <= 30 * 60
        assert 60 <= parse_iso(merge["merged_at"]) - dup.created_epoch


def test_custom_field_changes_have_the_specs_shape_on_some_services_only(sim_account):
    changes = [
        (sim, entry)
        for sim in sim_account.incidents
        for entry in sim.log_entries
        if entry["type"] == "custom_field_value_change_log_entry"
    ]
    assert changes
    services = {sim.incident["service"]["id"] for sim, _ in changes}
    assert all(has_custom_fields(s) for s in services)
    for sim, entry in changes:
        assert entry["agent"]["type"] == "user_reference"
        (item,) = entry["channel"]["changeset"]["customer_fields"]
        assert set(item) == {"id", "name", "value", "old_value", "namespace"}
        (value,) = item["value"]  # the spec's value: an integer or a list of strings
        assert value in FIELDS[item["name"]][1]
        assert entry["changeset"] == [f"Updated {item['name']} to {value}"]
        assert sim.incident.get("custom_fields") is None  # only with include[]=custom_fields
        times = [e["created_at"] for e in sim.log_entries]
        assert times == sorted(times)
    ids = [e["id"] for sim in sim_account.incidents for e in sim.log_entries]
    assert len(ids) == len(set(ids))
