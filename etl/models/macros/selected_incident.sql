-- The dashboard's filters over the incidents mart, written once for every read query that
-- narrows incidents (incident_list, weekly_incidents, group_metrics): the created_at range, then
-- in_selection per dimension. Called in a query reading `incidents` (its columns are named
-- here unqualified, the custom-field lookup correlates on incidents.incident_id):
-- `where selected_incident($start_ts, $end_ts, $team_ids, $service_ids, $urgencies,
-- $priority_ids, $custom_field, $custom_values)`. A query calling it says
-- `-- if-absent: incident_custom_fields` (the reader stands in an empty table).
-- Macros are created in file-name order: this one calls in_selection, so its name sorts after.
create or replace macro selected_incident(
    start_ts, end_ts, team_ids, service_ids, urgencies, priority_ids, custom_field, custom_values
) as
    created_at >= start_ts and created_at < end_ts
    and in_selection(team_ids, team_id)
    and in_selection(service_ids, service_id)
    and in_selection(urgencies, urgency)
    and in_selection(priority_ids, priority_id)
    and in_selection(custom_values, (
        select value from incident_custom_fields as custom
        where custom.incident_id = incidents.incident_id and custom.field_name = custom_field
            -- No value picked: nothing to look up (the filter keeps every incident).
            and len(custom_values) > 0
    ))
