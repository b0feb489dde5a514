"""incident_custom_fields and its rejects, on hand-made raw log entries through the real models.

The change entries are PagerDuty's `custom_field_value_change_log_entry`: the structured
change in `channel.changeset.customer_fields` (id, name, value, old_value, namespace).
"""

from __future__ import annotations

from tests.etl.models_support import at, base_account, build_account, fetch, records

COLUMNS = "incident_id field_name display_name data_type value changed_at changed_by"


def change(account, incident_id: str, seconds: float, fields: list, user_id: str = "PUSER01"):
    """A custom-field change entry setting ``fields`` [(name, value, old_value)] (or raw items)."""
    items = [
        item
        if isinstance(item, dict | str)
        else {
            "id": f"PF{item[0][:5].upper()}",
            "name": item[0],
            "value": item[1],
            "old_value": item[2],
            "namespace": "incidents",
        }
        for item in fields
    ]
    return account.entry(
        incident_id,
        "custom_field_value_change_log_entry",
        at(seconds),
        agent_id=user_id,
        extra={
            "channel": {"type": "web_trigger", "changeset": {"customer_fields": items}},
            "changeset": [
                f"Updated {item.get('name')} to {item.get('value')}"
                for item in items
                if isinstance(item, dict)
            ],
        },
    )


def account_with(*incident_ids: str):
    account = base_account(PUSER01="UTC", PUSER02="UTC")
    for n, incident_id in enumerate(incident_ids):
        account.incident(incident_id, at(60 * n), resolved_at=at(60 * n + 3600))
        account.trigger(incident_id, at(60 * n))
    return account


def fields(con) -> list[dict]:
    columns = ", ".join(COLUMNS.split())
    return fetch(
        con, f"select {columns} from incident_custom_fields order by incident_id, field_name"
    )


def test_the_last_change_is_the_current_value_and_multi_values_are_joined():
    account = account_with("PINC001", "PINC002")
    change(account, "PINC001", 600, [("root_cause", "config", None)])
    change(account, "PINC001", 900, [("root_cause", "deploy", "config")], user_id="PUSER02")
    change(account, "PINC001", 700, [("customer_impact", ["degraded", "outage"], None)])
    change(account, "PINC002", 800, [("root_cause", "capacity", None), ("attempts", 3, None)])
    con = build_account(account)
    assert fields(con) == records(
        COLUMNS,
        [
            ("PINC001", "customer_impact", "customer_impact", "string", "degraded, outage",
             at(700), "PUSER01"),
            ("PINC001", "root_cause", "root_cause", "string", "deploy", at(900), "PUSER02"),
            ("PINC002", "attempts", "attempts", "integer", "3", at(800), "PUSER01"),
            ("PINC002", "root_cause", "root_cause", "string", "capacity", at(800), "PUSER01"),
        ],
    )  # fmt: skip
    assert fetch(con, "select count(*) as n from incident_custom_field_rejects") == [{"n": 0}]


def test_a_field_set_back_to_nothing_is_null_and_the_column_types_are_the_contract():
    account = account_with("PINC001")
    change(account, "PINC001", 600, [("root_cause", "deploy", None), ("tags", ["a"], None)])
    change(account, "PINC001", 660, [("root_cause", None, "deploy"), ("tags", [], ["a"])])
    con = build_account(account)
    rows = fields(con)
    assert [(r["field_name"], r["value"], r["changed_at"]) for r in rows] == [
        ("root_cause", None, at(660)),
        ("tags", None, at(660)),
    ]
    types = fetch(
        con,
        "select column_name, data_type from information_schema.columns "
        "where table_name = 'incident_custom_fields' order by ordinal_position",
    )
    assert [(t["column_name"], t["data_type"]) for t in types] == [
        ("incident_id", "VARCHAR"),
        ("field_name", "VARCHAR"),
        ("display_name", "VARCHAR"),
        ("data_type", "VARCHAR"),
        ("value", "VARCHAR"),
        ("changed_at", "TIMESTAMP WITH TIME ZONE"),
        ("changed_by", "VARCHAR"),
    ]  # fmt: skip


def test_malformed_changes_are_kept_aside_with_a_reason_and_the_good_ones_still_count():
    account = account_with("PINC001")
    change(
        account,
        "PINC001",
        600,
        [
            ("root_cause", "hardware", None),
            {"id": "PFX", "value": "no name"},
            {"id": "PFY", "name": "nested", "value": {"a": 1}},
            {"id": "PFZ", "name": "listy", "value": [["a"]]},
            "not an object",
        ],
    )
    no_changeset = account.entry(PINC := "PINC001", "custom_field_value_change_log_entry", at(700))
    odd = account.entry(
        PINC,
        "custom_field_value_change_log_entry",
        at(710),
        extra={"channel": {"type": "web_trigger", "changeset": {"customer_fields": "x"}}},
    )
    con = build_account(account)
    assert [(r["field_name"], r["value"]) for r in fields(con)] == [("root_cause", "hardware")]
    rejects = fetch(
        con,
        "select log_entry_id, position, reason from incident_custom_field_rejects"
        " order by created_at, position",
    )
    reasons = [(r["position"], r["reason"]) for r in rejects]
    assert reasons == [
        (2, "a changed field without a name"),
        (3, "a value that is an object"),
        (4, "a multi-value field with a value that is not a scalar"),
        (5, "a changed field that is not an object"),
        (0, "no channel.changeset.customer_fields"),
        (0, "channel.changeset.customer_fields is not a list"),
    ]
    assert [r["log_entry_id"] for r in rejects[-2:]] == [no_changeset["id"], odd["id"]]


def test_the_incident_objects_own_custom_fields_fill_fields_without_a_change_entry():
    account = account_with("PINC001", "PINC002")
    account.rows["incidents"][0]["custom_fields"] = [
        {
            "id": "PT4KHEE",
            "type": "field_value",
            "name": "environment",
            "display_name": "Runtime Environment",
            "data_type": "string",
            "field_type": "multi_value_fixed",
            "value": ["production", "staging"],
        },
        {"id": "PT4KHEF", "name": "root_cause", "display_name": "Root cause",
         "data_type": "string", "value": "deploy"},
    ]  # fmt: skip
    change(account, "PINC001", 600, [("root_cause", "config", "deploy")])
    # A change on an incident outside the synced incidents is not in the table.
    change(account, "PNOTSYNCED", 600, [("root_cause", "config", None)])
    con = build_account(account)
    assert fields(con) == records(
        COLUMNS,
        [
            ("PINC001", "environment", "Runtime Environment", "string", "production, staging",
             None, None),
            ("PINC001", "root_cause", "Root cause", "string", "config", at(600), "PUSER01"),
        ],
    )  # fmt: skip
