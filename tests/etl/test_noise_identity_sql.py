"""The SQL recogniser (etl/noise/sql/recognise_identities.sql) against Python's ``recognise``.

The noise step recognises the commonest detail shapes in SQL and hands every other body to
:func:`etl.noise.identity.recognise`; the identities must be the same either way. Each body
below goes through DuckDB as the build stores it (``json_extract(...)::varchar`` of the raw
payload, stg_log_entries.trigger_details), then through the SQL: whatever it claims must equal
Python's answer on the same text, and the everyday shapes must be claimed (else the SQL path
would be dead code).
"""

from __future__ import annotations

import json

import duckdb
import pytest

from etl.noise.identity import recognise
from etl.sqlfiles import sql_text
from tests.etl.test_noise_identity import am_alert, am_details, am_legacy, fixture

ALERT = am_alert("KubePodCrashLooping", instance="10.0.3.17:8080", severity="warning")
DATADOG = fixture("datadog_monitor.json")
CLOUDWATCH = fixture("cloudwatch_sns.json")
UPTIMEROBOT = fixture("uptimerobot_webhook.json")
ALARM = json.loads(CLOUDWATCH["Message"])


def alarm_message(text: str) -> dict:
    return CLOUDWATCH | {"Message": text}


def with_labels(**labels: object) -> dict:
    return am_details(ALERT | {"labels": ALERT["labels"] | labels})


# Bodies the SQL must claim (not hand to Python), with the source it must find ("none" when
# no recogniser matches).
CLAIMED = {
    "alertmanager": am_details(ALERT),
    "alertmanager, labels in another order": am_details(
        ALERT | {"labels": dict(reversed(ALERT["labels"].items()))}
    ),
    "alertmanager, empty stable label": with_labels(namespace=""),
    "alertmanager, hostile text": with_labels(alertname='<b>"x"</b>, y=z', job="a\\b\u00e9"),
    "datadog": DATADOG,
    "datadog, monitor_id": DATADOG | {"monitor_id": 48213077},
    "datadog, id as text": DATADOG | {"monitor_id": "0042"},
    "cloudwatch": CLOUDWATCH,
    "cloudwatch, no account": alarm_message(json.dumps(ALARM | {"AWSAccountId": ""})),
    "uptimerobot": UPTIMEROBOT,
    "uptimerobot, no friendly type": UPTIMEROBOT | {"alertTypeFriendlyName": ""},
    "nagios": {"HOSTNAME": "db-1", "SERVICEDESC": "Disk", "SERVICESTATE": "CRITICAL"},
    "e-mail": {"from": "alerts@x", "subject": "Disk full", "body": "Disk full"},
}

