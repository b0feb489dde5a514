"""Compare two warehouses table by table: the check that a refactoring left the marts alone.

    .venv/bin/python bench/compare_marts.py BEFORE.duckdb AFTER.duckdb
    .venv/bin/python bench/compare_marts.py --summary WAREHOUSE.duckdb OUT.json
    .venv/bin/python bench/compare_marts.py --build SYNCED.duckdb OUT.duckdb

The first form compares every table of both files row for row (as multisets: row order
carries no meaning), ignoring only the columns that differ from one build to the next
(``IGNORED``: build ids, timings, timestamps of the run). It prints one line per table and
exits 1 when a table present in both differs; tables present in only one file are listed
(a new helper model is expected there, a missing mart is not).

The second form rebuilds a copy of the warehouse with the code next to this script (so a copy
of the script in an older checkout builds with that checkout) and writes the build summary's
noise figures, without timings, as JSON: compare two such files with ``diff``.

The third copies a synced warehouse to OUT keeping only what a sync writes (``SYNCED``: the
raw tables and the sync's bookkeeping, everything else is dropped, so no table of an earlier
build survives) and builds OUT with the code next to this script: run it from two checkouts
on one synced file, then compare the two outputs with the first form.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]

# Columns that change with every build, whatever the data.
IGNORED = {
    "_build_runs": ("build_id", "seconds", "finished_at"),
}
# Rows compared: of the build log, the latest build's only (a file holds every build's rows).
ROWS = {
    "_build_runs": "where build_id = (select arg_max(build_id, finished_at) from {t})",
}


def _tables(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, list[str]]:
    rows = con.execute(
        "select table_name, column_name from duckdb_columns() "
        "where database_name = ? and schema_name = 'main' order by table_name, column_index",
        [catalog],
    ).fetchall()
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        tables.setdefault(table, []).append(column)
    return tables


def _rows(catalog: str, table: str, columns: list[str]) -> str:
    """The query of a table's compared rows. Names come from the files' own catalogs, quoted."""
    name = f'{catalog}."{table}"'
    kept = ", ".join(f'"{c}"' for c in columns)
    return f"select {kept} from {name} " + ROWS.get(table, "").format(t=name)  # noqa: S608


def compare(before: Path, after: Path, skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Per table: (name, verdict) with verdict "equal (n rows)", a difference, or
    "only in before/after". Tables whose name starts with one of ``skip`` are left out."""
    con = duckdb.connect()
    # Spill rather than grow: two 1M-incident warehouses compared took 19 GB and were killed.
    con.execute("set memory_limit = '4GB'")
    con.execute("attach ? as a (read_only)", [str(before)])
    con.execute("attach ? as b (read_only)", [str(after)])
    left, right = _tables(con, "a"), _tables(con, "b")
    verdicts = []
    for table in sorted(left.keys() | right.keys()):
        if table.startswith(skip):
            continue
        if table not in right or table not in left:
            verdicts.append((table, f"only in {'before' if table in left else 'after'}"))
            continue
        if left[table] != right[table]:
            verdicts.append((table, f"columns differ: {left[table]} vs {right[table]}"))
            continue
        kept = [c for c in left[table] if c not in IGNORED.get(table, ())]
        queries = {x: _rows(x, table, kept) for x in "ab"}
        counts = [
            con.execute(f"select count(*) from ({queries[x]} except all {queries[y]})").fetchall()[  # noqa: S608
                0
            ][0]
            for x, y in (("a", "b"), ("b", "a"))
        ]
        rows, rows_after = (
            con.execute(f"select count(*) from ({queries[x]})").fetchall()[0][0]  # noqa: S608
            for x in "ab"
        )
        if counts == [0, 0]:
            verdicts.append((table, f"equal ({rows} rows)"))
        else:
            verdicts.append(
                (
                    table,
                    f"DIFFER: {rows} vs {rows_after} rows; {counts[0]} only before, "
                    f"{counts[1]} only after",
                )
            )
    con.close()
    return verdicts


# What a sync writes; every other table is the build's.
SYNCED = ("_sync_runs", "_watermarks", "_rejects")


def build_copy(synced: Path, out: Path) -> None:
    """Copy ``synced`` to ``out``, drop every table a build makes, build ``out`` here."""
    sys.path.insert(0, str(REPO))
    from etl.config import load_config
    from etl.transform import build

    shutil.copy(synced, out)
    con = duckdb.connect(str(out))
    built = [
        (name, kind)
        for name, kind in con.execute(
            "select table_name, 'table' from duckdb_tables() union all "
            "select view_name, 'view' from duckdb_views() where not internal"
        ).fetchall()
        if not name.startswith("raw_") and name not in SYNCED
    ]
    for name, kind in built:
        con.execute(f'drop {kind} "{name}"')
    con.close()
    summary = build(out, load_config())
    print(f"built {out} with {REPO}: {summary.rows('incidents')} incidents", flush=True)


def build_summary(db: Path, out: Path) -> None:
    """Rebuild a copy of ``db`` and write its summary's noise figures (no timings) to ``out``."""
    sys.path.insert(0, str(REPO))
    from etl.config import load_config
    from etl.transform import build

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "w.duckdb"
        shutil.copy(db, copy)
        summary = build(copy, load_config())
    noise = dict(summary.noise or {})
    noise.pop("seconds", None)
    steps = [[r.name, r.layer, r.rows, r.status] for r in summary.runs]
    out.write_text(json.dumps({"noise": noise, "steps": steps}, indent=1, default=str) + "\n")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--summary", action="store_true", help="FIRST: warehouse, SECOND: JSON")
    parser.add_argument(
        "--build", action="store_true", help="FIRST: synced warehouse, SECOND: the built copy"
    )
    args = parser.parse_args(argv)
    if args.summary:
        build_summary(args.first, args.second)
        return 0
    if args.build:
        build_copy(args.first, args.second)
        return 0
    verdicts = compare(args.first, args.second)
    width = max((len(t) for t, _ in verdicts), default=0)
    for table, verdict in verdicts:
        print(f"{table:<{width}}  {verdict}")
    return 1 if any(v.startswith(("DIFFER", "columns")) for _, v in verdicts) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
