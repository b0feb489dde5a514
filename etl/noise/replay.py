"""The replay: the last weeks of history recounted with a recommendation applied."""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.config import Config


def replay_window(incidents: pd.DataFrame, weeks: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The replayed period: incidents created in the last ``weeks`` weeks of the history,
    ``(start, end]`` with ``end`` the newest creation time."""
    end = incidents["created_at"].max()
    return end - pd.Timedelta(weeks=weeks), end


class Replay:
    """Replays the last weeks of history with incidents removed or demoted to low urgency.

    Interruptions are recounted with the merge rule of ``int_interruptions`` over the replay
    period's notifications (``noise_notifications.sql``); a notification's hour bucket comes
    from ``int_notifications`` (the SQL definition), so only the merging is redone here, on
    numpy arrays sorted once by user and time.
    """

    def __init__(
        self,
        incidents: pd.DataFrame,
        notifications: pd.DataFrame | None,
        config: Config,
        weeks: int,
    ) -> None:
        self.config = config
        self.start, self.end = replay_window(incidents, weeks)
        window = incidents[incidents["created_at"] > self.start]
        self.incidents_before = len(window)
        self.window_ids = pd.Index(window["incident_id"].unique())
        notes = notifications if notifications is not None else pd.DataFrame()
        if notes.empty:
            notes = pd.DataFrame(
                {
                    "log_entry_id": pd.Series(dtype="object"),
                    "incident_id": pd.Series(dtype="object"),
                    "user_id": pd.Series(dtype="object"),
                    "created_at": pd.Series(dtype="datetime64[us, UTC]"),
                    "interrupts": pd.Series(dtype=bool),
                    "in_interruptions": pd.Series(dtype=bool),
                    "is_sleep": pd.Series(dtype=bool),
                }
            )
        notes = notes[notes["incident_id"].isin(self.window_ids)]
        users, self.users = pd.factorize(notes["user_id"], use_na_sentinel=True)
        created = pd.to_datetime(notes["created_at"], utc=True)
        seconds = (created - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
        # By user, then time. The order of a user's notifications at the same instant does not
        # matter: they merge, and share their local time and so their bucket.
        order = np.lexsort((seconds, users))
        notes = notes.iloc[order]
        self.user = users[order]
        self.seconds = seconds[order]
        self.incident = self.window_ids.get_indexer(notes["incident_id"])
        self.interrupts = notes["interrupts"].fillna(False).astype(bool).to_numpy()
        self.counted = notes["in_interruptions"].fillna(False).astype(bool).to_numpy()
        self.is_sleep = notes["is_sleep"].fillna(False).astype(bool).to_numpy()
        everyone = np.ones(len(self.users), dtype=bool)
        self.sleep_before_by_user = self._sleep_interruptions(self.counted, everyone)

    def _sleep_interruptions(self, kept: np.ndarray, users: np.ndarray) -> np.ndarray:
        """Sleep interruptions per user among the ``kept`` notifications of ``users``: a
        notification opens an interruption when it is the user's first or comes more than
        the merge window after the previous one (docs/metrics.md "Interruptions")."""
        rows = np.flatnonzero(kept & (self.user >= 0) & users[np.maximum(self.user, 0)])
        counts = np.zeros(len(self.users), dtype=np.int64)
        if not len(rows):
            return counts
        user = self.user[rows]
        seconds = self.seconds[rows]
        opens = np.ones(len(rows), dtype=bool)
        opens[1:] = (user[1:] != user[:-1]) | (
            np.diff(seconds) > self.config.interruption_merge_seconds
        )
        np.add.at(counts, user[opens & self.is_sleep[rows]], 1)
        return counts

    def run(self, removed: set[str], demoted: set[str] = frozenset()) -> dict:
        """Counterfactual figures: ``removed`` incidents never page (suppressed, paused,
        grouped into another incident, in maintenance); ``demoted`` keep their incident but
        lose their interrupting notifications (low urgency / chat)."""
        removed_at = self.window_ids.get_indexer(list(removed))
        removed_at = removed_at[removed_at >= 0]
        demoted_at = self.window_ids.get_indexer(list(demoted))
        demoted_at = demoted_at[demoted_at >= 0]
        is_removed = np.zeros(len(self.window_ids), dtype=bool)
        is_removed[removed_at] = True
        is_demoted = np.zeros(len(self.window_ids), dtype=bool)
        is_demoted[demoted_at] = True
        is_demoted &= ~is_removed
        drop = is_removed[self.incident] | (is_demoted[self.incident] & self.interrupts)
        affected = np.zeros(len(self.users), dtype=bool)
        affected[self.user[drop & (self.user >= 0)]] = True
        after = self._sleep_interruptions(self.counted & ~drop, affected)
        sleep_before = int(self.sleep_before_by_user.sum())
        pages_before = int(self.interrupts.sum())
        pages_after = int((self.interrupts & ~drop).sum())
        return {
            "incidents_before": self.incidents_before,
            "incidents_after": self.incidents_before - int(is_removed.sum()),
            "notifications_before": len(drop),
            "notifications_after": int((~drop).sum()),
            "sleep_interruptions_before": sleep_before,
            "sleep_interruptions_after": sleep_before
            - int(self.sleep_before_by_user[affected].sum())
            + int(after.sum()),
            "pages_saved": pages_before - pages_after,
        }
