-- responses: one row per respondent and answered closed item
with source as (
    select * from staging.responses
),
items as (
    select item, item_order, level from codebook.items
),
final as (
    select source.wave, source.respondent_key, source.item, items.level, source.category, source.complete,
           items.item_order
    from source
    join items using (item)
)
select wave, respondent_key, item, level, category, complete
from final
order by wave, respondent_key, item_order
