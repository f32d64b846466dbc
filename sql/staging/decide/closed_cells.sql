-- The wave's cells of closed items, as the candidate checks (pandera `candidate_answers`) see them.
select
    cells.wave,
    wave_columns.source_file,
    cells.source_row,
    cells.respondent_key,
    wave_columns."column",
    cells.item,
    cells.value,
    cells.category
from raw.wave_export as cells
inner join raw.wave_columns as wave_columns on cells.wave = wave_columns.wave and cells.item = wave_columns.item
where cells.wave = $wave and list_contains($closed_items, cells.item)
