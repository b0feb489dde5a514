-- The synced period as the models define it (stg_data_period), when the warehouse has it.
-- params: none
-- optional: stg_data_period
select data_start, data_end from stg_data_period
