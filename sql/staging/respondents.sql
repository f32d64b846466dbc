-- staging.respondents: the wave's export rows kept, each with `complete` from its status (a blank status is
-- complete; an unknown one counts as partial and is quarantined) and its panel key. Rows collapsed into an identical
-- earlier row and rows in conflict with another row of the same respondent are left out (staging_duplicates).
with source as (
    select
        wave,
        respondent_key,
        source_row,
        status,
        panel_key
    from raw.wave_respondents
    where wave = $wave
),

renamed as (
    select
        source.wave,
        source.respondent_key,
        source.source_row,
        coalesce(staging_status.complete, true) as complete,
        source.panel_key
    from source
    left join staging_status on source.status = staging_status.status
    anti join staging_duplicates on source.source_row = staging_duplicates.source_row
),

final as (
    select * from renamed
)

select * from final
