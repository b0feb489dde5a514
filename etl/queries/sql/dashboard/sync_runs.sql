-- params: limit bigint
-- optional: _sync_runs
select run_id, started_at, finished_at, status, api_url, since, until, mode, requests, retries,
    rejects, cast(records_json as varchar) as records_json, duration_seconds, message
from _sync_runs order by started_at desc limit $limit
