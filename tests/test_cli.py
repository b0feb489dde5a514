"""The command line: documented commands, help with examples, exit codes, no secret leaks."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from etl.cli import cli, main

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_COMMANDS = [
    ("demo",),
    ("sync",),
    ("build",),
    ("report",),
    ("recommend",),
    ("dashboard",),
    ("simulate", "serve"),
    ("simulate", "generate"),
]


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        path = prefix + (name,)
        if isinstance(command, click.Group):
            found += _all_commands(command, path)
        else:
            found.append(path)
    return found


def test_every_contract_command_exists():
    assert set(CONTRACT_COMMANDS) <= set(_all_commands(cli))


@pytest.mark.parametrize("path", CONTRACT_COMMANDS, ids=" ".join)
def test_help_has_an_example(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output
    assert f"pagerlens {' '.join(path)}" in result.output


@pytest.mark.parametrize("path", CONTRACT_COMMANDS, ids=" ".join)
def test_warehouse_commands_take_db(path):
    if path in {("simulate", "serve")}:
        return
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert "--db" in result.output


def test_every_command_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for path in _all_commands(cli):
        assert f"pagerlens {' '.join(path)}" in readme, path


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test\b", ci, re.M)


def test_usage_error_exits_2(capsys):
    assert main(["sync", "--no-such-flag"]) == 2


def test_runtime_failure_is_one_line_exit_1(tmp_path, capsys):
    code = main(["build", "--db", str(tmp_path / "missing.duckdb")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("pagerlens: error: no warehouse at")
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_token_never_reaches_stderr(tmp_path, capsys, monkeypatch, sim_server):
    token = "u+SECRETtokenVALUE1234"
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", token)
    # The simulator rejects this token: the run fails, and the message must not carry it.
    code = main(
        [
            "sync",
            "--db",
            str(tmp_path / "w.duckdb"),
            "--api-url",
            sim_server.url,
            "--since",
            "2026-02-20",
            "--until",
            "2026-03-01",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "401" in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert token not in captured.err + captured.out
    assert "SECRET" not in captured.err + captured.out and "1234" not in captured.err
    assert not (tmp_path / "w.duckdb").exists()


def test_plain_http_refused_for_remote_hosts(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", "x" * 20)
    code = main(
        ["sync", "--db", str(tmp_path / "w.duckdb"), "--api-url", "http://api.pagerduty.com"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "http" in err and "loopback" in err


@pytest.mark.parametrize("week", ["2026-W99", "47", "2026-47"])
def test_malformed_week_is_a_usage_error(week, tmp_path):
    assert main(["report", "--db", str(tmp_path / "w.duckdb"), "--week", week]) == 2
