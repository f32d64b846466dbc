-- codebook_items: every item with level, scale, report figure and question texts
with source as (select * from codebook.items),
final as (
    select item, item_order, level, scale, figure, question_nb, question_da, question_en
    from source
)
select * from final order by item_order
