"""Tests of noisyrnn.studies.replay.stats against hand computation and analytic results."""

from __future__ import annotations

import math

import numpy as np
import pytest

from noisyrnn.studies.replay import stats as S


def straight(T=30, v=0.1):
    t = np.arange(T, dtype=float)
    return np.stack([v * t, np.zeros(T)], axis=-1)  # (T, 2), x_t = (0.1 t, 0)


# ------------------------------------------------------------------ straight constant-speed path


def test_straight_path_speed_reach_msd_autocorr():
    x = straight()[None]  # (1, 30, 2)
    np.testing.assert_allclose(S.step_lengths(x), 0.1, atol=1e-12)
    assert S.mean_step_length(x) == pytest.approx(0.1, abs=1e-12)
    # target (1, 0): |0.1 t - 1| <= 0.05 first at t = 10; radius 0.15 admits t = 9 (distance 0.1)
    assert S.reach_times(x, np.array([[1.0, 0.0]]), 0.05).tolist() == [10]
    assert S.reach_times(x, np.array([[1.0, 0.0]]), 0.15).tolist() == [9]
    # two targets: the nearer one on the path (0.5, 0) wins -> t = 5; off-path target never
    assert S.reach_times(x, np.array([[1.0, 0.0], [0.5, 0.0]]), 0.05).tolist() == [5]
    assert S.reach_times(x, np.array([[0.0, 5.0]]), 0.05).tolist() == [S.REACH_CENSORED]
    # MSD(L) = (0.1 L)^2 exactly -> exponent 2
    np.testing.assert_allclose(S.msd(x, 5), (0.1 * np.arange(1, 6)) ** 2, rtol=1e-9)
    assert S.msd_exponent(x, 20) == pytest.approx(2.0, abs=1e-6)
    np.testing.assert_allclose(S.step_autocorr(x, 8), 1.0, atol=1e-12)
    # box reach: |x_t - x_0| = 0.1 t >= 0.45 first at t = 5
    assert S.reach_times_distance(x, None, 0.45).tolist() == [5]
    # from (1, 0): |0.1 t - 1| >= 1.05 first at t = 21 (t = 0..20 stay within 1.0)
    assert S.reach_times_distance(x, np.array([1.0, 0.0]), 1.05).tolist() == [21]


def test_start_inside_target_counts_from_t1_and_per_trajectory_targets():
    x = np.stack([straight(), straight()[::-1]])  # forward and backward
    # per-trajectory targets (2, 1, 2): forward aims at 1.0, backward at 2.0 (its start, t=0 excluded)
    tg = np.array([[[1.0, 0.0]], [[2.9, 0.0]]])
    assert S.reach_times(x, tg, 0.15).tolist() == [9, 1]


# ------------------------------------------------------------------ random walk, AR(1) steps


def test_gaussian_random_walk_msd_and_autocorr():
    rng = np.random.default_rng(0)
    steps = rng.normal(0.0, 0.05, size=(400, 200, 2))
    x = np.concatenate([np.zeros((400, 1, 2)), np.cumsum(steps, axis=1)], axis=1)
    assert S.msd_exponent(x, 20) == pytest.approx(1.0, abs=0.05)
    # MSD(1) = 2 sigma^2
    assert S.msd(x, 1)[0] == pytest.approx(2 * 0.05**2, rel=0.02)
    assert abs(S.step_autocorr(x, 1)[0]) < 0.05


@pytest.mark.parametrize("rho", [0.8, -0.5])
def test_ar1_steps_autocorr_is_rho_power(rho):
    rng = np.random.default_rng(1)
    n, T = 400, 300
    d = np.empty((n, T, 2))
    d[:, 0] = rng.normal(size=(n, 2))  # stationary start (unit variance)
    eta = rng.normal(size=(n, T, 2)) * math.sqrt(1 - rho**2)
    for t in range(1, T):
        d[:, t] = rho * d[:, t - 1] + eta[:, t]
    x = np.concatenate([np.zeros((n, 1, 2)), np.cumsum(d, axis=1)], axis=1)
    ac = S.step_autocorr(x, 5)
    np.testing.assert_allclose(ac, rho ** np.arange(1, 6), atol=0.02)


