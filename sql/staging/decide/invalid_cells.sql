-- Closed-item cells holding a value that failed the candidate checks (staging_bad_values: the failing distinct values
-- of each column, as text): a category matching nothing (NULL) above all.
with bad as (
    select
        column_name,
        value
    from staging_bad_values
)

select
    wave,
    source_file,
    source_row,
    "column",
    item,
    value
from raw.wave_export
where
    wave = $wave
    and list_contains($closed_items, item)
    and (
        category is null
        or category in (select bad.value from bad where bad.column_name = 'category')
        or item in (select bad.value from bad where bad.column_name = 'item')
        or respondent_key in (select bad.value from bad where bad.column_name = 'respondent_key')
        or cast(source_row as varchar) in (select bad.value from bad where bad.column_name = 'source_row')
    )
