"""Behaviour of noisyrnn.core.inference against hand-computed values and scipy."""

import math

import numpy as np
import pytest
from scipy import stats

from noisyrnn.core import inference as R
from noisyrnn.core.inference import CONTRADICTED, INCONCLUSIVE, SUPPORTED, Estimate

T975_3 = 3.182446305284263  # t_{0.975, df=3}, from tables
T95_10 = 1.8124611228107335  # t_{0.95, df=10}


# ------------------------------------------------------------------ intervals


def test_mean_interval_hand_computed():
    # x = [1, 2, 3, 6]: mean 3, squared deviations 4 + 1 + 0 + 9 = 14, s^2 = 14/3, se = s/sqrt(4)
    est = R.mean_interval([1, 2, 3, 6])
    se = math.sqrt(14 / 3) / 2
    assert est.n == 4 and est.df == 3 and est.null == 0.0
    assert est.estimate == pytest.approx(3.0)
    assert est.se == pytest.approx(se, rel=1e-12)
    assert est.lo == pytest.approx(3 - T975_3 * se, rel=1e-9)
    assert est.hi == pytest.approx(3 + T975_3 * se, rel=1e-9)
    assert est.p == pytest.approx(stats.ttest_1samp([1, 2, 3, 6], 0.0).pvalue, rel=1e-9)
    est2 = R.mean_interval([1, 2, 3, 6], null=2.5)
    assert est2.p == pytest.approx(stats.ttest_1samp([1, 2, 3, 6], 2.5).pvalue, rel=1e-9)
    assert (est2.lo, est2.hi) == pytest.approx((est.lo, est.hi))


def test_mean_interval_drops_nonfinite_and_small_n():
    assert R.mean_interval([1, np.nan, 2, 3, np.inf, 6]) == R.mean_interval([1, 2, 3, 6])
    one = R.mean_interval([4.0, np.nan])
    assert one.n == 1 and one.estimate == 4.0
    assert all(np.isnan([one.lo, one.hi, one.se, one.df, one.p]))
    empty = R.mean_interval([])
    assert empty.n == 0 and np.isnan(empty.estimate)


def test_mean_interval_zero_variance():
    est = R.mean_interval([0.1, 0.1, 0.1])
    assert (est.estimate, est.lo, est.hi, est.se, est.p) == (0.1, 0.1, 0.1, 0.0, 0.0)
    assert R.mean_interval([0.1, 0.1, 0.1], null=0.1).p == 1.0


def test_paired_drops_incomplete_pairs():
    a = np.array([5.0, 6.0, np.nan, 9.0, 4.0, 7.0])
    b = np.array([4.0, 4.0, 1.0, np.inf, 1.0, 1.0])
    est = R.paired_interval(a, b)  # complete pairs: differences 1, 2, 3, 6
    assert est == R.mean_interval([1, 2, 3, 6])
    with pytest.raises(ValueError):
        R.paired_interval([1, 2, 3], [1, 2])


def test_welch_against_scipy_and_hand_df():
    a, b = [1, 2, 3, 6, np.nan], [2, 4, 9]
    est = R.two_sample_interval(a, b)
    # var(a)/na = (14/3)/4 = 7/6, var(b)/nb = 13/3 (b: mean 5, SS = 9 + 1 + 16 = 26, var 13);
    # df = (7/6 + 13/3)^2 / ((7/6)^2/3 + (13/3)^2/2) = (121/4) / (1063/108) = 3267/1063
    assert est.df == pytest.approx(3267 / 1063, rel=1e-12)
    assert est.se == pytest.approx(math.sqrt(7 / 6 + 13 / 3), rel=1e-12)
    assert est.estimate == pytest.approx(-2.0) and est.n == 7
    ref = stats.ttest_ind([1, 2, 3, 6], b, equal_var=False)
    assert est.p == pytest.approx(ref.pvalue, rel=1e-9)
    q = stats.t.ppf(0.975, 3267 / 1063)
    assert (est.lo, est.hi) == pytest.approx((-2 - q * est.se, -2 + q * est.se), rel=1e-9)
    short = R.two_sample_interval([1.0, 2.0, 3.0], [5.0])
    assert short.n == 4 and short.estimate == -3.0 and np.isnan(short.lo) and np.isnan(short.p)