# ------------------------------------------------------------------ NaN handling


def test_trailing_nan_and_all_nan_trajectories():
    good = straight(20)
    trailing = straight(30)
    trailing[12:] = np.nan  # diverged after t = 11
    inf_traj = straight(30)
    inf_traj[15:] = np.inf  # infinities must be treated as missing, not propagated
    x = np.stack([trailing, np.full((30, 2), np.nan), inf_traj])
    assert S.mean_step_length(x[:1]) == pytest.approx(S.mean_step_length(trailing[None, :12]))
    assert S.mean_step_length(x) == pytest.approx(0.1)
    per = S.mean_step_length(x, axis=-1)
    assert per[0] == pytest.approx(0.1) and np.isnan(per[1]) and per[2] == pytest.approx(0.1)
    assert S.msd_exponent(x, 10) == pytest.approx(2.0, abs=1e-6)
    np.testing.assert_allclose(S.step_autocorr(x, 5), 1.0, atol=1e-12)
    # all-NaN input -> NaN, not inf, no exception
    allnan = np.full((3, 10, 2), np.nan)
    assert np.isnan(S.mean_step_length(allnan))
    assert np.isnan(S.msd_exponent(allnan))
    assert np.all(np.isnan(S.step_autocorr(allnan, 3)))
    # the all-NaN trajectory adds nothing to the MSD of `good`
    np.testing.assert_allclose(
        S.msd(np.stack([good, np.full_like(good, np.nan)]), 5), S.msd(good[None], 5)
    )


def test_reach_censoring_and_summary():
    x = np.stack([straight(30), straight(30, v=0.05), straight(30, v=0.01), np.full((30, 2), np.nan)])
    t = S.reach_times(x, np.array([[1.0, 0.0]]), 0.01)
    assert t.tolist() == [10, 20, S.REACH_CENSORED, S.REACH_NO_DATA]
    # Kaplan-Meier by hand, no-data ignored, 3 at risk, censored at the horizon 29:
    # S = 1 on [0, 10), 2/3 on [10, 20), 1/3 on [20, 29]; median 20; RMST 10 + 20/3 + 9/3
    r = S.reach_summary(t, horizon=29)
    assert r["median"] == 20.0 and r["fraction"] == pytest.approx(2 / 3)
    assert r["rmst"] == pytest.approx(10 + 20 / 3 + 3)
    # horizon 15: the reach at 20 is censored at 15; S = 2/3 after 10 never reaches 1/2
    r = S.reach_summary(t, horizon=15)
    assert r["median"] == np.inf and r["fraction"] == pytest.approx(1 / 3)
    assert r["rmst"] == pytest.approx(10 + 5 * 2 / 3)
    r = S.reach_summary(np.array([-1, -1]), horizon=29)  # never reached: the whole replay
    assert r["median"] == np.inf and r["rmst"] == 29.0 and r["fraction"] == 0.0
    # the censoring trap: 10 % reach at step 50 is slower than all reaching at step 100
    few = S.reach_summary(np.array([50] + [-1] * 9), horizon=200)
    every = S.reach_summary(np.array([100] * 10), horizon=200)
    assert few["rmst"] > every["rmst"] and few["median"] > every["median"]
    # NaN gap before the target: reach is the first valid step inside
    y = straight(30)
    y[8:11] = np.nan
    assert S.reach_times(y[None], np.array([[1.0, 0.0]]), 0.15).tolist() == [11]


