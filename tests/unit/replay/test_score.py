"""Tests of noisyrnn.studies.replay.score against independent truths (analytic formulas, finite differences,
Monte Carlo of the defining recursions)."""

import numpy as np
import pytest

from noisyrnn.studies.replay import score as sc

# A non-diagonal 2-D Gaussian target for the samplers.
MU2 = np.array([0.5, -0.3])
SIGMA2 = np.array([[1.0, 0.5], [0.5, 0.8]])
PREC2 = np.linalg.inv(SIGMA2)


def gauss_score(x):
    return -(x - MU2) @ PREC2  # PREC2 symmetric


def _random_cov(rng, d):
    a = rng.standard_normal((d, d))
    return a @ a.T / d + 0.2 * np.eye(d)


# --- density -------------------------------------------------------------------------------


def test_gaussian_score_matches_analytic_full_rank():
    rng = np.random.default_rng(0)
    d = 5
    cov = _random_cov(rng, d)
    x = rng.multivariate_normal(np.arange(d, dtype=float), cov, size=3000)
    dens = sc.fit_density(x, n_pca=d, kind="gaussian")
    mu_hat = x.mean(axis=0)
    cov_hat = (x - mu_hat).T @ (x - mu_hat) / x.shape[0]  # hand-built ML covariance
    r = rng.standard_normal((50, d)) * 2 + 1
    expected = -(r - mu_hat) @ np.linalg.inv(cov_hat)
    np.testing.assert_allclose(dens.score(r), expected, rtol=1e-4, atol=1e-6)
    # log_prob is the full Gaussian log-density in this case
    from scipy.stats import multivariate_normal

    np.testing.assert_allclose(
        dens.log_prob(r), multivariate_normal(mu_hat, cov_hat).logpdf(r), rtol=1e-5, atol=1e-5
    )
    # project/lift are inverse on full rank
    np.testing.assert_allclose(dens.lift(dens.project(r)), r, atol=1e-10)


def test_gmm_score_is_gradient_of_log_prob_and_lives_in_subspace():
    rng = np.random.default_rng(1)
    n_dim, k = 6, 3
    centres = rng.standard_normal((3, n_dim)) * 3
    x = np.concatenate([c + rng.standard_normal((400, n_dim)) * 0.7 for c in centres])
    dens = sc.fit_density(x, n_pca=k, kind="gmm", n_components=3, seed=0)
    assert dens.n_components == 3 and dens.n_pca == k
    r = x[rng.choice(x.shape[0], 20, replace=False)] + 0.5 * rng.standard_normal((20, n_dim))
    h = 1e-5
    fd = np.empty_like(r)
    for j in range(n_dim):
        e = np.zeros(n_dim)
        e[j] = h
        fd[:, j] = (dens.log_prob(r + e) - dens.log_prob(r - e)) / (2 * h)
    s = dens.score(r)
    np.testing.assert_allclose(s, fd, rtol=1e-4, atol=1e-6)
    # orthogonal complement contributes nothing
    resid = s - (s @ dens.components.T) @ dens.components
    assert np.max(np.abs(resid)) < 1e-10
    # samples land in the subspace around the data
    samp = dens.sample(2000, np.random.default_rng(2))
    assert samp.shape == (2000, n_dim)
    np.testing.assert_allclose(dens.project(samp).mean(0), dens.project(x).mean(0), atol=0.3)


def test_gmm_fit_deterministic():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((500, 4))
    a = sc.fit_density(x, 2, kind="gmm", n_components=2, seed=5)
    b = sc.fit_density(x, 2, kind="gmm", n_components=2, seed=5)
    np.testing.assert_array_equal(a.score(x[:10]), b.score(x[:10]))


# --- alignment -----------------------------------------------------------------------------


def test_alignment_parallel_orthogonal_antiparallel():
    rng = np.random.default_rng(4)
    s = rng.standard_normal((500, 8))
    res = sc.drift_score_alignment(0.3 * s + 1e-4 * rng.standard_normal(s.shape), s)
    assert res["cosine"] == pytest.approx(1.0, abs=1e-4)
    assert res["cosine_pooled"] == pytest.approx(1.0, abs=1e-4)
    assert res["eps"] == pytest.approx(0.3, rel=1e-3)
    # orthogonal: rotate each vector's first two coordinates by 90 degrees, zero the rest
    f = np.zeros_like(s)
    f[:, 0], f[:, 1] = -s[:, 1], s[:, 0]
    s2 = s.copy()
    s2[:, 2:] = 0
    res = sc.drift_score_alignment(f, s2)
    assert abs(res["cosine"]) < 1e-12 and abs(res["eps"]) < 1e-12
    res = sc.drift_score_alignment(-s, s)
    assert res["cosine"] == pytest.approx(-1.0) and res["eps"] == pytest.approx(-1.0)
    assert np.isnan(sc.fitted_step(res))
    # NaN rows are skipped
    s_nan = s.copy()
    s_nan[0] = np.nan
    assert sc.drift_score_alignment(0.3 * s_nan, s_nan)["n"] == 499


