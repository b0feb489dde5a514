"""The scale generator writes exactly the loader's bytes: every raw row, hashed.

``generate_to_warehouse`` encodes with orjson (simulator/generate.py ``_dumps``) for speed;
the loader (etl/load.py) and every warehouse reader expect the standard library's canonical
JSON. These tests hold the two to the same bytes: on a whole generated account, on every
Unicode character, and on the value types the simulator emits.
"""

from __future__ import annotations

import hashlib
import json
import math
import random

import duckdb
import orjson
import pytest

from etl.load import incident_reference, oncall_id
from etl.warehouse import RAW_RESOURCES
from simulator._common import LOG_SLOTS, IdFactory
from simulator.account import generate_account
from simulator.dependencies import account_answers
from simulator.generate import _dumps, generate_to_warehouse
from tests.conftest import SIM_END as END

# The loader's canonical encoder (etl/load.py _canonical_json), written out here so a change
# on either side shows up as a difference instead of moving both.
CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def _table_digest(rows: list[tuple[str, str]]) -> tuple[int, str]:
    digest = hashlib.sha256()
    for row_id, payload in sorted(rows):
        digest.update(f"{row_id}\t{payload}\n".encode())
    return len(rows), digest.hexdigest()


def _expected_rows(account) -> dict[str, list[tuple[str, str]]]:
    """Every raw row of the account, encoded by the loader's encoder from the in-memory model."""
    rows: dict[str, list[tuple[str, str]]] = {"incidents": [], "log_entries": [], "alerts": []}
    for sim in account.incidents:
        rows["incidents"].append((sim.incident["id"], CANONICAL(sim.incident)))
        reference = incident_reference(sim.incident)
        for entry in sim.log_entries:
            rows["log_entries"].append((entry["id"], CANONICAL(dict(entry, incident=reference))))
        for alert in sim.alerts:
            rows["alerts"].append((alert["id"], CANONICAL(alert)))
    for name, objects in account.api_objects().items():
        if name in rows:
            continue
        key = oncall_id if name == "oncalls" else (lambda o: o["id"])
        rows[name] = [(key(o), CANONICAL(o)) for o in objects]
    rows["service_dependencies"] = [
        (key, CANONICAL({"id": key, **answer})) for key, answer in account_answers(account).items()
    ]
    return rows


@pytest.mark.parametrize("workers", [0, 2], ids=["in-process", "two-workers"])
def test_every_raw_row_is_the_loaders_json(tmp_path, workers):
    db = tmp_path / "bytes.duckdb"
    generate_to_warehouse(db, seed=5, days=3, scale=1.5, end=END, workers=workers)
    expected = _expected_rows(generate_account(seed=5, days=3, scale=1.5, end=END))
    con = duckdb.connect(str(db), read_only=True)
    try:
        for resource in RAW_RESOURCES:
            stored = con.execute(f"select id, payload::varchar from raw_{resource}").fetchall()
            assert _table_digest(stored) == _table_digest(expected.get(resource, [])), resource
    finally:
        con.close()
    assert sum(len(rows) for rows in expected.values()) > 1000


def _values(obj):
    """Every scalar and every dict key inside a JSON-like object."""
    stack = [obj]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                yield ("key", key)
                stack.append(item)
        elif isinstance(value, list | tuple):
            stack.extend(value)
        else:
            yield ("value", value)


def _encoded_alike(kind: str, value) -> bool:
    """Whether orjson and the canonical encoder are known to write this key or value alike."""
    if kind == "key":
        return type(value) is str
    if value is None or type(value) in (str, bool):
        return True
    if type(value) is int:
        return -(2**63) <= value < 2**64
    if type(value) is float:
        return math.isfinite(value) and (value == 0 or abs(value) >= 1e-4)
    return False


def test_the_simulator_emits_only_values_orjson_encodes_alike():
    account = generate_account(seed=11, days=10, scale=2, end=END)
    objects = [obj for part in account.api_objects().values() for obj in part]
    for sim in account.incidents:
        objects += [sim.incident, *sim.log_entries, *sim.alerts]
    odd = {
        f"{kind} {value!r}"
        for obj in objects
        for kind, value in _values(obj)
        if not _encoded_alike(kind, value)
    }
    assert not odd


def test_orjson_writes_the_canonical_bytes_for_every_character():
    characters = [chr(cp) for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF]
    for start in range(0, len(characters), 4096):
        block = characters[start : start + 4096]
        record = {"text": "".join(block), "list": block[:64], **{c: 1 for c in block[:64]}}
        assert _dumps(record) == CANONICAL(record).encode()


def test_orjson_writes_the_canonical_bytes_for_nested_records_numbers_and_keys():
    rng = random.Random(3)
    floats = [rng.uniform(-1e6, 1e6) for _ in range(2000)]
    floats += [10 ** rng.uniform(-4, 20) for _ in range(2000)]
    floats += [0.0, -0.0, 1e-4, 0.1, 1.0, 2.5, 1e15, 1e16, 1e22, 1.7976931348623157e308]
    record = {
        "é": {"b": [1, {"z": None, "a": True}], "a": 'ü\n\t"\\\x00\x1f\x7f\u2028'},
        "Z": [[], {}, "", False, 0, -1, 2**53, 2**63 - 1, -(2**63), 2**64 - 1],
        "\U0001f600": {"nested": {"deeper": {"deepest": ["x"]}}},
        "floats": floats,
    }
    assert _dumps(record) == CANONICAL(record).encode()


def test_where_orjson_and_the_canonical_encoder_differ():
    """What _encoded_alike keeps out: tiny floats and NaN are written differently."""
    assert orjson.dumps(1e-05) == b"0.00001" and CANONICAL(1e-05) == "1e-05"
    assert orjson.dumps(math.nan) == b"null" and CANONICAL(math.nan) == "NaN"


def test_ids_are_the_affine_bijection_written_out():
    """The table-driven pd_id and masked log_id give the ids of the plain formulas."""
    ids = IdFactory(7)
    a, b, a25, b25 = ids._a, ids._b, ids._a25, ids._b25
    rng = random.Random(5)
    for counter in [0, 1, 35, 36, 36**3, 36**6 - 1, *(rng.randrange(10**9) for _ in range(3000))]:
        x, digits = (a * counter + b) % 36**6, ""
        for _ in range(6):
            x, r = divmod(x, 36)
            digits += "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[r]
        assert ids.pd_id(counter) == "P" + digits
    for number, index in [(1, 0), (10**7, 1023), *((rng.randrange(10**7), 7) for _ in range(3000))]:
        expected = f"R{(a25 * (number * LOG_SLOTS + index) + b25) % 16**25:025X}"
        assert ids.log_id(number, index) == expected
