"""Flapping (etl/noise/flapping.py) on hand-made frames: an alert type flaps when its transient
incidents re-trigger within the window far more often than its own rate explains."""

from __future__ import annotations

import dataclasses
import random

import pandas as pd

from etl.config import Config
from etl.noise import NoiseSettings, flag_flapping
from tests.etl.noise_support import T0, _incident_frame

DAY = 86400
WORKING_HOURS = range(9, 18)


def _row(incident_id: str, t: float, transient: bool, alert_type: str, service: str) -> dict:
    return {
        "incident_id": incident_id,
        "t": int(t),
        "noise_reason": "transient" if transient else None,
        "template_id": alert_type,
        "service_id": service,
    }


def _at_work(t: float) -> bool:
    stamp = T0 + pd.Timedelta(seconds=t)
    return stamp.hour in WORKING_HOURS and stamp.day_of_week < 5


def _background(days: int, per_day: int, rng: random.Random, working: bool = False) -> list:
    """Acknowledged incidents of another service (what the account's busyness per hour of the
    week is read from), all day or in working hours only."""
    times = [rng.randrange(days * DAY) for _ in range(days * per_day)]
    return [
        _row(f"BG{n}", t, False, "bg", "S9")
        for n, t in enumerate(times)
        if not working or _at_work(t)
    ]


def _flapping_alert(bursts: int, days: int, rng: random.Random, alert_type: str = "health"):
    """A check on S1 that flaps a few times a week: bursts of 4 self-resolving triggers ten
    minutes apart."""
    rows = []
    for burst in range(bursts):
        start = rng.randrange(days * DAY)
        rows += [_row(f"F{burst}-{n}", start + n * 600, True, alert_type, "S1") for n in range(4)]
    return rows


def _busy_noise(days: int, per_day: float, rng: random.Random, working: bool = False) -> list:
    """A self-resolving alert on S1 firing at random (Poisson), ``per_day`` times a day on
    average, all day or in working hours only."""
    rows, t = [], 0.0
    rate = per_day / DAY * (24 / len(WORKING_HOURS) * 7 / 5 if working else 1)
    while t < days * DAY:
        t += rng.expovariate(rate)
        if not working or _at_work(t):
            rows.append(_row(f"N{len(rows)}", t, True, "cpu", "S1"))
    return rows


def _flags(rows: list[dict], settings: NoiseSettings | None = None) -> dict[str, bool]:
    frame = _incident_frame(rows)
    flags = flag_flapping(frame, Config(), settings or NoiseSettings())
    return dict(zip(frame["incident_id"], flags, strict=True))


def test_a_flapping_alert_is_flagged_through_an_acknowledged_repeat() -> None:
    rng = random.Random(3)
    rows = _background(28, 20, rng) + _flapping_alert(8, 28, rng)
    # Someone acknowledges a repeat in the middle of the first burst: not transient, so not
    # flapping itself, and the burst around it stays one episode.
    rows.append(_row("ACKED", rows[-32]["t"] + 900, False, "health", "S1"))
    flags = _flags(rows)
    assert all(flags[f"F{b}-{n}"] for b in range(8) for n in range(4))
    assert not flags["ACKED"]
    assert not any(flags[row["incident_id"]] for row in rows if row["template_id"] == "bg")


def test_chance_repeats_of_a_busy_self_resolving_alert_are_not_flapping() -> None:
    rng = random.Random(5)
    noise = _busy_noise(28, 12, rng)  # every two hours on average: many repeats within the hour
    rows = _background(28, 20, rng) + noise
    assert len(noise) > 250
    assert not any(_flags(rows)[row["incident_id"]] for row in noise)
    # flap_alpha = 1 is the earlier rule: every transient re-trigger within the window.
    earlier = dataclasses.replace(NoiseSettings(), flap_alpha=1.0)
    assert sum(_flags(rows, earlier)[row["incident_id"]] for row in noise) > 100


def test_working_hours_noise_is_judged_at_the_rate_of_working_hours() -> None:
    # 6 a day between 09:00 and 18:00 on weekdays repeat within the hour far more often than 6
    # a day spread over the week would; the account's other incidents follow the same day.
    rng = random.Random(11)
    noise = _busy_noise(56, 6, rng, working=True)
    rows = _background(56, 40, rng, working=True) + noise
    assert not any(_flags(rows)[row["incident_id"]] for row in noise)


def test_a_flapping_alert_stands_out_on_a_type_that_also_fires_by_itself() -> None:
    # Twice a day at random, and eight bursts in four weeks. (Against four a day at random, six
    # bursts are not enough: docs/grouping.md section 2.)
    rng = random.Random(7)
    rows = _background(28, 20, rng) + _busy_noise(28, 2, rng)
    rows += _flapping_alert(8, 28, rng, alert_type="cpu")
    flags = _flags(rows)
    assert all(flags[f"F{b}-{n}"] for b in range(8) for n in range(4))


def test_two_hours_of_history_cannot_tell_flapping_from_chance() -> None:
    # Four triggers in half an hour are what a type firing twice an hour does anyway.
    rows = [_row(f"F{n}", n * 600, True, "health", "S1") for n in range(4)]
    rows.append(_row("BG", 7200, False, "bg", "S9"))
    assert not any(_flags(rows).values())
