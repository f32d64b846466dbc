-- open_answers: free-text answers as written (reports escape them)
with source as (
    select * from staging.open_answers
),
items as (
    select item, item_order, level from codebook.items
),
final as (
    select source.wave, source.item, items.level, source.respondent_key, source.complete, source.text,
           items.item_order
    from source
    join items using (item)
)
select wave, item, level, respondent_key, complete, text
from final
order by wave, item_order, respondent_key
