with final as (
    select incident_number, title, service_name, team_name, status, created_at,
        epoch((select max(created_at) from incidents)) - epoch(created_at) as open_seconds,
        case when regexp_matches(html_url, '^https?://[^\s]+$') then html_url end as html_url
    from incidents
    where is_major and resolved_at is null
)
select * from final order by created_at
