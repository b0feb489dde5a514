"""Configuration: the thresholds of docs/metrics.md, read from TOML and checked against one schema.

Order of precedence: an explicit path, then ``PAGERLENS_CONFIG``, then ``./pagerlens.toml`` if it
exists, over the defaults. Secrets never live here: the API token comes from
``PAGERDUTY_API_TOKEN`` or a token file.

The schema (:class:`Settings`, one pydantic model per TOML section) is the single statement of
every key: its type, its range, its default and its description. ``etl/defaults.toml`` is
rendered from it (``python -m etl.config > etl/defaults.toml``; a test fails when the file is
stale), and a file is checked against it before any network call or build step: every problem
is reported at once, each naming the file, section and key, and nothing downstream ever sees an
unknown key, a wrong type, NaN or a value out of range.

pydantic rather than msgspec: msgspec stops at the first error, while a hand-edited file
deserves every problem in one go; pydantic reports them all with their location, rejects
unknown keys (``extra="forbid"``) and non-finite numbers, and keeps each field's description
and bounds where :func:`render_defaults` can read them.

Modules: :mod:`~etl.config.schema` (the sections and :class:`Settings`),
:mod:`~etl.config.flat` (:class:`Config`, what the rest of pagerlens reads),
:mod:`~etl.config.loading` (files, precedence, error messages) and
:mod:`~etl.config.render` (``defaults.toml``).
"""

from etl.config.flat import Config
from etl.config.loading import (
    Effective,
    config_path,
    default_db_path,
    effective_config,
    load_config,
)
from etl.config.render import render_defaults
from etl.config.schema import (
    DAY,
    DEFAULT_DB,
    DEFAULTS_PATH,
    NOTIFICATION_TYPES,
    SECTIONS,
    WEEK,
    ConfigError,
    Settings,
)
from etl.config.text import toml_value

__all__ = [
    "DAY",
    "DEFAULT_DB",
    "DEFAULTS_PATH",
    "NOTIFICATION_TYPES",
    "SECTIONS",
    "WEEK",
    "Config",
    "ConfigError",
    "Effective",
    "Settings",
    "config_path",
    "default_db_path",
    "effective_config",
    "load_config",
    "render_defaults",
    "toml_value",
]
