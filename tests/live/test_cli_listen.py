"""`pagerlens listen` on the command line: its help says how to subscribe and proxy, and bad
input is refused (exit 2) before anything is created."""

from __future__ import annotations

from click.testing import CliRunner

from etl.cli import cli, main


def test_help_explains_subscription_and_proxy():
    result = CliRunner().invoke(cli, ["listen", "--help"])
    assert result.exit_code == 0, result.output
    for needed in (
        "Example:",
        "pagerlens listen",
        "Generic Webhooks (v3)",
        "/webhook_subscriptions",
        "incident.triggered",
        "Reverse proxy",
        "proxy_pass http://127.0.0.1:8787",
        "--secret-file",
    ):
        assert needed in result.output, needed


def test_missing_secret_is_a_usage_error(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PAGERLENS_WEBHOOK_SECRET", raising=False)
    assert main(["listen", "--no-apply", "--db", str(tmp_path / "w.duckdb")]) == 2
    assert "PAGERLENS_WEBHOOK_SECRET" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_missing_token_and_bad_url_are_usage_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PAGERLENS_WEBHOOK_SECRET", "a-webhook-secret-value")
    monkeypatch.delenv("PAGERDUTY_API_TOKEN", raising=False)
    assert main(["listen", "--db", str(tmp_path / "w.duckdb")]) == 2
    assert "PAGERDUTY_API_TOKEN" in capsys.readouterr().err
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", "x" * 20)
    args = ["listen", "--db", str(tmp_path / "w.duckdb"), "--api-url", "http://example.com"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "plain http" in err and "a-webhook-secret-value" not in err
    assert list(tmp_path.iterdir()) == []
