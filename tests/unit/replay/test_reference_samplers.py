"""The reference Langevin samplers are matched per replay variant (SCIENCE.md §5): each variant's
own fitted step, its friction γε = λ_v and the RNN's effective temperature σ / √(2 λ_v h).

Truths: hand-computed parameters from a known h, λ_v and σ; a spy on the samplers fed by a stub
network whose drift is an exact multiple of the score of an exactly known Gaussian; and the
stationary variance of the samplers and of the momentum cell itself on a 1-D Gaussian.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from noisyrnn.studies.replay import score, tasks
from noisyrnn.studies.replay.stats import StatsConfig
from noisyrnn.studies.replay.steps import stats as step
from noisyrnn.studies.replay.tasks import DecodeConfig, TaskConfig

# ------------------------------------------------------------------ parameters by hand


def test_cell_step_undoes_the_terminal_velocity():
    # terminal drift Δ/λ_v: a fitted slope 0.08 at λ_v = 0.5 is a velocity increment h = 0.04
    assert step.cell_step(0.08, 0.5, "terminal") == pytest.approx(0.04)
    assert step.cell_step(0.08, 0.5, "first_step") == pytest.approx(0.08)
    assert math.isnan(step.cell_step(-0.01, 1.0, "terminal"))  # drift climbs p̂: no step
    with pytest.raises(ValueError):
        step.cell_step(0.08, 0.5, "nope")


def test_reference_params_by_hand():
    # h = 0.04, λ_v = 0.5, σ = 0.02: underdamped ε = √h = 0.2, γε = 0.5,
    # noise_scale = σ / √(2 λ_v h) = 0.02 / √0.04 = 0.1; overdamped ε = h / λ_v = 0.08 at 0.1
    p = step.reference_params(0.04, 0.5, 0.02)
    assert p["underdamped"] == pytest.approx({"eps": 0.2, "gamma_eps": 0.5, "noise_scale": 0.1})
    assert p["overdamped"] == pytest.approx({"eps": 0.08, "noise_scale": 0.1})
    # λ_v = 1, h = 0.01, σ = 0.02: both are the cell without momentum, noise σ / √(2h) = √2 / 10
    p = step.reference_params(0.01, 1.0, 0.02)
    assert p["overdamped"] == pytest.approx({"eps": 0.01, "noise_scale": math.sqrt(2) / 10})
    assert p["underdamped"] == pytest.approx({"eps": 0.1, "gamma_eps": 1.0, "noise_scale": math.sqrt(2) / 10})
    assert step.reference_params(float("nan"), 1.0, 0.02) is None


# ------------------------------------------------------------------ _score_stats passes them on

VAR_PC = 0.02  # variance per axis of the stub's waking states (exact, see _hidden)
SIGMA = 0.02
B_A = np.array([0.0, 0.3, 0.0, -2.0])
LAMBDA_V = np.array([1.0, 1.0, 0.5, 0.5])
H = 0.01 * (1.0 + B_A)  # the stub's velocity increment per variant (last: < 0, uphill)


class _StubNet:
    """Drift Δ/λ_v = (h/λ_v) ∇log N(0, VAR_PC I) (the terminal velocity of a cell whose kick is h
    times the exact score); identity readout (a track task decodes the 2-d output as is)."""

    def drift(self, r, b_a, lambda_v, velocity):
        assert velocity == "terminal"
        h = 0.01 * (1.0 + b_a)
        return (h / lambda_v) * (-r / VAR_PC)

    def readout(self, r):
        return r


def _hidden(*_args, **_kw):
    """(trial, time, 2) states whose times 1.. are exactly ±s e_x, ±s e_y, equally often: mean 0,
    ML covariance (s²/2) I = VAR_PC I."""
    s = math.sqrt(2 * VAR_PC)
    pattern = np.array([[s, 0.0], [-s, 0.0], [0.0, s], [0.0, -s]])
    hid = np.zeros((50, 5, 2))
    hid[:, 1:] = pattern
    return hid


def test_each_variant_gets_its_own_step_friction_and_temperature(monkeypatch):
    calls = {"overdamped": [], "underdamped": []}

    def spy_over(score_fn, x0, eps, n_steps, rng, noise_scale=1.0, record_every=1):
        calls["overdamped"].append(dict(eps=eps, noise_scale=noise_scale, batch=x0.shape[0]))
        return np.zeros((x0.shape[0], n_steps + 1, x0.shape[1]))

    def spy_under(score_fn, x0, eps, gamma_eps, n_steps, rng, v0=None, noise_scale=1.0, **kw):
        calls["underdamped"].append(dict(eps=eps, gamma_eps=gamma_eps, noise_scale=noise_scale,
                                         batch=x0.shape[0]))
        return np.zeros((x0.shape[0], n_steps + 1, x0.shape[1]))

    monkeypatch.setattr(step, "waking_hidden", _hidden)
    monkeypatch.setattr(score, "overdamped_langevin", spy_over)
    monkeypatch.setattr(score, "underdamped_langevin", spy_under)
    info = tasks.TaskInfo.from_config(TaskConfig(name="tmaze"))
    scfg = StatsConfig(score_pca=2, reference_steps=3, time_bins=2, drift_velocity="terminal")
    starts = np.tile([0.1, 0.05], (7, 1))
    cos, eps, ref_pos, par, _ = step._score_stats(
        _StubNet(), info, None, B_A, LAMBDA_V, starts, scfg, DecodeConfig(), SIGMA, n_traj=6, seed=3)

    # the fitted slope is the terminal step h/λ_v (ridge: relative 1e-6), the cosine exactly 1
    np.testing.assert_allclose(eps, H / LAMBDA_V, rtol=1e-5)
    np.testing.assert_allclose(cos, [1, 1, 1, -1], rtol=1e-9)
    ok = H > 0  # the uphill variant has no matched sampler
    assert len(calls["overdamped"]) == len(calls["underdamped"]) == ok.sum()
    h, lv = H[ok], LAMBDA_V[ok]
    temp = SIGMA / np.sqrt(2 * lv * h)  # hand: σ / √(2 λ_v h)
    over, under = calls["overdamped"], calls["underdamped"]
    np.testing.assert_allclose([c["eps"] for c in over], h / lv, rtol=1e-5)
    np.testing.assert_allclose([c["noise_scale"] for c in over], temp, rtol=1e-5)
    np.testing.assert_allclose([c["eps"] for c in under], np.sqrt(h), rtol=1e-5)
    np.testing.assert_allclose([c["gamma_eps"] for c in under], lv, rtol=0)
    np.testing.assert_allclose([c["noise_scale"] for c in under], temp, rtol=1e-5)
    assert {c["batch"] for c in over + under} == {6}  # all n_traj chains of a variant, one batch
    # recorded per (variant, sampler); NaN for the uphill variant
    assert sorted(ref_pos) == [(v, q) for v in np.flatnonzero(ok) for q in ("overdamped", "underdamped")]
    assert ref_pos[(0, "overdamped")].shape == (6, 4, 2)
    np.testing.assert_allclose(par["noise_scale"][ok], np.stack([temp, temp], 1), rtol=1e-5)
    assert np.isnan(par["eps"][~ok]).all() and np.isnan(par["noise_scale"][~ok]).all()


# ------------------------------------------------------------------ closed forms on a Gaussian


def test_overdamped_samples_the_tempered_gaussian():
    """x' = x − ε x/s² + c √(2ε) ξ is AR(1) with variance c² s² / (1 − ε / (2 s²))."""
    s2, c, eps = 1.0, 0.5, 0.01
    x0 = np.random.default_rng(0).normal(0.0, c * math.sqrt(s2), (4000, 1))
    x = score.overdamped_langevin(lambda z: -z / s2, x0, eps, 600, np.random.default_rng(1),
                                  noise_scale=c, record_every=600)[:, -1, 0]
    assert x.var() == pytest.approx(c * c * s2 / (1 - eps / (2 * s2)), rel=0.07)  # s.e. ~2.2 %


