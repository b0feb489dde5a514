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
        if any(_top(n) == "reports" for n in _imports(p)) and p.parent != ROOT / "etl" / "cli"
    ]
    assert offenders == []


def _import_nodes(path: Path) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every absolute import of a file and whether it runs at import time (module level).

    Imports inside functions run when the function is called; imports under
    ``if TYPE_CHECKING:`` are counted as module level (they would be if they ran).
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[ast.Import | ast.ImportFrom, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                if not (isinstance(child, ast.ImportFrom) and child.level):
                    found.append((child, not in_function))
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            visit(child, inner)

    visit(tree, False)
    return found


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported_modules(node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    """Modules an import statement loads (``from pkg import mod`` names ``pkg.mod``)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    names = {node.module or ""}
    names |= {f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in known}
    return names


def test_etl_reaches_the_simulator_only_from_the_cli_lazily():
    # The simulator serves etl over HTTP; only `pagerlens demo`/`simulate` start it, and they
    # import it inside the command functions so the nightly sync never loads it.
    offenders = []
    for path in _modules("etl"):
        for node, module_level in _import_nodes(path):
            if any(_top(n) == "simulator" for n in _imported_modules(node, set())):
                if path != ROOT / "etl" / "cli" / "simulated.py" or module_level:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_simulator_uses_only_the_warehouse_contract_of_etl():
    # The scale generator writes the raw tables in the warehouse's schema: it publishes
    # through etl.warehouse (RAW_RESOURCES, building) and keys rows with the loader's own
    # helpers (etl.load: incident_reference, oncall_id, its sync-run SQL), so generated rows
    # are the rows a sync would store. It serves HTTP from a thread as the webhook receiver
    # does (etl.serving, standard library only). Nothing else of etl (client, extract, sync,
    # transform, noise, queries) and nothing of reports or the dashboard.
    allowed = {"etl.warehouse", "etl.load", "etl.serving"}
    offenders = {}
    for path in _modules("simulator"):
        names = {
            n
            for node, _ in _import_nodes(path)
            for n in _imported_modules(node, set())
            if _top(n) in {"etl", "reports", "dashboard", "pagerduty", "streamlit"}
        }
        if names - allowed:
            offenders[str(path.relative_to(ROOT))] = sorted(names - allowed)
    assert offenders == {}


def test_no_import_circle_inside_the_simulator():
    # Module-level and function-level imports alike: a lazy import hides a circle, it does
    # not remove it.
    paths = _modules("simulator")
    known = {_module_name(p) for p in paths}
    graph: dict[str, set[str]] = {}
    for path in paths:
        name = _module_name(path)
        targets = {
            t
            for node, _ in _import_nodes(path)
            for t in _imported_modules(node, known)
            if t in known and t != name
        }
        graph[name] = targets
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def walk(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(trail[trail.index(nxt) :] + [nxt])
            elif nxt not in state:
                walk(nxt, trail + [nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module, [module])
    assert cycles == []


def test_noise_package_has_no_import_circle():
    # etl/noise/ (issue 12): imports pointing one way inside it, lazy imports included.
    paths = sorted((ROOT / "etl" / "noise").rglob("*.py"))
    known = {_module_name(p) for p in paths}
    graph = {
        _module_name(p): {
            t
            for node, _ in _import_nodes(p)
            for t in _imported_modules(node, known)
            if t in known and t != _module_name(p)
        }
        for p in paths
    }
    done: set[str] = set()

    def circle_from(module: str, trail: tuple[str, ...]) -> list[str]:
        if module in trail:
            return [*trail[trail.index(module) :], module]
        if module in done:
            return []
        found = next(
            (c for t in sorted(graph[module]) if (c := circle_from(t, (*trail, module)))), []
        )
        done.add(module)
        return found

    assert [c for m in sorted(graph) if (c := circle_from(m, ()))] == []


def test_reports_and_dashboard_sit_side_by_side():
    """The dashboard reaches the reports package only through its public entry point
    (``reports.write_report``, re-exported by ``reports/__init__.py``) and the shared chart
    builders; the reports never import the dashboard."""
    allowed = {"reports", "reports.charts"}
    offenders = {
        str(p.relative_to(ROOT)): sorted(
            n
            for n in _imports(p)
            if _top(n) == "reports" and n not in allowed and not n.startswith("reports.charts.")
        )
        for p in _modules("dashboard")
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    assert [
        str(p.relative_to(ROOT))
        for p in _modules("reports")
        if any(_top(n) == "dashboard" for n in _imports(p))
    ] == []


@pytest.mark.parametrize("package", ["reports", "dashboard"])
def test_readers_read_through_the_one_read_path(package):
    """Readers import etl.queries (and configuration), never the warehouse's writers."""
    allowed_etl = {"etl.queries", "etl.queries.definitions", "etl.queries.report", "etl.config"}
    offenders = {
        str(p.relative_to(ROOT)): sorted(
            n for n in _imports(p) if _top(n) == "etl" and n not in allowed_etl
        )
        for p in _modules(package)
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_benchmarks_never_import_tests():
    # Benchmarks build their warehouses with the product; what they share with the tests
    # (corpora, the drain3 baseline, a simulated account's raw rows and dependency graph)
    # lives in bench/ and the tests import it from there.
    offenders = [
        str(p.relative_to(ROOT))
        for p in _modules("bench")
        if any(_top(n) == "tests" for n in _imports(p))
    ]
    assert offenders == []


def _too_long(path: Path, functions: bool) -> list[str]:
    """Over the limits of docs/architecture.md: a module over 500 lines; a function over 80
    lines unless the line above it (or its first decorator) gives a reason in a comment
    starting "# long:"."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    found = [f"{path.relative_to(ROOT)}: {len(lines)} lines"] if len(lines) > 500 else []
    if not functions:
        return found
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            reason = first > 1 and lines[first - 2].strip().startswith("# long:")
            if node.end_lineno - node.lineno + 1 > 80 and not reason:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    return found


@pytest.mark.parametrize(
    ("package", "functions"),
    [
        ("etl", True),
        ("reports", True),
        ("dashboard", True),
        ("simulator", True),
        ("bench", True),
        ("notebooks", True),
        ("tests", False),  # tests: modules under 500 lines; long test functions may stay
    ],
)
def test_modules_and_functions_stay_small(package, functions):
    too_long = [item for path in _modules(package) for item in _too_long(path, functions)]
    assert too_long == []
