-- staging.responses: the valid answers to closed items, one row per kept respondent and item, with the
-- respondent's `complete`. Cells failing the candidate checks (staging_invalid_cells) go to the quarantine instead.
with source as (
    select
        wave,
        respondent_key,
        source_row,
        item,
        category
    from raw.wave_export
    where wave = $wave and list_contains($closed_items, item)
),

valid as (
    select source.*
    from source
    anti join staging_invalid_cells
        on
            source.source_row = staging_invalid_cells.source_row
            and source.item = staging_invalid_cells.item
),

final as (
    select
        valid.wave,
        valid.respondent_key,
        valid.source_row,
        valid.item,
        valid.category,
        respondents.complete
    from valid
    inner join staging.respondents as respondents
        on respondents.wave = $wave and valid.source_row = respondents.source_row
)

select * from final
