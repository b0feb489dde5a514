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
