-- Rows that may stand for the same respondent as another row: their respondent key, or their panel key, is on
-- another row of the wave too. With each, the fingerprint of the row: status and every (item, value), in item order.
with source as (
    select
        source_row,
        respondent_key,
        panel_key,
        status,
        count(*) over (partition by respondent_key) as rows_with_key,
        count(panel_key) over (partition by panel_key) as rows_with_panel_key
    from raw.wave_respondents
    where wave = $wave
),

suspects as (
    select * from source
    where rows_with_key > 1 or (panel_key is not null and rows_with_panel_key > 1)
),

answers as (
    select
        cells.source_row,
        string_agg(cells.item || chr(31) || cells.value, chr(30) order by cells.item) as answers
    from raw.wave_export as cells
    semi join suspects on cells.source_row = suspects.source_row
    where cells.wave = $wave
    group by cells.source_row
),

final as (
    select
        suspects.source_row,
        suspects.respondent_key,
        suspects.panel_key,
        coalesce(suspects.status, chr(0)) || chr(29) || coalesce(answers.answers, '') as fingerprint
    from suspects
    left join answers on suspects.source_row = answers.source_row
    order by suspects.source_row
)

select * from final
