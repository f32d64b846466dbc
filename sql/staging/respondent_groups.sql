-- staging.respondent_groups: the kept respondents' background groups, one row per respondent and variable the export
-- holds; a blank cell or a value matching no group (quarantined) counts as not stated.
with source as (
    select
        wave,
        respondent_key,
        source_row,
        variable,
        "group"
    from raw.wave_groups
    where wave = $wave
),

final as (
    select
        source.wave,
        source.respondent_key,
        source.source_row,
        source.variable,
        coalesce(source."group", $not_stated) as "group",
        respondents.complete
    from source
    inner join staging.respondents as respondents
        on respondents.wave = $wave and source.source_row = respondents.source_row
)

select * from final
