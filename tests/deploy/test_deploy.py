"""deploy/: the systemd units verify, the cron line parses, the Kubernetes manifests validate,
the Dockerfile has the promised shape (and builds where a container engine runs), and no file
carries a token."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
UNITS = DEPLOY / "systemd"
INSTALLED_BINARY = "/opt/pagerlens/.venv/bin/pagerlens"
KUBERNETES_VERSION = "1.30"  # the oldest release still supported when this was written


def _verify_units(folder: Path) -> subprocess.CompletedProcess:
    units = sorted(str(p) for p in folder.iterdir())
    return subprocess.run(
        ["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def units_here(tmp_path) -> Path:
    """The units with the binary path of this checkout (verify checks that it exists)."""
    this_binary = Path(sys.executable).with_name("pagerlens")
    if not this_binary.exists():
        pytest.skip("pagerlens is not installed in this environment (make setup)")
    for unit in UNITS.iterdir():
        text = unit.read_text().replace(INSTALLED_BINARY, str(this_binary))
        (tmp_path / unit.name).write_text(text)
    return tmp_path


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_units_verify_cleanly(units_here):
    result = _verify_units(units_here)
    # verify exits 0 on settings it ignores: any message is a defect.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_verify_would_catch_a_broken_unit(units_here):
    timer = units_here / "pagerlens-sync.timer"
    timer.write_text(timer.read_text().replace("02:30:00", "25:30:00"))
    assert "Failed to parse calendar" in (_verify_units(units_here)).stderr


def _unit_settings(name: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in (UNITS / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def test_the_service_runs_sync_as_its_own_user_with_the_token_as_a_credential():
    service = _unit_settings("pagerlens-sync.service")
    assert service["Type"] == ["oneshot"] and service["User"] == ["pagerlens"]
    assert service["LoadCredential"] == ["pagerduty-token:/etc/pagerlens/pagerduty-token"]
    assert service["ExecStart"] == [
        f"{INSTALLED_BINARY} sync --token-file ${{CREDENTIALS_DIRECTORY}}/pagerduty-token"
    ]
    timer = _unit_settings("pagerlens-sync.timer")
    assert timer["Unit"] == ["pagerlens-sync.service"] and timer["Persistent"] == ["true"]


CRON_FIELDS = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def _cron_field_ok(field: str, low: int, high: int) -> bool:
    for part in field.split(","):
        base, _, step = part.partition("/")
        if step and not step.isdigit():
            return False
        if base == "*":
            continue
        bounds = base.split("-")
        if not all(b.isdigit() and low <= int(b) <= high for b in bounds) or len(bounds) > 2:
            return False
    return True


def test_the_cron_line_is_a_valid_cron_d_entry():
    lines = [
        line
        for line in (DEPLOY / "cron" / "pagerlens").read_text().splitlines()
        if line.strip() and not line.startswith("#") and not re.match(r"^[A-Z_]+=", line)
    ]
    assert len(lines) == 1
    fields = lines[0].split()
    times, user, command = fields[:5], fields[5], fields[6:]
    assert all(_cron_field_ok(f, *r) for f, r in zip(times, CRON_FIELDS, strict=True)), times
    assert user == "pagerlens"
    assert command[:4] == ["flock", "-n", "/var/lib/pagerlens/cron.lock", INSTALLED_BINARY]
    assert command[4:7] == ["sync", "--token-file", "/etc/pagerlens/pagerduty-token"]
    assert not _cron_field_ok("61", 0, 59) and not _cron_field_ok("*/x", 0, 59)


def _kubernetes_documents() -> list[dict]:
    return list(yaml.safe_load_all((DEPLOY / "kubernetes" / "cronjob.yaml").read_text()))


def test_kubernetes_manifests_validate():
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    documents = _kubernetes_documents()
    assert [d["kind"] for d in documents] == ["PersistentVolumeClaim", "CronJob"]
    for document in documents:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    # The same check refuses a misspelt field.
    broken = _kubernetes_documents()[1]
    broken["spec"]["concurrencyPolicyy"] = broken["spec"].pop("concurrencyPolicy")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_cronjob_reads_the_token_from_a_mounted_secret_as_a_non_root_user():
    cronjob = _kubernetes_documents()[1]
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["args"] == ["sync", "--token-file", "/run/secrets/pagerduty/token"]
    assert "PAGERDUTY_API_TOKEN" not in {e["name"] for e in container.get("env", [])}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert mounts["pagerduty-token"] == "/run/secrets/pagerduty"
    secret = volumes["pagerduty-token"]["secret"]
    assert secret["secretName"] == "pagerduty-token"
    assert secret["items"] == [{"key": "token", "path": "token"}]
    assert secret["defaultMode"] & 0o007 == 0  # not readable by others


def _dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions (continuation lines joined, comments dropped)."""
    text = re.sub(r"\\\n\s*", " ", (DEPLOY / "Dockerfile").read_text())
    return [
        tuple(line.split(None, 1))
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_the_dockerfile_is_slim_debian_non_root_with_chromium_and_the_token_from_a_file():
    instructions = _dockerfile()
    assert instructions[0][0] == "FROM" and re.fullmatch(r"debian:\w+-slim", instructions[0][1])
    runs = " ".join(arg for op, arg in instructions if op == "RUN")
    assert re.search(r"apt-get install .*\bchromium\b", runs)
    users = [arg for op, arg in instructions if op == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    # The last USER comes before what the container runs.
    order = [op for op, _ in instructions]
    assert order.index("ENTRYPOINT") > len(order) - 1 - order[::-1].index("USER")
    assert dict(instructions)["CMD"] == '["sync", "--token-file", "/run/secrets/pagerduty/token"]'
    for op, arg in instructions:
        assert not (op in {"ENV", "ARG"} and "PAGERDUTY_API_TOKEN" in arg), arg


def test_no_deploy_file_carries_a_token():
    for path in DEPLOY.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert not re.search(r"PAGERDUTY_API_TOKEN\s*[=:]\s*\S", text), path
            assert not re.search(r"token=[A-Za-z0-9_+-]{16,}", text), path


def _container_engine() -> str | None:
    for engine in ("docker", "podman"):
        if shutil.which(engine):
            probe = subprocess.run([engine, "info"], capture_output=True, timeout=30)
            if probe.returncode == 0:
                return engine
    return None


@pytest.mark.slow
def test_the_image_builds_and_runs_as_a_non_root_user():
    engine = _container_engine()
    if engine is None:
        pytest.skip("no running container engine (docker or podman `info` failed)")
    tag = "pagerlens-test:deploy"
    build = subprocess.run(
        [engine, "build", "-f", str(DEPLOY / "Dockerfile"), "-t", tag, str(REPO)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    run = subprocess.run(
        [engine, "run", "--rm", "--entrypoint", "id", tag, "-u"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.stdout.strip() == "10001"
    help_text = subprocess.run(
        [engine, "run", "--rm", tag, "sync", "--help"], capture_output=True, text=True
    )
    assert "--token-file" in help_text.stdout
