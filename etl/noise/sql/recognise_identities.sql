-- The structured identity of the commonest detail shapes, in SQL: what
-- etl/noise/identity.py's `recognise` returns for them, exactly, and `python` for every other
-- body (`recognise` then reads it). Reads `noise_incident_details` (incident_id, details: JSON
-- object text). Returns incident_id, identity_source (an integration, `none` when no
-- recogniser can match, or `python`), type_text (`<source>|<key>`) and details (for `python`
-- rows only).
--
-- A shape is claimed here only when SQL and Python read it alike: every value a key uses is a
-- JSON string (numbers, booleans and nulls print differently), no object read has a duplicate
-- key (Python keeps the last, DuckDB finds the first), a key is at most 512 bytes (Python cuts
-- it at 512 characters), the SNS `Message` is plain JSON that Python's parser accepts too (no
-- trailing comma, a leading `{`, shallow). Claimed: Alertmanager's `firing` list of one alert
-- without Grafana's marks, Datadog with a numeric monitor id, CloudWatch through SNS, Uptime
-- Robot, and bodies with none of the keys any recogniser reads (Nagios, e-mail: `none`).
-- The text alert lists (Alertmanager before v0.30, Grafana) and the rest go to Python; a text
-- list goes with the lines that cannot change its identity emptied (`reduced_text_list`, in
-- identity_macros.sql), so that Python reads each distinct rest once.
-- Needs the macros of identity_macros.sql.
--
-- One pipeline: each step is a projection of the one before (no branch is read twice), and
-- a format's second-level JSON is parsed in a CASE branch, so only for the rows of that shape.
-- The details are materialized first: read straight from the view's aggregation and join,
-- the same steps took 4-5x the CPU (measured on the 100k build, 5.4 s against 1.4 s).
with source as materialized (
    select incident_id, details from noise_incident_details
),

fields as (
    select
        incident_id,
        details,
        json_extract(details, [
            '$.firing',             -- 1
            '$.alerts',             -- 2
            '$.type',               -- 3
            '$.payload',            -- 4
            '$.orgId',              -- 5
            '$.monitor_id',         -- 6
            '$.alert_id',           -- 7
            '$.alert_transition',   -- 8
            '$.event_type',         -- 9
            '$.monitor_name',       -- 10
            '$.org_id',             -- 11
            '$.AlarmName',          -- 12
            '$.Type',               -- 13
            '$.Message',            -- 14
            '$.monitorID',          -- 15
            '$.monitorURL',         -- 16
            '$.monitorFriendlyName',    -- 17
            '$.alertTypeFriendlyName',  -- 18
            '$.alertType'           -- 19
        ]) as f
    from source
),

