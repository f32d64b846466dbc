-- waves: invited, exported rows, complete and partial responses and the response rate per wave
with source as (
    select * from raw.waves
),
respondents as (
    select wave,
           count(*) filter (where complete) as complete,
           count(*) filter (where not complete) as partial
    from staging.respondents
    group by wave
),
final as (
    select source.wave, source.label, source.fielded, source.reconstruction, source.source_file, source.invited,
           source.exported_rows,
           coalesce(respondents.complete, 0)::integer as complete,
           coalesce(respondents.partial, 0)::integer as partial,
           case when source.invited > 0
                then 100.0 * coalesce(respondents.complete, 0) / source.invited end as response_rate
    from source
    left join respondents using (wave)
)
select * from final order by wave
