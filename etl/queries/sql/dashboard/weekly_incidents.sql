-- week_start is the incidents mart's own (the Monday in the reporting time zone, computed at
-- build time), so the dashboard never converts a million timestamps per rerun.
-- params: start_ts timestamptz, end_ts timestamptz, team_ids varchar[], service_ids varchar[], urgencies varchar[], priority_ids varchar[], custom_field varchar, custom_values varchar[]
-- if-absent: incident_custom_fields
with final as (
    -- The metrics are the models' own (etl/models/macros/incident_metrics.sql), applied to
    -- the incidents the filters select: no mart holds an arbitrary selection.
    select week_start, unnest(incident_metrics(incidents))
    from incidents
    where selected_incident($start_ts, $end_ts, $team_ids, $service_ids, $urgencies, $priority_ids,
        $custom_field, $custom_values)
    group by week_start
)
select * from final order by week_start
