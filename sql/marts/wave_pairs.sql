-- wave_pairs: every pair of consecutive waves in time order (fielded date, undated waves last, then wave key): the
-- pairs wave_change, panel_retention and panel_change compare.
with waves as (
    select wave, fielded from marts.waves
),
ordered as (
    select wave,
           lead(wave) over (order by fielded nulls last, wave) as next_wave,
           row_number() over (order by fielded nulls last, wave) as pair_order
    from waves
),
final as (
    select wave as wave_from, next_wave as wave_to, pair_order from ordered where next_wave is not null
)
select * from final order by pair_order
