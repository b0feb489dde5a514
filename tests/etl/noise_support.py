"""Shared pieces of the noise tests: hand-made incident frames, a simulated account loaded
as raw tables, the fixed quality draws' ids, and the production path of the noise marts."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pandas as pd

from bench.truth import dependency_components as _components  # noqa: F401 - for the tests
from bench.truth import load_account as _load_account
from etl.config import load_config
from etl.noise import (
    build_noise_marts,
)

T0 = pd.Timestamp("2026-03-02T00:00:00Z")  # a Monday


def _incident_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["created_at"] = T0 + pd.to_timedelta(frame["t"], unit="s")
    return frame.drop(columns="t")


def _storm_frame(seed: int = 5) -> pd.DataFrame:
    """Three services that fire together 5 times, and background noise on four others."""
    rng = random.Random(seed)
    rows = []
    for storm in range(5):
        start = storm * 86400 * 3 + rng.randint(0, 40000)
        rows.append(
            {
                "incident_id": f"DB{storm}",
                "t": start,
                "template": "Postgres down on <*>",
                "service_id": "db",
            }
        )
        rows.append(
            {
                "incident_id": f"API{storm}",
                "t": start + rng.randint(30, 300),
                "template": "API 5xx rate above <*>",
                "service_id": "api",
            }
        )
        rows.append(
            {
                "incident_id": f"CO{storm}",
                "t": start + rng.randint(30, 300),
                "template": "Checkout errors on <*>",
                "service_id": "checkout",
            }
        )
    for n in range(120):
        service = rng.choice(["web", "batch", "search", "mail"])
        rows.append(
            {
                "incident_id": f"BG{n}",
                "t": rng.randint(0, 86400 * 15),
                "template": f"{service} queue latency high",
                "service_id": service,
            }
        )
    frame = _incident_frame(rows)
    frame["template_id"] = frame["template"].map(lambda t: f"{abs(hash(t)) % 10**8:08d}")
    return frame


def _draw_id(draw: tuple[int, object]) -> str:
    seed, end = draw
    return f"seed{seed}-{end:%Y-%m-%d}"


def _build_noise(tmp_path: Path, account) -> tuple[Path, dict]:
    """The production path: raw tables, SQL models, then the noise marts."""
    from etl.transform import create_macros, discover_models, run_model

    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    config = load_config()
    _load_account(con, account)
    con.execute("set TimeZone = 'UTC'")
    params = config.sql_params()
    create_macros(con)
    for model in discover_models():
        run_model(con, model, params)
    result = build_noise_marts(con, config)
    con.close()
    return path, result
