-- The account's major priorities: the priorities that make an incident major by its priority
-- alone (docs/metrics.md `is_major`, `major_priorities`), most severe first. They are the
-- names of the `major.priorities` setting when it is set (in the setting's order, ranked by
-- the account's own order when fetched), else the two most severe of /priorities. The weekly
-- report's SEV section lists these; `sev_rank` 1 is SEV1.
with priorities as (
    select * from stg_priorities
),

configured as (
    select
        unnest($major_priorities) as priority_name,
        generate_subscripts($major_priorities, 1) as position
),

chosen as (
    select
        priorities.priority_id,
        cast(configured.priority_name as varchar) as priority_name,
        priorities.priority_rank,
        configured.position
    from configured
    left join priorities on priorities.priority_name = configured.priority_name
    union all
    select priority_id, priority_name, priority_rank, priority_rank as position
    from priorities
    where len($major_priorities) = 0 and priority_rank <= 2
),

final as (
    select
        cast(row_number() over (order by priority_rank nulls last, position, priority_id)
            as integer) as sev_rank,
        priority_id,
        priority_name,
        priority_rank
    from chosen
)

select * from final
