-- Impact windows for every scope (service, team, account): the maximal intervals covered by
-- the union of [created_at, resolved_at) of major incidents, an open major running to the end
-- of the data. Gaps and islands: an interval starts a new window when it begins after every
-- earlier interval of its scope has ended (touching half-open intervals join).
with period as (
    select * from stg_data_period
),

majors as (
    select
        incidents.incident_id,
        incidents.service_id,
        incidents.team_id,
        incidents.created_at as start_at,
        coalesce(incidents.resolved_at, period.data_end) as end_at,
        incidents.resolved_at is null as is_open
    from incidents, period
    where incidents.is_major and incidents.created_at is not null
),

-- An empty interval (resolved at or before creation, or open past the data's end) covers
-- nothing.
intervals as (
    select * from majors where end_at > start_at
),

scoped as (
    select 'service' as scope, service_id as scope_key, * from intervals
    where service_id is not null
    union all
    select 'team' as scope, team_id as scope_key, * from intervals
    where team_id is not null
    union all
    select 'account' as scope, null as scope_key, * from intervals
),

ordered as (
    select
        *,
        max(end_at) over (
            partition by scope, scope_key order by start_at, end_at, incident_id
            rows between unbounded preceding and 1 preceding
        ) as previous_max_end
    from scoped
),

numbered as (
    select
        *,
        sum(case when previous_max_end is null or start_at > previous_max_end then 1 else 0 end)
            over (
                partition by scope, scope_key order by start_at, end_at, incident_id
                rows between unbounded preceding and current row
            ) as window_number
    from ordered
),

final as (
    select
        scope,
        scope_key,
        min(start_at) as window_start,
        max(end_at) as window_end,
        epoch(max(end_at) - min(start_at)) as duration_seconds,
        list(incident_id order by start_at, incident_id) as incident_ids,
        bool_or(is_open) as has_open_incident
    from numbered
    group by scope, scope_key, window_number
)

select * from final
