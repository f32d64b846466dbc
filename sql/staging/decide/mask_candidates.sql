-- Texts that may reach a staging table and must be checked for contact details once each: the free-text answers of
-- the wave and the values of cells of rows in conflict (quarantined as written).
with conflicts as (
    select source_row from staging_duplicates
    where kind = 'conflict'
)

select distinct cells.value as text
from raw.wave_export as cells
where
    cells.wave = $wave
    and (list_contains($text_items, cells.item) or cells.source_row in (select source_row from conflicts))
union
select distinct background.value as text
from raw.wave_groups as background
where
    background.wave = $wave
    and background.value is not null
    and background.source_row in (select source_row from conflicts)
