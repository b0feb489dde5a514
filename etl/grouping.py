"""Alert templates (contract: ``from etl.grouping import mine_templates``).

The code lives in :mod:`etl.noise.templates`; this module re-exports its public names.
"""

from etl.noise.templates import (
    DEFAULT_SETTINGS,
    WILDCARD,
    MinerSettings,
    distinct_templates,
    mask_summary,
    mine_templates,
    template_id,
)

__all__ = [
    "DEFAULT_SETTINGS",
    "WILDCARD",
    "MinerSettings",
    "distinct_templates",
    "mask_summary",
    "mine_templates",
    "template_id",
]
