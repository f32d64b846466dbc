-- indicators_<level>: one level's rows of item_indicators, one table per level of the codebook (indicators_personal,
-- indicators_institutional, …; schemas/marts.yaml `indicators_<level>`), the level bound as $level
with source as (select * from marts.item_indicators),
final as (select * from source where level = $level)
select * from final order by wave, item_order
