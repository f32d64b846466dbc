-- item_by_group: per wave, closed item, background variable and group (and the all-respondents row, group 'all'),
-- every category of the item's scale with its n and % (zeros included), the group's base n, the headline share
-- (top-2 or yes) with its Wilson 95 % interval (z bound as $z) and the mean score, repeated on the group's rows
-- (counts: marts.group_distribution), with the public profile's decision (marts.disclosure, taken over the linked
-- tables of the wave and item: the groups of a variable sum to the all-respondents row, which is the item's overall
-- distribution):
-- - group_hidden: the group's base n is hidden, and with it the whole row (group_hidden_because: small, fewer than
--   $min_group complete respondents in the group; base_n, fewer than $min_cell answered the item; complementary,
--   hidden so that a hidden group cannot be worked out from the total and the others; not_public, a variable the
--   codebook keeps out of the public profile);
-- - hidden: the count and its % are hidden; headline_hidden: the headline share and its interval (the headline
--   count is hidden); mean_hidden: the mean score (a scored count is hidden). The all-respondents row takes
--   marts.item_disclosure's decision.
with counts as (
    select * from marts.group_distribution
),
decision as (
    select wave, item, variable, "group", cell, hidden, hidden_because from marts.disclosure where variable <> 'all'
),
overall as (
    select wave, item, category, hidden, base_hidden, headline_hidden, mean_hidden from marts.item_disclosure
),
rows as (
    select wave, item, variable, "group",
           bool_or(hidden) filter (where cell = '~n') as base_hidden,
           any_value(hidden_because) filter (where cell = '~n') as base_hidden_because,
           bool_or(hidden) filter (where cell = '~headline') as headline_count_hidden
    from decision
    group by wave, item, variable, "group"
),
decided as (
    select counts.*,
           case when counts.base_n > 0 then 100.0 * counts.n / counts.base_n end as pct,
           case when counts.base_n > 0 then 100.0 * counts.headline_n / counts.base_n end as headline_pct,
           wilson_low(counts.headline_n, counts.base_n, $z) as ci_low,
           wilson_high(counts.headline_n, counts.base_n, $z) as ci_high,
           case when counts.scored_n > 0 then counts.score_sum / counts.scored_n end as mean_score,
           counts.group_n < $min_group as small_group,
           case when counts."group" = 'all' then overall.base_hidden
                else coalesce(rows.base_hidden, true) end as group_hidden,
           case when counts."group" = 'all' then (case when overall.base_hidden then 'base_n' end)
                when rows.base_hidden is null then 'not_public'
                when rows.base_hidden then
                    (case when counts.group_n < $min_group then 'small' else rows.base_hidden_because end)
           end as group_hidden_because,
           case when counts."group" = 'all' then overall.hidden
                else coalesce(cell.hidden, true) end as cell_hidden,
           case when counts."group" = 'all' then overall.headline_hidden
                else coalesce(rows.base_hidden or rows.headline_count_hidden, true) end as row_headline_hidden,
           case when counts."group" = 'all' then overall.mean_hidden end as overall_mean_hidden
    from counts
    left join overall
        on counts."group" = 'all' and counts.wave = overall.wave and counts.item = overall.item
        and counts.category = overall.category
    left join rows
        on counts.wave = rows.wave and counts.item = rows.item and counts.variable = rows.variable
        and counts."group" = rows."group"
    left join decision as cell
        on counts.wave = cell.wave and counts.item = cell.item and counts.variable = cell.variable
        and counts."group" = cell."group" and counts.category = cell.cell
),
final as (
    select wave, level, item, item_order, scale, variable, variable_order, "group", group_order, category,
           category_order, n, base_n, pct, group_n, headline_n, headline_pct, ci_low, ci_high, mean_score,
           small_group, group_hidden, group_hidden_because,
           group_hidden or cell_hidden as hidden,
           group_hidden or row_headline_hidden as headline_hidden,
           case when "group" = 'all' then overall_mean_hidden
                else group_hidden or bool_or(cell_hidden and score is not null) over per_group end as mean_hidden,
           variable_public
    from decided
    window per_group as (partition by wave, item, variable, "group")
)
select * from final order by wave, item_order, variable_order, group_order, category_order