def test_mean_ci_over_axis0_matches_mean_interval():
    rng = np.random.default_rng(1)
    v = rng.normal(size=(6, 2, 3))
    v[0, 0, 0] = np.nan
    v[:5, 1, 1] = np.nan  # one finite seed -> no interval
    v[:, 1, 2] = np.nan  # no data
    mean, lo, hi = R.mean_ci_over_axis0(v, ci=0.9)
    assert mean.shape == lo.shape == hi.shape == (2, 3)
    for idx in np.ndindex(2, 3):
        est = R.mean_interval(v[(slice(None),) + idx], ci=0.9)
        np.testing.assert_allclose(
            [mean[idx], lo[idx], hi[idx]],
            [est.estimate, est.lo, est.hi],
            rtol=1e-12,
            equal_nan=True,
        )
    assert np.isnan(mean[1, 2]) and np.isnan(lo[1, 1]) and mean[1, 1] == v[5, 1, 1]


# ------------------------------------------------------------------ verdicts


def _est(estimate, p, n=5, se=0.3, df=4.0, null=0.0):
    return Estimate(estimate, estimate - 1, estimate + 1, n, se, df, p, null)


def test_verdict_cases():
    assert R.verdict(_est(1.0, 0.01), +1) == (SUPPORTED, "")
    assert R.verdict(_est(1.0, 0.01), -1) == (CONTRADICTED, "")
    assert R.verdict(_est(-1.0, 0.01), -1) == (SUPPORTED, "")
    assert R.verdict(_est(1.0, 0.2), +1) == (INCONCLUSIVE, "")
    assert R.verdict(_est(1.0, 0.01), +1, p=0.06) == (INCONCLUSIVE, "")  # adjusted p wins
    assert R.verdict(_est(1.0, 0.04), +1, alpha=0.01) == (INCONCLUSIVE, "")
    assert R.verdict(_est(0.4, 0.01, null=0.5), +1) == (CONTRADICTED, "")  # side vs null
    assert R.verdict(_est(1.0, 0.01, n=2), +1) == (INCONCLUSIVE, "n=2 < 3 seeds: no verdict")
    assert R.verdict(_est(1.0, 0.01, n=4), +1, min_n=5)[1] == "n=4 < 5 seeds: no verdict"
    v, note = R.verdict(R.mean_interval([]), +1)
    assert v == INCONCLUSIVE and "no data" in note
    v, note = R.verdict(R.two_sample_interval([1, 2, 3], [4]), +1)
    assert v == INCONCLUSIVE and "missing" in note
    with pytest.raises(ValueError):
        R.verdict(_est(1.0, 0.01), 0)


def test_verdict_equals_interval_excluding_null():
    rng = np.random.default_rng(2)
    for _ in range(300):
        x = rng.normal(0.8, 1.0, size=rng.integers(3, 8))
        est = R.mean_interval(x, ci=0.95)
        v, _ = R.verdict(est, +1, alpha=0.05)
        expected = SUPPORTED if est.lo > 0 else CONTRADICTED if est.hi < 0 else INCONCLUSIVE
        assert v == expected


# ------------------------------------------------------------------ multiplicity


