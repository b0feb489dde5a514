"""The served account, indexed once, and its state as of the server's clock.

:class:`AccountIndex` holds everything that does not depend on the clock (incidents and log
entries sorted by ``created_at`` for bisecting, catalogs sorted by name, on-calls); one index is
shared by every server of the same account object. :class:`Snapshot` is the account as of one
clock value, with the caches valid at that clock.
"""

from __future__ import annotations

import bisect
import math
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from simulator.protocol import FAR_PAST, dumps, epoch_of, not_found

# Entry types left out by is_overview=true: the per-responder notification noise.
NON_OVERVIEW_TYPES = frozenset({"notify_log_entry"})
_QUERY_CACHE_SIZE = 512
_FRAGMENT_CACHE_SIZE = 400_000


class AccountIndex:
    """Everything about the account that does not depend on the clock, indexed once."""

    def __init__(self, account: Any) -> None:
        # No reference to the account itself is kept: see index_for.
        self.tz = ZoneInfo(getattr(account, "account_time_zone", None) or "UTC")
        self.incidents = sorted(
            account.incidents,
            key=lambda sim: (
                epoch_of(sim.incident["created_at"]),
                sim.incident.get("incident_number", 0),
            ),
        )
        self.incident_ts = [epoch_of(sim.incident["created_at"]) for sim in self.incidents]
        self.incident_pos = {sim.incident["id"]: pos for pos, sim in enumerate(self.incidents)}

        rows = [
            (epoch_of(entry["created_at"]), entry["id"], pos, entry)
            for pos, sim in enumerate(self.incidents)
            for entry in sim.log_entries
        ]
        rows.sort(key=lambda row: (row[0], row[1]))
        self.entry_ts = [row[0] for row in rows]
        self.entry_incident = [row[2] for row in rows]
        self.entries = [row[3] for row in rows]
        self.entry_teams = [self._entry_team_ids(row[3], row[2]) for row in rows]
        self.incident_entries: list[list[int]] = [[] for _ in self.incidents]
        for gidx, pos in enumerate(self.entry_incident):
            self.incident_entries[pos].append(gidx)
        self._subsets: dict[tuple[bool, frozenset[str] | None], tuple[list[float], list[int]]] = {}
        self._subset_lock = threading.Lock()

        def by_name(items: Iterable[dict]) -> list[dict]:
            return sorted(items, key=lambda item: (str(item.get("name", "")).lower(), item["id"]))

        self.catalogs: dict[str, list[dict]] = {
            "services": by_name(account.services),
            "teams": by_name(account.teams),
            "users": by_name(account.users),
            "escalation_policies": by_name(account.escalation_policies),
            "schedules": by_name(account.schedules),
            # PagerDuty lists priorities in their configured order, not by name.
            "priorities": list(account.priorities),
        }
        self.by_id: dict[str, dict[str, dict]] = {
            name: {item["id"]: item for item in items} for name, items in self.catalogs.items()
        }
        self.catalog_fragments: dict[tuple[str, int, frozenset[str]], bytes] = {}
        # Log entries never change; only their embedded incident depends on the clock, so
        # variants without include[]=incidents are cached here, shared by every clock.
        self.entry_fragments: dict[tuple, bytes] = {}

        def oncall_key(oncall: dict) -> tuple:
            return (
                epoch_of(oncall.get("start")),
                (oncall.get("escalation_policy") or {}).get("id", ""),
                oncall.get("escalation_level", 0),
                (oncall.get("user") or {}).get("id", ""),
            )

        self.oncalls = sorted(account.oncalls, key=oncall_key)
        self.oncall_start = [epoch_of(o.get("start")) for o in self.oncalls]
        self.oncall_end = [epoch_of(o["end"]) if o.get("end") else math.inf for o in self.oncalls]
        finite = [
            end - start
            for start, end in zip(self.oncall_start, self.oncall_end, strict=True)
            if start != FAR_PAST and end != math.inf
        ]
        self.longest_oncall = max(finite, default=0.0)
        self.permanent_oncalls = [
            i
            for i, start in enumerate(self.oncall_start)
            if start == FAR_PAST or self.oncall_end[i] == math.inf
        ]
        self.oncall_fragments = [dumps(o) for o in self.oncalls]

    def _entry_team_ids(self, entry: dict, pos: int) -> frozenset[str]:
        teams = entry.get("teams")
        if teams is None:
            teams = self.incidents[pos].incident.get("teams") or []
        return frozenset(team["id"] for team in teams)

    def entry_subset(
        self, overview: bool, team_ids: frozenset[str] | None
    ) -> tuple[list[float], list[int]]:
        """Sorted (created_at, global index) arrays of the entries a filter keeps.

        Built on first use and kept: the clock only moves a cut-off inside these arrays.
        """
        key = (overview, team_ids)
        found = self._subsets.get(key)
        if found is not None:
            return found
        with self._subset_lock:
            found = self._subsets.get(key)
            if found is None:
                if not overview and not team_ids:
                    found = (self.entry_ts, list(range(len(self.entries))))
                else:
                    keep = [
                        gidx
                        for gidx, entry in enumerate(self.entries)
                        if (not overview or entry.get("type") not in NON_OVERVIEW_TYPES)
                        and (not team_ids or self.entry_teams[gidx] & team_ids)
                    ]
                    found = ([self.entry_ts[g] for g in keep], keep)
                self._subsets[key] = found
        return found


