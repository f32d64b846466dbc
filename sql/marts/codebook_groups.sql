-- codebook_groups: the background variables of the codebook and their groups in display order (not_stated last)
with variables as (select * from codebook.background),
groups as (select * from codebook.groups),
final as (
    select variables.variable, variables.variable_order, variables.public,
           variables.label_nb as variable_label_nb, variables.label_da as variable_label_da,
           variables.label_en as variable_label_en,
           groups."group", groups.group_order, groups.code, groups.label_nb, groups.label_da, groups.label_en
    from variables
    join groups using (variable)
)
select * from final order by variable_order, group_order
