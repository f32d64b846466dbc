-- item_indicators: one row per wave and closed item; headline share = top-2 (degree) or yes (yes/no),
-- with its Wilson 95 % interval (sql/macros/intervals.sql, z bound as $z); small_n below $small_n_below.
with distribution as (
    select * from marts.item_distribution
),
items as (
    select item, scale from codebook.items
),
categories as (
    select scale, category, score, top2, top3, headline from codebook.categories
),
waves as (
    select wave, complete from marts.waves
),
-- complete respondents whose answer to an item was set aside in quarantine (the cell's column → its item)
quarantined as (
    select quarantine.wave, wave_columns.item, count(distinct quarantine.source_row) as n_quarantined
    from staging.quarantine as quarantine
    inner join raw.wave_columns as wave_columns
        on quarantine.wave = wave_columns.wave and quarantine."column" = wave_columns."column"
    inner join staging.respondents as respondents
        on quarantine.wave = respondents.wave and quarantine.source_row = respondents.source_row
    where respondents.complete
    group by quarantine.wave, wave_columns.item
),
joined as (
    select distribution.*, items.scale, categories.score, categories.top2, categories.top3, categories.headline
    from distribution
    join items using (item)
    join categories on items.scale = categories.scale and distribution.category = categories.category
),
aggregated as (
    select wave, level, item, item_order, scale,
           max(base_n)::bigint as n,
           max(pct) filter (where category = 'very_high') as very_high_pct,
           max(pct) filter (where category = 'high') as high_pct,
           max(pct) filter (where category = 'some') as some_pct,
           max(pct) filter (where category = 'low') as low_pct,
           max(pct) filter (where category = 'not_at_all') as not_at_all_pct,
           max(pct) filter (where category = 'yes') as yes_pct,
           max(pct) filter (where category = 'no') as no_pct,
           max(pct) filter (where category = 'dont_know') as dont_know_pct,
           bool_or(top2) as has_top2,
           sum(n) filter (where top2) as top2_n,
           sum(n) filter (where top3) as top3_n,
           coalesce(sum(n) filter (where headline), 0)::bigint as headline_n,
           sum(n * score) filter (where score is not null) as score_sum,
           sum(n) filter (where score is not null) as scored_n
    from joined
    group by wave, level, item, item_order, scale
),
shares as (
    select aggregated.*,
           waves.complete,
           coalesce(quarantined.n_quarantined, 0)::bigint as n_quarantined,
           case when n > 0 then headline_n / n end as p
    from aggregated
    join waves using (wave)
    left join quarantined using (wave, item)
),
final as (
    select wave, level, item, item_order, scale, n,
           (complete - n)::bigint as n_missing,
           n_quarantined,
           very_high_pct, high_pct, some_pct, low_pct, not_at_all_pct, yes_pct, no_pct, dont_know_pct,
           case when has_top2 and n > 0 then 100.0 * top2_n / n end as top2_pct,
           case when has_top2 and n > 0 then 100.0 * top3_n / n end as top3_pct,
           headline_n,
           100.0 * p as headline_pct,
           wilson_low(headline_n, n, $z) as ci_low,
           wilson_high(headline_n, n, $z) as ci_high,
           case when scored_n > 0 then score_sum / scored_n end as mean_score,
           n < $small_n_below as small_n
    from shares
)
select * from final order by wave, item_order
