-- Distinct (item, value) of the failing closed-item cells of kept rows: each gets its reason once.
select distinct
    item,
    value
from staging_invalid_cells
where source_row not in (select staging_duplicates.source_row from staging_duplicates)
order by item, value
