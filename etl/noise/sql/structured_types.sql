-- noise_structured_types: the incidents typed by their integration's structured identity
-- (etl/noise/alert_types.py), one row each: the type's id, its display text and the
-- integration. Reads noise_incident_identities (incident_id, identity_source, type_text),
-- noise_type_ids (type_text -> template_id, hashed in Python as every template id is) and the
-- text templates of the summaries (noise_summary_templates).
--
-- A structured type is displayed with the most frequent text template among its incidents
-- (ties: the first by text), since the text is what a person reads and the advice matches on.
create or replace temp table noise_structured_types as
with typed as (
    select
        ident.incident_id,
        ids.template_id,
        ident.identity_source,
        map.template as text_template
    from noise_incident_identities as ident
    join noise_type_ids as ids on ids.type_text = ident.type_text
    join noise_incidents as base on base.incident_id = ident.incident_id
    join noise_summary_templates as map on map.summary = base.summary
),

counted as (
    select template_id, text_template, count(*) as n
    from typed
    group by template_id, text_template
),

representative as (
    select template_id, text_template as template
    from counted
    qualify row_number() over (partition by template_id order by n desc, text_template) = 1
)

select typed.incident_id, typed.template_id, representative.template, typed.identity_source
from typed
join representative using (template_id)
