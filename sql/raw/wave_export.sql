-- raw.wave_export: the wave's item cells, one row per non-blank cell, unpivoted from the export's item columns as
-- the raw step hands them over (answers_wide: source_row, respondent_key and one column per item column, the cells
-- trimmed), with each column's item (answer_columns; its header goes to raw.wave_columns) and the category of each
-- value of a closed item's column that matches one (answer_categories, decided once per distinct value; no match:
-- NULL, quarantined by staging).
with source as (
    unpivot answers_wide
    on columns(* exclude (source_row, respondent_key))
    into name cell_column value value
),

final as (
    select
        cast($wave as varchar) as wave,
        source.source_row,
        source.respondent_key,
        answer_columns.item,
        source.value,
        answer_categories.category
    from source
    inner join answer_columns on source.cell_column = answer_columns.name
    left join answer_categories
        on source.cell_column = answer_categories.name and source.value = answer_categories.value
)

select * from final
