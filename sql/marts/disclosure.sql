-- disclosure: the public profile's one decision, per wave, item, row (the overall distribution, variable 'all', and
-- each group of a variable the public profile shows) and cell: every category's count, the row's base n ('~n') and
-- its headline count ('~headline'). Taken by pipeline.marts.disclosure over each (wave, item) as one block of linked
-- tables — the groups of every variable sum to the overall row, each row's categories to its base — so that no
-- hidden count below $min_cell can be worked out from what is shown (its feasible range covers 0 … $min_cell): small
-- counts, small bases and groups below $min_group are hidden, and the fewest further cells (complementary) that
-- protect them. The decision arrives as the temporary table disclosure_decision; item_disclosure and item_by_group
-- read it from here, and every page, chart and document shows what they allow.
with overall as (
    select d.wave, d.item, d.item_order, 'all' as variable, '' as "group", d.category, d.category_order, d.n,
           c.headline
    from marts.item_distribution as d
    join codebook.items as i on d.item = i.item
    join codebook.categories as c on i.scale = c.scale and d.category = c.category
),
groups as (
    select wave, item, item_order, variable, "group", category, category_order, n, headline
    from marts.group_distribution
    where variable_public and "group" <> 'all'
),
categories as (
    select * from overall
    union all
    select * from groups
),
cells as (
    select wave, item, item_order, variable, "group", category as cell, category_order as cell_order, n as value
    from categories
    union all
    select wave, item, item_order, variable, "group", '~n' as cell, 0 as cell_order, sum(n)::bigint as value
    from categories
    group by wave, item, item_order, variable, "group"
    union all
    select wave, item, item_order, variable, "group", '~headline' as cell, -1 as cell_order,
           (coalesce(sum(n) filter (where headline), 0))::bigint as value
    from categories
    group by wave, item, item_order, variable, "group"
),
final as (
    select cells.wave, cells.item, cells.item_order, cells.variable, cells."group", cells.cell, cells.cell_order,
           cells.value, coalesce(decision.hidden, true) as hidden,
           coalesce(decision.hidden_because, 'undecided') as hidden_because
    from cells
    left join disclosure_decision as decision using (wave, item, variable, "group", cell)
)
select * from final order by wave, item_order, variable, "group", cell_order, cell
