-- level_by_group: per wave, level, background variable and group (and 'all'), the level summary the overview
-- shows: the group's complete respondents, the items with a base, and the average, lowest and highest headline
-- share (top-2 or yes) over them. hidden: the public profile hides the group (marts.item_by_group's decision) or
-- a headline share the average is built on.
with source as (
    select distinct wave, level, item, variable, variable_order, "group", group_order, group_n, base_n,
           headline_pct, group_hidden, headline_hidden, variable_public
    from marts.item_by_group
),
levels as (
    select level, level_order from codebook.levels
),
final as (
    select source.wave, source.level, levels.level_order, source.variable, source.variable_order,
           source."group", source.group_order, max(source.group_n)::bigint as group_n,
           (count(*) filter (where source.base_n > 0))::bigint as items,
           avg(source.headline_pct) filter (where source.base_n > 0) as avg_headline_pct,
           min(source.headline_pct) filter (where source.base_n > 0) as min_headline_pct,
           max(source.headline_pct) filter (where source.base_n > 0) as max_headline_pct,
           bool_or(source.group_hidden) as group_hidden,
           bool_or(source.group_hidden or (source.base_n > 0 and source.headline_hidden)) as hidden,
           bool_or(source.variable_public) as variable_public
    from source
    join levels using (level)
    group by all
)
select * from final order by wave, level_order, variable_order, group_order
