"""Alert templates (contract: ``from etl.grouping import mine_templates``).

The code lives in :mod:`etl.noise.templates`; this module re-exports its public names
(``__all__`` there: mine_templates, mask_summary, template_id, distinct_templates,
MinerSettings, DEFAULT_SETTINGS, WILDCARD).
"""

from etl.noise.templates import *  # noqa: F403 - the re-export is this module's purpose
from etl.noise.templates import __all__  # noqa: F401
