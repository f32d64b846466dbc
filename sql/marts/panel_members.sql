-- panel_members: one row per panel member and wave answered, complete or partial. A panel member is a keyed
-- pseudonym of the wave.yaml panel_id (the same person in every wave); respondents without one are not here.
-- Retention and attrition between consecutive waves (marts.panel_retention) are counted from it.
with source as (
    select wave, panel_key, complete from staging.respondents where panel_key is not null
),
waves as (
    select wave, fielded from marts.waves
),
final as (
    select source.panel_key, source.wave, waves.fielded,
           case when source.complete then 'complete' else 'partial' end as status
    from source
    join waves using (wave)
)
select * from final order by panel_key, fielded nulls last, wave
