-- alert_templates: one row per alert type (structured identity or template) and service, from int_incident_noise
-- (template, flapping flag) and the noise_incidents model (durations, counts, sleep pages).
create or replace table alert_templates as
with typed as (
    select
        base.*,
        noise.template_id,
        noise.template,
        noise.is_flapping,
        noise.identity_source
    from int_incident_noise as noise
    join noise_incidents as base on base.incident_id = noise.incident_id
),
final as (
    select
        template_id,
        any_value(template) as template,
        service_id,
        any_value(service_name) as service_name,
        any_value(team_id) as team_id,
        any_value(team_name) as team_name,
        count(*) as incident_count,
        sum(alert_count) as alert_count,
        count(distinct summary) as distinct_summaries,
        min(created_at) as first_seen,
        max(created_at) as last_seen,
        avg(case when auto_resolved then 1.0 else 0.0 end) as share_auto_resolved,
        avg(case when first_ack_at is not null then 1.0 else 0.0 end) as share_acknowledged,
        quantile_cont(seconds_to_resolve, 0.5) as median_seconds_to_resolve,
        avg(case when sleep_interruptions > 0 then 1.0 else 0.0 end) as share_sleep_hours,
        sum(sleep_interruptions) as sleep_interruptions,
        sum(total_notifications) as total_notifications,
        sum(case when is_major then 1 else 0 end) as major_incidents,
        avg(case when is_flapping then 1.0 else 0.0 end) as share_flapping,
        any_value(summary order by created_at desc) as example_summary,
        -- The integration whose structured identity defines the type, or 'text'.
        any_value(identity_source) as identity_source
    from typed
    group by template_id, service_id
)

select * from final
