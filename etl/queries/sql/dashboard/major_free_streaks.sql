-- The marts' own streaks (docs/metrics.md "current_major_free_streak"), measured to the end of
-- the synced data; major_free_streaks.sql is the fallback for a warehouse built before it.
-- params: none
-- optional: major_free_streaks
select current_streak_start, current_streak_seconds, longest_streak_start, longest_streak_end,
    longest_streak_seconds, data_start, data_end
from major_free_streaks
