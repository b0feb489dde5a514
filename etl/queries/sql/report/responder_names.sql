-- Every responder's id and name, for the anonymized report's pseudonyms: the people of the
-- responder marts and every user of the account (the SEV section names who responded).
-- params: none
select distinct user_id, user_name from responder_weekly
union
select user_id, user_name from stg_users where user_id is not null
