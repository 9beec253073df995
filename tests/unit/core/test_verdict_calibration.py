"""Calibration of the verdict rule by simulation: false-verdict rates under null effects,
power, interval coverage, and the Kaplan-Meier median under censoring.

Each rate is checked against its target with a Monte-Carlo slack of 3 binomial standard errors.
A harness that only ever passes proves nothing, so one test runs the old rule (percentile
bootstrap over seeds) through the same check and shows that it fails.
"""

import numpy as np
import pytest
from scipy import stats

from noisyrnn.core import claims as engine
from noisyrnn.core import inference as R
from noisyrnn.core.inference import INCONCLUSIVE, SUPPORTED

ALPHA = 0.05
ROWS = 4000
SEEDS = (3, 5, 10)


def _slack(rows, rate=ALPHA):
    return 3 * np.sqrt(rate * (1 - rate) / rows)


def _null_pairs(rng, rows, n):
    """Paired arms whose per-seed differences are N(0, 1) around a shared per-seed baseline."""
    base = rng.normal(5.0, 3.0, size=(rows, n))
    return base + rng.normal(size=(rows, n)), base


@pytest.mark.parametrize("n", SEEDS)
def test_single_part_null_false_verdict_rate(n):
    rng = np.random.default_rng(100 + n)
    a, b = _null_pairs(rng, ROWS, n)
    verdicts = [R.verdict(R.paired_interval(x, y), +1)[0] for x, y in zip(a, b)]
    rate = np.mean([v != INCONCLUSIVE for v in verdicts])
    print(f"single-part null, n={n}: false-verdict rate {rate:.4f}")
    assert rate <= ALPHA + _slack(ROWS)


@pytest.mark.parametrize("n", SEEDS)
@pytest.mark.parametrize("k", (2, 3))
def test_multipart_null_false_verdict_rate(n, k):
    rng = np.random.default_rng(1000 + 10 * n + k)
    diffs = rng.normal(size=(ROWS, k, n))
    directions = [(+1, -1, +1)[j] for j in range(k)]
    for rule in ("all", "any"):
        claims = []
        for row in diffs:
            parts = [(R.mean_interval(row[j]), directions[j]) for j in range(k)]
            claims.append(R.multipart(parts, rule)[0])
        rate = np.mean([v != INCONCLUSIVE for v in claims])
        print(f"{k}-part null, rule {rule}, n={n}: false-verdict rate {rate:.4f}")
        assert rate <= ALPHA + _slack(ROWS)


@pytest.mark.parametrize("n", SEEDS)
@pytest.mark.parametrize("direction", (+1, -1))
def test_noninferiority_at_margin_boundary(n, direction):
    """An "at least as" part (claims engine, paired with a margin) whose true effect is exactly
    the margin on the wrong side: a verdict either way is false, at most alpha of the time."""
    margin = 0.5
    rule = engine.Rule(alpha=ALPHA, min_seeds=3)
    rng = np.random.default_rng(2000 + n + direction)
    diffs = rng.normal(-direction * margin, 1.0, size=(ROWS, n))
    rows = [engine.row("C", "s", "c", [engine.paired("m", "d", direction, d, np.zeros(n), rule,
                                                     margin=margin)], rule) for d in diffs]
    rate = np.mean([r["verdict"] != INCONCLUSIVE for r in rows])
    print(f"non-inferiority at the boundary, n={n}, direction={direction:+d}: "
          f"false-verdict rate {rate:.4f}")
    assert rate <= ALPHA + _slack(ROWS)


@pytest.mark.parametrize("n", SEEDS)
@pytest.mark.parametrize("combine,k", [(None, 1), ("all", 2), ("any", 2), ("any", 3)])
def test_claims_engine_rows_keep_the_error_rate(n, combine, k):
    """The code path the claims tables run (core.claims.row on paired parts): under a null
    effect in every part, a row gets a verdict at most alpha of the time."""
    rule = engine.Rule(alpha=ALPHA, min_seeds=3)
    rng = np.random.default_rng(3000 + 10 * n + k)
    a, b = rng.normal(size=(2, ROWS, k, n))
    rows = [engine.row("C", "s", "c", [engine.paired(f"m{j}", "d", +1, a[i, j], b[i, j], rule)
                                       for j in range(k)], rule, combine=combine)
            for i in range(ROWS)]
    rate = np.mean([r["verdict"] != INCONCLUSIVE for r in rows])
    print(f"claims engine, {k} part(s) {combine}, n={n}: false-verdict rate {rate:.4f}")
    assert rate <= ALPHA + _slack(ROWS)