def test_alignment_subspace_removes_out_of_span_drift():
    rng = np.random.default_rng(5)
    n_dim = 10
    scales = np.r_[np.ones(3) * 2.0, np.ones(n_dim - 3) * 0.05]
    x = rng.standard_normal((2000, n_dim)) * scales
    dens = sc.fit_density(x, n_pca=3)
    r = x[:300]
    s = dens.score(r)
    decay = np.zeros_like(r)
    decay[:, 3:] = -5.0 * r[:, 3:]  # drift outside the components
    f = 0.2 * s + decay
    full = sc.drift_score_alignment(f, s)
    sub = sc.drift_score_alignment(f, s, subspace=dens)
    assert sub["cosine"] == pytest.approx(1.0, abs=1e-3)
    assert full["cosine"] < 0.9
    # score lies in the span, so the slope is the same in both spaces (up to the tiny leak)
    assert sub["eps"] == pytest.approx(full["eps"], rel=1e-12)
    assert sub["eps"] == pytest.approx(0.2, rel=1e-2)


# --- samplers ------------------------------------------------------------------------------


def _check_moments(traj, burn):
    xs = traj[:, burn:].reshape(-1, 2)
    mean = xs.mean(0)
    cov = np.cov(xs.T)
    np.testing.assert_allclose(mean, MU2, atol=0.05)
    np.testing.assert_allclose(np.diag(cov), np.diag(SIGMA2), rtol=0.10)
    assert cov[0, 1] == pytest.approx(SIGMA2[0, 1], abs=0.06)


def test_overdamped_recovers_gaussian():
    rng = np.random.default_rng(6)
    x0 = np.zeros((2000, 2)) + np.array([-1.0, 1.0])  # start away from the mean
    traj = sc.overdamped_langevin(gauss_score, x0, eps=0.05, n_steps=400, rng=rng)
    assert traj.shape == (2000, 401, 2)
    np.testing.assert_array_equal(traj[:, 0], x0)
    _check_moments(traj, burn=200)


@pytest.mark.parametrize("gamma_eps", [0.5, 0.1])
def test_underdamped_recovers_gaussian(gamma_eps):
    rng = np.random.default_rng(7)
    x0 = np.zeros((2000, 2)) + np.array([-1.0, 1.0])
    traj, vel = sc.underdamped_langevin(
        gauss_score, x0, eps=0.2, gamma_eps=gamma_eps, n_steps=400, rng=rng, return_velocity=True
    )
    assert traj.shape == vel.shape == (2000, 401, 2)
    _check_moments(traj, burn=200)
    # documented post-kick velocity variance 1 / (1 - gamma_eps / 2) (+O(eps^2))
    v_var = vel[:, 200:].reshape(-1, 2).var(0)
    np.testing.assert_allclose(v_var, 1.0 / (1.0 - gamma_eps / 2), rtol=0.1)


def test_underdamped_exact_ar2_variance():
    # Documented stationary variance of the scheme for a 1-D Gaussian: sigma^2/(1 - d/(2(2-lam)))
    sigma2, eps, lam = 0.5, 0.5, 0.5
    rng = np.random.default_rng(8)
    traj = sc.underdamped_langevin(
        lambda x: -x / sigma2, np.zeros((4000, 1)), eps, lam, 300, rng
    )
    var = traj[:, 150:].var()
    expected = sigma2 / (1 - (eps**2 / sigma2) / (2 * (2 - lam)))
    assert var == pytest.approx(expected, rel=0.03)
    assert abs(expected / sigma2 - 1) > 0.05  # the test can tell the biased value from sigma2


def test_rnn_param_mapping_reproduces_cell():
    # The momentum cell with drift h*s and noise sigma equals underdamped_langevin with the mapped params.
    h, lam, sigma = 0.04, 0.5, 0.1
    p = sc.rnn_langevin_params(h, lam, sigma)
    assert p["gamma_eps"] == sc.friction_from_lambda_v(lam) == lam
    x0 = np.array([[1.0, -1.0]])
    traj = sc.underdamped_langevin(
        gauss_score, x0, p["underdamped_eps"], p["gamma_eps"], 20, np.random.default_rng(9),
        noise_scale=p["noise_scale_underdamped"],
    )
    rng = np.random.default_rng(9)
    r, v = x0.copy(), np.zeros_like(x0)
    for t in range(20):
        v = (1 - lam) * v + h * gauss_score(r) + sigma * rng.standard_normal(r.shape)
        r = r + v
    np.testing.assert_allclose(traj[:, -1], r, rtol=1e-10)
    assert sc.fitted_step({"eps": 0.2}) == 0.2


