-- waves: invited, exported rows, complete and partial responses, the response rate, the completion rule stated and
-- the closed items the export has no column for
with source as (
    select * from raw.waves
),

respondents as (
    select
        wave,
        count(*) filter (where complete) as complete,
        count(*) filter (where not complete) as partial
    from staging.respondents
    group by wave
),

closed_items as (
    select item, item_order from codebook.items
    where scale != 'text'
),

not_asked as (
    select
        source.wave,
        list(closed_items.item order by closed_items.item_order) as items
    from source
    cross join closed_items
    where not list_contains(coalesce(source.asked_items, []), closed_items.item)
    group by source.wave
),

final as (
    select
        source.wave,
        source.label,
        source.fielded,
        source.reconstruction,
        source.source_file,
        source.invited,
        source.exported_rows,
        coalesce(respondents.complete, 0)::integer as complete,
        coalesce(respondents.partial, 0)::integer as partial,
        case
            when source.invited > 0
                then 100.0 * coalesce(respondents.complete, 0) / source.invited
        end as response_rate,
        source.completion_rule,
        coalesce(not_asked.items, []::varchar[]) as not_asked
    from source
    left join respondents using (wave)
    left join not_asked using (wave)
)

select * from final
order by wave
