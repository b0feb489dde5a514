"""Webhook signatures: PagerDuty's own test vector, rotation, forgeries, other schemes."""

from __future__ import annotations

import json

import pytest

from etl.credentials import CredentialsError
from etl.live.signature import WebhookSecret, read_webhook_secrets, sign, verify
from tests.live.support import FIXTURES, fixture_body

VECTOR = json.loads((FIXTURES / "webhookv3_signature_vector.json").read_text())
BODY = fixture_body("webhookv3_signed_body.raw.json")
SECRET = WebhookSecret(VECTOR["secret"])
OTHER_TEXT = "another-secret-of-the-same-account"
OTHER = WebhookSecret(OTHER_TEXT)


def test_go_pagerduty_vector_valid_and_mismatch():
    assert sign(BODY, SECRET) == VECTOR["valid"]
    assert verify(BODY, VECTOR["valid"], [SECRET])
    assert not verify(BODY, VECTOR["mismatch"], [SECRET])


def test_rotated_pair_either_signature_may_match():
    old, new = sign(BODY, OTHER), sign(BODY, SECRET)
    assert verify(BODY, f"{old},{new}", [SECRET])
    assert verify(BODY, f"{new}, {old}", [SECRET])
    # Our side rotating: the receiver holds both secrets, PagerDuty signs with one.
    assert verify(BODY, old, [SECRET, OTHER])


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "v1=",
        "v1",
        ",",
        "v0=" + VECTOR["valid"][3:],
        "V1" + VECTOR["valid"][2:],
        "sha256=" + VECTOR["valid"][3:],
        VECTOR["valid"][3:],
    ],
    ids=[
        "missing",
        "empty",
        "no-value",
        "no-equals",
        "comma",
        "v0-scheme",
        "upper-scheme",
        "sha256-scheme",
        "bare-hex",
    ],
)
def test_missing_or_wrong_scheme_is_refused(header):
    assert not verify(BODY, header, [SECRET])


def test_forged_body_and_truncated_signature_are_refused():
    assert not verify(BODY + b" ", VECTOR["valid"], [SECRET])
    assert not verify(BODY, VECTOR["valid"][:-2], [SECRET])
    assert not verify(b"", VECTOR["valid"], [SECRET])


def test_secret_from_file_several_lines_and_never_shown(tmp_path):
    path = tmp_path / "secret"
    path.write_text(f"\n{VECTOR['secret']}\n{OTHER_TEXT}\n")
    secrets = read_webhook_secrets(path, env={})
    assert secrets == [SECRET, OTHER]
    assert VECTOR["secret"] not in repr(secrets) + str(secrets[0])


def test_secret_from_environment_and_missing(tmp_path):
    assert read_webhook_secrets(env={"PAGERLENS_WEBHOOK_SECRET": " s3cret-value "}) == [
        WebhookSecret("s3cret-value")
    ]
    with pytest.raises(CredentialsError, match="PAGERLENS_WEBHOOK_SECRET"):
        read_webhook_secrets(env={})
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(CredentialsError, match="is empty"):
        read_webhook_secrets(empty, env={})


def test_the_secret_never_shows_itself():
    import pickle

    secret = WebhookSecret("a-very-private-signing-key")
    shown = f"{secret} {secret!r} {secret:>20} " + str([secret])
    assert "private" not in shown and "***" in shown
    assert not hasattr(secret, "reveal")
    with pytest.raises(TypeError):
        pickle.dumps(secret)
