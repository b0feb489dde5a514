-- The weekly report's SEV section: one row per major priority (int_major_priorities, most
-- severe first, also when the week had none of its incidents). The figures are the priority
-- rows of incident_weekly_by_dimension (the models' own metrics); this query picks the
-- week's longest incident of each priority and lists who responded (int_incident_responders).
-- docs/metrics.md "Major priorities (SEV section)".
-- params: week_start date, previous_week_start date
-- optional: int_major_incidents
with top as (
    select * from int_major_priorities
),

by_priority as (
    select * from incident_weekly_by_dimension
    where dimension = 'priority' and week_start in ($week_start, $previous_week_start)
),

week_incidents as (
    select * from int_major_incidents where week_start = $week_start
),

longest as (
    -- An incident still open counts from its creation to the end of the data (open_seconds).
    select
        sev_rank,
        incident_number as longest_incident_number,
        title as longest_title,
        service_name as longest_service_name,
        coalesce(open_seconds, seconds_to_resolve) as longest_seconds,
        resolved_at is null as longest_is_open
    from week_incidents
    qualify row_number() over (
        partition by sev_rank order by longest_seconds desc nulls last, incident_number
    ) = 1
),

responses as (
    select
        week_incidents.sev_rank,
        responders.user_id,
        coalesce(any_value(users.user_name), responders.user_id) as user_name,
        count(distinct responders.incident_id) as incidents
    from week_incidents
    join int_incident_responders as responders using (incident_id)
    left join stg_users as users on users.user_id = responders.user_id
    group by week_incidents.sev_rank, responders.user_id
),

ranked as (
    select
        *,
        row_number() over (partition by sev_rank order by incidents desc, user_name) as position
    from responses
),

who as (
    select
        sev_rank,
        string_agg(user_name || ' (' || incidents || ')', ', '
            order by incidents desc, user_name) as responders,
        -- The PDF's cell: the six who responded most (the CSV keeps everyone).
        string_agg(user_name || ' (' || incidents || ')', ', '
            order by incidents desc, user_name) filter (where position <= 6) as top_responders,
        count(*) as responder_people
    from ranked
    group by sev_rank
),

final as (
    select
        top.sev_rank,
        top.priority_id,
        top.priority_name,
        coalesce(this_week.total_incident_count, 0) as total_incident_count,
        coalesce(previous.total_incident_count, 0) as previous_total_incident_count,
        coalesce(this_week.total_incidents_acknowledged, 0) as total_incidents_acknowledged,
        -- MTTA then MTTR: mean, p50, p90 (the mart's order).
        this_week.* similar to '(mean|p50|p90)_seconds_to_.*',
        longest.longest_incident_number,
        longest.longest_title,
        longest.longest_service_name,
        longest.longest_seconds,
        longest.longest_is_open,
        coalesce(who.responder_people, 0) as responder_people,
        who.responders,
        who.top_responders
    from top
    left join by_priority as this_week
        on this_week.dimension_value = top.priority_name and this_week.week_start = $week_start
    left join by_priority as previous
        on previous.dimension_value = top.priority_name
        and previous.week_start = $previous_week_start
    left join longest using (sev_rank)
    left join who using (sev_rank)
)

select * from final order by sev_rank