def test_power_two_sd_effect_at_five_seeds():
    """Exact power of the two-sided t-test, df = 4, noncentrality 2 * sqrt(5):
    P(T' > t_{0.975,4}) = nct.sf(2.776, 4, 4.472) ≈ 0.909 (the lower tail adds ~4e-9)."""
    n = 5
    tcrit = stats.t.ppf(1 - ALPHA / 2, n - 1)
    power = stats.nct.sf(tcrit, n - 1, 2 * np.sqrt(n))
    assert power == pytest.approx(0.909, abs=0.001)
    rng = np.random.default_rng(3000)
    diffs = rng.normal(2.0, 1.0, size=(ROWS, n))
    rate = np.mean([R.verdict(R.mean_interval(d), +1)[0] == SUPPORTED for d in diffs])
    print(f"power, 2 SD effect, n=5: supported rate {rate:.4f} (exact {power:.4f})")
    assert abs(rate - power) <= _slack(ROWS, power)
    assert rate >= 0.88


def _old_bootstrap_rule_rate(rng, rows, n, n_boot=2000):
    """False-verdict rate of the old rule: a 95 % percentile bootstrap of the mean over seeds,
    with a verdict whenever that interval excludes 0."""
    d = rng.normal(size=(rows, n))
    idx = rng.integers(0, n, size=(rows, n_boot, n))
    means = np.take_along_axis(d[:, None, :], idx, axis=2).mean(axis=2)
    lo, hi = np.percentile(means, [2.5, 97.5], axis=1)
    return np.mean((lo > 0) | (hi < 0))


def test_harness_rejects_the_old_bootstrap_rule():
    rows = 1000
    rate = _old_bootstrap_rule_rate(np.random.default_rng(4000), rows, n=3)
    print(f"old percentile-bootstrap rule, null, n=3: false-verdict rate {rate:.4f}")
    assert rate > ALPHA + _slack(rows) + 0.1


@pytest.mark.parametrize("n", (3, 10))
def test_interval_coverage(n):
    mu = 0.7
    rng = np.random.default_rng(5000 + n)
    x = rng.normal(mu, 2.0, size=(ROWS, n))
    covered = [(e.lo <= mu <= e.hi) for e in map(R.mean_interval, x)]
    rate = np.mean(covered)
    print(f"95 % interval coverage, n={n}: {rate:.4f}")
    assert abs(rate - 0.95) <= _slack(ROWS, 0.95)
    mean, lo, hi = R.mean_ci_over_axis0(x.T)  # the figures' vectorised path agrees
    assert abs(np.mean((lo <= mu) & (mu <= hi)) - rate) < 1e-12


def test_km_median_under_censoring():
    rate, horizon, n, sims = 0.1, 15.0, 40, 300
    truth = np.log(2) / rate  # 6.93; ~22 % of runs are censored at the horizon
    # With 40 runs the KM curve drops below 0.5 before the horizon in every simulation (it fails
    # to, giving median inf, with probability 3e-5), so the average is finite. The naive median
    # of the observed times estimates the median of T | T <= 15, i.e. 10 * -log(1 - 0.389) = 4.9.
    rng = np.random.default_rng(6000)
    t = rng.exponential(1 / rate, size=(sims, n))
    observed = t <= horizon
    t = np.minimum(t, horizon)
    km = np.mean([R.km_summary(ti, ei, horizon)["median"] for ti, ei in zip(t, observed)])
    naive = np.mean([np.median(ti[ei]) for ti, ei in zip(t, observed)])
    print(f"KM median {km:.3f}, naive observed-only median {naive:.3f}, truth {truth:.3f}")
    assert abs(km - truth) < 0.5
    assert abs(naive - truth) > 3 * abs(km - truth)
