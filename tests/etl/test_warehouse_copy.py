"""The writer's private copy of the warehouse (etl.warehouse.copy_file): a reflink clone where
the filesystem shares blocks (XFS, btrfs), a byte copy elsewhere; either way an independent
file, and the publish cycle (building()) keeps its guarantees on both.

The clone itself needs a reflink filesystem: ``PAGERLENS_TEST_REFLINK_DIR`` names a directory
on one (.ci/run mounts a small XFS image there when it runs as root); without it that test is
skipped with the reason, and the byte-copy path is tested on the machine's own filesystem.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import duckdb
import pytest

from etl import warehouse
from etl.warehouse import building, copy_file, copy_method

REFLINK_DIR = os.environ.get("PAGERLENS_TEST_REFLINK_DIR")


def _payload(path: Path, size: int = 3 * 2**20) -> bytes:
    data = os.urandom(size)
    path.write_bytes(data)
    return data


def test_the_copy_is_the_same_bytes_and_independent(tmp_path):
    source = tmp_path / "a.bin"
    data = _payload(source)
    copy = tmp_path / "b.bin"
    assert copy_file(source, copy) in ("clone", "copy")
    assert copy.read_bytes() == data
    with open(copy, "r+b") as handle:  # writing the copy leaves the source alone
        handle.write(b"\0" * 4096)
    assert source.read_bytes() == data


def test_without_clone_support_the_bytes_are_copied(tmp_path, monkeypatch):
    def refuse(*_args):
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    monkeypatch.setattr(warehouse.fcntl, "ioctl", refuse)
    source = tmp_path / "a.bin"
    data = _payload(source)
    target = tmp_path / "b.bin"
    target.write_bytes(b"stale, longer than nothing")  # a stale work file is replaced
    assert copy_file(source, target) == "copy"
    assert target.read_bytes() == data


def _tables(db: Path) -> set[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            name for (name,) in con.execute("select table_name from duckdb_tables()").fetchall()
        }


@pytest.mark.skipif(
    not REFLINK_DIR, reason="PAGERLENS_TEST_REFLINK_DIR unset: no reflink filesystem (XFS, btrfs)"
)
def test_on_a_reflink_filesystem_the_warehouse_is_cloned_and_published(tmp_path):
    root = Path(REFLINK_DIR)
    if copy_method(root) != "clone":
        pytest.skip(f"{root} does not clone files (no reflink support)")
    directory = root / f"w-{os.getpid()}"
    directory.mkdir()
    db = directory / "w.duckdb"
    try:
        with building(db) as con:
            con.execute("create table first as select range as x from range(200000)")
        published = db.read_bytes()
        reader = duckdb.connect(str(db), read_only=True)
        try:
            with building(db) as con:  # cloned, written, published over the first
                con.execute("create table second as select 1 as x")
                con.execute("update first set x = x + 1 where x < 1000")
                # A reader of the published file is not blocked and sees the first build.
                assert reader.execute("select sum(x) from first").fetchall()[0][0] == sum(
                    range(200000)
                )
        finally:
            reader.close()
        assert {"first", "second"} <= _tables(db)
        with duckdb.connect(str(db), read_only=True) as con:
            assert (
                con.execute("select sum(x) from first").fetchall()[0][0]
                == sum(range(200000)) + 1000
            )
        # A writer that fails leaves the published file exactly as it was.
        before = db.read_bytes()
        with pytest.raises(RuntimeError, match="boom"):
            with building(db) as con:
                con.execute("drop table first")
                raise RuntimeError("boom")
        assert db.read_bytes() == before != published
        assert {"first", "second"} <= _tables(db)
    finally:
        for path in directory.iterdir():
            path.unlink()
        directory.rmdir()
