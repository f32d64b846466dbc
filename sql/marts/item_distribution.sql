-- item_distribution: every category of every closed item the wave asked, zeros included.
-- Base: complete responses with a valid, non-blank answer (dont_know is in the base).
with waves as (
    select wave, asked_items from raw.waves
),
items as (
    select item, item_order, level, scale from codebook.items
),
categories as (
    select scale, category, category_order, label_nb as label from codebook.categories
),
answers as (
    select wave, item, category, count(*) as n
    from marts.responses
    where complete
    group by wave, item, category
),
grid as (
    select waves.wave, items.level, items.item, items.item_order,
           categories.category, categories.category_order, categories.label
    from waves
    join items on list_contains(waves.asked_items, items.item)
    join categories using (scale)
),
counted as (
    select grid.*, coalesce(answers.n, 0)::bigint as n
    from grid
    left join answers using (wave, item, category)
),
final as (
    select wave, level, item, item_order, category, category_order, label, n,
           (sum(n) over (partition by wave, item))::bigint as base_n,
           case when base_n > 0 then 100.0 * n / base_n end as pct
    from counted
)
select * from final order by wave, item_order, category_order
