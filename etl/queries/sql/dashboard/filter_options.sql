-- params: none
with final as (
    select distinct team_id, team_name, service_id, service_name
    from incidents
    where service_id is not null
)
select * from final order by team_name nulls last, service_name
