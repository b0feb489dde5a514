-- One row per `pagerlens listen` session, replaced at every apply (etl/live/apply.py): what
-- the dashboard's "Now" page says about the live data. Created by the first apply; a
-- warehouse that never listened has no such table (the page's query is optional on it).
create table if not exists _live_status (
    run_id varchar primary key,
    applied_at timestamptz not null,
    events_applied bigint not null,
    last_event_received_at timestamptz,
    last_event_type varchar,
    last_event_occurred_at timestamptz
);
