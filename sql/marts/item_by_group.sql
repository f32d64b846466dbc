-- item_by_group: per wave, closed item, background variable and group (and the all-respondents row, group 'all'),
-- every category of the item's scale with its n and % (zeros included), the group's base n, the headline share
-- (top-2 or yes) with its Wilson 95 % interval (z bound as $z) and the mean score, repeated on the group's rows.
-- Base, as item_distribution: complete responses with a valid answer (dont_know in the base). A group is the
-- respondents whose background cell names it; a blank or unknown cell is not_stated.
-- The public profile's decision, taken here once:
-- 1. A group with fewer than $min_group complete respondents in the wave is hidden (small_group).
-- 2. Complementary: the all-respondents row is published, so when one group of a variable is hidden in a wave,
--    the smallest other group is hidden too (group_hidden_because 'complementary'): no hidden group follows from
--    the total and the others.
-- 3. In a shown group, a count below $min_cell (zeros too) is hidden with its % (hidden), and so is every figure
--    built on one: the headline share with its interval (headline_hidden, also when the share's complement is
--    below $min_cell) and the mean (mean_hidden). The all-respondents row takes marts.item_disclosure's decision.
with waves as (
    select wave, asked_items from raw.waves
),
items as (
    select item, item_order, level, scale from codebook.items
),
categories as (
    select scale, category, category_order, score, headline from codebook.categories
),
variables as (
    select variable, variable_order, public from codebook.background
),
group_labels as (
    select variable, "group", group_order from codebook.groups
),
memberships as (
    select wave, source_row, variable, "group" from staging.respondent_groups where complete
),
answers as (
    select wave, source_row, item, category from staging.responses where complete
),
sizes as (
    select wave, variable, "group", count(*)::bigint as group_n from memberships group by wave, variable, "group"
    union all
    select wave, variable, 'all' as "group", count(*)::bigint as group_n from memberships group by wave, variable
),
group_counts as (
    select memberships.wave, answers.item, memberships.variable, memberships."group", answers.category,
           count(*) as n
    from memberships
    join answers using (wave, source_row)
    group by all
),
-- A respondent is in exactly one group of each variable the export holds: the all-respondents row is the sum of the
-- groups (one join of the answers with the memberships, not two).
counts as (
    select wave, item, variable, "group", category, n from group_counts
    union all
    select wave, item, variable, 'all' as "group", category, sum(n)::bigint as n
    from group_counts
    group by wave, item, variable, category
),
grid as (
    select sizes.wave, items.level, items.item, items.item_order, items.scale,
           sizes.variable, variables.variable_order, variables.public as variable_public,
           sizes."group", coalesce(group_labels.group_order, 0) as group_order, sizes.group_n,
           categories.category, categories.category_order, categories.score, categories.headline
    from sizes
    join waves using (wave)
    join variables using (variable)
    left join group_labels using (variable, "group")
    join items on list_contains(waves.asked_items, items.item)
    join categories using (scale)
),
counted as (
    select grid.*, coalesce(counts.n, 0)::bigint as n
    from grid
    left join counts using (wave, item, variable, "group", category)
),
summarised as (
    select counted.*,
           (sum(n) over per_group)::bigint as base_n,
           (sum(n) filter (where headline) over per_group)::bigint as headline_n,
           sum(n * score) filter (where score is not null) over per_group as score_sum,
           sum(n) filter (where score is not null) over per_group as scored_n
    from counted
    window per_group as (partition by wave, item, variable, "group")
),
small_groups as (
    select distinct wave, variable, "group", group_n, group_order, group_n < $min_group as small
    from summarised
    where "group" <> 'all'
),
complementary as (
    select wave, variable, "group"
    from (
        select s.wave, s.variable, s."group",
               row_number() over (partition by s.wave, s.variable order by s.group_n, s.group_order) as smallest
        from small_groups as s
        join (select wave, variable from small_groups group by wave, variable
              having count(*) filter (where small) = 1) as one_hidden using (wave, variable)
        where not s.small
    ) as ranked
    where smallest = 1
),
overall as (
    select wave, item, category, hidden, headline_hidden, mean_hidden from marts.item_disclosure
),
decided as (
    select summarised.*,
           case when summarised.base_n > 0 then 100.0 * summarised.n / summarised.base_n end as pct,
           case when summarised.base_n > 0 then 100.0 * summarised.headline_n / summarised.base_n end
               as headline_pct,
           wilson_low(summarised.headline_n, summarised.base_n, $z) as ci_low,
           wilson_high(summarised.headline_n, summarised.base_n, $z) as ci_high,
           case when summarised.scored_n > 0 then summarised.score_sum / summarised.scored_n end as mean_score,
           coalesce(small_groups.small, false) as small_group,
           case when small_groups.small then 'small'
                when complementary."group" is not null then 'complementary' end as group_hidden_because,
           overall.hidden as overall_hidden, overall.headline_hidden as overall_headline_hidden,
           overall.mean_hidden as overall_mean_hidden
    from summarised
    left join small_groups using (wave, variable, "group")
    left join complementary using (wave, variable, "group")
    left join overall using (wave, item, category)
),
final as (
    select wave, level, item, item_order, scale, variable, variable_order, "group", group_order, category,
           category_order, n, base_n, pct, group_n, headline_n, headline_pct, ci_low, ci_high, mean_score,
           small_group,
           group_hidden_because is not null as group_hidden,
           group_hidden_because,
           case when "group" = 'all' then coalesce(overall_hidden, false)
                else group_hidden_because is not null or n < $min_cell end as hidden,
           case when "group" = 'all' then coalesce(overall_headline_hidden, false)
                else group_hidden_because is not null or base_n < $min_cell
                     or bool_or(n < $min_cell and headline) over per_group
                     or headline_n < $min_cell or base_n - headline_n < $min_cell end as headline_hidden,
           case when "group" = 'all' then coalesce(overall_mean_hidden, false)
                else group_hidden_because is not null or bool_or(n < $min_cell and score is not null) over per_group
                end as mean_hidden,
           variable_public
    from decided
    window per_group as (partition by wave, item, variable, "group")
)
select * from final order by wave, item_order, variable_order, group_order, category_order
