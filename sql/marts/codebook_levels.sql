-- codebook_levels: the effect levels, from schemas/codebook.yaml
with source as (select * from codebook.levels),
final as (
    select level, level_order, label_nb, label_da, label_en, description_nb, description_da, description_en
    from source
)
select * from final order by level_order
