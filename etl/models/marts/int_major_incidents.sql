-- The incidents of the major priorities (int_major_priorities) that count as incidents of
-- their own (merged-away ones left out: docs/metrics.md merged_into_incident_id), each with
-- its priority's `sev_rank` and, while open, `open_seconds` (time open to the end of the
-- data): the rows the weekly report's SEV section ranks and lists.
with top as (
    select * from int_major_priorities
),

final as (
    select
        incidents.*,
        top.sev_rank,
        case
            when incidents.resolved_at is null
                then greatest(0, epoch(period.data_end - incidents.created_at))
        end as open_seconds
    from incidents
    join top on top.priority_name = incidents.priority_name
    cross join stg_data_period as period
    where incidents.merged_into_incident_id is null
)

select * from final
