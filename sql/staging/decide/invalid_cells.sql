-- Closed-item cells holding a value that failed the candidate checks (staging_bad_values: the failing distinct values
-- of each column, as text): a category matching nothing (NULL) above all.
with bad as (
    select
        column_name,
        value
    from staging_bad_values
)

select
    cells.wave,
    wave_columns.source_file,
    cells.source_row,
    wave_columns."column",
    cells.item,
    cells.value
from raw.wave_export as cells
inner join raw.wave_columns as wave_columns on cells.wave = wave_columns.wave and cells.item = wave_columns.item
where
    cells.wave = $wave
    and list_contains($closed_items, cells.item)
    and (
        cells.category is null
        or cells.category in (select bad.value from bad where bad.column_name = 'category')
        or cells.item in (select bad.value from bad where bad.column_name = 'item')
        or cells.respondent_key in (select bad.value from bad where bad.column_name = 'respondent_key')
        or cast(cells.source_row as varchar) in (select bad.value from bad where bad.column_name = 'source_row')
    )
