"""Recommendation artifacts checked by the real validators: PagerDuty request bodies against
the OpenAPI spec (``$PAGERLENS_OPENAPI`` or ../shared; skipped when absent), Alertmanager
fragments by ``amtool check-config`` (Debian ``prometheus-alertmanager``, installed by
``make sysdeps``: required, never skipped).

The spec does not forbid unknown fields (no ``additionalProperties: false``), so a misspelt
field would pass the schema alone: :func:`_unknown_fields` also rejects any key the spec does
not declare at that place, and the write validator rejects read-only fields (``id``)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from jsonschema import validators
from openapi_schema_validator import OAS30WriteValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from etl.noise import advice, write_recommendations
from tests.shared_material import shared_file

SPEC = "pagerduty-openapi/openapiv3.json"
SPEC_URI = "urn:pagerduty-openapi"
HOSTILE = (
    "[FIRING:<*>] KubeCrash \"q\" 'x' {{ .Labels }} `rm -rf` &anchor *ref !!python/object "
    "--- \n- item: # not a comment\r\n\tend \\ \u2028 <script>"
)
# The spec writes undiscriminated unions as oneOf; validate them as anyOf (see
# tests/simulator/test_server_schema.py).
_Validator = validators.extend(
    OAS30WriteValidator, {"oneOf": OAS30WriteValidator.VALIDATORS["anyOf"]}
)


@pytest.fixture(scope="module")
def spec() -> dict:
    """The spec with its request-side defects corrected: the base object (``Tag/allOf/0``)
    marks ``type`` read-only while MaintenanceWindow, Service and Reference require it in
    request bodies, and ``Reference`` requires ``id`` that the same base marks read-only (every
    request example of the spec sends both)."""
    document = json.loads(shared_file(SPEC, env="PAGERLENS_OPENAPI").read_text())
    schemas = document["components"]["schemas"]
    base = schemas["Tag"]["allOf"][0]["properties"]
    base["type"] = {k: v for k, v in base["type"].items() if k != "readOnly"}
    reference = json.loads(json.dumps(schemas["Tag"]["allOf"][0]))
    reference["properties"]["id"].pop("readOnly")
    schemas["Reference"]["allOf"][0] = reference
    return document


def _deref(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        node_at = spec
        for key in node["$ref"].removeprefix("#/").split("/"):
            key = key.replace("~1", "/").replace("~0", "~")
            node_at = node_at[int(key)] if isinstance(node_at, list) else node_at[key]
        node = node_at
    return node


def _declared(spec: dict, schema: dict) -> tuple[set[str], list[dict]]:
    """The property names a schema declares (through $ref, allOf, anyOf, oneOf) and the
    schemas of its array items."""
    schema = _deref(spec, schema)
    names, items = set(schema.get("properties", {})), []
    if "items" in schema:
        items.append(schema["items"])
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key, []):
            sub_names, sub_items = _declared(spec, sub)
            names |= sub_names
            items += sub_items
    return names, items


def _property_schemas(spec: dict, schema: dict, name: str) -> list[dict]:
    schema = _deref(spec, schema)
    found = [schema["properties"][name]] if name in schema.get("properties", {}) else []
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key, []):
            found += _property_schemas(spec, sub, name)
    return found


def _unknown_fields(spec: dict, schemas: list[dict], value: object, at: str = "") -> list[str]:
    """Keys of ``value`` that none of ``schemas`` declares (objects declaring nothing are free)."""
    if isinstance(value, list):
        items = [i for s in schemas for i in _declared(spec, s)[1]]
        return [
            u for n, v in enumerate(value) for u in _unknown_fields(spec, items, v, f"{at}/{n}")
        ]
    if not isinstance(value, dict):
        return []
    declared = set().union(*(_declared(spec, s)[0] for s in schemas)) if schemas else set()
    if not declared:
        return []
    unknown = [f"{at}/{k}" for k in value if k not in declared]
    for key, sub in value.items():
        if key in declared:
            subs = [p for s in schemas for p in _property_schemas(spec, s, key)]
            unknown += _unknown_fields(spec, subs, sub, f"{at}/{key}")
    return unknown


def _template(path: str) -> str:
    """The spec's path template of a concrete API path."""
    for prefix in ("/services/", "/event_orchestrations/services/"):
        if path.startswith(prefix) and "/" not in path.removeprefix(prefix):
            return prefix + ("{service_id}" if "event_" in prefix else "{id}")
    return path


