-- One row per wave of the work database, for the line `make run` prints per wave:
-- tool, rows read, complete / partial respondents, quarantined cells, unmapped headers.
with source as (
    select wave, reader, exported_rows, coalesce(len(unmapped_headers), 0) as unmapped_headers
    from raw.waves
),

respondents as (
    select wave, count(*) filter (where complete) as complete, count(*) filter (where not complete) as partial
    from staging.respondents
    group by wave
),

quarantined as (
    select wave, count(*) as cells
    from staging.quarantine
    group by wave
),

final as (
    select
        source.wave,
        source.reader,
        source.exported_rows,
        coalesce(respondents.complete, 0) as complete,
        coalesce(respondents.partial, 0) as partial,
        coalesce(quarantined.cells, 0) as quarantined_cells,
        source.unmapped_headers
    from source
    left join respondents using (wave)
    left join quarantined using (wave)
)

select * from final
order by wave
