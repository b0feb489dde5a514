-- params: none
-- optional: major_free_streaks
-- The instant our data runs to (docs/metrics.md `end_of_data`): PagerDuty's lag is measured
-- back from it.
select data_end from major_free_streaks
