-- staging.quarantine: every rejected cell with its file, row, column, value and reason; contact details in values
-- and reasons masked (staging_masks). Nothing is dropped silently:
-- * unknown statuses (the row counts as partial), except on rows collapsed into an identical earlier row;
-- * every cell (answers and background) of rows in conflict with another row of the same respondent;
-- * closed-item cells of kept rows that fail the candidate checks (a value matching no category);
-- * background cells of kept rows whose value matches no group (the respondent counts as not stated).
with respondents as (
    select * from raw.wave_respondents
    where wave = $wave
),

cells as (
    select
        raw_cells.wave,
        raw_cells.source_row,
        raw_cells.value,
        wave_columns.source_file,
        wave_columns."column"
    from raw.wave_export as raw_cells
    inner join raw.wave_columns as wave_columns
        on raw_cells.wave = wave_columns.wave and raw_cells.item = wave_columns.item
    where raw_cells.wave = $wave
),

background as (
    select * from raw.wave_groups
    where wave = $wave
),

conflicts as (
    select * from staging_duplicates
    where kind = 'conflict'
),

kept as (
    select source_row from staging.respondents
    where wave = $wave
),

unknown_statuses as (
    select
        respondents.wave,
        respondents.source_file,
        respondents.source_row,
        respondents.status_column as "column",
        respondents.status as value,
        staging_status.reason
    from respondents
    inner join staging_status on respondents.status = staging_status.status
    where
        staging_status.reason is not null
        and respondents.source_row not in (
            select staging_duplicates.source_row from staging_duplicates
            where staging_duplicates.kind = 'exact'
        )
),

answered_cells as (
    select wave, source_file, source_row, "column", value from cells
    union all
    select wave, source_file, source_row, "column", value from background
    where value is not null
),

conflicting_cells as (
    select
        answered_cells.wave,
        answered_cells.source_file,
        answered_cells.source_row,
        answered_cells."column",
        answered_cells.value,
        conflicts.reason
    from answered_cells
    inner join conflicts on answered_cells.source_row = conflicts.source_row
),

unknown_labels as (
    select
        invalid.wave,
        invalid.source_file,
        invalid.source_row,
        invalid."column",
        invalid.value,
        staging_label_reasons.reason
    from staging_invalid_cells as invalid
    semi join kept on invalid.source_row = kept.source_row
    left join staging_label_reasons
        on invalid.item = staging_label_reasons.item and invalid.value = staging_label_reasons.value
),

unknown_groups as (
    select
        background.wave,
        background.source_file,
        background.source_row,
        background."column",
        background.value,
        staging_group_reasons.reason
    from background
    semi join kept on background.source_row = kept.source_row
    inner join staging_group_reasons
        on
            background.variable = staging_group_reasons.variable
            and background.value = staging_group_reasons.value
    where background."group" is null
),

unioned as (
    select * from unknown_statuses
    union all
    select * from conflicting_cells
    union all
    select * from unknown_labels
    union all
    select * from unknown_groups
),

final as (
    select
        unioned.wave,
        unioned.source_file,
        unioned.source_row,
        unioned."column",
        coalesce(masked_values.masked, unioned.value) as value,
        coalesce(masked_reasons.masked, unioned.reason) as reason,
        unioned.value as value_as_written,
        unioned.reason as reason_as_written
    from unioned
    left join staging_masks as masked_values on unioned.value = masked_values.text
    left join staging_masks as masked_reasons on unioned.reason = masked_reasons.text
)

select
    wave,
    source_file,
    source_row,
    "column",
    value,
    reason
from final
order by source_row, "column" nulls first, reason_as_written, value_as_written nulls first
