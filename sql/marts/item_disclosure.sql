-- item_disclosure: the public profile's decision (marts.disclosure, taken over the linked tables of each wave and
-- item) as the pages read it for the overall distribution, per wave, item and category. In the internal profile the
-- pages show everything; the decision is still here.
-- hidden: the count and its percentage are hidden (hidden_because: small, complementary or base_n: the item's base
-- is below $min_cell and the item is hidden whole). A figure built on a hidden number is hidden with it: the headline
-- share and its interval when the headline count is hidden, the top-2 share likewise (top-2 is the headline of the
-- degree scale) or when another top-2 category is hidden, the top-3 share and the mean score when a category they
-- are built on is (and every change between waves computed from them).
with source as (
    select d.wave, d.level, d.item, d.item_order, d.category, d.category_order, d.n, d.base_n, d.pct,
           c.headline, c.top2, c.top3, c.score is not null as scored
    from marts.item_distribution as d
    join codebook.items as i on d.item = i.item
    join codebook.categories as c on i.scale = c.scale and d.category = c.category
),
decision as (
    select wave, item, cell, hidden, hidden_because from marts.disclosure where variable = 'all'
),
rows as (
    select wave, item,
           bool_or(hidden) filter (where cell = '~n') as base_hidden,
           bool_or(hidden) filter (where cell = '~headline') as headline_count_hidden
    from decision
    group by wave, item
),
decided as (
    select source.*, decision.hidden, decision.hidden_because
    from source
    join decision on source.wave = decision.wave and source.item = decision.item and source.category = decision.cell
),
derived as (
    select decided.wave, decided.item, rows.base_hidden,
           rows.base_hidden or rows.headline_count_hidden as headline_hidden,
           rows.base_hidden or rows.headline_count_hidden or bool_or(decided.hidden and decided.top2
                                                                     and not decided.headline) as top2_hidden,
           rows.base_hidden or bool_or(decided.hidden and decided.top3) as top3_hidden,
           rows.base_hidden or bool_or(decided.hidden and decided.scored) as mean_hidden
    from decided
    join rows using (wave, item)
    group by decided.wave, decided.item, rows.base_hidden, rows.headline_count_hidden
),
final as (
    select d.wave, d.level, d.item, d.item_order, d.category, d.category_order, d.n, d.base_n, d.pct,
           d.hidden, case when d.hidden then d.hidden_because end as hidden_because, v.base_hidden,
           v.headline_hidden, v.top2_hidden, v.top3_hidden, v.mean_hidden
    from decided as d
    join derived as v using (wave, item)
)
select * from final order by wave, item_order, category_order
