-- What the public profile publishes of the panel's counts, per consecutive pair of waves with panel members, read
-- from the marts the pages read (never from a decision): the waves' complete and partial counts (waves.html hides
-- each below $min_cell), who answered the first wave, answered again, dropped out and joined (panel.html, hidden as
-- panel_retention's flags say), the people the two waves share (waves.html, wave_change.shared_hidden) and the
-- most pairs panel.html shows for one item (panel_change: at most the people the waves share).
-- pipeline.marts.disclosure.audit_panel_counts audits it.
with waves as (
    select wave, invited, complete, partial from marts.waves
),
shared as (
    select distinct wave_from, wave_to, shared_respondents, shared_hidden
    from marts.wave_change
    where samples = 'shared'
),
paired as (
    -- the most pairs panel_change shows for one item: the waves share at least as many complete respondents
    select wave_from, wave_to, max(n_pairs) as most_pairs
    from marts.panel_change
    where not pairs_hidden
    group by wave_from, wave_to
),
pairs as (
    select r.wave_from, r.wave_to, r.linked_from, r.linked_to, r.answered_both, r.left_after, r.joined,
           r.complete_both, r.counts_hidden, r.linked_hidden,
           coalesce(s.shared_hidden, true) as shared_hidden, coalesce(paired.most_pairs, 0) as most_pairs
    from marts.panel_retention as r
    left join shared as s using (wave_from, wave_to)
    left join paired using (wave_from, wave_to)
    where r.linked_from + r.linked_to > 0
),
final as (
    select pairs.*,
           wf.complete as complete_from, wf.partial as partial_from, wf.invited as invited_from,
           wt.complete as complete_to, wt.partial as partial_to, wt.invited as invited_to,
           wf.complete < $min_cell as complete_from_hidden, wf.partial < $min_cell as partial_from_hidden,
           wt.complete < $min_cell as complete_to_hidden, wt.partial < $min_cell as partial_to_hidden
    from pairs
    join waves as wf on pairs.wave_from = wf.wave
    join waves as wt on pairs.wave_to = wt.wave
)
select * from final order by wave_from, wave_to
