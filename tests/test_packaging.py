"""The wheel carries what an installed pagerlens reads at run time: the metric definitions
(docs/metrics.md as etl/metrics.md), the default configuration, SQL and the simulator's rules."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed (make setup installs it into .venv)")
    out = tmp_path_factory.mktemp("dist")
    build = tmp_path_factory.mktemp("src")
    # Build from a copy: setuptools writes build/ and *.egg-info next to the sources. Not the
    # benchmarks' caches (bench/.cache: tens of GB of prepared warehouses filled the disk).
    shutil.copytree(
        REPO,
        build / "pagerlens",
        ignore=shutil.ignore_patterns(
            ".venv", ".git", ".cache", "build", "*.egg-info", "__pycache__"
        ),
        symlinks=True,
    )
    subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(out), str(build / "pagerlens")],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (path,) = out.glob("pagerlens-*.whl")
    return path


@pytest.mark.slow
def test_the_wheel_holds_the_run_time_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "etl/metrics.md",
        "etl/defaults.toml",
        "etl/models/marts/incidents.sql",
        "etl/queries/sql/dashboard/weekly_incidents.sql",
        "simulator/data/alert_rules.json",
        "simulator/data/NOTICE.md",
        "dashboard/app.py",
    ):
        assert expected in names, expected
    text = zipfile.ZipFile(wheel).read("etl/metrics.md").decode()
    assert text == (REPO / "docs" / "metrics.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_an_installed_pagerlens_quotes_the_metric_definitions(wheel, tmp_path):
    """Import the unpacked wheel, not this checkout (no site hooks: the editable install's
    finder would point back here), and read a definition the help text quotes."""
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    site_packages = sysconfig.get_paths()["purelib"]
    script = (
        "import sys; "
        f"sys.path[:0] = [{str(unpacked)!r}, {site_packages!r}]; "
        "import etl.queries.definitions as d; "
        "assert d.__file__.startswith(sys.path[0]), d.__file__; "
        "print(d.definition('seconds_to_resolve'))"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(done.stdout.strip()) > 40 and done.stdout.strip() != "None"
