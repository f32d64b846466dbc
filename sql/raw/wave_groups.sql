-- raw.wave_groups: one row per respondent and background variable the export holds, from the export's background
-- columns as the raw step hands them over (groups_wide: source_row, respondent_key and one column per background
-- column, the cells trimmed, NULL where blank), with each column's header and variable (group_columns) and the group
-- of each value that matches one (group_values, decided once per distinct value). A blank cell is not stated; a value
-- matching no group gets group NULL (staging quarantines it and counts the respondent as not stated).
with respondents as (
    select
        source_row,
        respondent_key
    from groups_wide
),

cells as (
    unpivot groups_wide
    on columns(* exclude (source_row, respondent_key))
    into name cell_column value value
),

final as (
    select
        cast($wave as varchar) as wave,
        cast($source_file as varchar) as source_file,
        respondents.source_row,
        respondents.respondent_key,
        group_columns.header as "column",
        group_columns.variable,
        cells.value,
        case when cells.value is null then $not_stated else group_values."group" end as "group"
    from respondents
    cross join group_columns
    left join cells
        on respondents.source_row = cells.source_row and group_columns.name = cells.cell_column
    left join group_values
        on cells.cell_column = group_values.name and cells.value = group_values.value
)

select * from final