# Bodies that must give Python's answer, whoever computes it. Strings are JSON text as sent
# (duplicate keys, literals Python's parser refuses); dicts are dumped.
OTHERS = {
    "legacy text list": am_legacy(ALERT),
    "two alerts": am_details(ALERT, am_alert("KubePodCrashLooping", instance="10.0.3.18:8080")),
    "grafana folder": with_labels(grafana_folder="Payments"),
    "grafana org": am_details(ALERT) | {"orgId": 1},
    "numeric label": with_labels(severity=2),
    "boolean label": with_labels(job=True),
    "null label": with_labels(service=None),
    "object label": with_labels(namespace={"a": 1}),
    "empty alertname": with_labels(alertname=""),
    "long key": with_labels(alertname="x" * 600),
    "key at the cut": with_labels(alertname="y" * 502),
    "non-ASCII near the cut": with_labels(alertname="\u00e9" * 300),
    "wrapped in an alert body": {"type": "alert_body", "details": am_details(ALERT)},
    "wrapped in an event": {"event_action": "trigger", "payload": {"custom_details": DATADOG}},
    "datadog id zero": DATADOG | {"monitor_id": 0, "alert_id": 77},
    "datadog id zero text": DATADOG | {"monitor_id": "0"},
    "datadog negative": DATADOG | {"monitor_id": -5},
    "datadog float": DATADOG | {"monitor_id": 12.0},
    "datadog huge": DATADOG | {"monitor_id": 10**30},
    "datadog unicode digits": DATADOG | {"monitor_id": "\u0663\u0664"},
    "datadog unmarked": {"monitor_id": 12, "host": "x"},
    "datadog alert_id only": {"alert_id": "12", "event_type": "x"},
    "datadog duplicate alert_id": '{"alert_id": "12", "alert_id": "13", "event_type": "x"}',
    "datadog alert_id after a falsy monitor_id": DATADOG | {"monitor_id": ""},
    "datadog boolean id": DATADOG | {"monitor_id": True},
    "cloudwatch raw delivery": ALARM,
    "cloudwatch numeric account": alarm_message(json.dumps(ALARM | {"AWSAccountId": 12})),
    "cloudwatch empty alarm": alarm_message(json.dumps(ALARM | {"AlarmName": ""})),
    "cloudwatch message not json": alarm_message("{not json"),
    "cloudwatch message trailing comma": alarm_message('{"AlarmName": "a",}'),
    "cloudwatch message nan": alarm_message('{"AlarmName": "a", "v": nan}'),
    "cloudwatch message NaN": alarm_message('{"AlarmName": "a", "v": NaN}'),
    "cloudwatch message padded": alarm_message(' {"AlarmName": "a"}'),
    "cloudwatch message deep": alarm_message(
        '{"AlarmName": "a", "x": ' + "[" * 600 + "]" * 600 + "}"
    ),
    "cloudwatch message lone surrogate": alarm_message('{"AlarmName": "a\\ud800"}'),
    "cloudwatch message duplicate": alarm_message('{"AlarmName": "a", "AlarmName": "b"}'),
    "cloudwatch message as object": CLOUDWATCH | {"Message": ALARM},
    "cloudwatch other type": CLOUDWATCH | {"Type": "SubscriptionConfirmation"},
    "uptimerobot numeric id": UPTIMEROBOT | {"monitorID": 7},
    "uptimerobot without url or name": {"monitorID": "7", "alertType": "1"},
    "uptimerobot numeric type": UPTIMEROBOT | {"alertTypeFriendlyName": "", "alertType": 1},
    "nan in details": '{"firing": [{"labels": {"alertname": "A"}}], "v": inf}',
    "huge integer in details": '{"monitor_id": 5, "event_type": "x", "n": ' + "9" * 5000 + "}",
    "deep details": '{"monitor_id": 5, "event_type": "x", "n": ' + "[" * 1100 + "]" * 1100 + "}",
    "duplicate firing": '{"firing": [{"labels": {"alertname": "A"}}], "firing": "x"}',
    "duplicate labels object": '{"firing": [{"labels": {"alertname": "A"}, "labels": {}}]}',
    "duplicate label": '{"firing": [{"labels": {"alertname": "A", "alertname": "B"}}]}',
    "duplicate monitor id": '{"monitor_id": 5, "monitor_id": 6, "event_type": "x"}',
    "duplicate sns type": '{"Type": "Notification", "Type": "x", "Message": "{}"}',
    "duplicate uptime id": '{"monitorID": "5", "monitorID": "6", "monitorURL": "u"}',
    "generic webhook": fixture("generic_webhook.json"),
    "grafana webhook": fixture("grafana_webhook.json"),
}


def identities(bodies: dict[str, object]) -> dict[str, tuple[str, str | None, str | None]]:
    """Per body: (identity_source, type_text, details) from the SQL, and the details text
    as the build stores it."""
    rows, stored = recognised(bodies)
    return {name: (source, type_text, stored[name]) for name, source, type_text, _ in rows}


def recognised(bodies: dict[str, object]) -> tuple[list[tuple], dict[str, str]]:
    """The SQL's rows (incident_id = the body's name, identity_source, type_text, details
    handed to Python) and each body's details text as the build stores it."""
    con = duckdb.connect()
    con.execute("create table payloads (name varchar, payload varchar)")
    for name, body in bodies.items():
        text = body if isinstance(body, str) else json.dumps(body)
        con.execute(
            "insert into payloads values (?, ?)", [name, f'{{"channel": {{"details": {text}}}}}']
        )
    con.execute(
        "create temp table noise_incident_details as select name as incident_id, "
        "json_extract(payload, '$.channel.details')::varchar as details from payloads "
        "where json_type(json_extract(payload, '$.channel.details')) = 'OBJECT'"
    )
    con.execute(sql_text("noise/sql/identity_macros.sql"))
    rows = con.execute(sql_text("noise/sql/recognise_identities.sql")).fetchall()
    stored = dict(con.execute("select * from noise_incident_details").fetchall())
    con.close()
    return rows, stored


def python_answer(details: str) -> tuple[str, str | None]:
    found = recognise(details)
    return ("none", None) if found is None else (found.source, found.type_text)


@pytest.mark.parametrize("bodies", [CLAIMED, OTHERS], ids=["claimed", "others"])
def test_whatever_sql_claims_is_what_python_finds(bodies):
    found = identities(bodies)
    assert found.keys() == bodies.keys()
    for name, (source, type_text, details) in found.items():
        if source != "python":
            assert (source, type_text) == python_answer(details), name


def test_the_common_shapes_are_claimed_by_sql():
    found = identities(CLAIMED)
    claimed = {name: source for name, (source, _, _) in found.items()}
    assert claimed == {name: python_answer(found[name][2])[0] for name in CLAIMED}
    assert "python" not in claimed.values()


