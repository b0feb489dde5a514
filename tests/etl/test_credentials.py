"""Token format: refused before any request, with the problem and position but never the token."""

from __future__ import annotations

import pytest

from etl.credentials import CredentialsError, TokenFormatError, check_token, read_token
from etl.pd_client import PagerDutyClient

TOKEN = "u+AbCdEf_012345-6789"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("u+Ab\u00a0Cd", "a non-ASCII character (U+00A0 NO-BREAK SPACE) at character 5"),
        (
            "\u201cu+AbCd\u201d",
            "a non-ASCII character (U+201C LEFT DOUBLE QUOTATION MARK) at character 1",
        ),
        ("u+AbCd\r\nEf", "a line break at character 7"),
        ("u+AbCd\u2028Ef", "a line break at character 7"),
        ("u+Ab\tCd", "a tab at character 5"),
        ("u+Ab Cd", "a space at character 5"),
        ("u+Ab\x00Cd", "a control character (U+0000) at character 5"),
        ("u+Ab\x7fCd", "a control character (U+007F) at character 5"),
    ],
)
def test_malformed_tokens_are_refused_by_position(value, problem):
    with pytest.raises(TokenFormatError) as caught:
        check_token(value, "PAGERDUTY_API_TOKEN")
    message = str(caught.value)
    assert message.startswith(f"PAGERDUTY_API_TOKEN contains {problem}; ")
    assert "AbCd" not in message and "u+Ab" not in message


def test_a_printable_ascii_token_passes():
    assert check_token(TOKEN) == TOKEN
    assert check_token("sim-0123456789abcdef01234567") == "sim-0123456789abcdef01234567"


def test_surrounding_whitespace_is_stripped_inner_line_breaks_are_not(tmp_path):
    assert read_token(env={"PAGERDUTY_API_TOKEN": f"\u00a0 {TOKEN}\r\n"}).reveal() == TOKEN
    path = tmp_path / "token"
    path.write_text(f"\n  {TOKEN}  \r\n\n")
    path.chmod(0o600)
    assert read_token(path, env={}).reveal() == TOKEN
    # A token split over two lines used to be read as its first line, then fail with 401.
    path.write_text(f"{TOKEN[:8]}\n{TOKEN[8:]}\n")
    with pytest.raises(
        TokenFormatError, match=rf"the token in {path} contains a line break at character 9"
    ):
        read_token(path, env={})


def test_a_token_file_that_is_not_text_is_named(tmp_path):
    path = tmp_path / "token"
    path.write_bytes(b"u+Ab\xffCd\n")
    path.chmod(0o600)
    with pytest.raises(CredentialsError, match=rf"token file {path} is not UTF-8 text \(byte 5"):
        read_token(path, env={})


def test_the_client_refuses_a_malformed_token_before_any_request():
    # run_sync and other library callers pass plain strings: the client checks them too.
    with pytest.raises(TokenFormatError, match="a line break at character 9"):
        PagerDutyClient("u+AbCdEf\r\n0123", base_url="http://127.0.0.1:9")


def test_a_token_read_from_a_file_is_scrubbed_from_cli_messages(tmp_path, monkeypatch):
    """The CLI's last line of defence knows a token read with --token-file too, not only the
    one in PAGERDUTY_API_TOKEN."""
    from etl.cli import _scrub

    monkeypatch.delenv("PAGERDUTY_API_TOKEN", raising=False)
    token_file = tmp_path / "token"
    token_file.write_text("u+FileToken_123456\n")
    token_file.chmod(0o600)
    read_token(token_file)
    assert _scrub("GET /services: bad header u+FileToken_123456!") == (
        "GET /services: bad header [redacted]!"
    )


def test_the_environment_token_is_scrubbed_even_if_never_read(monkeypatch):
    from etl.credentials import scrub

    monkeypatch.setenv("PAGERDUTY_API_TOKEN", " u+EnvToken_abcdef ")
    assert scrub("x u+EnvToken_abcdef y") == "x [redacted] y"


def test_only_the_client_reveals_the_token():
    """Secret.reveal() is called in etl/pd_client.py alone (to build the Authorization
    header); everything else scrubs through the Secret."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    callers = set()
    for package in ("etl", "reports", "dashboard"):
        for path in (root / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "reveal"
                ):
                    callers.add(str(path.relative_to(root)))
    assert callers == {"etl/pd_client.py"}
