-- The item columns of every other wave in the work database (item and its header): an unmapped header of the wave
-- being read that resembles one of them stops that wave (pipeline/ingest/continuity.py).
select
    wave,
    item,
    "column"
from raw.wave_columns
where wave != $wave
order by wave, item