def check_pagerduty(spec: dict, artifact: dict) -> None:
    """Fail unless the body is a valid request body of the artifact's method and path."""
    operation = spec["paths"][_template(artifact["path"])][artifact["method"].lower()]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    registry = Registry().with_resource(SPEC_URI, Resource(contents=spec, specification=DRAFT4))
    pointer = "/paths/{}/{}/requestBody/content/application~1json/schema".format(
        _template(artifact["path"]).replace("~", "~0").replace("/", "~1"),
        artifact["method"].lower(),
    )
    validator = _Validator(
        {"$ref": f"{SPEC_URI}#{pointer}"},
        registry=registry,
        format_checker=_Validator.FORMAT_CHECKER,
    )
    errors = [e.message for e in validator.iter_errors(artifact["body"])]
    errors += [f"not in the spec: {u}" for u in _unknown_fields(spec, [schema], artifact["body"])]
    assert not errors, f"{artifact['method']} {artifact['path']}: {errors}"
    assert json.loads(artifact["text"]) == artifact["body"]


def amtool() -> str:
    path = shutil.which("amtool")
    assert path, (
        "amtool not found: the tests need Alertmanager's amtool (Debian package "
        "prometheus-alertmanager); run `make sysdeps` or `apt-get install prometheus-alertmanager`"
    )
    return path