_INDEXES: dict[int, tuple[weakref.ref, AccountIndex]] = {}
_INDEXES_LOCK = threading.Lock()


def index_for(account: Any) -> AccountIndex:
    """The index of ``account``, shared by every server of that same account object.

    Test suites start many servers over one session account; indexing and serialising it
    once keeps each new server cheap. Entries die with their account (weak reference).
    """
    with _INDEXES_LOCK:
        for key, (ref, _) in list(_INDEXES.items()):
            if ref() is None:
                del _INDEXES[key]
        found = _INDEXES.get(id(account))
        if found is not None and found[0]() is account:
            return found[1]
        index = AccountIndex(account)
        _INDEXES[id(account)] = (weakref.ref(account), index)
        return index


class Snapshot:
    """The account as of one clock value: incident states and caches valid at that clock."""

    def __init__(self, index: AccountIndex, now: datetime) -> None:
        self.index = index
        self.now = now
        self.now_ts = now.timestamp()
        # Incidents with created_at <= now exist; the index is sorted by created_at.
        self.incident_count = bisect.bisect_right(index.incident_ts, self.now_ts)
        self._states: dict[int, tuple[dict, list[dict], list[dict]]] = {}
        self._fragments: dict[tuple, bytes] = {}
        self._queries: OrderedDict[tuple, list[int]] = OrderedDict()
        self._lock = threading.Lock()

    def state(self, pos: int) -> tuple[dict, list[dict], list[dict]]:
        """``SimIncident.as_of(now)`` for the incident at ``pos``, computed once per clock."""
        state = self._states.get(pos)
        if state is None:
            state = self.index.incidents[pos].as_of(self.now)
            if state is None:  # created after the clock: callers check incident_count first
                raise not_found()
            self._states[pos] = state
        return state

    def fragment(self, key: tuple, build: Callable[[], bytes]) -> bytes:
        """A cached serialised object (the key names object, variant and time zone)."""
        found = self._fragments.get(key)
        if found is None:
            found = build()
            if len(self._fragments) >= _FRAGMENT_CACHE_SIZE:
                self._fragments.clear()  # a crude bound; refills from the hot pages
            self._fragments[key] = found
        return found

    def query(self, key: tuple, compute: Callable[[], list[int]]) -> list[int]:
        """A cached filtered/sorted result list, so paging through it costs O(page)."""
        with self._lock:
            found = self._queries.get(key)
            if found is not None:
                self._queries.move_to_end(key)
                return found
        found = compute()
        with self._lock:
            self._queries[key] = found
            if len(self._queries) > _QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)
        return found
