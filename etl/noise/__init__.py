"""Noise intelligence: alert templates, co-firing alert groups and noise-reduction
recommendations (docs/grouping.md).

The build's model runner (:mod:`etl.transform`) runs the noise layer's SQL models
(``etl/models/noise/``) and then :func:`build_noise_marts` on the open build connection, which
writes three public tables:

- ``alert_templates``: one row per alert type (template) and service, with counts, first and
  last seen, shares auto-resolved / acknowledged / waking someone, median time to resolve;
- ``alert_groups``: alert types that fire together across services (:mod:`etl.noise.groups`),
  with occurrences, spread in time, examples, model figures;
- ``recommendations``: one row per change an owning team could make
  (:mod:`etl.noise.rules`, :mod:`etl.noise.group_rule`), with its evidence, a ready-to-paste
  configuration snippet, and the counterfactual of replaying the last ``replay_weeks`` weeks
  of history with the change (:mod:`etl.noise.replay`);

and one helper table ``int_incident_noise`` (incident -> template, group, flapping flag).
:func:`write_recommendations` renders the published table as CSV plus one Markdown file per
team (``pagerlens recommend``).

Modules, in the order data flows: ``settings``; ``inputs`` (frames from the models);
``templates`` (``mine_templates``, re-exported by ``etl.grouping``); ``flapping``; ``groups``
(``find_groups``) with ``cofiring``, ``joint_events``, ``occurrences`` and ``decoys``;
``rules``, ``group_rule``, ``replay`` and ``recommend``; ``outputs`` (tables and files);
``marts`` (the build's step).
"""

from etl.noise.cofiring import cooccurrence_similarity
from etl.noise.flapping import flag_flapping
from etl.noise.groups import GroupingResult, find_groups
from etl.noise.joint_events import joint_event_similarity
from etl.noise.marts import build_noise_marts
from etl.noise.outputs import (
    ALERT_GROUP_SCHEMA,
    RECOMMENDATION_COLUMNS,
    RECOMMENDATION_SCHEMA,
    write_recommendations,
)
from etl.noise.recommend import build_recommendations
from etl.noise.replay import Replay, replay_window
from etl.noise.rules import AUTO_PAUSE_TIMEOUTS
from etl.noise.settings import GroupingSettings, NoiseSettings, load_settings

# The configuration tests read settings as the noise step does (tests/test_config.py).
_settings = load_settings

__all__ = [
    "ALERT_GROUP_SCHEMA",
    "AUTO_PAUSE_TIMEOUTS",
    "RECOMMENDATION_COLUMNS",
    "RECOMMENDATION_SCHEMA",
    "GroupingResult",
    "GroupingSettings",
    "NoiseSettings",
    "Replay",
    "build_noise_marts",
    "build_recommendations",
    "cooccurrence_similarity",
    "find_groups",
    "flag_flapping",
    "joint_event_similarity",
    "load_settings",
    "replay_window",
    "write_recommendations",
]
