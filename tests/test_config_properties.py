"""Property: any configuration file either loads, or stops the command with exit 2 before any
build, one line per problem naming the file and the section or key (never a traceback).

Files are generated: the schema's own keys and sections mixed with unknown ones, values of
every TOML type (wrong types, NaN, infinities, huge numbers, nested arrays and inline tables,
local times) and undecodable bytes.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from datetime import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from etl.cli import main
from etl.config import SECTIONS, Config, ConfigError, Settings, load_config

KNOWN_KEYS = sorted({key for section in SECTIONS.values() for key in section.model_fields})
NAMES = st.one_of(
    st.sampled_from(KNOWN_KEYS),
    st.sampled_from(list(SECTIONS)),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,12}", fullmatch=True),
)
PLAUSIBLE = st.sampled_from(
    [
        "UTC",
        "Europe/Berlin",
        "Mars/Olympus",
        "08:00",
        "23:30",
        "25:00",
        "sms_notification",
        "P1",
        "",
    ]
)
SCALARS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-5, max_value=50),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
    PLAUSIBLE,
    st.times(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=3),
    max_leaves=6,
)


@st.composite
def sections(draw, dirty: bool) -> dict:
    """A section of the schema with some of its keys: its default, a plausible value of the
    right kind (a number near the range, a zone, a time) or, when ``dirty``, anything."""
    name = draw(st.sampled_from(list(SECTIONS)))
    defaults = getattr(Settings(), name).model_dump()
    keys = draw(st.lists(st.sampled_from(list(defaults)), max_size=3, unique=True))
    body = {}
    for key in keys:
        default = defaults[key]
        if isinstance(default, bool | str | time | list):
            near = PLAUSIBLE
        else:
            near = st.integers(-1, 2 * int(default) + 2) | st.floats(-1, 2 * default + 2)
        body[key] = draw(
            st.one_of(st.just(default), near, VALUES) if dirty else st.just(default) | near
        )
    if dirty and draw(st.booleans()):
        body.update(draw(st.dictionaries(NAMES, VALUES, max_size=2)))
    return {name: body}


@st.composite
def documents(draw) -> dict:
    dirty = draw(st.booleans())
    document: dict = {}
    for part in draw(st.lists(sections(dirty), max_size=4)):
        document.update(part)
    if dirty:
        document.update(
            draw(st.dictionaries(NAMES, VALUES | st.dictionaries(NAMES, VALUES), max_size=2))
        )
    return document


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return "{" + ", ".join(f"{_toml_key(k)} = {_toml(v)}" for k, v in value.items()) + "}"


def render(document: dict) -> str:
    """TOML text: top-level values first, then one [table] per dict-valued key."""
    lines = [f"{_toml_key(k)} = {_toml(v)}" for k, v in document.items() if not isinstance(v, dict)]
    for name, body in document.items():
        if isinstance(body, dict):
            lines.append(f"[{_toml_key(name)}]")
            lines += [f"{_toml_key(k)} = {_toml(v)}" for k, v in body.items()]
    return "\n".join(lines) + "\n"


CONTENTS = st.one_of(
    documents().map(lambda document: render(document).encode()),
    st.binary(max_size=48),
    st.tuples(documents(), st.binary(min_size=1, max_size=4)).map(
        lambda pair: render(pair[0]).encode() + pair[1]
    ),
)


@pytest.fixture
def builds(monkeypatch) -> list:
    """Records the builds that start (with their Config) instead of running them."""
    import etl.transform

    started: list = []
    monkeypatch.setattr(etl.transform, "build", lambda path, config, **_: started.append(config))
    return started


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(content=CONTENTS)
def test_a_config_file_loads_or_exits_2_before_the_build(content, tmp_path, capsys, builds):
    path = tmp_path / "pagerlens.toml"
    path.write_bytes(content)
    db = tmp_path / "w.duckdb"
    db.touch()
    builds.clear()
    capsys.readouterr()

    code = main(["build", "--db", str(db), "--config", str(path)])
    err = capsys.readouterr().err
    event(f"exit {code}")  # --hypothesis-show-statistics: how many loaded

    if code == 0:
        assert err == ""
        assert len(builds) == 1 and isinstance(builds[0], Config)
        assert builds[0] == load_config(path)
        return
    assert code == 2, err
    assert builds == [], "a build started with an invalid configuration"
    with pytest.raises(ConfigError):
        load_config(path)
    _assert_each_line_names_a_key(err, path, content)


def _assert_each_line_names_a_key(err: str, path: Path, content: bytes) -> None:
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines and err.endswith("\n")
    try:
        document = tomllib.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        [line] = lines
        assert re.fullmatch(
            rf"pagerlens: error: {re.escape(str(path))}: (invalid TOML: .+|not a TOML "
            r"configuration \(not UTF-8 text: byte \d+ cannot be decoded\))",
            line,
        ), line
        return
    for line in lines:
        prefix = f"pagerlens: error: {path}: "
        assert line.startswith(prefix), line
        problem = line[len(prefix) :]
        section = re.match(r"\[([^\]]+)\]|([A-Za-z0-9_-]+): a key outside", problem)
        assert section, problem
        name = section.group(1) or section.group(2)
        assert name in document, (name, problem)  # a key the file actually has
        assert re.match(r"(\[[^\]]+\]( [\w\[\], -]+)?|[\w-]+): \S", problem), problem
