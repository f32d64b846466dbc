-- The wave's cells of closed items, as the candidate checks (pandera `candidate_answers`) see them.
select
    wave,
    source_file,
    source_row,
    respondent_key,
    "column",
    item,
    value,
    category
from raw.wave_export
where wave = $wave and list_contains($closed_items, item)