-- Which recogniser can match, from the keys present (recognise's order); `python` for the
-- shapes not claimed here, `none` when no recogniser reads any key the body has (presence is
-- the same for both parsers, duplicated or not; the values read are checked for duplicates
-- per shape below).
shaped as (
    select
        incident_id,
        details,
        f,
        case
            when f[3] is not null or f[4] is not null then 'python'  -- wrapped: see _unwrap
            when f[1] is not null then if(left(f[1], 1) = '[', 'alertmanager', 'python')
            when f[2] is not null then 'python'
            when f[6] is not null or f[7] is not null then 'datadog'
            when f[12] is not null then 'python'
            when f[13] is not null then 'cloudwatch'
            when f[15] is not null then 'uptimerobot'
            else 'none'
        end as shape
    from fields
),

-- The second-level JSON: the one firing alert's labels (Alertmanager), the SNS message text,
-- a text alert list reduced for Python.
nested as (
    select
        *,
        case
            when shape = 'alertmanager' then json_extract(f[1], [
                '$[0].labels',                  -- 1
                '$[1]',                         -- 2
                '$[0].labels.alertname',        -- 3
                '$[0].labels.severity',         -- 4
                '$[0].labels.namespace',        -- 5
                '$[0].labels.job',              -- 6
                '$[0].labels.service',          -- 7
                '$[0].labels.grafana_folder'    -- 8
            ])
        end as l,
        case
            when shape = 'cloudwatch' and f[13] = '"Notification"' and left(f[14], 1) = '"'
                then f[14] ->> '$'
        end as message,
        case
            when shape = 'python' and f[3] is null and f[4] is null and left(f[1], 1) = '"'
                then reduced_text_list(f[1])
        end as firing
    from shaped
),

-- The alarm of a message that both parsers read alike (DuckDB also accepts trailing commas).
alarms as (
    select
        *,
        coalesce(
            left(message, 1) = '{'
            and json_valid(message)
            and not regexp_matches(message, ',\s*[\]}]')
            and json_like_python(message),
            false
        ) as plain
    from nested
),

alarm_fields as (
    select
        * exclude (plain),
        case
            when plain then json_extract(message, ['$.AlarmName', '$.AWSAccountId', '$.Region'])
        end as a,
        case when plain then json_keys(message) end as alarm_keys
    from alarms
),

-- Per shape: the key recognise would build, and whether every value it reads is a string.
keyed as (
    select
        incident_id,
        details,
        shape,
        case when firing <> f[1] then with_firing(details, f[1], firing) end as reduced,
        case shape
            when 'alertmanager' then concat_ws(
                ',',
                'alertname=' || nullif(l[3] ->> '$', ''),
                'severity=' || nullif(l[4] ->> '$', ''),
                'namespace=' || nullif(l[5] ->> '$', ''),
                'job=' || nullif(l[6] ->> '$', ''),
                'service=' || nullif(l[7] ->> '$', '')
            )
            when 'datadog' then 'monitor_id=' || (coalesce(f[6], f[7]) ->> '$')
            when 'cloudwatch' then concat_ws(
                ',',
                'account=' || nullif(a[2] ->> '$', ''),
                'region=' || nullif(a[3] ->> '$', ''),
                'alarm=' || nullif(a[1] ->> '$', '')
            )
            when 'uptimerobot' then concat_ws(
                ',',
                'monitor_id=' || (f[15] ->> '$'),
                'alert_type=' || coalesce(nullif(f[18] ->> '$', ''), nullif(f[19] ->> '$', ''))
            )
        end as key,
        case shape
            -- One alert (no second), labels an object with a non-empty alertname, the other
            -- stable labels strings or absent, no Grafana mark (grafana_folder, orgId), and no
            -- key read repeated (the one alert's labels, the labels' names).
            when 'alertmanager' then
                left(l[1], 1) = '{' and l[2] is null
                and left(l[3], 1) = '"' and l[3] <> '""'
                and coalesce(left(l[4], 1), '"') = '"'
                and coalesce(left(l[5], 1), '"') = '"'
                and coalesce(left(l[6], 1), '"') = '"'
                and coalesce(left(l[7], 1), '"') = '"'
                and l[8] is null and f[5] is null
                and key_count(details, 'firing') = 1
                and key_count(f[1], 'labels') = 1
                and key_count(l[1], 'alertname') = 1
                and key_count(l[1], 'severity') <= 1
                and key_count(l[1], 'namespace') <= 1
                and key_count(l[1], 'job') <= 1
                and key_count(l[1], 'service') <= 1
            -- A positive JSON integer (below 2^63) or a string of ASCII digits as monitor_id,
            -- else (absent) as alert_id (a falsy monitor_id: Python), and one of Datadog's
            -- fields.
            when 'datadog' then
                (
                    regexp_full_match(coalesce(f[6], f[7]), '[1-9][0-9]{0,17}')
                    or regexp_full_match(coalesce(f[6], f[7]), '"[0-9]+"')
                )
                and (f[8] is not null or f[9] is not null or f[10] is not null or f[11] is not null)
                and key_count(details, if(f[6] is null, 'alert_id', 'monitor_id')) = 1
            when 'cloudwatch' then
                left(a[1], 1) = '"' and a[1] <> '""'
                and coalesce(left(a[2], 1), '"') = '"'
                and coalesce(left(a[3], 1), '"') = '"'
                and len(alarm_keys) = len(list_distinct(alarm_keys))
                and key_count(details, 'Type') = 1
                and key_count(details, 'Message') = 1
            when 'uptimerobot' then
                left(f[15], 1) = '"' and f[15] <> '""'
                and (f[16] is not null or f[17] is not null)
                and coalesce(left(f[18], 1), '"') = '"'
                and coalesce(left(f[19], 1), '"') = '"'
                and key_count(details, 'monitorID') = 1
                and key_count(details, 'alertTypeFriendlyName') <= 1
                and key_count(details, 'alertType') <= 1
        end as claimed
    from alarm_fields
),

-- Claimed only when the key needs no cut and Python would parse the details as DuckDB did.
checked as (
    select
        *,
        case
            when shape = 'none' then true
            when coalesce(claimed, false) and strlen(key) <= 512 then json_like_python(details)
            else false
        end as sure
    from keyed
),

final as (
    select
        incident_id,
        case when sure then shape else 'python' end as identity_source,
        case when sure and shape <> 'none' then shape || '|' || key end as type_text,
        case when not sure then coalesce(reduced, details) end as details
    from checked
)

select * from final
