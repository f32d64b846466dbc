-- The counts the disclosure decision is taken over (pipeline.marts.disclosure), one row per wave, item, row and
-- category: the overall distribution (variable 'all') and the groups of every variable the public profile shows
-- (group_n: the group's complete respondents), with the headline flag and score of the category and, per wave, the
-- most an attacker knows any count to be (the wave's complete responses, or its invited when those are hidden).
with overall as (
    select wave, item, 'all' as variable, '' as "group", null::bigint as group_n, category, category_order, n
    from marts.item_distribution
),
groups as (
    select wave, item, variable, "group", group_n, category, category_order, n
    from marts.group_distribution
    where variable_public and "group" <> 'all'
),
cells as (
    select * from overall
    union all
    select * from groups
),
final as (
    select cells.wave, cells.item, cells.variable, cells."group", cells.group_n, cells.category, cells.category_order,
           cells.n,
           categories.headline, categories.score, greatest(waves.complete, waves.invited) as bound
    from cells
    join codebook.items as items using (item)
    join codebook.categories as categories on items.scale = categories.scale and cells.category = categories.category
    join marts.waves as waves using (wave)
)
select * from final order by wave, item, variable, "group", category_order
