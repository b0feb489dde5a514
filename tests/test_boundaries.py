"""Meta-test: the data flows one way, and the import graph says so (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _top(name: str) -> str:
    return name.split(".")[0]


def test_only_pd_client_imports_pagerduty():
    offenders = [
        str(p.relative_to(ROOT))
        for pkg in ("etl", "reports", "dashboard", "bench")
        for p in _modules(pkg)
        if "pagerduty" in {_top(n) for n in _imports(p)} and p != ROOT / "etl" / "pd_client.py"
    ]
    # The sync benchmark's naive baseline is written the way a user would, with the client.
    offenders = [o for o in offenders if o != "bench/bench_sync.py"]
    assert offenders == []


@pytest.mark.parametrize("package", ["reports", "dashboard"])
def test_readers_never_reach_the_extractor(package):
    forbidden = {"etl.pd_client", "etl.extract", "etl.load", "etl.sync", "pagerduty"}
    offenders = {
        str(p.relative_to(ROOT)): sorted(_imports(p) & forbidden)
        for p in _modules(package)
        if _imports(p) & forbidden
    }
    assert offenders == {}


def test_etl_never_imports_streamlit_or_the_dashboard():
    offenders = {
        str(p.relative_to(ROOT)): sorted(
            n for n in _imports(p) if _top(n) in {"streamlit", "dashboard"}
        )
        for p in _modules("etl")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_etl_reaches_reports_only_from_the_cli():
    offenders = [
        str(p.relative_to(ROOT))
        for p in _modules("etl")
        if any(_top(n) == "reports" for n in _imports(p)) and p.name != "cli.py"
    ]
    assert offenders == []
