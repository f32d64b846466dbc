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
--
-- Paired proportions. newcombe_paired_low / newcombe_paired_high(a, b, c, d, z): Newcombe's hybrid score interval
-- (method 10 of "Improved confidence intervals for the difference between binomial proportions based on paired
-- data", Statistics in Medicine 1998) for (a + b) / n − (a + c) / n, in percentage points, where a is the count
-- positive on both occasions, b positive on the first only, c on the second only and d on neither (n = a+b+c+d):
-- the Wilson intervals of both marginal shares, combined with the correlation paired_phi. NULL when n is 0.
-- paired_phi(a, b, c, d): Newcombe's φ̂: (ad − bc − n/2) / √((a+b)(c+d)(a+c)(b+d)) when ad − bc > n/2, 0 when
-- 0 ≤ ad − bc ≤ n/2, (ad − bc) / √(…) when ad − bc < 0, and 0 when a marginal total is 0.
create or replace temp macro paired_phi(a, b, c, d) as
    case when (a + b) = 0 or (c + d) = 0 or (a + c) = 0 or (b + d) = 0 then 0.0
         when a * d - b * c > (a + b + c + d) / 2.0
              then (a * d - b * c - (a + b + c + d) / 2.0) / sqrt((a + b)::double * (c + d) * (a + c) * (b + d))
         when a * d - b * c >= 0 then 0.0
         else (a * d - b * c) / sqrt((a + b)::double * (c + d) * (a + c) * (b + d)) end;
create or replace temp macro newcombe_paired_low(a, b, c, d, z) as
    case when a + b + c + d > 0 then
        100.0 * (b - c) / (a + b + c + d) - sqrt(greatest(0.0,
            (100.0 * (a + b) / (a + b + c + d) - wilson_low(a + b, a + b + c + d, z)) ** 2
            - 2 * paired_phi(a, b, c, d)
                * (100.0 * (a + b) / (a + b + c + d) - wilson_low(a + b, a + b + c + d, z))
                * (wilson_high(a + c, a + b + c + d, z) - 100.0 * (a + c) / (a + b + c + d))
            + (wilson_high(a + c, a + b + c + d, z) - 100.0 * (a + c) / (a + b + c + d)) ** 2))
    end;
create or replace temp macro newcombe_paired_high(a, b, c, d, z) as
    case when a + b + c + d > 0 then
        100.0 * (b - c) / (a + b + c + d) + sqrt(greatest(0.0,
            (wilson_high(a + b, a + b + c + d, z) - 100.0 * (a + b) / (a + b + c + d)) ** 2
            - 2 * paired_phi(a, b, c, d)
                * (wilson_high(a + b, a + b + c + d, z) - 100.0 * (a + b) / (a + b + c + d))
                * (100.0 * (a + c) / (a + b + c + d) - wilson_low(a + c, a + b + c + d, z))
            + (100.0 * (a + c) / (a + b + c + d) - wilson_low(a + c, a + b + c + d, z)) ** 2))
    end;
--
-- t_quantile(alpha, z, df): the two-sided critical value of Student's t with df degrees of freedom, P(|T| > t) =
-- alpha, by Hill's algorithm 396 (Communications of the ACM 13, 1970): exact for df 1 and 2, within 1e-4 of the
-- exact quantile from df 3 on. z is the normal critical value of the same alpha (the codebook's z, alpha 0.05);
-- the algorithm's normal expansion takes the lower-tail quantile, hence t_hill_large(-z, df). NULL when df < 1.
-- Used for the interval of a mean paired difference: mean ± t · sd / √n.
create or replace temp macro t_hill_a(df) as 1.0 / (df - 0.5);
create or replace temp macro t_hill_b(df) as 48.0 / (t_hill_a(df) ** 2);
create or replace temp macro t_hill_c(df) as
    ((20700.0 * t_hill_a(df) / t_hill_b(df) - 98.0) * t_hill_a(df) / t_hill_b(df) - 16.0) * t_hill_a(df) / t_hill_b(df)
    + 96.36;
create or replace temp macro t_hill_d(df) as
    ((94.5 / (t_hill_b(df) + t_hill_c(df)) - 3.0) / t_hill_b(df) + 1.0) * sqrt(t_hill_a(df) * pi() / 2.0) * df;
create or replace temp macro t_hill_c2(z, df) as
    (((0.05 * t_hill_d(df) * z - 5.0) * z - 7.0) * z - 2.0) * z + t_hill_b(df) + t_hill_c(df)
    + case when df < 5 then 0.3 * (df - 4.5) * (z + 0.6) else 0.0 end;
create or replace temp macro t_hill_large(z, df) as
    exp(t_hill_a(df) * ((((((0.4 * z * z + 6.3) * z * z + 36.0) * z * z + 94.5) / t_hill_c2(z, df) - z * z - 3.0)
                          / t_hill_b(df) + 1.0) * z) ** 2) - 1.0;
create or replace temp macro t_hill_small(y, df) as
    ((1.0 / (((df + 6.0) / (df * y) - 0.089 * t_hill_d(df) - 0.822) * (df + 2.0) * 3.0) + 0.5 / (df + 4.0)) * y - 1.0)
    * (df + 1.0) / (df + 2.0) + 1.0 / y;
create or replace temp macro t_quantile(alpha, z, df) as
    case when df is null or df < 1 then null
         when df = 1 then cos(alpha * pi() / 2) / sin(alpha * pi() / 2)
         when df = 2 then sqrt(2.0 / (alpha * (2.0 - alpha)) - 2.0)
         when (t_hill_d(df) * alpha) ** (2.0 / df) > 0.05 + t_hill_a(df) then sqrt(df * t_hill_large(-z, df))
         else sqrt(df * t_hill_small((t_hill_d(df) * alpha) ** (2.0 / df), df)) end;
