-- One row per wave of the work database, for the lines `make run` prints per wave: tool, rows read,
-- complete / partial respondents, the completion rule, quarantined cells, the unmapped headers, the headers left
-- out (personal data, mapped to drop or under wave.yaml ignore) and the closed items the export lacks (shown as not
-- asked on the pages).
with source as (
    select
        wave,
        reader,
        exported_rows,
        completion_rule,
        coalesce(unmapped_headers, []::varchar[]) as unmapped_headers,
        coalesce(dropped_headers, []::varchar[]) as dropped_headers,
        coalesce(asked_items, []::varchar[]) as asked_items
    from raw.waves
),

respondents as (
    select
        wave,
        count(*) filter (where complete) as complete,
        count(*) filter (where not complete) as partial
    from staging.respondents
    group by wave
),

quarantined as (
    select
        wave,
        count(*) as cells
    from staging.quarantine
    group by wave
),

closed_items as (
    select
        unnest($closed_items) as item,
        generate_subscripts($closed_items, 1) as item_order
),

not_asked as (
    select
        source.wave,
        list(closed_items.item order by closed_items.item_order) as items
    from source
    cross join closed_items
    where not list_contains(source.asked_items, closed_items.item)
    group by source.wave
),

final as (
    select
        source.wave,
        source.reader,
        source.exported_rows,
        coalesce(respondents.complete, 0) as complete,
        coalesce(respondents.partial, 0) as partial,
        coalesce(quarantined.cells, 0) as quarantined_cells,
        len(source.unmapped_headers) as unmapped_count,
        source.unmapped_headers,
        source.dropped_headers,
        source.completion_rule,
        coalesce(not_asked.items, []::varchar[]) as not_asked
    from source
    left join respondents using (wave)
    left join quarantined using (wave)
    left join not_asked using (wave)
)

select * from final
order by wave
