-- week_start is the incidents mart's own (the Monday in the reporting time zone, computed at
-- build time), so the dashboard never converts a million timestamps per rerun.
-- params: start_ts timestamptz, end_ts timestamptz, team_ids varchar[], service_ids varchar[], urgencies varchar[], priority_ids varchar[], custom_field varchar, custom_values varchar[]
-- if-absent: incident_custom_fields
with filtered as (
    select *
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
),
final as (
    -- The metrics are the models' own (etl/models/macros/incident_metrics.sql), applied to
    -- the filtered incidents: no mart holds an arbitrary selection.
    select week_start, unnest(incident_metrics(filtered))
    from filtered
    group by week_start
)
select * from final order by week_start
