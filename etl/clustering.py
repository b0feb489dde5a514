"""The co-firing groups' old path: :mod:`etl.noise.groups` holds them (bench/bench_grouping.py
and the configuration tests import from here)."""

from etl.noise.groups import GroupingResult, find_groups
from etl.noise.settings import GroupingSettings

__all__ = ["GroupingResult", "GroupingSettings", "find_groups"]
