-- codebook_categories: answer categories per scale, in display order
with source as (select * from codebook.categories),
final as (
    select scale, category, category_order, code, score, top2, top3, headline, label_nb, label_da, label_en
    from source
)
select * from final order by scale, category_order
