"""The text template of every summary (the temp table ``noise_summary_templates``), with each
summary's masked form remembered between builds.

Mining templates is two stages (:mod:`etl.noise.templates`): masking each distinct summary, a
function of the summary alone and most of the time (at a million incidents 1.0 of 1.3 s, for
281,588 distinct summaries), then inferring the templates over the batch's masked forms
(1,229 there), which depends on the whole batch. So the masked forms are kept in
:data:`MEMO` and a nightly build masks only the summaries it has not seen (a few thousand);
the inference runs over every masked form, weighted by its summaries, as a full mining
does: the templates are the same as ``mine_templates`` over the distinct summaries
(``tests/etl/test_summary_masks.py``). The memo is emptied whenever the masking code changes
(:func:`_masking_fingerprint`) and by ``pagerlens build --full``.
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa

from etl import incremental
from etl.noise.templates import mask_distinct, template_id, templates_of_masked

MEMO = "_noise_summary_masks"
MEMO_SCHEMA = f"""
create table if not exists {MEMO} (
    summary varchar not null,
    masked varchar not null
);
"""

_MASKING_FILES = ("masking.py", "token_masks.py")


def new_summaries(con: duckdb.DuckDBPyConnection, *, reuse: bool = True) -> list[str]:
    """The distinct summaries of ``noise_incidents`` whose masked form is not remembered (all
    of them unless ``reuse`` and the masking code is the one that filled the memo); drops the
    remembered ones no incident has any more."""
    con.execute(MEMO_SCHEMA)
    fingerprint = _masking_fingerprint()
    if not reuse or incremental.kept_fingerprint(con, MEMO) != fingerprint:
        con.execute(f"delete from {MEMO}")  # noqa: S608
        incremental.keep_fingerprint(con, MEMO, fingerprint)
    con.execute(
        "create or replace temp table noise_distinct_summaries as"
        " select distinct summary from noise_incidents where summary is not null"
    )
    con.execute(
        f"delete from {MEMO} as memo where not exists"  # noqa: S608
        " (select 1 from noise_distinct_summaries as d where d.summary = memo.summary)"
    )
    unseen = (
        "select summary from noise_distinct_summaries as d"  # noqa: S608
        f" anti join {MEMO} as memo on memo.summary = d.summary order by summary"
    )
    summaries = [summary for (summary,) in con.execute(unseen).fetchall()]
    con.execute("drop table noise_distinct_summaries")
    return summaries


def mask(summaries: list[str]) -> tuple[pa.Table, float]:
    """The masked form of each summary (the empty summary's is empty) and the seconds it took
    (Python alone: the caller runs it beside its SQL)."""
    started = time.perf_counter()
    masked_of = mask_distinct(summary for summary in summaries if summary)
    table = pa.table(
        {
            "summary": pa.array(summaries, pa.string()),
            "masked": pa.array([masked_of.get(s, "") for s in summaries], pa.string()),
        }
    )
    return table, time.perf_counter() - started


def write_summary_templates(con: duckdb.DuckDBPyConnection, masked: pa.Table) -> float:
    """Remember the ``masked`` forms of the new summaries (:func:`mask`), infer the templates
    over every masked form and write the temp table ``noise_summary_templates`` (summary,
    template, template_id); the seconds the inference took."""
    con.register("noise_new_masks", masked)
    try:
        con.execute(f"insert into {MEMO} select summary, masked from noise_new_masks")  # noqa: S608
    finally:
        con.unregister("noise_new_masks")
    # Each masked form weighs as many distinct summaries as it stands for, empty ones aside,
    # as in mine_templates over the distinct summaries.
    weights = dict(
        con.execute(
            f"select masked, count(*) from {MEMO} where summary <> '' group by masked"  # noqa: S608
        ).fetchall()
    )
    started = time.perf_counter()
    templates = templates_of_masked(weights)
    ids = {t: template_id(t) for t in set(templates.values())}
    seconds = time.perf_counter() - started
    rows = pa.table(
        {
            "masked": pa.array(list(templates), pa.string()),
            "template": pa.array(list(templates.values()), pa.string()),
            "template_id": pa.array([ids[t] for t in templates.values()], pa.string()),
        }
    )
    con.register("noise_mask_templates", rows)
    try:
        con.execute(
            "create or replace temp table noise_summary_templates as"  # noqa: S608
            " select memo.summary, t.template, t.template_id"
            f" from {MEMO} as memo join noise_mask_templates as t using (masked)"
        )
    finally:
        con.unregister("noise_mask_templates")
    return seconds


def _masking_fingerprint() -> str:
    """The code that masks a summary (stage 1) and the Python that runs its expressions."""
    digest = hashlib.sha256(sys.version.encode())
    package = Path(__file__).with_name("templates")
    for name in _MASKING_FILES:
        digest.update((package / name).read_bytes())
    return digest.hexdigest()
