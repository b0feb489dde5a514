-- One row per successful sync run (a failed run publishes nothing, so it leaves no row).
insert or replace into _sync_runs (
    run_id, started_at, finished_at, status, api_url, since, until, mode,
    requests, retries, rejects, records_json, duration_seconds, message
)
values (
    $run_id, $started_at, $finished_at, $status, $api_url, $since, $until, $mode,
    $requests, $retries, $rejects, $records_json::json, $duration_seconds, $message
)
