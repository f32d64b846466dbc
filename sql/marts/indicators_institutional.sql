-- indicators_institutional: the institutional level's rows of item_indicators
with source as (select * from marts.item_indicators),
final as (select * from source where level = 'institutional')
select * from final order by wave, item_order
