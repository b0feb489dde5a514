"""Material the repository cannot redistribute, read from ``../shared`` when it is there.

PagerDuty's OpenAPI spec has no licence file, and the labelled log and alert corpora are
benchmarks rather than product data, so they stay outside the repository. A test that needs
one asks for it here and gets its path, or a skip with a one-line reason when it is absent:
a fresh clone passes the suite without them.

CI's main run has ``../shared`` and sets ``PAGERLENS_REQUIRE_SHARED=1``: there a missing file
fails the test instead of skipping it, so the schema and corpus tests cannot silently stop
running where the material is present.

Example::

    spec = shared_file("pagerduty-openapi/openapiv3.json", env="PAGERLENS_OPENAPI")
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_root() -> Path:
    """``$PAGERLENS_SHARED``, else the ``shared`` folder beside the repository."""
    env = os.environ.get("PAGERLENS_SHARED")
    return Path(env) if env else REPO.parent / "shared"


def required() -> bool:
    """Whether a missing file must fail rather than skip (CI's run with ``../shared``)."""
    return os.environ.get("PAGERLENS_REQUIRE_SHARED", "") not in ("", "0")


def shared_path(relative: str, env: str | None = None) -> Path | None:
    """The file or folder, from ``$env`` if set, else under :func:`shared_root`; None if absent."""
    path = Path(os.environ[env]) if env and os.environ.get(env) else shared_root() / relative
    return path if path.exists() else None


def missing_reason(relative: str, env: str | None = None) -> str:
    where = f"${env} or " if env else ""
    return (
        f"shared material not available: set {where}$PAGERLENS_SHARED to a folder with {relative}"
    )


def shared_file(relative: str, env: str | None = None) -> Path:
    """The path, or skip the calling test (fail it under ``PAGERLENS_REQUIRE_SHARED``)."""
    path = shared_path(relative, env)
    if path is None:
        reason = missing_reason(relative, env)
        if required():
            pytest.fail(f"{reason} (PAGERLENS_REQUIRE_SHARED is set)", pytrace=False)
        pytest.skip(reason)
    return path


def needs_shared(relative: str, env: str | None = None) -> pytest.MarkDecorator:
    """A marker for tests (or modules) that need the material; see :func:`shared_file`.

    Under ``PAGERLENS_REQUIRE_SHARED`` the test is not skipped: it runs, and its own call to
    :func:`shared_file` (or the missing file) fails it.
    """
    absent = shared_path(relative, env) is None and not required()
    return pytest.mark.skipif(absent, reason=missing_reason(relative, env))
