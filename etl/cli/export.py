"""``pagerlens export``: the public marts (and the raw layer) for a lake (see :mod:`etl.export`)."""

from __future__ import annotations

import click

from etl.cli.base import Failure, _db, cli, db_option, out_option, setting_option


def _catalog_options(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]):
    """``KEY=VALUE`` pairs as a dict; a pair without ``=`` is a usage error (exit 2)."""
    options = {}
    for value in values:
        key, sep, setting = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{value!r}: expected KEY=VALUE, for example type=glue")
        options[key.strip()] = setting
    return options


@cli.command()
@db_option
@out_option("pagerlens-lake", "Export directory (Parquet) or local Iceberg catalog directory.")
@setting_option(
    "--format",
    "parquet",
    click.Choice(["parquet", "iceberg"]),
    "Parquet files with a manifest, or Apache Iceberg tables.",
    dest="kind",
)
@click.option("--raw", is_flag=True, help="Export the raw layer (raw_*) too.")
@click.option(
    "--catalog-uri",
    default=None,
    help="Iceberg: a REST catalog URL (default: a SQLite catalog under --out).",
)
@click.option(
    "--catalog-option",
    "catalog_options",
    multiple=True,
    callback=_catalog_options,
    help="Iceberg: a pyiceberg catalog property KEY=VALUE (repeatable), e.g. type=glue.",
)
@click.option("--namespace", default="pagerlens", show_default=True, help="Iceberg: the namespace.")
def export(db_path, out_dir, kind, raw, catalog_uri, catalog_options, namespace):
    """Export the public marts as Parquet or Iceberg tables, for a lake.

    Parquet: one directory per table under DIR, zstd, hive-partitioned by week_start where a
    table has it, with DIR/manifest.json (schema, row counts, source build, written at). A run
    is atomic: DIR is a symlink switched to the new run only once it is complete. Iceberg: one
    table per mart in a catalog; a later run adds snapshots only for what changed.
    The warehouse is read read-only: a running sync is never blocked.

    \b
    Example:
        pagerlens export --out /srv/lake/pagerlens
        pagerlens export --format iceberg --raw --out /srv/lake/iceberg
        pagerlens export --format iceberg --catalog-uri https://catalog.example.com/api
    """
    from etl.export import ExportError, NotBuilt, export_parquet

    path = _db(db_path)
    if not path.exists():
        raise Failure(f"no warehouse at {path}: run `pagerlens sync` or `pagerlens demo` first")
    if kind == "parquet" and (catalog_uri or catalog_options):
        raise click.UsageError("--catalog-uri and --catalog-option are for --format iceberg")
    try:
        if kind == "parquet":
            result = export_parquet(path, out_dir, raw=raw)
        else:
            result = _export_iceberg(path, out_dir, raw, catalog_uri, catalog_options, namespace)
    except (ExportError, NotBuilt) as exc:
        raise Failure(str(exc)) from None
    for table in result.tables:
        click.echo(_table_line(table))
    click.echo(result.log_line())


def _export_iceberg(path, out_dir, raw, catalog_uri, catalog_options, namespace):
    try:
        from etl.export.iceberg import export_iceberg, open_catalog
    except ImportError as exc:
        raise Failure(
            f"--format iceberg needs pyiceberg ({exc.name} is missing):"
            " pip install 'pagerlens[lake]'"
        ) from None
    catalog = open_catalog(out_dir, catalog_uri, catalog_options)
    return export_iceberg(path, raw=raw, catalog=catalog, namespace=namespace)


def _table_line(table) -> str:
    if hasattr(table, "action"):
        return f"{table.name}: {table.action}, {table.rows_written} rows written"
    return f"{table.name}: {table.rows} rows, {table.files} files, {table.bytes} bytes"
