-- One row per Event Orchestration service rule (GET /event_orchestrations/services/{id}, raw
-- row keyed by the service id), in evaluation order: every set's rules, then the catch-all
-- when it has an action (set_id and rule_id 'catch_all', no conditions: it takes every event
-- no rule matched). `conditions` are the PCL expressions (any one matching is a match; none:
-- every event). Actions are summarised: suppress and drop_event stop the incident, suspend
-- holds the alert that many seconds, severity/priority/escalation_policy/event_action change
-- it, route_to sends the event to another set. A payload the staging cannot read is kept as a
-- row with its `problem` (never dropped); consumers read the rows where problem is null.
with orchestrations as (
    select
        id as service_id,
        json_extract(payload, '$.orchestration_path') as path,
        json_extract_string(payload, '$.orchestration_path.parent.id') as parent_service_id,
        try_cast(
            json_extract_string(payload, '$.orchestration_path.updated_at') as timestamptz
        ) as orchestration_updated_at
    from raw_service_orchestrations
),

checked as (
    select
        *,
        case
            when path is null or json_type(path) <> 'OBJECT'
                then 'no orchestration_path object'
            when parent_service_id is not null and parent_service_id <> service_id
                then 'orchestration_path.parent is another service'
            when json_type(path, '$.sets') is not null and json_type(path, '$.sets') <> 'ARRAY'
                then 'sets is not a list'
        end as orchestration_problem
    from orchestrations
),

sets as (
    select
        service_id,
        orchestration_updated_at,
        unnest(json_extract(path, '$.sets[*]')) as set_json
    from checked
    where orchestration_problem is null
),

rules as (
    select
        service_id,
        orchestration_updated_at,
        json_extract_string(set_json, '$.id') as set_id,
        json_type(set_json, '$.rules') as rules_type,
        unnest(coalesce(json_extract(set_json, '$.rules[*]'), [null::json])) as rule_json,
        generate_subscripts(coalesce(json_extract(set_json, '$.rules[*]'), [null::json]), 1)
            as rule_position
    from sets
),

rule_rows as (
    select
        service_id,
        set_id,
        rule_position,
        json_extract_string(rule_json, '$.id') as rule_id,
        json_extract_string(rule_json, '$.label') as label,
        coalesce(try_cast(json_extract_string(rule_json, '$.disabled') as boolean), false)
            as disabled,
        json_extract_string(rule_json, '$.conditions[*].expression') as conditions,
        json_extract(rule_json, '$.actions') as actions,
        orchestration_updated_at,
        case
            when rules_type is not null and rules_type <> 'ARRAY' then 'rules is not a list'
            when rule_json is null then 'empty set'
            when json_type(rule_json) <> 'OBJECT' then 'rule is not an object'
            when json_extract_string(rule_json, '$.id') is null then 'rule without an id'
            when json_type(rule_json, '$.conditions') not in ('ARRAY', 'NULL')
                then 'conditions is not a list'
            when json_type(rule_json, '$.actions') <> 'OBJECT'
                then 'actions is not an object'
        end as problem
    from rules
),

catch_alls as (
    select
        service_id,
        'catch_all' as set_id,
        null::bigint as rule_position,
        'catch_all' as rule_id,
        'catch-all: events no rule matched' as label,
        false as disabled,
        []::varchar[] as conditions,
        json_extract(path, '$.catch_all.actions') as actions,
        orchestration_updated_at,
        null as problem
    from checked
    where orchestration_problem is null
        and json_type(path, '$.catch_all.actions') = 'OBJECT'
        and len(json_keys(json_extract(path, '$.catch_all.actions'))) > 0
),

unreadable as (
    select
        service_id,
        null as set_id,
        null::bigint as rule_position,
        null as rule_id,
        null as label,
        false as disabled,
        []::varchar[] as conditions,
        null::json as actions,
        orchestration_updated_at,
        orchestration_problem as problem
    from checked
    where orchestration_problem is not null
),

all_rows as (
    select * from rule_rows where problem is distinct from 'empty set'
    union all by name select * from catch_alls
    union all by name select * from unreadable
),

final as (
    select
        service_id,
        set_id,
        rule_position,
        rule_id,
        label,
        disabled,
        coalesce(conditions, []::varchar[]) as conditions,
        coalesce(try_cast(json_extract_string(actions, '$.suppress') as boolean), false)
            as suppress,
        nullif(try_cast(json_extract_string(actions, '$.suspend') as bigint), 0)
            as suspend_seconds,
        json_extract_string(actions, '$.severity') as severity,
        json_extract_string(actions, '$.priority') as priority_id,
        json_extract_string(actions, '$.escalation_policy') as escalation_policy_id,
        json_extract_string(actions, '$.route_to') as route_to,
        json_extract_string(actions, '$.event_action') as event_action,
        coalesce(try_cast(json_extract_string(actions, '$.drop_event') as boolean), false)
            as drop_event,
        cast(actions as varchar) as actions,
        orchestration_updated_at,
        problem
    from all_rows
)

select * from final