def test_compression_ratio():
    assert S.compression_ratio(0.3, 0.1) == pytest.approx(3.0)
    np.testing.assert_allclose(S.compression_ratio(np.array([0.1, 0.2]), 0.1), [1.0, 2.0])
    assert np.isnan(S.compression_ratio(0.1, 0.0))
    assert np.isnan(S.compression_ratio(np.nan, 0.1))


# ------------------------------------------------------------------ coverage / entropy / bins


def test_coverage_entropy_hand_made():
    ids = np.array([0, 0, 1, 1])
    assert S.coverage(ids, 4) == pytest.approx(0.5)
    assert S.occupancy_entropy(ids, 4) == pytest.approx(math.log(2) / math.log(4))
    assert S.occupancy_entropy(np.array([0, 1, 2, 3, 3, 2, 1, 0]), 4) == pytest.approx(1.0)
    assert S.occupancy_entropy(np.array([2, 2, 2, -1]), 4) == pytest.approx(0.0)
    # -1 ignored: [0, 0, 0, 1] -> p = (3/4, 1/4)
    ids = np.array([0, -1, 0, 0, -1, 1])
    h = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25)) / math.log(8)
    assert S.coverage(ids, 8) == pytest.approx(2 / 8)
    assert S.occupancy_entropy(ids, 8) == pytest.approx(h)
    assert np.isnan(S.coverage(np.array([-1, -1]), 4))
    per = S.coverage(np.array([[0, 1, -1], [3, 3, 3]]), 4, per_trajectory=True)
    np.testing.assert_allclose(per, [0.5, 0.25])
    pe = S.occupancy_entropy(np.array([[0, 1, -1], [3, 3, 3]]), 4, per_trajectory=True)
    np.testing.assert_allclose(pe, [0.5, 0.0])
    with pytest.raises(ValueError):
        S.coverage(np.array([0, 4]), 4)


def test_grid_bins():
    pts = np.array([[0.05, 0.05], [0.95, 0.05], [0.05, 0.95], [1.0, 1.0], [1.2, 0.5], [np.nan, 0.1]])
    ids = S.grid_bins(pts, 0.0, 1.0, 10)
    assert ids.tolist() == [0, 90, 9, 99, -1, -1]
    # uniform grid of cell centres -> coverage 1, entropy 1
    c = (np.arange(20) + 0.5) / 20 * 2.2 - 1.1
    g = np.stack(np.meshgrid(c, c), -1).reshape(-1, 2)
    b = S.grid_bins(g, -1.1, 1.1, 20)
    assert S.coverage(b, 400) == 1.0
    assert S.occupancy_entropy(b, 400) == pytest.approx(1.0)


# ------------------------------------------------------------------ Wasserstein / KDE-KL


def test_wasserstein_identity_and_shift():
    rng = np.random.default_rng(2)
    a = rng.normal(0.0, 0.3, size=(300, 2))
    delta = np.array([0.3, 0.4])  # |delta| = 0.5
    assert S.wasserstein(a, a, "exact") == pytest.approx(0.0, abs=1e-9)
    assert S.wasserstein(a, a, "sliced") == pytest.approx(0.0, abs=1e-9)
    # exact W1 of a pure shift = |delta| (upper bound by translation, lower bound by mean shift)
    assert S.wasserstein(a, a + delta, "exact") == pytest.approx(0.5, rel=1e-6)
    # sliced W1 of a shift: E_theta |delta . theta| = 2 |delta| / pi in 2-D
    sw = S.wasserstein(a, a + delta, "sliced", n_projections=2000, seed=3)
    assert sw == pytest.approx(2 * 0.5 / math.pi, rel=0.04)  # MC s.e. ~1.1 %
    assert sw < S.wasserstein(a, a + delta, "exact")
    # deterministic given seed; NaN rows dropped; accepts (..., time, space)
    assert sw == S.wasserstein(a, a + delta, "sliced", n_projections=2000, seed=3)
    b = np.concatenate([a + delta, np.full((5, 2), np.nan)]).reshape(1, 305, 2)
    assert S.wasserstein(a, b, "exact") == pytest.approx(0.5, rel=1e-6)
    # subsampling is deterministic and still close
    big_a = rng.normal(size=(3000, 2))
    w1 = S.wasserstein(big_a, big_a + delta, "exact", n_samples=400, seed=5)
    assert w1 == S.wasserstein(big_a, big_a + delta, "exact", n_samples=400, seed=5)
    assert np.isnan(S.wasserstein(np.full((3, 2), np.nan), a))
    with pytest.raises(ValueError):
        S.wasserstein(a, a, method="nope")


