-- Helpers of recognise_identities.sql (run before it, on the same connection).

create or replace temp macro json_like_python(t) as (
    -- JSON text that Python's json.loads reads as DuckDB does: DuckDB also accepts (and writes
    -- back) inf and nan in any case, and has no nesting or integer-length limit.
    -- The long-text tests in a CASE: DuckDB evaluates both sides of an OR on every row, a
    -- CASE branch only on its rows (the digit run test on the 956,429 details of the 1M
    -- account: 1.9 s under OR, 0.4 s for the 73,914 long ones).
    not regexp_matches(t, '(?i)[:,\[]\s*-?(nan|inf|infinity)\s*[,}\]]')
    and case
        when strlen(t) < 1000 then true
        else
            strlen(t) - strlen(replace(replace(t, '[', ''), '{', '')) < 500
            and not regexp_matches(t, '[0-9]{1000}')
    end
);

-- How many times `"<name>":` occurs in compact JSON text (DuckDB's: no blanks, a quote inside
-- a string escaped, so it can only be a key): more than once, some object in it repeats it.
create or replace temp macro key_count(t, name) as (
    (strlen(t) - strlen(replace(t, '"' || name || '":', ''))) // (strlen(name) + 3)
);

-- A text alert list (`firing` as JSON text f1: Alertmanager before v0.30, Grafana) without
-- what cannot change the identity identity.py's `recognise` reads from it, so that Python reads
-- each distinct rest once: whole ` - name = value` lines of labels and annotations it never
-- reads (the target's instance, pod, host ..., the summary) and the rest of the `Value:` and
-- `Silence:` lines (per firing; only their start is read). NULL unless the text is plain:
-- ASCII, no raw control character, no escape but newlines (each backslash starts `\n`), not
-- starting with a line that would go. Then every line is one Python line (splitlines cuts at
-- newlines only), each removed piece is a whole line from its newline to the next newline or
-- the string's end, and what Python reads of the other lines is unchanged: the label block
-- runs to the first line that is neither empty nor starts with a blank, removed lines start
-- with a blank and name no label read, `Value: ` and `Silence: ` stay, the text's start too.
create or replace temp macro reduced_text_list(f1) as (
    case
        when strlen(f1) = length(f1)
            and not regexp_matches(f1, '[\x00-\x1f]')
            and strlen(f1) - strlen(replace(f1, '\', ''))
            = (strlen(f1) - strlen(replace(f1, '\n', ''))) // 2
            and not starts_with(f1, '"\n - ')
            then regexp_replace(
                regexp_replace(
                    regexp_replace(
                        f1,
                        '\\n - (?:instance|pod|host|hostname|node|container|device|mountpoint'
                        || '|summary|description|runbook_url|fingerprint) = [^\\"]*',
                        '',
                        'g'
                    ),
                    '\\nValue: [^\\"]*',
                    '\\nValue: ',
                    'g'
                ),
                '\\nSilence: [^\\"]*',
                '\\nSilence: ',
                'g'
            )
    end
);

-- `details` with its JSON value `f1` replaced by `reduced`, when `f1` occurs in it once (the
-- value's own text, as DuckDB wrote both); else NULL.
create or replace temp macro with_firing(details, f1, reduced) as (
    case
        when strlen(details) - strlen(replace(details, f1, '')) = strlen(f1)
            then replace(details, f1, reduced)
    end
);
