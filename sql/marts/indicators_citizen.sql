-- indicators_citizen: the citizen level's rows of item_indicators
with source as (select * from marts.item_indicators),
final as (select * from source where level = 'citizen')
select * from final order by wave, item_order
