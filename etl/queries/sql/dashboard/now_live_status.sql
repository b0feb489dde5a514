-- The "Now" page: the last event a `pagerlens listen` session applied (etl/live/apply.py).
-- params: none
-- optional: _live_status
select run_id, applied_at, events_applied, last_event_received_at, last_event_type,
    last_event_occurred_at
from _live_status
order by applied_at desc
limit 1