def check_alertmanager(artifacts: list[dict], tmp_path: Path) -> None:
    """Fail unless ``amtool check-config`` accepts the fragments in a complete config."""
    for artifact in artifacts:
        shown = yaml.safe_load(artifact["text"])
        if artifact["part"] == "route":
            assert shown == {"route": {"routes": [artifact["fragment"]]}}
        else:
            assert shown == {artifact["part"]: [artifact["fragment"]]}
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "alertmanager.yml"
    path.write_text(advice.alertmanager_config(artifacts))
    run = subprocess.run(
        [amtool(), "check-config", str(path)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr


def _part(template: str = HOSTILE, policy: str | None = "PEP1") -> pd.DataFrame:
    return pd.DataFrame(
        [{"service_id": "PSV1", "template": template, "escalation_policy_id": policy}]
    )


def _hand_made() -> list[dict]:
    group = {
        "group_id": "G1",
        "templates": [
            "[FIRING:<*>] PostgresDown <*> (critical)",
            HOSTILE,
            "[FIRING:<*>] ApiErrors <*>",
        ],
    }
    windows = advice.maintenance_starts(
        pd.Timestamp("2026-03-20T12:00Z"), 6, 120, 90, "Europe/Berlin", 4
    )
    return [
        advice.service_update(
            _part(),
            {"auto_pause_notifications_parameters": {"enabled": True, "timeout": 300}},
            HOSTILE,
        ),
        *advice.stop_paging_artifacts(_part(), HOSTILE, HOSTILE, HOSTILE),
        *advice.maintenance_artifacts("PSV1", windows, HOSTILE, HOSTILE),
        advice.window_suppress_artifact("PSV1", HOSTILE, HOSTILE, 6, 1380, 90, "Europe/Berlin"),
        *advice.mute_artifacts(HOSTILE, 6, 1380, 90, "Europe/Berlin", HOSTILE),
        *advice.group_artifacts(group, ["PSV1", "PSV2"], 600, HOSTILE, group["templates"][0]),
    ]


def test_hand_made_artifacts_with_hostile_text_validate(spec: dict, tmp_path: Path) -> None:
    artifacts = _hand_made()
    kinds = {(a["target"], a.get("method") or a["part"], a.get("path")) for a in artifacts}
    assert kinds == {
        ("pagerduty_api", "PUT", "/services/PSV1"),
        ("pagerduty_api", "PUT", "/event_orchestrations/services/PSV1"),
        ("pagerduty_api", "POST", "/maintenance_windows"),
        ("pagerduty_api", "POST", "/alert_grouping_settings"),
        ("alertmanager", "route", None),
        ("alertmanager", "inhibit_rules", None),
        ("alertmanager", "time_intervals", None),
    }
    for artifact in artifacts:
        if artifact["target"] == "pagerduty_api":
            check_pagerduty(spec, artifact)
    check_alertmanager([a for a in artifacts if a["target"] == "alertmanager"], tmp_path)
    # The rendering keeps each header on one line, whatever the alert text holds.
    for line in advice.render(artifacts).splitlines():
        if line.startswith("# "):
            assert line.startswith(("# PagerDuty API ", "# Alertmanager "))


def test_a_weekly_window_suppresses_its_alert_type_every_week() -> None:
    # Sunday 23:00 for 90 minutes, Berlin time: one PCL condition per day (a rule applies
    # when any condition holds), each the alert's match and the day's part of the window.
    artifact = advice.window_suppress_artifact(
        "PSV1", "backup job failed", "weekly window", 6, 1380, 90, "Europe/Berlin"
    )
    assert (artifact["method"], artifact["path"]) == ("PUT", "/event_orchestrations/services/PSV1")
    (rule,) = artifact["body"]["orchestration_path"]["sets"][0]["rules"]
    assert rule["actions"] == {"suppress": True}
    assert [c["expression"] for c in rule["conditions"]] == [
        "event.summary matches part 'backup job failed' and now in Sun 23:00:00 to 23:59:59 "
        "Europe/Berlin",
        "event.summary matches part 'backup job failed' and now in Mon 00:00:00 to 00:30:00 "
        "Europe/Berlin",
    ]
    # Within one day: one condition; a quote in the alert text stays inside the PCL string.
    artifact = advice.window_suppress_artifact("PSV1", "it's down", "w", 2, 120, 60, "UTC")
    (rule,) = artifact["body"]["orchestration_path"]["sets"][0]["rules"]
    assert [c["expression"] for c in rule["conditions"]] == [
        "event.summary matches part 'it\\'s down' and now in Wed 02:00:00 to 03:00:00 UTC"
    ]


def test_inhibit_rule_mutes_the_dependents_of_the_root() -> None:
    group = {"group_id": "G2", "templates": ["[FIRING:<*>] NodeDown <*>", "[FIRING:<*>] PodLost"]}
    artifacts = advice.group_artifacts(group, ["P1"], 300, "Ops", "[FIRING:<*>] NodeDown <*>")
    inhibit = next(a for a in artifacts if a.get("part") == "inhibit_rules")["fragment"]
    assert inhibit["source_matchers"] == ['alertname="NodeDown"']
    assert inhibit["target_matchers"] == ['alertname="PodLost"']
    assert inhibit["equal"] == ["namespace"]
    route = next(a for a in artifacts if a.get("part") == "route")["fragment"]
    assert route["matchers"] == ['alertname=~"NodeDown|PodLost"']


def test_maintenance_windows_keep_the_wall_clock_across_dst() -> None:
    """Sundays 02:00-03:30 Berlin from 2026-03-20: the clocks go forward on 2026-03-29 at
    02:00 (that night's 02:00 does not exist and lands at 03:00 +02:00)."""
    windows = advice.maintenance_starts(
        pd.Timestamp("2026-03-20T12:00Z"), 6, 120, 90, "Europe/Berlin", 4
    )
    assert windows[0] == ("2026-03-22T02:00:00+01:00", "2026-03-22T03:30:00+01:00")
    assert windows[2] == ("2026-04-05T02:00:00+02:00", "2026-04-05T03:30:00+02:00")
    assert len(windows) == 4
    starts = [pd.Timestamp(s) for s, _ in windows]
    assert all(b > a for a, b in zip(starts, starts[1:], strict=False))


@pytest.mark.parametrize(
    ("index", "breakage"),
    [
        (0, lambda b: b["service"]["auto_pause_notifications_parameters"].update(timout=300)),
        (0, lambda b: b["service"]["auto_pause_notifications_parameters"].update(timeout=250)),
        (1, lambda b: b["orchestration_path"]["sets"][0]["rules"][0].update(condition=[])),
        (2, lambda b: b["service"].pop("escalation_policy")),
        (4, lambda b: b["maintenance_window"].update(recurrence="weekly")),
        (4, lambda b: b["maintenance_window"].update(start_time="next Sunday")),
        (-3, lambda b: b["alert_grouping_setting"].update(type="smart")),
        (-3, lambda b: b["alert_grouping_setting"].update(id="P1")),
    ],
)
def test_schema_check_catches_a_broken_body(spec: dict, index: int, breakage) -> None:
    artifact = _hand_made()[index]
    assert artifact["target"] == "pagerduty_api"
    check_pagerduty(spec, artifact)
    broken = json.loads(json.dumps(artifact))
    breakage(broken["body"])
    broken["text"] = json.dumps(broken["body"])
    with pytest.raises(AssertionError):
        check_pagerduty(spec, broken)


@pytest.mark.parametrize(
    ("part", "breakage"),
    [
        ("route", lambda f: f.update(group_wiat="30s")),
        ("route", lambda f: f.update(matchers=['alertname=~"(unclosed'])),
        ("inhibit_rules", lambda f: f.update(equals=["namespace"])),
        ("time_intervals", lambda f: f["time_intervals"][0].update(location="Mars/Olympus")),
    ],
)
def test_amtool_catches_a_broken_fragment(part: str, breakage, tmp_path: Path) -> None:
    fragments = [a for a in _hand_made() if a["target"] == "alertmanager"]
    check_alertmanager(fragments, tmp_path)
    broken = json.loads(json.dumps(fragments))
    target = next(a for a in broken if a["part"] == part)
    breakage(target["fragment"])
    shown = {"route": {"routes": [target["fragment"]]}} if part == "route" else None
    target["text"] = yaml.safe_dump(shown or {part: [target["fragment"]]})
    with pytest.raises(AssertionError):
        check_alertmanager(broken, tmp_path)


def test_every_artifact_of_the_canonical_warehouse_validates(
    pipeline_db: Path, spec: dict, tmp_path: Path
) -> None:
    with duckdb.connect(str(pipeline_db), read_only=True) as con:
        recs = con.execute(
            "select recommendation_id, team_id, kind, config_snippet, config_artifacts "
            "from recommendations"
        ).df()
    seen = set()
    for team_id, part in recs.groupby(recs["team_id"].fillna("unowned")):
        fragments = []
        for row in part.itertuples():
            artifacts = json.loads(row.config_artifacts)
            assert artifacts and row.config_snippet == advice.render(artifacts)
            for artifact in artifacts:
                seen.add((row.kind, artifact["target"], artifact.get("part")))
                if artifact["target"] == "pagerduty_api":
                    check_pagerduty(spec, artifact)
                else:
                    fragments.append(artifact)
        if fragments:
            check_alertmanager(fragments, tmp_path / str(team_id))
    # This warehouse's kinds (its groups repeat too rarely for group_alerts: see the hand-made
    # cases above for those artifacts).
    assert {k for k, _, _ in seen} >= {"pause_transient", "maintenance_window"}
    assert ("maintenance_window", "alertmanager", "time_intervals") in seen


def test_write_recommendations_writes_a_checked_alertmanager_file(
    pipeline_db: Path, tmp_path: Path
) -> None:
    written = write_recommendations(pipeline_db, tmp_path / "out")
    configs = [p for p in written if p.name.startswith("alertmanager-")]
    assert configs
    for path in configs:
        run = subprocess.run(
            [amtool(), "check-config", str(path)], capture_output=True, text=True, check=False
        )
        assert run.returncode == 0, run.stdout + run.stderr
