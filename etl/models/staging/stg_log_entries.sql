-- incremental: per raw_log_entries row, keyed by log_entry_id
-- One row per log entry, parsed once. `entry_type` folds the spec's name variants
-- (`acknowledgement_log_entry`, `*_reference` from overview listings) into one name.
-- `is_human` is the agent rule of docs/metrics.md: a user agent is a person whatever the
-- channel; without an agent, the channels auto/api/nagios/timeout (or none) are automatic.
-- `trigger_details` is a trigger entry's `channel.details` (the triggering event's custom
-- details, synced through include[]=channels) as JSON text when it is a JSON object: the
-- structured alert identity's input (etl/noise/identity.py), read here in the one pass over
-- the raw JSON instead of a second scan and join. The path is extracted for trigger entries
-- only (a CASE branch runs on its matching rows alone). `custom_field_changes` is, the same
-- way, a custom field change entry's `channel.changeset.customer_fields` (JSON as found),
-- read by stg_custom_field_changes.
-- The details are long JSON texts on one entry in nine: zstd stores them in a fraction of the
-- space and time of DuckDB's own choice for the column (etl/incremental.py, create_table_as).
-- So do the ids, unique strings that DuckDB's dictionary-FSST cannot shorten much: at a million
-- incidents 18 MiB instead of 125 in 1.1 instead of 1.2-1.8 s, and scans of them took the same.
-- compression: trigger_details zstd, log_entry_id zstd
with parsed as (
    select
        id,
        payload,
        json_extract_string(payload, [
            '$.type',
            '$.created_at',
            '$.incident.id',
            '$.agent.type',
            '$.agent.id',
            '$.channel.type',
            '$.channel.notification.type',
            '$.user.id',
            '$.channel.notification.user.id',
            '$.channel.summary'
        ]) as f
    from raw_log_entries
),

typed as (
    select
        id as log_entry_id,
        case
            when f[1] = 'acknowledgement_log_entry' then 'acknowledge_log_entry'
            when f[1] like '%\_reference' escape '\' then replace(
                replace(f[1], '_reference', ''), 'acknowledgement_', 'acknowledge_'
            )
            else f[1]
        end as entry_type,
        -- An overview listing's entry (`*_reference`): it carries no channel details.
        coalesce(f[1] like '%\_reference' escape '\', false) as is_reference,
        try_cast(f[2] as timestamptz) as created_at,
        f[3] as incident_id,
        f[4] as agent_type,
        f[5] as agent_id,
        f[6] as channel_type,
        f[7] as notification_type,
        coalesce(f[8], f[9]) as notified_user_id,
        -- The triggering event's summary (= the first alert's), kept for trigger entries only:
        -- the alert text the noise marts mine templates from.
        case when f[1] like 'trigger\_log\_entry%' escape '\' then f[10] end as trigger_summary,
        payload
    from parsed
),

detailed as (
    select
        * exclude (payload),
        case
            when entry_type = 'trigger_log_entry' then json_extract(payload, '$.channel.details')
        end as channel_details,
        case
            when entry_type = 'custom_field_value_change_log_entry'
                then json_extract(payload, '$.channel.changeset.customer_fields')
        end as custom_field_changes
    from typed
),

cleaned as (
    select
        * exclude (channel_details),
        case
            when json_type(channel_details) = 'OBJECT' then channel_details::varchar
        end as trigger_details,
        case
            when agent_type is not null then agent_type in ('user_reference', 'user')
            else coalesce(channel_type, 'auto') not in ('auto', 'api', 'nagios', 'timeout')
        end as is_human
    from detailed
),

-- `trigger_details_hash` identifies the details without reading them: the noise step
-- remembers each incident's identity by it (etl/noise/alert_types.py) and reads the text of
-- the new details only.
final as (
    select
        *,
        case when trigger_details is not null then hash(trigger_details) end as trigger_details_hash
    from cleaned
)

select * from final
