-- Who is engaged on each open incident (status triggered or acknowledged), from the incident
-- as the API last showed it: its current assignees and whoever acknowledged it, each list
-- sorted, distinct and comma-joined (NULL when empty). Only open incidents' JSON is read
-- again: the Now page's "who is on it".
with open_incidents as (
    select incident_id
    from stg_incidents
    where status in ('triggered', 'acknowledged')
),

parsed as (
    select
        id as incident_id,
        json_extract_string(payload, '$.assignments[*].assignee.summary') as assignees,
        json_extract_string(payload, '$.acknowledgements[*].acknowledger.summary')
            as acknowledgers
    from raw_incidents
    where id in (select incident_id from open_incidents)
),

final as (
    select
        incident_id,
        nullif(array_to_string(list_sort(list_distinct(assignees)), ', '), '') as assigned_to,
        nullif(array_to_string(list_sort(list_distinct(acknowledgers)), ', '), '')
            as acknowledged_by
    from parsed
)

select * from final
