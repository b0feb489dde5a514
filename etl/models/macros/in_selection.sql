-- The dashboard's filters, one rule for every read query: an empty selection (no team, service,
-- urgency, priority or responder picked) keeps every row, else the row's value must be one
-- picked; a row without a value (an incident without priority) is picked as '(none)'.
-- `in_selection($team_ids, team_id)`; the selections bind as typed VARCHAR[] (etl/queries).
create or replace macro in_selection(selection, value) as
    len(selection) = 0 or list_contains(selection, coalesce(value, '(none)'))
