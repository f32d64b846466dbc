-- group_distribution: per wave, closed item, background variable and group (and the all-respondents row, group
-- 'all'), every category of the item's scale with its n (zeros included), the group's base n, its complete
-- respondents in the wave and the sums the headline share and the mean are made of. The counts of the breakdowns by
-- group, before any disclosure decision (marts.disclosure takes it; marts.item_by_group shows it).
-- Base, as item_distribution: complete responses with a valid answer (dont_know in the base). A group is the
-- respondents whose background cell names it; a blank or unknown cell is not_stated.
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
final as (
    select wave, level, item, item_order, scale, variable, variable_order, variable_public, "group", group_order,
           group_n, category, category_order, score, headline, n,
           (sum(n) over per_group)::bigint as base_n,
           (sum(n) filter (where headline) over per_group)::bigint as headline_n,
           (sum(n * score) filter (where score is not null) over per_group)::bigint as score_sum,
           (sum(n) filter (where score is not null) over per_group)::bigint as scored_n
    from counted
    window per_group as (partition by wave, item, variable, "group")
)
select * from final order by wave, item_order, variable_order, group_order, category_order
