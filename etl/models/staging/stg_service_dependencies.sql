-- The service dependency graph (PagerDuty's Service Graph): one row per distinct
-- (supporting_service_id, dependent_service_id) pair of technical services, the supporting
-- service being the one the dependent one depends on. Raw rows are the
-- GET /service_dependencies/technical_services/{id} answers keyed by the service id; each
-- relationship is in both of its services' answers, so pairs are deduplicated here (one
-- relationship_id per pair: the smallest when answers disagree). Relationships to business
-- services are left out. Answers without the relationships list, or with a relationship
-- lacking either service id, were kept aside in _rejects by the extract (etl/per_service.py).
with relationships as (
    select unnest(json_extract(payload, '$.relationships[*]')) as relationship
    from raw_service_dependencies
    where json_type(payload, '$.relationships') = 'ARRAY'
),

pairs as (
    select
        json_extract_string(relationship, '$.supporting_service.id') as supporting_service_id,
        json_extract_string(relationship, '$.dependent_service.id') as dependent_service_id,
        json_extract_string(relationship, '$.id') as relationship_id,
        coalesce(
            json_extract_string(relationship, '$.supporting_service.type'),
            'technical_service_reference'
        ) as supporting_type,
        coalesce(
            json_extract_string(relationship, '$.dependent_service.type'),
            'technical_service_reference'
        ) as dependent_type
    from relationships
),

final as (
    select
        supporting_service_id::varchar as supporting_service_id,
        dependent_service_id::varchar as dependent_service_id,
        min(relationship_id)::varchar as relationship_id
    from pairs
    where supporting_type = 'technical_service_reference'
        and dependent_type = 'technical_service_reference'
        and supporting_service_id is not null
        and dependent_service_id is not null
    group by all
)

select * from final