def test_holm_hand_computed():
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> running max 0.06
    np.testing.assert_allclose(R.holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(R.holm([0.5, 0.6]), [1.0, 1.0])  # 0.5*2 = 1.0, capped, monotone
    out = R.holm([0.01, np.nan, 0.04])  # m = 2: 0.02, max(0.04, 0.02)
    np.testing.assert_allclose(out, [0.02, np.nan, 0.04])
    assert R.holm([0.03])[0] == 0.03
    assert R.holm([]).size == 0 and np.isnan(R.holm([np.nan])).all()
    with pytest.raises(ValueError):
        R.holm([0.2, 1.5])


def test_bh_hand_computed():
    # sorted: 0.005*4/1 = 0.02, 0.01*4/2 = 0.02, 0.03*4/3 = 0.04, 0.04*4/4 = 0.04
    np.testing.assert_allclose(R.bh([0.01, 0.04, 0.03, 0.005]), [0.02, 0.04, 0.04, 0.02])
    np.testing.assert_allclose(R.bh([0.5, 0.6]), [0.6, 0.6])  # 1.0 stepped up to 0.6
    np.testing.assert_allclose(R.bh([0.9, 0.8, 0.7]), [0.9, 0.9, 0.9])
    np.testing.assert_allclose(R.bh([np.nan, 0.02, 0.03]), [np.nan, 0.03, 0.03])
    np.testing.assert_allclose(R.bh([[0.01, 0.04], [0.03, 0.005]]), [[0.02, 0.04], [0.04, 0.02]])


S, C, N = SUPPORTED, CONTRADICTED, INCONCLUSIVE


@pytest.mark.parametrize(
    "parts, all_, any_",
    [
        ([S, S], S, S),
        ([S, N], N, S),
        ([S, C], C, N),
        ([N, N], N, N),
        ([N, C], C, N),
        ([C, C], C, C),
        ([S], S, S),
        ([C], C, C),
        ([N], N, N),
        ([S, S, C], C, N),
    ],
)
def test_combine_truth_tables(parts, all_, any_):
    assert R.combine_all(parts) == all_
    assert R.combine_any(parts) == any_


def test_combine_rejects_bad_input():
    for bad in ([], ["yes"]):
        with pytest.raises(ValueError):
            R.combine_all(bad)
        with pytest.raises(ValueError):
            R.combine_any(bad)


def test_multipart():
    strong = _est(1.0, 0.01)
    weak = _est(1.0, 0.03)
    # Holm over (0.01, 0.03): 0.02, 0.03 -> both still significant
    v, per, adj = R.multipart([(strong, +1), (weak, +1)], "all")
    assert v == SUPPORTED and per == [(S, ""), (S, "")]
    np.testing.assert_allclose(adj, [0.02, 0.03])
    # (0.03, 0.04): 0.06, 0.06 -> the claim loses significance although each raw p < 0.05
    v, per, adj = R.multipart([(weak, +1), (_est(1.0, 0.04), +1)], "any")
    assert v == INCONCLUSIVE and [x for x, _ in per] == [N, N]
    v, per, _ = R.multipart([(strong, +1), (_est(1.0, 0.5), -1)], "any")
    assert v == SUPPORTED and per[1] == (N, "")
    v, per, _ = R.multipart([(strong, -1), (_est(1.0, 0.5), +1)], "all")
    assert v == CONTRADICTED
    v, per, adj = R.multipart([(weak, +1)], "all")  # single part: p unchanged
    assert v == SUPPORTED and adj[0] == 0.03
    v, per, _ = R.multipart([(strong, +1), (_est(1.0, 0.01, n=2), +1)], "all")
    assert v == INCONCLUSIVE and per[1] == (N, "n=2 < 3 seeds: no verdict")
    with pytest.raises(ValueError):
        R.multipart([(strong, +1)], "most")


# ------------------------------------------------------------------ survival


def test_km_summary_hand_computed():
    times = [2, 3, 3, 5, 7, 10]
    observed = [True, True, False, True, False, False]
    # KM, horizon 10 (censored at a tied time stays at risk for the event):
    #   t=2: 6 at risk, 1 event -> S = 5/6
    #   t=3: 5 at risk, 1 event -> S = 5/6 * 4/5 = 2/3   (one censored at 3)
    #   t=5: 3 at risk, 1 event -> S = 2/3 * 2/3 = 4/9 <= 0.5 -> median = 5
    #   t=7, t=10: censored, S stays 4/9
    # RMST = 2*1 + 1*5/6 + 2*2/3 + 5*4/9 = (36 + 15 + 24 + 40)/18 = 115/18
    out = R.km_summary(times, observed, horizon=10)
    assert out["median"] == 5.0
    assert out["rmst"] == pytest.approx(115 / 18, rel=1e-12)
    assert out["fraction"] == 0.5 and out["n"] == 6
    # a never-reached run recorded as inf (or beyond the horizon) is censored at the horizon
    alt = R.km_summary([2, 3, 3, 5, 7, np.inf], observed, horizon=10)
    assert alt == out
    beyond = R.km_summary([2, 3, 3, 5, 7, 12], [True, True, False, True, False, True], 10)
    assert beyond == out


def test_km_summary_censoring_is_not_ignored():
    horizon = 200
    # 10 % reach the target at t = 50, the rest never do
    few = R.km_summary([50] * 2 + [horizon] * 18, [True] * 2 + [False] * 18, horizon)
    # everyone reaches it at t = 100
    allr = R.km_summary([100] * 20, [True] * 20, horizon)
    assert few["median"] == float("inf") and allr["median"] == 100.0
    # RMST: 50 + 150 * 0.9 = 185 vs 100; dropping the censored runs would say 50 < 100
    assert few["rmst"] == pytest.approx(185.0) and allr["rmst"] == pytest.approx(100.0)
    assert few["rmst"] > allr["rmst"] and few["median"] > allr["median"]
    assert few["fraction"] == 0.1 and allr["fraction"] == 1.0
    none = R.km_summary([horizon] * 5, [False] * 5, horizon)
    assert none["median"] == float("inf") and none["rmst"] == pytest.approx(horizon)


def test_km_summary_empty_and_errors():
    out = R.km_summary([], [], horizon=10)
    assert out["n"] == 0 and all(np.isnan([out["median"], out["rmst"], out["fraction"]]))
    with pytest.raises(ValueError):
        R.km_summary([1, 2], [True], horizon=10)
    with pytest.raises(ValueError):
        R.km_summary([np.nan, 2], [True, True], horizon=10)
    with pytest.raises(ValueError):
        R.km_summary([1, 2], [True, True], horizon=np.inf)
