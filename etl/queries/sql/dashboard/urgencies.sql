-- params: none
select distinct urgency from incidents where urgency is not null order by urgency
