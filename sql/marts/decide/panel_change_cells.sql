-- What the public profile publishes of each wave's and item's linked tables, read from the marts the pages read
-- (item_disclosure for the overall distribution, item_by_group for the groups of the variables the profile shows) —
-- never from the decision itself: one row per cell (a category, the base n '~n', the headline count '~headline'),
-- published or not. The panel's decision (pipeline.marts.disclosure.decide_panel, for panel_change) keeps the
-- panel's figures from giving any hidden one back, and the audit (audit_published) checks the whole.
with overall as (
    select wave, item, 'all' as variable, '' as "group", category as cell, not hidden as published
    from marts.item_disclosure
    union all
    select distinct wave, item, 'all' as variable, '' as "group", '~n' as cell, not base_hidden as published
    from marts.item_disclosure
    union all
    select distinct wave, item, 'all' as variable, '' as "group", '~headline' as cell, not headline_hidden as published
    from marts.item_disclosure
),
groups as (
    select wave, item, variable, "group", category as cell, not hidden as published
    from marts.item_by_group
    where variable_public and "group" <> 'all'
    union all
    select distinct wave, item, variable, "group", '~n' as cell, not group_hidden as published
    from marts.item_by_group
    where variable_public and "group" <> 'all'
    union all
    select distinct wave, item, variable, "group", '~headline' as cell, not headline_hidden as published
    from marts.item_by_group
    where variable_public and "group" <> 'all'
),
final as (
    select * from overall
    union all
    select * from groups
)
select * from final order by wave, item, variable, "group", cell
