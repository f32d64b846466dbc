-- The wave's distinct statuses (each is decided once: complete, partial, or unknown and quarantined).
select distinct status
from raw.wave_respondents
where wave = $wave and status is not null
order by status
