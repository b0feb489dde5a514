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
    # CI may set variables for the run (PAGERLENS_REQUIRE_SHARED=1 make test ...).
    assert re.search(r"^(?:[A-Z_]+=\S+ )*make test\b", ci, re.M)


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


# -- bad configuration and bad tokens: exit 2 before any work -----------------------------------
BAD_CONFIGS = {
    "unknown key and section": '[time]\naccount_time_zon = "Europe/Londn"\n[bogus]\nkey = 1\n',
    "string for a list": '[interruptions]\nnotification_types = "sms_notification"\n',
    "out of range and nan": (
        "[health]\ngood_monthly_off_hours_interruptions = -5\n"
        "bad_monthly_off_hours_interruptions = 1e308\n"
        "burnout_monthly_off_hours_interruptions = nan\n"
        "[noise]\ntransient_seconds = -1\n"
        "[interruptions]\nmerge_seconds = 99999999999999999\n"
    ),
    "overnight business hours": '[hours]\nbusiness_start = "18:00"\nbusiness_end = "08:00"\n',
    "string for a number": '[grouping]\nmin_lift = "x"\n',
    "table in a list": "[major]\npriorities = [1, {a=2}]\n",
    "string for a count": '[recommendations]\nreplay_weeks = "x"\n',
    "value for a section": "time = 5\n",
    "binary file": b"\xff\xfe\x00\x01binary",
}


