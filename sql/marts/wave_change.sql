-- wave_change: per closed item and consecutive pair of waves (marts.wave_pairs: by fielded date, then wave key), the
-- headline share (top-2 or yes) and the top-3 share in both waves, their difference in percentage points
-- with Newcombe's hybrid score 95 % interval for a difference of independent proportions (method 10: built
-- from the Wilson intervals of both shares; both macros in sql/macros/intervals.sql, z bound as $z), and the
-- change in mean score.
-- An item asked in only one of the two waves keeps its row; its differences are NULL.
-- The interval treats the two waves as independent samples. Where the waves share respondents (panel members,
-- wave.yaml panel_id, who answered both as complete responses: marts.panel_retention.complete_both) `samples` says
-- "shared" and how many; the paired change of those people is in marts.panel_change.
with indicators as (
    select wave, item, n, headline_n, headline_pct, ci_low, ci_high, mean_score from marts.item_indicators
),
distribution as (
    select wave, item, category, n from marts.item_distribution
),
items as (
    select item, item_order, level, scale from codebook.items
),
retention as (
    select wave_from, wave_to, complete_both, counts_hidden from marts.panel_retention
),
categories as (
    select scale, category, top3 from codebook.categories
),
pairs as (
    select wave_from, wave_to, pair_order from marts.wave_pairs
),
top3 as (
    select distribution.wave, distribution.item,
           sum(distribution.n) filter (where categories.top3)::bigint as top3_n,
           bool_or(categories.top3) as has_top3
    from distribution
    join items using (item)
    join categories on items.scale = categories.scale and distribution.category = categories.category
    group by distribution.wave, distribution.item
),
shares as (
    select indicators.wave, indicators.item, indicators.n, indicators.headline_n,
           indicators.headline_pct, indicators.ci_low, indicators.ci_high, indicators.mean_score,
           case when top3.has_top3 then top3.top3_n end as top3_n,
           case when top3.has_top3 and indicators.n > 0 then top3.top3_n / indicators.n end as q
    from indicators
    left join top3 using (wave, item)
),
wilson as (
    select shares.*,
           100.0 * q as top3_pct,
           wilson_low(top3_n, n, $z) as top3_ci_low,
           wilson_high(top3_n, n, $z) as top3_ci_high
    from shares
),
pair_items as (
    -- every item asked in either wave of a pair
    select distinct pairs.pair_order, wilson.item
    from pairs
    join wilson on wilson.wave in (pairs.wave_from, pairs.wave_to)
),
paired as (
    select pairs.pair_order, pairs.wave_from, pairs.wave_to, pair_items.item,
           f.n as n_from, t.n as n_to,
           f.headline_n as headline_n_from, t.headline_n as headline_n_to,
           f.headline_pct as headline_pct_from, t.headline_pct as headline_pct_to,
           f.ci_low as l1, f.ci_high as u1, t.ci_low as l2, t.ci_high as u2,
           f.top3_n as top3_n_from, t.top3_n as top3_n_to,
           f.top3_pct as top3_pct_from, t.top3_pct as top3_pct_to,
           f.top3_ci_low as tl1, f.top3_ci_high as tu1, t.top3_ci_low as tl2, t.top3_ci_high as tu2,
           f.mean_score as mean_score_from, t.mean_score as mean_score_to
    from pairs
    join pair_items using (pair_order)
    left join wilson as f on pairs.wave_from = f.wave and pair_items.item = f.item
    left join wilson as t on pairs.wave_to = t.wave and pair_items.item = t.item
),
final as (
    select paired.wave_from, paired.wave_to, items.level, paired.item, items.item_order, items.scale,
           coalesce(n_from, 0)::bigint as n_from,
           coalesce(n_to, 0)::bigint as n_to,
           headline_n_from, headline_n_to, headline_pct_from, headline_pct_to,
           headline_pct_to - headline_pct_from as headline_diff,
           newcombe_low(headline_pct_from, l1, u1, headline_pct_to, l2, u2) as headline_diff_ci_low,
           newcombe_high(headline_pct_from, l1, u1, headline_pct_to, l2, u2) as headline_diff_ci_high,
           top3_n_from, top3_n_to, top3_pct_from, top3_pct_to,
           top3_pct_to - top3_pct_from as top3_diff,
           newcombe_low(top3_pct_from, tl1, tu1, top3_pct_to, tl2, tu2) as top3_diff_ci_low,
           newcombe_high(top3_pct_from, tl1, tu1, top3_pct_to, tl2, tu2) as top3_diff_ci_high,
           mean_score_from, mean_score_to,
           mean_score_to - mean_score_from as mean_score_diff,
           coalesce(n_from, 0) < $small_n_below or coalesce(n_to, 0) < $small_n_below as small_n,
           case when coalesce(retention.complete_both, 0) > 0 then 'shared' else 'independent' end as samples,
           coalesce(retention.complete_both, 0)::bigint as shared_respondents,
           coalesce(retention.counts_hidden or retention.complete_both < $min_cell, false) as shared_hidden,
           paired.pair_order
    from paired
    join items using (item)
    left join retention using (wave_from, wave_to)
)
select * exclude (pair_order) from final order by pair_order, item_order
