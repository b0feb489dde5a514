"""The noise marts' inputs, read from the noise layer's models (``etl/models/noise/``, run by
the model runner) into narrow frames."""

from __future__ import annotations

import re

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from etl.sqlfiles import sql_text

# resolved_at: storms are also told apart by incidents that resolve together (joint events).
GROUPING_COLUMNS = [
    "incident_id",
    "created_at",
    "resolved_at",
    "template_id",
    "template",
    "service_id",
]


# Few distinct values per column: categoricals keep the frame small and its row selections cheap.
CATEGORY_COLUMNS = (
    "template_id",
    "template",
    "service_id",
    "service_name",
    "team_id",
    "team_name",
    "noise_reason",
)


def _frame(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    values: dict[str, object] | None = None,
    categories: tuple[str, ...] = (),
) -> pd.DataFrame:
    """A query's result as a DataFrame, read through Arrow (a third of ``.df()``'s time on
    string columns); the ``categories`` columns arrive as pandas categoricals."""
    table = con.sql(sql, params=values or None).to_arrow_table()
    for name in categories:
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, pc.dictionary_encode(table.column(name)))
    frame = table.to_pandas()
    for name, kind in zip(table.schema.names, table.schema.types, strict=True):
        if pa.types.is_timestamp(kind):
            frame[name] = pd.to_datetime(frame[name], utc=True)
    return frame


def fill_summaries_from_alerts(con: duckdb.DuckDBPyConnection) -> None:
    """The first alert's summary for incidents whose trigger entry carried none (parsing the
    alerts' JSON is skipped when every incident has its event summary)."""
    ((missing,),) = con.execute(
        "select count(*) from noise_incidents where not has_event_summary"
    ).fetchall()
    if missing:
        con.execute(sql_text("noise/sql/fill_alert_summaries.sql"))


def read_incidents(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The incidents with their alert type, in creation order: the structured type
    (``noise_structured_types``, :mod:`etl.noise.alert_types`) where the integration sent one,
    else the text template (``noise_summary_templates``); ``identity_source`` says which."""
    frame = _frame(
        con,
        "select base.* exclude (summary, has_event_summary, details_log_entry_id, details_hash), "
        "coalesce(typed.template_id, map.template_id) as template_id, "
        "coalesce(typed.template, map.template) as template, "
        "coalesce(typed.identity_source, 'text') as identity_source "
        "from noise_incidents as base join noise_summary_templates as map using (summary) "
        "left join noise_structured_types as typed using (incident_id) "
        "order by base.created_at, base.incident_id",
        categories=(*CATEGORY_COLUMNS, "identity_source"),
    )
    # The alert type's categories in text order, whatever order the rows came in.
    for name in ("template_id", "template", "identity_source"):
        frame[name] = frame[name].cat.set_categories(sorted(frame[name].cat.categories))
    return frame


def read_replay_notifications(
    con: duckdb.DuckDBPyConnection, params: dict[str, object], replay_start: pd.Timestamp
) -> pd.DataFrame:
    """The notifications of the incidents created after ``replay_start``
    (``noise/sql/noise_notifications.sql``); ``params``: the configuration's SQL parameters."""
    sql = sql_text("noise/sql/noise_notifications.sql")
    values = _params(sql, params | {"replay_start": replay_start})
    return _frame(con, sql, values, categories=("user_id",))


def _params(sql: str, values: dict[str, object]) -> dict[str, object]:
    """The ``values`` the SQL names (``$name``), as DuckDB wants exactly those."""
    names = set(re.findall(r"\$([a-z_][a-z0-9_]*)", re.sub(r"--[^\n]*", "", sql)))
    return {k: v for k, v in values.items() if k in names}
