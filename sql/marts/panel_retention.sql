-- panel_retention: per consecutive pair of waves (marts.wave_pairs), how
-- many of the panel members who answered the first wave answered the second (retention), how many did not
-- (attrition), and how many answered only the second. Every pair has a row; a pair without panel ids has zeros.
-- counts_hidden is the public profile's decision (PIPELINE_MIN_CELL as $min_cell): answered_both = linked_from −
-- left_after and joined = linked_to − answered_both, so one small count among them hides all three and the retention.
with waves as (
    select wave, invited, complete, partial, complete + partial as answered from marts.waves
),
members as (
    select panel_key, wave, status from marts.panel_members
),
pairs as (
    select wave_from, wave_to, pair_order from marts.wave_pairs
),
keyed as (
    select pairs.pair_order, members.panel_key,
           bool_or(members.wave = pairs.wave_from) as in_from,
           bool_or(members.wave = pairs.wave_to) as in_to,
           bool_or(members.wave = pairs.wave_from and members.status = 'complete') as complete_from,
           bool_or(members.wave = pairs.wave_to and members.status = 'complete') as complete_to
    from pairs
    join members on members.wave in (pairs.wave_from, pairs.wave_to)
    group by pairs.pair_order, members.panel_key
),
linked as (
    select pair_order,
           count(*) filter (where in_from) as linked_from,
           count(*) filter (where in_to) as linked_to,
           count(*) filter (where in_from and in_to) as answered_both,
           count(*) filter (where complete_from and complete_to) as complete_both
    from keyed
    group by pair_order
),
counted as (
    select pairs.wave_from, pairs.wave_to,
           wf.invited as invited_from,
           wf.answered::bigint as answered_from,
           coalesce(linked.linked_from, 0)::bigint as linked_from,
           coalesce(linked.linked_to, 0)::bigint as linked_to,
           coalesce(linked.answered_both, 0)::bigint as answered_both,
           coalesce(linked.complete_both, 0)::bigint as complete_both,
           (coalesce(linked.linked_from, 0) - coalesce(linked.answered_both, 0))::bigint as left_after,
           -- more panel members answered a wave than completed it: the difference is a floor of its partial count,
           -- which the public profile hides when it is small
           wf.partial < $min_cell and coalesce(linked.linked_from, 0) > wf.complete as partial_from_shown,
           wt.partial < $min_cell and coalesce(linked.linked_to, 0) > wt.complete as partial_to_shown,
           (coalesce(linked.linked_to, 0) - coalesce(linked.answered_both, 0))::bigint as joined,
           case when linked.linked_from > 0 then 100.0 * linked.answered_both / linked.linked_from end
               as retention_pct,
           pairs.pair_order
    from pairs
    join waves as wf on pairs.wave_from = wf.wave
    join waves as wt on pairs.wave_to = wt.wave
    left join linked using (pair_order)
),
final as (
    select counted.*,
           least(answered_both, left_after, joined) < $min_cell or partial_to_shown or partial_from_shown
               as counts_hidden,
           linked_from < $min_cell or partial_from_shown as linked_hidden
    from counted
)
select * exclude (pair_order, partial_from_shown, partial_to_shown) from final order by pair_order
