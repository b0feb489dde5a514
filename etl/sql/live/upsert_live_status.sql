insert or replace into _live_status (
    run_id, applied_at, events_applied, last_event_received_at, last_event_type,
    last_event_occurred_at
)
values (
    $run_id, $applied_at, $events_applied, $last_event_received_at::timestamptz,
    $last_event_type, $last_event_occurred_at::timestamptz
)
