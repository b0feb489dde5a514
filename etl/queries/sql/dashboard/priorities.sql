-- The priorities the sidebar offers: those of the account's incidents, most severe first (the
-- account's order, stg_priorities), then '(none)' when some incidents have no priority.
-- params: none
with used as (
    select distinct coalesce(priority_id, '(none)') as priority_id, priority_name
    from incidents
),

final as (
    select
        used.priority_id,
        case
            when used.priority_id = '(none)' then '(no priority)'
            else coalesce(used.priority_name, used.priority_id)
        end as priority_name,
        used.priority_id = '(none)' as is_none,
        ranks.priority_rank
    from used
    left join stg_priorities as ranks on ranks.priority_id = used.priority_id
)

select priority_id, any_value(priority_name) as priority_name
from final
group by priority_id
order by bool_or(is_none), min(priority_rank) nulls last, any_value(priority_name), priority_id
