"""Readers' outputs: the weekly reliability review (PDF, CSV, Parquet) and the chart builders
shared with the dashboard. Everything here reads the published warehouse through ``etl.queries``
and never writes it."""
