-- Helpers of recognise_identities.sql (run before it, on the same connection).

create or replace temp macro json_like_python(t) as (
    -- JSON text that Python's json.loads reads as DuckDB does: DuckDB also accepts (and writes
    -- back) inf and nan in any case, and has no nesting or integer-length limit.
    not regexp_matches(t, '(?i)[:,\[]\s*-?(nan|inf|infinity)\s*[,}\]]')
    and (
        strlen(t) < 1000
        or (
            strlen(t) - strlen(replace(replace(t, '[', ''), '{', '')) < 500
            and not regexp_matches(t, '[0-9]{1000}')
        )
    )
);

-- How many times `"<name>":` occurs in compact JSON text (DuckDB's: no blanks, a quote inside
-- a string escaped, so it can only be a key): more than once, some object in it repeats it.
create or replace temp macro key_count(t, name) as (
    (strlen(t) - strlen(replace(t, '"' || name || '":', ''))) // (strlen(name) + 3)
);
