-- item_disclosure: the one disclosure decision of the public profile (PIPELINE_PROFILE=public), per wave, item
-- and category, taken here once. Every page, chart, overview table, waves.html and the public copies read it;
-- no renderer decides on its own. In the internal profile the pages show everything; the decision is still here.
-- 1. A count below $min_cell is hidden with its percentage (zeros too); an item whose base n is below
--    $min_cell is hidden whole.
-- 2. Complementary: the base n is published, so n minus the shown counts is the total of the hidden ones. When
--    that total is one cell (a single hidden cell) or 0 (every hidden cell would be 0), one shown cell is hidden
--    as well: the smallest outside the headline share (so the headline can stay), else the smallest.
-- 3. A figure derived from a hidden cell is hidden: the headline share with its interval, the top-2 and top-3
--    shares, the mean score (and every change between waves computed from them).
with source as (
    select d.wave, d.level, d.item, d.item_order, d.category, d.category_order, d.n, d.base_n, d.pct,
           c.headline, c.top2, c.top3, c.score is not null as scored
    from marts.item_distribution as d
    join codebook.items as i on d.item = i.item
    join codebook.categories as c on i.scale = c.scale and d.category = c.category
),

primary_suppression as (
    select *, base_n < $min_cell as base_hidden, n < $min_cell as small
    from source
),

hidden_totals as (
    select wave, item,
           count(*) filter (where small) as small_cells,
           coalesce(sum(n) filter (where small), 0) as small_total
    from primary_suppression
    group by wave, item
),

complementary as (
    select wave, item, category
    from (
        select p.wave, p.item, p.category,
               row_number() over (partition by p.wave, p.item
                                  order by p.headline, p.n, p.category_order) as smallest
        from primary_suppression as p
        join hidden_totals as h using (wave, item)
        where not p.small and not p.base_hidden
          and (h.small_cells = 1 or (h.small_cells > 1 and h.small_total = 0))
    ) as ranked
    where smallest = 1
),

decided as (
    select p.*,
           case when p.base_hidden then 'base_n'
                when p.small then 'small'
                when c.category is not null then 'complementary' end as hidden_because
    from primary_suppression as p
    left join complementary as c using (wave, item, category)
),

derived as (
    select wave, item,
           bool_or(hidden_because is not null and headline) as headline_hidden,
           bool_or(hidden_because is not null and top2) as top2_hidden,
           bool_or(hidden_because is not null and top3) as top3_hidden,
           bool_or(hidden_because is not null and scored) as mean_hidden
    from decided
    group by wave, item
),

final as (
    select d.wave, d.level, d.item, d.item_order, d.category, d.category_order, d.n, d.base_n, d.pct,
           d.hidden_because is not null as hidden, d.hidden_because, d.base_hidden,
           v.headline_hidden, v.top2_hidden, v.top3_hidden, v.mean_hidden
    from decided as d
    join derived as v using (wave, item)
)

select * from final order by wave, item_order, category_order
