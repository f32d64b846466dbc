-- staging.open_answers: the free-text answers of kept respondents, contact details masked (staging_masks: one
-- decision per distinct text).
with source as (
    select
        wave,
        item,
        respondent_key,
        source_row,
        value
    from raw.wave_export
    where wave = $wave and list_contains($text_items, item)
),

renamed as (
    select
        source.wave,
        source.item,
        source.respondent_key,
        respondents.complete,
        coalesce(staging_masks.masked, source.value) as text
    from source
    inner join staging.respondents as respondents
        on respondents.wave = $wave and source.source_row = respondents.source_row
    left join staging_masks on source.value = staging_masks.text
),

final as (
    select * from renamed
)

select * from final