def test_suspicious_bodies_go_to_python():
    found = identities(OTHERS)
    by_python = {name for name, (source, _, _) in found.items() if source == "python"}
    # Python's parser or its dict would read these differently from DuckDB's.
    for name in (
        "nan in details",
        "huge integer in details",
        "deep details",
        "duplicate firing",
        "duplicate labels object",
        "duplicate label",
        "duplicate monitor id",
        "datadog duplicate alert_id",
        "duplicate sns type",
        "duplicate uptime id",
        "cloudwatch message trailing comma",
        "cloudwatch message nan",
        "cloudwatch message deep",
        "long key",
        "legacy text list",
        "two alerts",
    ):
        assert name in by_python, name


def grafana_text(instance: str, value: str) -> dict:
    """Grafana's PagerDuty contact point: the text alert list of one alert."""
    labels = {"alertname": "HighLatency", "grafana_folder": "Payments", "instance": instance}
    silence = "&".join(f"matcher={k}%3D{v}" for k, v in sorted(labels.items()))
    firing = (
        f"\nValue: A={value}, C=1\nLabels:\n"
        + "".join(f" - {k} = {v}\n" for k, v in sorted(labels.items()))
        + f"Annotations:\n - summary = Latency high on {instance}\n"
        + "Source: https://grafana.example/alerting/grafana/abc123/view?orgId=1\n"
        + f"Silence: https://grafana.example/alerting/silence/new?{silence}\n"
    )
    return {"firing": firing, "num_firing": "1", "num_resolved": "0", "resolved": ""}


def legacy_with(text: str) -> dict:
    return am_legacy(ALERT) | {"firing": text}


LEGACY = am_legacy(ALERT)["firing"]
# Text alert lists: Python reads them from the details the SQL hands over, where the lines that
# cannot change the identity are emptied; the identity must be the one of the full text.
TEXT_LISTS = {
    "legacy": am_legacy(ALERT),
    "legacy, other instance": am_legacy(
        am_alert("KubePodCrashLooping", instance="10.9.9.9:1", severity="warning")
    ),
    "legacy, two alerts": am_legacy(ALERT, am_alert("KubePodCrashLooping", instance="10.0.0.2")),
    "grafana": grafana_text("10.0.0.1:9100", "12.5"),
    "grafana, other firing": grafana_text("10.0.0.7:9100", "99.1"),
    "starts with a removable line": legacy_with("\n - instance = x\nValue: 1\n" + LEGACY),
    "removable line then a tab line": legacy_with(LEGACY + " - pod = p\tq\n - job = j\n"),
    "removable line with a line separator": legacy_with(
        "Labels:\n - alertname = A\n - pod = p\u2028Silence: x\n - job = j\n"
    ),
    "removable line with a vertical tab": legacy_with(
        "Labels:\n - alertname = A\n - pod = p\x0bAnnotations:\n - job = j\n"
    ),
    "removable line with a group separator": legacy_with(
        "Labels:\n - alertname = A\n - host = h\x1dX\n - severity = s\n"
    ),
    "removable line with a carriage return": legacy_with(
        "Labels:\n - alertname = A\n - host = h\rX\n - severity = s\n"
    ),
    "escaped backslash before n": legacy_with(
        "Labels:\n - alertname = A\\n - instance = i\n - severity = s\n"
    ),
    "quote in a removable line": legacy_with('Labels:\n - alertname = A\n - pod = "p"\n'),
    "read label among removable ones": legacy_with(
        "Labels:\n - instance = i\n - alertname = A\n - summary = s\n - severity = x\n"
    ),
    "value line inside the labels": legacy_with(
        "Labels:\n - alertname = A\nValue: 3\n - severity = s\n"
    ),
    "silence mark only": legacy_with("Labels:\n - alertname = A\nSilence: x\n"),
    "non-ASCII": legacy_with("Labels:\n - alertname = \u00e9\n - instance = \u00e9\n"),
}


def test_text_lists_reach_python_reduced_to_what_decides_their_identity():
    rows, stored = recognised(TEXT_LISTS)
    handed = {name: details for name, source, _, details in rows if source == "python"}
    assert handed.keys() == TEXT_LISTS.keys()
    for name, details in handed.items():
        # What Python reads (the SQL's details) gives the identity of the full details.
        assert python_answer(details) == python_answer(stored[name]), name
    # Two firings of one rule differ only in the lines emptied; the unusual texts go whole.
    assert handed["legacy"] == handed["legacy, other instance"]
    assert handed["grafana"] == handed["grafana, other firing"]
    assert handed["legacy"] != handed["grafana"]
    for name in ("starts with a removable line", "escaped backslash before n", "non-ASCII"):
        assert handed[name] == stored[name], name
