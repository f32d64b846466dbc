-- panel_change: per closed item and consecutive pair of waves that share panel members, the paired change over
-- the people who answered the item validly (dont_know included, as in the headline share's base) in both waves as
-- complete responses:
-- * the 2×2 table of the headline answer (top-2 or yes) before × after, both shares, and their paired difference
--   (after − before, percentage points) with Newcombe's hybrid score interval for paired proportions (method 10
--   of his 1998 paper on paired data: macro newcombe_paired_low/high in sql/macros/intervals.sql, z bound as $z);
-- * over the pairs scored in both waves (degree items; dont_know has no score): how many moved up, stayed, moved
--   down on the score, both means and the mean paired difference with its t interval (t_quantile, $alpha);
-- * the public profile's disclosure decision (PIPELINE_MIN_CELL as $min_cell): a transition cell below it hides
--   the 2×2 table, both shares and the difference (each follows from the others); a movement count below it hides
--   the three movement counts and the means with their difference (its t interval would pin the counts); fewer
--   than $min_cell pairs hide n_pairs too;
-- * beyond that rule, what the panel's decision hides (the temporary table panel_decision, pipeline.marts.
--   disclosure.decide_panel): a unit (n_pairs, the 2×2 table, the movement) whose figures would give back a count
--   the waves' tables hide, since the pairs are part of each wave's respondents.
with members as (
    select panel_key, wave from marts.panel_members where status = 'complete'
),
responses as (
    select staging.responses.wave, staging.responses.source_row, staging.responses.item,
           staging.responses.category
    from staging.responses
    where staging.responses.complete
),
respondents as (
    select wave, source_row, panel_key from staging.respondents where panel_key is not null
),
items as (
    select item, item_order, level, scale from codebook.items
),
categories as (
    select scale, category, headline, score from codebook.categories
),
pairs as (
    select wave_pairs.wave_from, wave_pairs.wave_to, wave_pairs.pair_order
    from marts.wave_pairs
    where exists (select 1 from members as f join members as t using (panel_key)
                  where f.wave = wave_pairs.wave_from and t.wave = wave_pairs.wave_to)
),
answers as (
    select responses.wave, respondents.panel_key, responses.item, categories.headline, categories.score
    from responses
    join respondents using (wave, source_row)
    join items using (item)
    join categories on items.scale = categories.scale and responses.category = categories.category
),
matched as (
    select pairs.pair_order, pairs.wave_from, pairs.wave_to, f.item,
           f.headline as headline_from, t.headline as headline_to,
           f.score as score_from, t.score as score_to
    from pairs
    join answers as f on pairs.wave_from = f.wave
    join answers as t on pairs.wave_to = t.wave and f.item = t.item and f.panel_key = t.panel_key
),
asked as (
    select distinct pairs.pair_order, pairs.wave_from, pairs.wave_to, f.item
    from pairs
    join marts.item_indicators as f on pairs.wave_from = f.wave
    join marts.item_indicators as t on pairs.wave_to = t.wave and f.item = t.item
),
counted as (
    select asked.pair_order, asked.wave_from, asked.wave_to, asked.item,
           count(matched.item)::bigint as n_pairs,
           count(*) filter (where matched.headline_from and matched.headline_to)::bigint as both_headline,
           count(*) filter (where matched.headline_from and not matched.headline_to)::bigint as headline_from_only,
           count(*) filter (where not matched.headline_from and matched.headline_to)::bigint as headline_to_only,
           count(*) filter (where not matched.headline_from and not matched.headline_to)::bigint as neither_headline,
           count(matched.score_to - matched.score_from)::bigint as n_scored,
           count(*) filter (where matched.score_to > matched.score_from)::bigint as moved_up,
           count(*) filter (where matched.score_to = matched.score_from)::bigint as stayed,
           count(*) filter (where matched.score_to < matched.score_from)::bigint as moved_down,
           avg(matched.score_from) filter (where matched.score_to is not null) as mean_score_from,
           avg(matched.score_to) filter (where matched.score_from is not null) as mean_score_to,
           avg(matched.score_to - matched.score_from) as mean_score_diff,
           stddev_samp(matched.score_to - matched.score_from) as sd_diff
    from asked
    left join matched using (pair_order, item)
    group by asked.pair_order, asked.wave_from, asked.wave_to, asked.item
),
intervals as (
    select counted.*,
           case when n_pairs > 0 then 100.0 * (both_headline + headline_from_only) / n_pairs end as headline_pct_from,
           case when n_pairs > 0 then 100.0 * (both_headline + headline_to_only) / n_pairs end as headline_pct_to,
           case when n_pairs > 0 then 100.0 * (headline_to_only - headline_from_only) / n_pairs end as headline_diff,
           newcombe_paired_low(both_headline, headline_to_only, headline_from_only, neither_headline, $z)
               as headline_diff_ci_low,
           newcombe_paired_high(both_headline, headline_to_only, headline_from_only, neither_headline, $z)
               as headline_diff_ci_high,
           case when n_scored > 1 then mean_score_diff
                - t_quantile($alpha, $z, n_scored - 1) * sd_diff / sqrt(n_scored) end as mean_score_diff_ci_low,
           case when n_scored > 1 then mean_score_diff
                + t_quantile($alpha, $z, n_scored - 1) * sd_diff / sqrt(n_scored) end as mean_score_diff_ci_high
    from counted
),
final as (
    select intervals.wave_from, intervals.wave_to, items.level, intervals.item, items.item_order, items.scale,
           n_pairs, both_headline, headline_from_only, headline_to_only, neither_headline,
           headline_pct_from, headline_pct_to, headline_diff, headline_diff_ci_low, headline_diff_ci_high,
           n_scored, moved_up, stayed, moved_down,
           mean_score_from, mean_score_to, mean_score_diff, mean_score_diff_ci_low, mean_score_diff_ci_high,
           n_pairs < $small_n_below as small_n,
           n_pairs < $min_cell
               or least(both_headline, headline_from_only, headline_to_only, neither_headline) < $min_cell
               or coalesce(decision.transitions_hidden, false)
               as transitions_hidden,
           n_scored > 0 and (n_scored < $min_cell or least(moved_up, stayed, moved_down) < $min_cell)
               or coalesce(decision.movement_hidden, false)
               as movement_hidden,
           -- the means and the t interval of their difference pin the movement counts: shown only with them
           n_scored > 0 and (n_scored < $min_cell or least(moved_up, stayed, moved_down) < $min_cell)
               or coalesce(decision.movement_hidden, false)
               as mean_hidden,
           n_pairs < $min_cell or coalesce(decision.pairs_hidden, false) as pairs_hidden,
           intervals.pair_order
    from intervals
    join items using (item)
    left join panel_decision as decision
        on intervals.wave_from = decision.wave_from and intervals.wave_to = decision.wave_to
            and intervals.item = decision.item
    where items.scale in (select scale from categories where headline)
)
select * exclude (pair_order) from final order by pair_order, item_order