# --- Gauss-Markov toy ----------------------------------------------------------------------


def test_gauss_markov_marginals_closed_form_and_monte_carlo():
    rho, q, m0, P0, T = 0.9, 0.05, 1.0, 2.0, 30
    m, P = sc.gauss_markov_marginals(rho, q, m0, P0, T)
    t = np.arange(T + 1)
    np.testing.assert_allclose(m, rho**t * m0)
    np.testing.assert_allclose(P, rho ** (2 * t) * P0 + q * (1 - rho ** (2 * t)) / (1 - rho**2))
    rng = np.random.default_rng(10)
    x = m0 + np.sqrt(P0) * rng.standard_normal(20000)
    for step in range(1, T + 1):
        x = rho * x + np.sqrt(q) * rng.standard_normal(x.shape)
        if step in (1, 5, 15, 30):
            assert x.mean() == pytest.approx(m[step], abs=0.03)
            assert x.var() == pytest.approx(P[step], rel=0.04)
    # per-dimension parameters broadcast
    m2, P2 = sc.gauss_markov_marginals([0.9, 0.5], [0.05, 0.1], 0.0, [2.0, 0.1], 5)
    assert m2.shape == P2.shape == (6, 2)
    np.testing.assert_allclose(P2[:, 1], 0.5 ** (2 * np.arange(6)) * 0.1 + 0.1 * (1 - 0.25 ** np.arange(6)) / 0.75)


def test_gauss_markov_score_time_varying_vs_stationary():
    rho, q = 0.9, 0.05
    p_inf = sc.stationary_variance(rho, q)
    assert p_inf == pytest.approx(q / (1 - rho**2))
    assert np.isinf(sc.stationary_variance(1.0, q))
    # non-stationary start: the score's rate changes with t
    m, P = sc.gauss_markov_marginals(rho, q, 0.0, 4 * p_inf, 40)
    s = sc.gauss_markov_score(1.0, np.arange(41), m, P)
    assert s[-1] / s[0] > 2.0  # rate 1/P_t grows toward 1/P_inf
    np.testing.assert_allclose(s, -1.0 / P)
    gap = sc.score_rate_gap(P, sc.pooled_score_rate(m, P))
    assert gap.max() > 0.3
    # stationary start: constant score, zero gap
    m, P = sc.gauss_markov_marginals(rho, q, 0.0, p_inf, 40)
    np.testing.assert_allclose(P, p_inf)
    s = sc.gauss_markov_score(np.array([0.5]), np.arange(41)[:, None], m, P)
    np.testing.assert_allclose(s, np.broadcast_to(s[0], s.shape))
    np.testing.assert_allclose(sc.score_rate_gap(P, sc.pooled_score_rate(m, P)), 0.0, atol=1e-12)


def test_pooled_gaussian_law_of_total_variance():
    m = np.array([0.0, 2.0])
    P = np.array([1.0, 3.0])
    mp, pp = sc.pooled_gaussian(m, P)
    rng = np.random.default_rng(11)
    samples = np.concatenate([rng.normal(m[i], np.sqrt(P[i]), 50000) for i in range(2)])
    assert mp == pytest.approx(samples.mean(), abs=0.03)
    assert pp == pytest.approx(samples.var(), rel=0.02)


# --- time-binned score of "trained networks" -----------------------------------------------


def test_time_binned_score_gap_stationary_vs_growing():
    rng = np.random.default_rng(12)
    trials, T, n_dim = 200, 50, 6
    A = rng.standard_normal((n_dim, n_dim)) / np.sqrt(n_dim)
    iid = rng.standard_normal((trials, T, n_dim)) @ A.T + 1.0
    res = sc.time_binned_score_gap(iid, n_bins=5, n_pca=3, seed=0)
    assert res["gap_per_bin"].shape == (5,)
    assert res["gap_mean"] < 0.1
    growth = np.linspace(0.3, 2.0, T)[None, :, None]
    grow = iid * growth
    res_g = sc.time_binned_score_gap(grow, n_bins=5, n_pca=3, seed=0)
    assert res_g["gap_mean"] > 0.4
    assert res_g["gap_mean"] > 5 * res["gap_mean"]
    # NaN states (diverged) are skipped
    grow[:5, 10:] = np.nan
    assert np.isfinite(sc.time_binned_score_gap(grow, 5, 3)["gap_mean"])
