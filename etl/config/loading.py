"""Reading a configuration file and checking it against the schema, with one actionable line
per problem."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

from pydantic import (
    ValidationError,
)

from etl.config.flat import Config
from etl.config.schema import (
    _DEFAULTS,
    DEFAULT_DB,
    NOTIFICATION_TYPES,
    SECTIONS,
    ConfigError,
    Settings,
)
from etl.config.text import _did_you_mean, _number_text, _shown

# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class Effective:
    """One key of the effective configuration and where its value came from."""

    section: str
    key: str
    value: object
    origin: str  # "default" or the file that set it


def config_path(path: str | os.PathLike | None = None) -> Path | None:
    """The file :func:`load_config` reads: ``path``, ``$PAGERLENS_CONFIG``, ``./pagerlens.toml``
    if it exists, else none (the defaults alone)."""
    candidate = path or os.environ.get("PAGERLENS_CONFIG")
    if candidate is None and Path("pagerlens.toml").exists():
        candidate = "pagerlens.toml"
    return Path(candidate) if candidate is not None else None


def load_config(path: str | os.PathLike | None = None) -> Config:
    """Read and check the configuration; raise :class:`ConfigError` listing every problem."""
    settings, _, source = _load(path)
    sources = ("defaults",) if source is None else ("defaults", str(source))
    return Config.from_settings(settings, sources)


def effective_config(path: str | os.PathLike | None = None) -> tuple[Path | None, list[Effective]]:
    """The file read (or none) and every key's effective value with its origin."""
    settings, raw, source = _load(path)
    rows = []
    for section in SECTIONS:
        given = raw.get(section, {})
        values = getattr(settings, section)
        for key in type(values).model_fields:
            origin = str(source) if key in given else "default"
            rows.append(Effective(section, key, getattr(values, key), origin))
    return source, rows


def _load(path: str | os.PathLike | None) -> tuple[Settings, dict, Path | None]:
    source = config_path(path)
    if source is None:
        return _DEFAULTS, {}, None
    raw = _read_toml(source)
    try:
        return Settings.model_validate(raw), raw, source
    except ValidationError as exc:
        raise ConfigError([f"{source}: {_problem(error)}" for error in exc.errors()]) from None


def _read_toml(source: Path) -> dict:
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"configuration file not found: {source}") from None
    except IsADirectoryError:
        raise ConfigError(f"{source}: is a directory, not a TOML configuration file") from None
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the configuration: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{source}: not a TOML configuration (not UTF-8 text: byte {exc.start} cannot be "
            "decoded)"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from None


# --------------------------------------------------------------------------- messages


def _problem(error: Any) -> str:
    """One pydantic error as ``[section] key: what is wrong (what to do)``."""
    loc = error["loc"]
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        return _unknown(loc)
    where = _where(loc)
    if kind == "config_order":
        return f"[{loc[0]}] {ctx['keys']}: {ctx['problem']}"
    if kind in {"model_type", "model_attributes_type"} and len(loc) == 1:
        return f"[{loc[0]}]: must be a section ([{loc[0]}] with its keys), got {_shown(value)}"
    if kind == "value_error":
        return f"{where}: {ctx['error']}"
    if kind == "literal_error" and isinstance(value, str):
        hint = _did_you_mean(value, NOTIFICATION_TYPES) or (
            f" (one of {', '.join(NOTIFICATION_TYPES)})"
        )
        return f"{where}: unknown notification type {_shown(value)}{hint}"
    return f"{where}: {_expectation(kind, ctx, error['msg'])}, got {_shown(value)}"


def _where(loc: tuple) -> str:
    section, *rest = loc
    if not rest:
        return f"[{section}]"
    key = str(rest[0]) + "".join(f"[{part}]" for part in rest[1:])
    return f"[{section}] {key}"


def _unknown(loc: tuple) -> str:
    name = str(loc[-1])
    owners = [section for section, kind in SECTIONS.items() if name in kind.model_fields]
    if len(loc) == 1:
        if owners:
            return f"{name}: a key outside any section; it belongs in [{owners[0]}]"
        hint = _did_you_mean(name, SECTIONS) or f" (sections: {', '.join(SECTIONS)})"
        return f"[{name}]: unknown section{hint}"
    section = str(loc[0])
    if owners:
        return f"[{section}] {name}: unknown key here; it belongs in [{owners[0]}]"
    hint = _did_you_mean(name, SECTIONS[section].model_fields) or (
        f" (the keys of [{section}] are listed in etl/defaults.toml)"
    )
    return f"[{section}] {name}: unknown key{hint}"


_EXPECTED = {
    "int_type": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "finite_number": "expected a finite number",
    "string_type": "expected a string in quotes",
    "list_type": 'expected a list, for example ["a", "b"]',
    "time_type": 'expected a local time "HH:MM"',
    "too_short": "expected at least one value",
}


# pydantic's range errors, with the bound as the file would write it.
_BOUNDS = {
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be more than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
}


def _expectation(kind: str, ctx: dict, message: str) -> str:
    if kind in _BOUNDS:
        return _BOUNDS[kind].format(**{k: _number_text(v) for k, v in ctx.items()})
    return _EXPECTED.get(kind, message[0].lower() + message[1:])


def _clock_text(value: time) -> str:
    return value.isoformat("seconds" if value.second else "minutes")


def default_db_path() -> Path:
    """``PAGERLENS_DB``, else ``./pagerlens.duckdb``."""
    return Path(os.environ.get("PAGERLENS_DB", DEFAULT_DB))
