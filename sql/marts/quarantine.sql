-- quarantine: one row per rejected cell, with the reason and what would be accepted
with source as (
    select * from staging.quarantine
),
final as (
    select wave, source_file, source_row, "column", value, reason
    from source
)
select * from final order by wave, source_file, source_row, "column", reason
