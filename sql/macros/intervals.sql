-- intervals: the confidence intervals of the marts, written once as DuckDB macros. They are temporary (they
-- live on the build connection only); the published file holds the tables they computed.
--
-- wilson_low / wilson_high(k, n, z): Wilson score interval of k successes out of n, in percent, clipped to
-- 0–100; NULL when n is 0 or k is NULL.
create or replace temp macro wilson_low(k, n, z) as
    case when n > 0 and k is not null then 100.0 * greatest(0.0,
        ((k / n + z * z / (2 * n)) - z * sqrt((k / n) * (1 - k / n) / n + z * z / (4.0 * n * n))) / (1 + z * z / n))
    end;
create or replace temp macro wilson_high(k, n, z) as
    case when n > 0 and k is not null then 100.0 * least(1.0,
        ((k / n + z * z / (2 * n)) + z * sqrt((k / n) * (1 - k / n) / n + z * z / (4.0 * n * n))) / (1 + z * z / n))
    end;
-- newcombe_low / newcombe_high(p1, l1, u1, p2, l2, u2): Newcombe's hybrid score interval (method 10) for the
-- difference p2 − p1 of two independent proportions, from each one's share and Wilson interval (all in percent).
create or replace temp macro newcombe_low(p1, l1, u1, p2, l2, u2) as
    p2 - p1 - sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2);
create or replace temp macro newcombe_high(p1, l1, u1, p2, l2, u2) as
    p2 - p1 + sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2);
