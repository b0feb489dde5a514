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
    where selected_incident($start_ts, $end_ts, $team_ids, $service_ids, $urgencies, $priority_ids,
        $custom_field, $custom_values)
)
select * from final order by created_at desc limit $limit