def test_both_matched_samplers_sample_the_momentum_cell_s_density():
    """The momentum cell v' = (1 − λ_v) v + h s(r) + σ ξ, r' = r + v' on N(0, s²) has variance
    σ² s² / (2 λ_v h) to O(h): its effective temperature. Both matched samplers reproduce it; the
    cell without momentum at the same h and σ (the overdamped sampler at noise σ / √(2h)) would
    give half of it here (λ_v = 0.5)."""
    s2, h, lv, sigma = 1.0, 0.004, 0.5, 0.02
    target = sigma**2 * s2 / (2 * lv * h)  # 0.1
    n, T = 4000, 1500
    rng = np.random.default_rng(2)
    r = rng.normal(0.0, math.sqrt(target), n)
    v = np.zeros(n)
    for _ in range(T):
        v = (1 - lv) * v + h * (-r / s2) + sigma * rng.standard_normal(n)
        r = r + v
    assert r.var() == pytest.approx(target, rel=0.07)
    p = step.reference_params(h, lv, sigma)
    x0 = np.random.default_rng(3).normal(0.0, math.sqrt(target), (n, 1))
    od = score.overdamped_langevin(lambda z: -z / s2, x0, p["overdamped"]["eps"], T,
                                   np.random.default_rng(4), noise_scale=p["overdamped"]["noise_scale"],
                                   record_every=T)[:, -1, 0]
    ud = score.underdamped_langevin(lambda z: -z / s2, x0, p["underdamped"]["eps"],
                                    p["underdamped"]["gamma_eps"], T, np.random.default_rng(5),
                                    noise_scale=p["underdamped"]["noise_scale"], record_every=T)[:, -1, 0]
    assert od.var() == pytest.approx(target, rel=0.07)
    assert ud.var() == pytest.approx(target, rel=0.07)
    colder = sigma**2 * s2 / (2 * h)  # the λ_v = 1 cell's temperature at the same σ: 2 × target
    assert abs(od.var() - target) < 0.2 * abs(colder - target)


def test_decoded_reference_is_nan_where_the_chain_diverged():
    dens = score.fit_density(_hidden()[:, 1:].reshape(-1, 2), 2)
    z = np.zeros((2, 3, 2))
    z[1, 2] = np.inf
    info = tasks.TaskInfo.from_config(TaskConfig(name="tmaze"))
    pos = step._decode_ref(_StubNet(), info, dens, z, DecodeConfig())
    assert np.isfinite(pos[0]).all() and np.isfinite(pos[1, :2]).all() and np.isnan(pos[1, 2]).all()
