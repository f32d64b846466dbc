-- Background values of kept rows that match no group: each gets its reason once.
select distinct
    background.variable,
    background.value
from raw.wave_groups as background
where
    background.wave = $wave
    and background."group" is null
    and background.value is not null
    and background.source_row not in (select staging_duplicates.source_row from staging_duplicates)
order by background.variable, background.value
