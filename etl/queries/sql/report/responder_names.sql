-- Every responder's id and name, for the anonymized report's pseudonyms.
-- params: none
select distinct user_id, user_name from responder_weekly