def _bad_config(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "pagerlens.toml"
    content = BAD_CONFIGS[name]
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def _assert_config_errors(err: str, path: Path) -> None:
    lines = err.strip().splitlines()
    assert lines, err
    for line in lines:
        assert line.startswith(f"pagerlens: error: {path}: "), err
    assert "Traceback" not in err and "numpy" not in err and "duckdb" not in err.lower()


@pytest.fixture
def no_build(monkeypatch):
    """Fail the test if a build starts."""
    import etl.transform

    def build(*args, **kwargs):
        raise AssertionError("a build started")

    monkeypatch.setattr(etl.transform, "build", build)


@pytest.mark.parametrize("name", BAD_CONFIGS)
def test_bad_config_exits_2_before_the_build(name, tmp_path, capsys, no_build):
    path = _bad_config(tmp_path, name)
    db = tmp_path / "w.duckdb"
    db.touch()
    assert main(["build", "--db", str(db), "--config", str(path)]) == 2
    _assert_config_errors(capsys.readouterr().err, path)


@pytest.mark.parametrize("name", BAD_CONFIGS)
def test_bad_config_exits_2_in_config_check(name, tmp_path, capsys):
    path = _bad_config(tmp_path, name)
    assert main(["config", "check", "--config", str(path)]) == 2
    captured = capsys.readouterr()
    _assert_config_errors(captured.err, path)
    assert captured.out == ""


def test_bad_config_from_the_environment_exits_2(tmp_path, capsys, monkeypatch, no_build):
    path = _bad_config(tmp_path, "string for a number")
    monkeypatch.setenv("PAGERLENS_CONFIG", str(path))
    assert main(["build", "--db", str(tmp_path / "w.duckdb")]) == 2
    _assert_config_errors(capsys.readouterr().err, path)


def test_bad_config_stops_a_sync_before_any_request(tmp_path, capsys, monkeypatch, sim_server):
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", "x" * 20)
    path = _bad_config(tmp_path, "value for a section")
    before = len(sim_server.request_log)
    code = main(
        ["sync", "--db", str(tmp_path / "w.duckdb"), "--api-url", sim_server.url]
        + ["--config", str(path)]
    )
    assert code == 2
    _assert_config_errors(capsys.readouterr().err, path)
    assert len(sim_server.request_log) == before
    assert not (tmp_path / "w.duckdb").exists()


def test_config_check_prints_the_effective_configuration(tmp_path, monkeypatch):
    monkeypatch.delenv("PAGERLENS_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "team.toml"
    path.write_text(
        '[time]\naccount_time_zone = "Europe/Berlin"\n[hours]\nsleep_start = 23:00:00\n'
    )
    result = CliRunner().invoke(cli, ["config", "check", "--config", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"# {path}: valid; values it does not set are defaults"
    assert re.search(
        rf'^account_time_zone = "Europe/Berlin" +# from {re.escape(str(path))}$',
        result.output,
        re.M,
    )
    assert re.search(r'^reporting_time_zone = "UTC" +# default$', result.output, re.M)
    assert re.search(
        rf'^sleep_start = "23:00" +# from {re.escape(str(path))}$', result.output, re.M
    )
    # The output is itself a configuration file that loads to the same values.
    from etl.config import load_config

    copy = tmp_path / "copy.toml"
    copy.write_text(result.output)
    assert load_config(copy) == load_config(path)


def test_config_check_without_a_file_shows_the_defaults(tmp_path, monkeypatch):
    monkeypatch.delenv("PAGERLENS_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["config", "check"])
    assert result.exit_code == 0
    assert result.output.startswith("# no configuration file: every value is a default\n")
    assert "# from" not in result.output


def test_config_check_help_has_an_example():
    result = CliRunner().invoke(cli, ["config", "check", "--help"])
    assert result.exit_code == 0 and "pagerlens config check --config" in result.output


BAD_TOKENS = {
    "no-break space": (
        "u+abcDEF\u00a0123456789",
        "a non-ASCII character (U+00A0 NO-BREAK SPACE) at character 9",
    ),
    "e acute": (
        "u+abcd\u00e9fgh123456789",
        "a non-ASCII character (U+00E9 LATIN SMALL LETTER E WITH ACUTE) at character 7",
    ),
    "CRLF inside": ("u+abcdef\r\n123456789", "a line break at character 9"),
    "LF inside": ("u+abcdef\n123456789", "a line break at character 9"),
    "control character": ("u+abc\x07def123456789", "a control character (U+0007) at character 6"),
    "inner space": ("u+abcdef 123456789", "a space at character 9"),
}


@pytest.mark.parametrize("name", BAD_TOKENS)
def test_malformed_token_exits_2_before_any_request(
    name, tmp_path, capsys, monkeypatch, sim_server
):
    token, problem = BAD_TOKENS[name]
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", f"  {token}\n")
    before = len(sim_server.request_log)
    code = main(["sync", "--db", str(tmp_path / "w.duckdb"), "--api-url", sim_server.url])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err == f"pagerlens: error: PAGERDUTY_API_TOKEN contains {problem}; " + (
        "an API token is one line of printable ASCII: copy it again from PagerDuty "
        "(Integrations > API Access Keys)\n"
    )
    for part in token.split():
        assert part not in captured.err + captured.out
    assert "123456789" not in captured.err and "abc" not in captured.err
    assert len(sim_server.request_log) == before


def test_malformed_token_file_exits_2_naming_the_file(tmp_path, capsys):
    path = tmp_path / "token"
    path.write_text("u+abcdef\u00a0123456789\n")
    path.chmod(0o600)
    code = main(
        ["sync", "--db", str(tmp_path / "w.duckdb"), "--token-file", str(path)]
        + ["--api-url", "http://127.0.0.1:9"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"pagerlens: error: the token in {path} contains a non-ASCII character")
    assert "123456789" not in err and len(err.strip().splitlines()) == 1


def test_missing_token_is_a_usage_error(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PAGERDUTY_API_TOKEN", raising=False)
    assert main(["sync", "--db", str(tmp_path / "w.duckdb")]) == 2
    assert capsys.readouterr().err.startswith("pagerlens: error: no PagerDuty API token")


def test_token_file_readable_by_others_gets_a_warning(tmp_path, caplog):
    token = "u+abcdefghij123456"
    path = tmp_path / "token"
    path.write_text(token + "\n")
    path.chmod(0o644)
    with caplog.at_level("WARNING", logger="etl.credentials"):
        from etl.credentials import read_token

        assert read_token(path).reveal() == token
    [record] = [r for r in caplog.records if r.name == "etl.credentials"]
    assert record.getMessage() == (
        f"token file {path} is readable by group and others (mode 0644): "
        f"restrict it with `chmod 600 {path}`"
    )
    assert token not in record.getMessage()
    caplog.clear()
    path.chmod(0o600)
    with caplog.at_level("WARNING", logger="etl.credentials"):
        read_token(path)
    assert not caplog.records


@pytest.mark.parametrize(
    "command",
    [
        ["build"],
        ["report", "--out", "{tmp}/out"],
        ["demo", "--no-dashboard", "--out", "{tmp}/out"],
        ["sync", "--api-url", "http://127.0.0.1:9"],
    ],
    ids=lambda command: command[0],
)
def test_every_command_that_reads_the_config_checks_it_first(
    command, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", "x" * 20)
    path = _bad_config(tmp_path, "overnight business hours")
    db = tmp_path / "w.duckdb"
    args = [part.format(tmp=tmp_path) for part in command]
    assert main([*args, "--db", str(db), "--config", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # not even "simulating a PagerDuty account"
    _assert_config_errors(captured.err, path)
    assert not db.exists() and not (tmp_path / "out").exists()
