"""Readers' outputs: the weekly reliability review (PDF, CSV, Parquet) and the chart builders
shared with the dashboard. Everything here reads the published warehouse through ``etl.queries``
and never writes it.

The public entry point for other packages is :func:`write_report` (and :class:`ReportError`),
re-exported here: the dashboard's report download and the CLI use it rather than the modules of
``reports.weekly``. It is imported on first use, so ``import reports.charts`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reports.weekly import ReportError, write_report

__all__ = ["ReportError", "write_report"]


def __getattr__(name: str) -> object:
    if name in __all__:
        import reports.weekly

        return getattr(reports.weekly, name)
    raise AttributeError(f"module 'reports' has no attribute {name!r}")