def _gauss_kl(p, q, h):
    """Analytic KL between Gaussians with the clouds' moments, each smoothed by h^2 I."""
    m0, m1 = p.mean(0), q.mean(0)
    k = p.shape[1]
    c0 = np.cov(p.T) + h * h * np.eye(k)
    c1 = np.cov(q.T) + h * h * np.eye(k)
    i1 = np.linalg.inv(c1)
    d = m1 - m0
    return 0.5 * (np.trace(i1 @ c0) + d @ i1 @ d - k + np.log(np.linalg.det(c1) / np.linalg.det(c0)))


def test_kde_kl_identity_and_gaussian_shift():
    rng = np.random.default_rng(4)
    sigma, h = 0.2, 0.1
    p = rng.normal(0.0, sigma, size=(2000, 2))
    q = rng.normal(0.0, sigma, size=(2000, 2)) + np.array([0.2, 0.0])
    assert S.kde_kl(p, p, h) == pytest.approx(0.0, abs=1e-12)
    assert S.kde_kl(p, p, h, grid=(-1.2, 1.2, 60)) == pytest.approx(0.0, abs=1e-12)
    # KDE of N(mu, sigma^2 I) is ~N(mu, (sigma^2 + h^2) I): population value 0.2^2 / (2 * 0.05) = 0.4;
    # compare with the smoothed Gaussian KL at the samples' own moments (removes moment noise)
    truth = _gauss_kl(p, q, h)
    unsmoothed = _gauss_kl(p, q, 0.0)  # ~25 % larger: a missing h^2 would be caught
    assert truth == pytest.approx(0.4, rel=0.15)
    for est in (S.kde_kl(p, q, h), S.kde_kl(p, q, h, grid=(-1.5, 1.7, 80))):
        assert est == pytest.approx(truth, rel=0.08)
        assert abs(est - truth) < abs(est - unsmoothed)
    # far-apart clouds: finite thanks to eps, not inf
    far = S.kde_kl(p[:200], p[:200] + 100.0, h)
    assert np.isfinite(far) and far > 10
    # deterministic subsampling
    assert S.kde_kl(p, q, h, n_samples=300, seed=1) == S.kde_kl(p, q, h, n_samples=300, seed=1)


# ------------------------------------------------------------------ convenience


def test_trajectory_stats_straight():
    x = straight(30)[None]
    bins = S.grid_bins(x, -1.0, 4.0, 5)  # 0.1 t spans [0, 2.9] -> x-bins 1..3 -> 3 of 25 bins
    out = S.trajectory_stats(
        x, waking_step=0.05, bins=bins, n_bins=25, targets=np.array([[1.0, 0.0]]), radius=0.05,
        waking=x, kde_bandwidth=0.05,
    )
    assert out["step_length"] == pytest.approx(0.1)
    assert out["compression_ratio"] == pytest.approx(2.0)
    assert out["coverage"] == pytest.approx(3 / 25)
    assert out["reach_median"] == 10.0 and out["reach_fraction"] == 1.0
    assert out["reach_rmst"] == pytest.approx(10.0)
    assert out["msd_exponent"] == pytest.approx(2.0, abs=1e-6)
    assert out["wasserstein"] == pytest.approx(0.0, abs=1e-9)
    assert out["kde_kl"] == pytest.approx(0.0, abs=1e-12)
