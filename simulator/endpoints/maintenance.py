"""``/maintenance_windows``: the windows the simulated account holds in PagerDuty.

The account's planted maintenance (``simulator/processes/maintenance.py``) is work that pages
*because* nobody booked it in PagerDuty: an incident created inside a PagerDuty maintenance
window would not exist. So the windows PagerDuty holds are the ones that cannot contradict
the incidents served:

* the teams of every other planted maintenance service (the first by service id, the third,
  ...) have started booking their weekly window: one window for each of the next
  :data:`BOOKED_WEEKS` occurrences after the account's end (PagerDuty windows are one-off);
* one past, one-off window ("Database upgrade") on the quietest service without planted
  maintenance, placed where that service created no incident.

Windows are built once per account (:func:`account_windows`, a pure function of the account)
and listed with PagerDuty's filters: ``filter`` (past, future, ongoing, open, all; relative to
the server's clock; default all; ``open`` is ongoing or future), ``service_ids[]``, ``team_ids[]``, ``query`` (description).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from simulator._common import API_BASE, WEB_BASE, IdFactory, epoch, iso, parse_iso
from simulator.index import Snapshot
from simulator.pagination import Page
from simulator.protocol import Query, dumps, invalid, reference_as

BOOKED_WEEKS = 4
# A counter range of its own, so window ids never collide with the organisation's ids.
_WINDOW_ID_BASE = 9_000_000
ONE_OFF_SECONDS = 2 * 3600
FILTERS = ("past", "future", "ongoing", "open", "all")
WEEK = int(timedelta(days=7).total_seconds())


def account_windows(account: Any) -> list[dict]:
    """The maintenance windows ``account`` holds, ordered by start (then sequence number)."""
    services = {s["id"]: s for s in account.services}
    planned: list[tuple[int, int, dict, str]] = []
    planted = sorted(
        account.ground_truth.get("maintenance_windows", []), key=lambda m: m["service_id"]
    )
    for booked in planted[::2]:
        service = services.get(booked["service_id"])
        if service is None or not booked["windows"]:
            continue
        last_start, last_end = (parse_iso(t) for t in booked["windows"][-1])
        end = epoch(account.end)
        weeks = [k for k in range(1, 3 * BOOKED_WEEKS) if last_start + k * WEEK >= end]
        for k in weeks[:BOOKED_WEEKS]:
            planned.append(
                (
                    last_start + k * WEEK,
                    last_end + k * WEEK,
                    service,
                    f"Weekly maintenance of {service['name']} ({booked['rule']})",
                )
            )
    one_off = _one_off(account, {m["service_id"] for m in planted})
    if one_off is not None:
        planned.append(one_off)
    planned.sort(key=lambda p: (p[0], p[2]["id"]))
    ids = IdFactory(account.seed)
    users = sorted(account.users, key=lambda u: u["id"])
    return [
        _window(ids.pd_id(_WINDOW_ID_BASE + n), n + 1, start, end, service, text, users)
        for n, (start, end, service, text) in enumerate(planned)
    ]


def _one_off(account: Any, excluded: set[str]) -> tuple[int, int, dict, str] | None:
    """A two-hour window in the middle of the history on the quietest other service, at the
    first 10:00 UTC slot (day by day from the middle) in which that service created nothing."""
    created: dict[str, list[int]] = {s["id"]: [] for s in account.services}
    for sim in account.incidents:
        service_id = sim.incident["service"]["id"]
        if service_id in created:
            created[service_id].append(parse_iso(sim.incident["created_at"]))
    candidates = sorted(
        (len(times), service_id)
        for service_id, times in created.items()
        if service_id not in excluded
    )
    if not candidates:
        return None
    service_id = candidates[0][1]
    service = next(s for s in account.services if s["id"] == service_id)
    start, end = epoch(account.start), epoch(account.end)
    day = start + (end - start) // 2
    slot = day - day % 86400 + 10 * 3600
    while slot + ONE_OFF_SECONDS <= end:
        if slot >= start and not any(
            slot <= t < slot + ONE_OFF_SECONDS for t in created[service_id]
        ):
            return slot, slot + ONE_OFF_SECONDS, service, "Database upgrade"
        slot += 86400
    return None


def _window(
    window_id: str, sequence: int, start: int, end: int, service: dict, text: str, users: list
) -> dict:
    teams = [dict(t) for t in service.get("teams") or []]
    team_ids = {t["id"] for t in teams}
    author = next(
        (u for u in users if team_ids & {t["id"] for t in u.get("teams") or []}),
        users[0] if users else None,
    )
    window = {
        "id": window_id,
        "type": "maintenance_window",
        "summary": text,
        "self": f"{API_BASE}/maintenance_windows/{window_id}",
        "html_url": f"{WEB_BASE}/service-directory/maintenance-windows/{window_id}",
        "sequence_number": sequence,
        "start_time": iso(start),
        "end_time": iso(end),
        "description": text,
        "services": [reference_as(service, "service")],
        "teams": teams,
    }
    if author is not None:
        window["created_by"] = reference_as(author, "user")
    return window


def list_maintenance_windows(windows: list[dict], query: Query, snap: Snapshot) -> bytes:
    """``GET /maintenance_windows`` over ``windows`` as of the server's clock."""
    page = Page.parse(query)
    state = query.one("filter") or "all"
    if state not in FILTERS:
        raise invalid(f"filter must be one of {', '.join(FILTERS)}")
    now = snap.now.timestamp()
    service_ids = frozenset(query.many("service_ids"))
    team_ids = frozenset(query.many("team_ids"))
    text = (query.one("query") or "").lower()
    kept = []
    for window in windows:
        start, end = parse_iso(window["start_time"]), parse_iso(window["end_time"])
        if state == "past" and not end <= now:
            continue
        if state == "future" and not start > now:
            continue
        if state == "ongoing" and not start <= now < end:
            continue
        if state == "open" and not end > now:  # ongoing or future
            continue
        if service_ids and not service_ids & {s["id"] for s in window["services"]}:
            continue
        if team_ids and not team_ids & {t["id"] for t in window["teams"]}:
            continue
        if text and text not in window["description"].lower():
            continue
        kept.append(window)
    fragments = [dumps(kept[i]) for i in page.slice(len(kept))]
    return page.body("maintenance_windows", fragments, len(kept))
