-- Links are only passed through when they are plain web URLs: a hostile `javascript:` value in
-- html_url must never become a clickable link.
-- params: start_ts timestamptz, end_ts timestamptz, team_ids varchar[], service_ids varchar[], urgencies varchar[], priority_ids varchar[], custom_field varchar, custom_values varchar[], limit bigint
-- if-absent: incident_custom_fields
with final as (
    select incident_number, title, status, urgency, priority_name, service_name, team_name,
        created_at, seconds_to_first_ack, seconds_to_resolve, is_major, noise_reason,
        escalation_count, total_notifications, alert_count, data_issue,
        case when regexp_matches(html_url, '^https?://[^\s]+$') then html_url end as html_url
    from incidents
    where created_at >= $start_ts and created_at < $end_ts
        and in_selection($team_ids, team_id)
        and in_selection($service_ids, service_id)
        and in_selection($urgencies, urgency)
        and in_selection($priority_ids, priority_id)
        and in_selection($custom_values, (
            select value from incident_custom_fields as custom
            where custom.incident_id = incidents.incident_id and custom.field_name = $custom_field
                -- No value picked: nothing to look up (the filter keeps every incident).
                and len($custom_values) > 0
        ))
)
select * from final order by created_at desc limit $limit
