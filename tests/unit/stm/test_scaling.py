"""Critical delays, the scaling law, its seed bootstrap and the theory curves (STM.md §4),
against planted data and hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from noisyrnn.studies.stm.scaling import (
    bootstrap_beta,
    critical_delays,
    eta_c_lc,
    eta_c_sp,
    fit_onset,
    fit_power_law,
    fit_sigmoid,
    lc_toy_loss_analytic,
    lc_toy_loss_numeric,
    onset_curve,
    sigmoid_curve,
)

BETA = 2.7
LRS = np.logspace(-0.5, -1.5, 5)  # the default scale's grid
A = LRS[0] * 60.0**BETA  # T0 = 60 ms at the largest lr
T0_TRUE = (LRS / A) ** (-1.0 / BETA)  # 60 ... ~141 ms
DELAYS = np.arange(0.0, 401.0, 20.0)
RATE = 0.02  # 1/ms


def simulate_seeds(rng, n_seed, rho=0.5):
    """Not-learned outcomes (n_seed, n_lr, n_delay) whose population fraction is exactly
    onset_curve(T, T0_TRUE[lr], RATE).

    Network (s, lr) fails at every delay >= T0[lr] + E[s, lr], E ~ Exp(RATE): monotone in delay,
    as a seed that cannot hold a delay cannot hold a longer one. E is correlated across lrs within
    a seed (Gaussian copula, rho) to mimic paired seeds; the marginal stays exponential.
    """
    zs = rng.normal(size=(n_seed, 1))
    zi = rng.normal(size=(n_seed, LRS.size))
    u = stats.norm.cdf(rho * zs + np.sqrt(1 - rho**2) * zi)
    e = -np.log(u) / RATE
    return (DELAYS[None, None, :] >= T0_TRUE[None, :, None] + e[:, :, None]).astype(float)


# ---------------------------------------------------------------- onset fit


def test_onset_curve_shape():
    f = onset_curve(np.array([0.0, 99.0, 100.0, 150.0]), 100.0, 0.02)
    np.testing.assert_allclose(f, [0.0, 0.0, 0.0, 1 - np.exp(-1.0)])


@pytest.mark.parametrize("t0,a", [(60.0, 0.02), (141.0, 0.05), (250.0, 0.01)])
def test_fit_onset_recovers_planted(t0, a):
    T0, a_hat = fit_onset(DELAYS, onset_curve(DELAYS, t0, a))
    assert T0 == pytest.approx(t0, abs=0.05)
    assert a_hat == pytest.approx(a, rel=1e-3)


def test_fit_onset_step_and_failures():
    # a jump between 120 and 140 ms: no finite least-squares a, but T0 lies at the jump
    f = np.zeros(DELAYS.size)
    f[6], f[7:] = 0.25, 1.0
    T0, a = fit_onset(DELAYS, f)
    assert 100.0 < T0 <= 120.0
    assert onset_curve(120.0, T0, a) == pytest.approx(0.25, abs=1e-3)
    assert np.all(np.isnan(fit_onset(DELAYS, f, a_max=None)))
    assert np.all(np.isnan(fit_onset([20.0], [0.5])))
    assert np.all(np.isnan(fit_onset(DELAYS, np.full(DELAYS.size, np.nan))))


def test_critical_delays_planted_and_skipped():
    frac = onset_curve(DELAYS[None, :], T0_TRUE[:, None], RATE)
    frac[2] = 0.05  # this lr never reaches min_frac: no onset in range
    T0 = critical_delays(frac, DELAYS)
    assert np.isnan(T0[2])
    np.testing.assert_allclose(np.delete(T0, 2), np.delete(T0_TRUE, 2), atol=0.05)
    # with a lower threshold the flat row is fitted (to something), not skipped
    assert np.isfinite(critical_delays(frac[2:3], DELAYS, min_frac=0.05)[0])


# ---------------------------------------------------------------- power law


def test_power_law_recovers_beta_exact():
    frac = onset_curve(DELAYS[None, :], T0_TRUE[:, None], RATE)
    fit = fit_power_law(LRS, critical_delays(frac, DELAYS))
    assert fit["beta"] == pytest.approx(BETA, abs=1e-3)
    assert fit["B"] < 0
    assert fit["logA"] == pytest.approx(np.log(A), abs=0.01)
    assert fit["r2"] == pytest.approx(1.0, abs=1e-6)
    assert fit["n"] == 5


def test_power_law_recovers_beta_within_se_from_seeds():
    # 200 seeds of the generative model; critical delays from the sampled fractions
    rng = np.random.default_rng(11)
    lrs = np.logspace(-0.5, -2, 8)
    t0_true = (lrs / A) ** (-1.0 / BETA)
    zs = rng.exponential(1 / RATE, size=(200, lrs.size))
    nl = DELAYS[None, None, :] >= t0_true[None, :, None] + zs[:, :, None]
    fit = fit_power_law(lrs, critical_delays(nl.mean(axis=0), DELAYS))
    assert fit["n"] == 8
    assert abs(fit["beta"] - BETA) < 2 * fit["se"]
    assert 0 < fit["se"] < 0.5
    assert fit["r2"] > 0.9 and fit["p"] < 1e-3


def test_power_law_statistics_match_linregress_and_delta_method():
    rng = np.random.default_rng(2)
    t0 = np.array([60.0, 75.0, 90.0, 118.0, 140.0, 170.0])
    lrs = A * t0**-BETA * np.exp(rng.normal(0, 0.2, t0.size))
    fit = fit_power_law(lrs, t0, n_band=4000, rng=np.random.default_rng(0))
    ref = stats.linregress(np.log(t0), np.log(lrs))
    assert fit["B"] == pytest.approx(ref.slope)
    assert fit["beta"] == pytest.approx(abs(ref.slope))
    assert fit["se"] == pytest.approx(ref.stderr)
    assert fit["logA"] == pytest.approx(ref.intercept)
    assert fit["r2"] == pytest.approx(ref.rvalue**2)
    assert fit["p"] == pytest.approx(ref.pvalue)
    # band: 95% of draws of (B, logA) ~ N(estimate, cov) -> +-1.96 sd of the predicted log lr
    x = np.log(fit["band_T"])
    X = np.stack([np.log(t0), np.ones(t0.size)], axis=1)
    resid = np.log(lrs) - X @ [ref.slope, ref.intercept]
    cov = resid @ resid / (t0.size - 2) * np.linalg.inv(X.T @ X)
    sd = np.sqrt(x**2 * cov[0, 0] + 2 * x * cov[0, 1] + cov[1, 1])
    centre = ref.slope * x + ref.intercept
    np.testing.assert_allclose(np.log(fit["band_hi"]) - centre, 1.96 * sd, rtol=0.1)
    np.testing.assert_allclose(centre - np.log(fit["band_lo"]), 1.96 * sd, rtol=0.1)
    assert fit["band_T"].min() == pytest.approx(60.0) and fit["band_T"].max() == pytest.approx(170.0)


def test_power_law_needs_four_points():
    t0 = np.array([60.0, 80.0, np.nan, 120.0, np.nan])
    fit = fit_power_law(LRS, t0)
    assert fit["n"] == 3
    assert np.isnan(fit["beta"]) and np.isnan(fit["se"]) and np.isnan(fit["r2"])
    assert fit["band_T"].size == 0
    fit = fit_power_law(LRS[:3], T0_TRUE[:3])
    assert fit["n"] == 3 and np.isnan(fit["beta"])
    # the fourth point gives an estimate
    fit = fit_power_law(LRS[:4], T0_TRUE[:4])
    assert fit["n"] == 4 and fit["beta"] == pytest.approx(BETA, abs=1e-9)
    # non-positive T0 cannot enter a log-log fit
    fit = fit_power_law(LRS, np.r_[T0_TRUE[:3], -5.0, 0.0])
    assert fit["n"] == 3 and np.isnan(fit["beta"])


# ---------------------------------------------------------------- seed bootstrap


def test_bootstrap_identical_seeds_has_no_spread():
    frac = onset_curve(DELAYS[None, :], T0_TRUE[:, None], RATE)
    x = np.repeat(frac[None], 6, axis=0)
    out = bootstrap_beta(x, DELAYS, LRS, n_boot=20, rng=np.random.default_rng(0))
    assert out["n_valid"] == 20
    assert out["lo"] == pytest.approx(BETA, abs=1e-3) and out["hi"] == pytest.approx(BETA, abs=1e-3)


def test_bootstrap_resamples_whole_seeds():
    # with two seeds a resample holds 0, 1 or 2 copies of seed 0: at most three distinct
    # fraction grids, so at most three distinct betas. Resampling cells independently would
    # give many more.
    rng = np.random.default_rng(5)
    x = simulate_seeds(rng, 2)
    x[0, :, :] = simulate_seeds(np.random.default_rng(6), 1)[0]
    out = bootstrap_beta(x, DELAYS, LRS, n_boot=60, min_frac=0.1, rng=np.random.default_rng(1))
    finite = out["draws"][np.isfinite(out["draws"])]
    assert 2 <= np.unique(np.round(finite, 9)).size <= 3
    assert out["draws"].size == 60


def test_bootstrap_without_enough_lrs_is_nan():
    x = simulate_seeds(np.random.default_rng(0), 5)[:, :3]
    out = bootstrap_beta(x, DELAYS, LRS[:3], n_boot=10)
    assert out["n_valid"] == 0 and np.isnan(out["lo"]) and np.isnan(out["hi"])


def test_bootstrap_ci_calibration():
    """Coverage of the 95% seed-bootstrap interval over 40 simulated 10-seed experiments.

    Measured when written: 40/40 here. A longer run of the same simulation (200 experiments,
    n_boot=200) covered 0.945 at 10 seeds, but only 0.755 at 4 seeds (the default scale), where
    β is biased low (mean 2.42 for a true 2.7) and the interval misses: with 4 seeds the
    bootstrap does not reach nominal coverage.
    """
    rng = np.random.default_rng(123)
    reps, hits = 40, 0
    for _ in range(reps):
        x = simulate_seeds(rng, 10)
        out = bootstrap_beta(x, DELAYS, LRS, n_boot=100, rng=rng)
        hits += out["lo"] <= BETA <= out["hi"]
    # binomial sd of 40 draws at 0.95 is 0.034: 0.85 is three sd below nominal
    assert hits / reps >= 0.85, f"coverage {hits}/{reps}"


# ---------------------------------------------------------------- SP boundary


@pytest.mark.parametrize("t0,k", [(150.0, -0.03), (80.0, 0.05)])
def test_fit_sigmoid_recovers_planted(t0, k):
    rng = np.random.default_rng(0)
    y = sigmoid_curve(DELAYS, t0, k) + rng.normal(0, 0.01, DELAYS.size)
    T0, k_hat = fit_sigmoid(DELAYS, y)
    assert T0 == pytest.approx(t0, abs=3.0)
    assert k_hat == pytest.approx(k, rel=0.1)
    assert np.all(np.isnan(fit_sigmoid([10.0], [0.5])))


# ---------------------------------------------------------------- theory


def test_theory_at_hand_computed_points():
    # (pi^4 / 4) * 10 * 10^-5 = 97.40909103 / 40000
    assert eta_c_sp(10, 10) == pytest.approx(2.435227276e-3, rel=1e-9)
    # 10 * 10^-3 / 4
    assert eta_c_lc(10, 10) == pytest.approx(2.5e-3, rel=1e-12)
    assert eta_c_sp(20, 10) == pytest.approx(eta_c_sp(10, 10) / 32)
    assert eta_c_lc(20, 10) == pytest.approx(eta_c_lc(10, 10) / 8)


def test_theory_exponents_span_the_ranges():
    t = np.array([10.0, 100.0])
    slope = lambda eta: np.diff(np.log(eta))[0] / np.diff(np.log(t))[0]  # noqa: E731
    assert slope(eta_c_sp(t, 10)) == pytest.approx(-5)
    assert slope(eta_c_sp(t, t / 4)) == pytest.approx(-4)
    assert slope(eta_c_lc(t, 10)) == pytest.approx(-3)
    assert slope(eta_c_lc(t, t / 4)) == pytest.approx(-2)


TD, TR = 60, 10
L = TD + TR


def test_lc_toy_analytic_matches_numeric():
    r = np.linspace(0.0, 0.05, 201)  # up to 3/T_d, past the last tabulated breakpoint 1/T_d
    ana = lc_toy_loss_analytic(r, TD, TR)
    fine = lc_toy_loss_numeric(r, TD, TR, substeps=1000)
    np.testing.assert_allclose(ana, fine, atol=3e-4)
    # on the integer steps each of the few error intervals is off by at most one step
    coarse = lc_toy_loss_numeric(r, TD, TR)
    assert np.all(np.abs(coarse - ana) <= (2 * r * L + 3) / L)
    for pol in (1, -1):
        np.testing.assert_allclose(
            lc_toy_loss_analytic(r, TD, TR, polarity=pol),
            lc_toy_loss_numeric(r, TD, TR, substeps=1000, polarity=pol), atol=3e-4)


def test_lc_toy_analytic_at_breakpoints():
    rb = np.array([1 / (2 * L), 1 / (2 * TD), 1 / L, 1 / TD])
    # by hand: T_d; 2T_d + T_r - T_d = T_d + T_r; h + T_r = 35 + 10; 3h - T_d = 90 - 60
    np.testing.assert_allclose(lc_toy_loss_analytic(rb, TD, TR), np.array([60, 70, 45, 30]) / L)
    np.testing.assert_allclose(lc_toy_loss_analytic(rb, TD, TR, polarity=-1),
                               1 - np.array([60, 70, 45, 30]) / L)
    # flat (no gradient) below 1/(2L)
    np.testing.assert_allclose(lc_toy_loss_analytic(np.linspace(1e-4, 1 / (2 * L), 7), TD, TR),
                               TD / L)
    # r = 0: sin == 0, output 0 for either polarity
    assert lc_toy_loss_analytic(0.0, TD, TR) == pytest.approx(TR / L)
    assert lc_toy_loss_numeric(0.0, TD, TR) == pytest.approx(TR / L)


def test_lc_toy_zero_only_with_inverted_threshold():
    # with output H(sin) (1 on positive half-waves) r = 1/(2 T_d) is the worst point, loss 1:
    # the output is 1 over the whole delay and 0 over the whole response
    r0 = 1 / (2 * TD)
    assert lc_toy_loss_analytic(r0, TD, TR) == pytest.approx(1.0)
    assert lc_toy_loss_numeric(r0, TD, TR, substeps=1000) == pytest.approx(1.0, abs=1e-3)
    # thresholding -sin makes it the unique zero on (0, 0.05]
    r = np.linspace(1e-4, 0.05, 5000)
    inv = lc_toy_loss_analytic(r, TD, TR, polarity=-1)
    assert lc_toy_loss_analytic(r0, TD, TR, polarity=-1) == pytest.approx(0.0, abs=1e-12)
    assert r[np.argmin(inv)] == pytest.approx(r0, abs=2e-5)
    assert lc_toy_loss_analytic(np.linspace(1e-4, 0.05, 5000), TD, TR).min() > 0.2
