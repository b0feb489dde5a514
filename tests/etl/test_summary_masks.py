"""Summaries' masked forms remembered between builds (etl/noise/summary_masks.py): a build
masks only the summaries it has not seen, and its templates are mine_templates' over the
distinct summaries, build after build, as summaries come and go."""

from __future__ import annotations

import duckdb
import pytest

from etl.noise import summary_masks
from etl.noise.summary_masks import MEMO
from etl.noise.templates import mine_templates, template_id

DAY_1 = [
    "Disk 91% full on db-7",
    "Disk 88% full on db-3",
    "Disk 91% full on db-7",  # a repeat: one distinct summary
    "VM Started payments",
    "VM Stopped payments",
    "VM Started checkout",
    "High latency on api-1: 950 ms",
    "",
    None,
]
# New summaries of known shapes, a new shape, and the payments ones gone.
DAY_2 = [
    "Disk 91% full on db-7",
    "Disk 77% full on db-12",
    "VM Started checkout",
    "VM Paused search",
    "VM Resumed search",
    "High latency on api-4: 1200 ms",
    "Certificate for shop.example.com expires in 3 days",
    "",
]


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create table noise_incidents (summary varchar)")
    yield con
    con.close()


def _day(con, summaries: list[str | None]) -> None:
    con.execute("delete from noise_incidents")
    con.executemany("insert into noise_incidents values (?)", [[s] for s in summaries])


def _templates(con, reuse: bool = True) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """noise_summary_templates as the noise step writes it, and the summaries it masked."""
    new = summary_masks.new_summaries(con, reuse=reuse)
    masked, _ = summary_masks.mask(new)
    summary_masks.write_summary_templates(con, masked)
    rows = con.execute("select * from noise_summary_templates").fetchall()
    return {summary: (template, tid) for summary, template, tid in rows}, new


def _mined(summaries: list[str | None]) -> dict[str, tuple[str, str]]:
    """What the step wrote before the memo: mine_templates over the distinct summaries."""
    distinct = [s for s in dict.fromkeys(summaries) if s is not None]
    return {s: (t, template_id(t)) for s, t in zip(distinct, mine_templates(distinct), strict=True)}


def test_each_build_equals_mining_its_distinct_summaries_and_masks_only_new_ones(con):
    _day(con, DAY_1)
    first, masked = _templates(con)
    assert first == _mined(DAY_1)
    assert sorted(masked) == sorted({s for s in DAY_1 if s is not None})

    _day(con, DAY_2)
    second, masked = _templates(con)
    assert second == _mined(DAY_2)
    assert sorted(masked) == sorted(set(DAY_2) - set(DAY_1))
    # The summaries no incident has any more are forgotten.
    remembered = {s for (s,) in con.execute(f"select summary from {MEMO}").fetchall()}  # noqa: S608
    assert remembered == set(DAY_2)

    # The same day again: nothing to mask, the same templates.
    again, masked = _templates(con)
    assert (again, masked) == (second, [])


def test_the_templates_depend_on_the_batch_not_on_what_was_remembered(con):
    # The verb of "VM <verb> on cluster east <host>" names the event while two verbs recur;
    # once many rare verbs come it is a parameter, for the old summaries too. A memo of
    # templates (not of masked forms) would keep the first day's answer.
    shape = "VM {} on cluster east host-{}"
    many = [shape.format(verb, i) for i, verb in enumerate("Started Stopped".split() * 4)]
    _day(con, many)
    first, _ = _templates(con)
    assert first[many[0]][0] == "VM Started on cluster east <*>"
    rare = "Paused Resumed Moved Cloned Saved".split()
    later = many + [shape.format(verb, 50 + i) for i, verb in enumerate(rare)]
    _day(con, later)
    templates, masked = _templates(con)
    assert templates == _mined(later)
    assert templates[many[0]][0] == "VM <*> on cluster east <*>"
    assert len(masked) == len(rare)


def test_reuse_false_and_a_changed_masking_start_over(con, monkeypatch):
    _day(con, DAY_1)
    _templates(con)
    con.execute(f"update {MEMO} set masked = 'tampered'")  # noqa: S608
    full, masked = _templates(con, reuse=False)
    assert full == _mined(DAY_1)
    assert len(masked) == len({s for s in DAY_1 if s is not None})

    con.execute(f"update {MEMO} set masked = 'tampered'")  # noqa: S608
    monkeypatch.setattr(summary_masks, "_masking_fingerprint", lambda: "another masking")
    changed, masked = _templates(con)
    assert changed == _mined(DAY_1)
    assert masked


def test_the_masking_fingerprint_covers_the_masking_code():
    from pathlib import Path

    package = Path(summary_masks.__file__).with_name("templates")
    # Every module the masking imports from the package is hashed.
    for name in ("masking.py", "token_masks.py"):
        assert (package / name).exists()
    imports = (package / "token_masks.py").read_text() + (package / "masking.py").read_text()
    modules = {
        line.split()[1].rsplit(".", 1)[-1] + ".py"
        for line in imports.splitlines()
        if line.startswith("from etl.noise.templates.")
    }
    assert modules <= set(summary_masks._MASKING_FILES)
