"""Mechanism analyses against planted structures with known answers: fixed points, PCA planes,
circles, deterministic cycles with known residency times, eigenvalues, and kick neurons and
integrating populations planted in synthetic data."""

import numpy as np
import pytest
import torch

from noisyrnn.studies.hmm import mechanism as mech


def _net(W_hh, A, d=1, W_ih=None):
    n = len(W_hh)
    return mech.Net.of(np.zeros((n, d)) if W_ih is None else W_ih, W_hh, A)


def test_contracting_network_has_one_fixed_point_at_the_origin():
    net = _net(0.5 * np.eye(4), np.eye(3, 4))
    starts = torch.rand(10, 4, generator=torch.Generator().manual_seed(0))
    fp = mech.fixed_point(net, starts, steps=200, tol=1e-4)
    assert fp["single"] and fp["norm"] < 1e-12 and fp["residual"] < 1e-12
    assert fp["spectral_radius"] == 0  # no unit is active at h* = 0


def test_a_line_of_fixed_points_is_not_single():
    u = np.array([1.0, 2.0, 1.0])
    net = _net(np.outer(u, u) / (u @ u), np.eye(3))       # projection onto u: h ← (u·h)u/|u|²
    starts = torch.tensor([[1.0, 0, 0], [0, 3.0, 0], [0, 0, 5.0]])
    fp = mech.fixed_point(net, starts, steps=50, tol=1e-4)
    assert not fp["single"] and fp["spread"] > 0.1
    assert fp["residual"] < 1e-5                            # the mean end state is on the line too
    assert fp["spectral_radius"] == pytest.approx(1.0, abs=1e-5)


def test_pca_finds_a_planted_plane_and_the_orbit_radius_of_a_circle():
    rng = np.random.default_rng(0)
    theta = np.linspace(0, 2 * np.pi, 2000, endpoint=False)  # centroid exactly the centre
    basis = np.linalg.qr(rng.normal(size=(6, 2)))[0].T      # (2, 6) orthonormal
    x = 5.0 + 3.0 * np.stack([np.cos(theta), np.sin(theta)], 1) @ basis
    mean, comps, expl = mech.pca(x, 3)
    assert expl[:2].sum() == pytest.approx(1.0)
    # the first two components span the planted plane
    np.testing.assert_allclose(np.abs(np.linalg.svd(comps[:2] @ basis.T)[1]), 1, atol=1e-8)
    proj = mech.project(x, mean, comps)
    assert mech.orbit_radius(proj) == pytest.approx(3.0, rel=1e-9)
    # readout rows inside the plane align fully, a row orthogonal to it not at all
    normal = np.linalg.svd(basis)[2][-1]
    align = mech.readout_alignment(np.stack([basis[0], basis[1] * 7, normal]), comps)
    np.testing.assert_allclose(align, [1, 1, 0], atol=1e-8)


def test_linear_fit_exact_line():
    slope, icpt, r2 = mech.linear_fit([0, 1, 2, 3], [1, 3, 5, 7])
    assert (slope, icpt, r2) == pytest.approx((2, 1, 1))
    assert np.isnan(mech.linear_fit([1, 1, 1], [1, 2, 3])[0])


def test_residency_times_of_a_deterministic_cycle():
    # four neurons in a ring (h_i → h_{i+1}); outputs 0 for neurons 0-1, 1 for 2-3: from
    # neuron 0 the output changes after 2 steps, from neuron 1 after 1; no noise enters
    w = np.roll(np.eye(4), 1, axis=0)
    a = np.array([[1, 1, 0, 0], [0, 0, 1, 1], [-1, -1, -1, -1.0]])
    net = _net(w, a)
    states = torch.eye(4)[:2]
    rt, flips = mech.residency_times(net, states, torch.Generator().manual_seed(0), rollouts=3,
                                     max_steps=10)
    np.testing.assert_allclose(rt, [2, 1])
    # the maximum logit stays at 1 until the change: no sign change of its step
    np.testing.assert_allclose(flips, [0, 0])


def test_residency_time_is_censored_at_the_horizon():
    net = _net(0.9 * np.eye(2), np.array([[1, 1], [-1, -1], [-1, -1.0]]))
    rt, _ = mech.residency_times(net, torch.ones(3, 2), torch.Generator().manual_seed(0),
                                 rollouts=2, max_steps=7)
    np.testing.assert_allclose(rt, 7)


def test_region_labels_by_hand():
    labels = mech.region_labels([1, 2, 8, 9, 30], [0.9, 0.9, 0.9, 0.9, 0.5])
    np.testing.assert_array_equal(labels, [mech.TRANSITION, mech.KICK, mech.KICK, mech.CLUSTER,
                                           mech.NONE])


def test_unstable_and_critical_counts_of_known_spectra():
    theta = 0.5
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    w = np.zeros((4, 4))
    w[:2, :2] = rot            # |λ| = 1: Möbius (λ-1)/(λ+1) = ±i tan(θ/2)
    w[2, 2], w[3, 3] = 2.0, 0.5
    net = _net(w, np.eye(3, 4))
    eig = mech.jacobian_eigs(net, torch.ones(1, 4))
    assert mech.unstable_counts(eig)[0] == 1                # only λ = 2 (the pair sits on |λ| = 1)
    assert mech.critical_pairs(eig, 0.1, np.tan(theta / 2) - 0.01)[0] == 1
    assert mech.critical_pairs(eig, 0.1, np.tan(theta / 2) + 0.01)[0] == 0
    # the pre-activation mask silences rows: with unit 2 inactive λ = 2 is gone
    eig = mech.jacobian_eigs(net, torch.tensor([[1.0, 1, -1, 1]]))
    assert mech.unstable_counts(eig)[0] == 0


def test_transition_rate_and_bifurcation_epoch():
    assert mech.transition_rate([0, 0, 1, 1, 1, 0, 0, 0, 0, 1]) == pytest.approx(np.mean([1 / 3, 1 / 4]))
    assert mech.transition_rate([0, 0, 0]) == 0
    assert mech.bifurcation_epoch([0, 10, 20, 30], [0.0, 0.01, 0.05, 0.06]) == 20
    assert np.isnan(mech.bifurcation_epoch([0, 10, 20], [0.0, 0.01, 0.02]))


def test_e2_drift_is_zero_without_noise_input_and_positive_with_relu_rectification():
    net = _net(np.zeros((3, 3)), np.eye(3), d=3, W_ih=np.zeros((3, 3)))
    out = mech.e2_drift(net, torch.zeros(2, 3), torch.Generator().manual_seed(0))
    np.testing.assert_allclose(out, 0)
    # h = ReLU(x) with x ~ N(0, 1): E[h] = 1/√(2π), the noise-free h is 0
    net = _net(np.zeros((3, 3)), np.eye(3), d=3, W_ih=np.eye(3))
    out = mech.e2_drift(net, torch.zeros(50, 3), torch.Generator().manual_seed(0), trials=40)
    np.testing.assert_allclose(out, 1 / np.sqrt(2 * np.pi), rtol=0.05)


# ----------------------------------------------------------------------------- kick neurons
def planted_states(seed=0, n_per=400):
    """Region states with planted pre-activations: neurons 0-2 kick the transitions that leave
    symbol 0, neurons 3-5 those that leave symbol 2 (negative in clusters, near 0 in
    kick-zones, positive in their own transitions); decoys: 6 always active, 7 active in
    clusters too, 8 positive but far from 0 in kick-zones, 9 a weaker kicker of direction 0
    (active in 60 % of its transitions), 10-19 noise."""
    rng = np.random.default_rng(seed)
    labels = np.repeat([mech.CLUSTER, mech.KICK, mech.TRANSITION, mech.TRANSITION], n_per)
    leaving = np.tile(np.repeat([0, 2], n_per // 2), 4)
    leaving[2 * n_per:3 * n_per], leaving[3 * n_per:] = 0, 2
    n = 20
    pre = rng.normal(0, 1, (len(labels), n))
    cl, kz, tr = labels == mech.CLUSTER, labels == mech.KICK, labels == mech.TRANSITION
    for j, d in ((0, 0), (1, 0), (2, 0), (3, 2), (4, 2), (5, 2)):
        pre[cl, j] = rng.normal(-3, 0.5, cl.sum())
        pre[kz, j] = rng.normal(0, 0.3, kz.sum())
        own = tr & (leaving == d)
        pre[own, j] = rng.normal(3 - 0.3 * (j % 3), 0.5, own.sum())   # ranks 0 > 1 > 2
        pre[tr & ~own, j] = rng.normal(-3, 0.5, (tr & ~own).sum())
    pre[:, 6] = rng.normal(3, 0.5, len(labels))
    pre[:, 7] = rng.normal(1, 0.5, len(labels))
    pre[cl, 8], pre[kz, 8], pre[tr, 8] = -3, 4, 3
    pre[cl, 9] = rng.normal(-3, 0.5, cl.sum())
    pre[kz, 9] = rng.normal(0, 0.3, kz.sum())
    own = tr & (leaving == 0)
    pre[own, 9] = np.where(rng.random(own.sum()) < 0.6, 1.0, -1.0)
    return pre, labels, leaving


def test_kick_rule_finds_the_planted_kick_neurons():
    pre, labels, leaving = planted_states()
    out = mech.kick_neurons(pre, labels, leaving, k=3)
    assert out["groups"] == {0: [0, 1, 2], 2: [3, 4, 5]}
    # the weaker kicker meets the criterion but ranks fourth in its direction
    assert set(out["candidates"]) == {0, 1, 2, 3, 4, 5, 9}
    assert out["p_c"][6] > 0.9 and abs(out["m_k"][8]) > 0.5


def test_kick_rule_keeps_k_per_direction_and_handles_no_transitions():
    pre, labels, leaving = planted_states(1)
    out = mech.kick_neurons(pre, labels, leaving, k=4)
    assert out["groups"][0] == [0, 1, 2, 9]
    none = mech.kick_neurons(pre, np.full(len(labels), mech.CLUSTER), leaving)
    assert none["groups"] == {} and none["candidates"] == []


def test_integrating_populations_are_recovered_from_planted_weights():
    rng = np.random.default_rng(0)
    n = 30
    w = rng.normal(0, 0.01, (n, n))
    kick1, kick2 = [0, 1, 2], [3, 4, 5]
    pop1, pop2 = list(range(6, 14)), list(range(14, 22))
    w[np.ix_(kick1, pop1)] = 0.5       # pop 1 excites kick group 1 (row: postsynaptic)
    w[np.ix_(kick2, pop1)] = -0.5      # ... and inhibits kick group 2
    w[np.ix_(kick1, pop2)] = -0.5
    w[np.ix_(kick2, pop2)] = 0.5
    w[np.ix_(pop1, pop1)] = w[np.ix_(pop2, pop2)] = 0.2
    w[np.ix_(pop1, pop2)] = w[np.ix_(pop2, pop1)] = -0.2
    out = mech.populations(w, kick1, kick2, size=16)
    assert sorted(out["pop1"]) == pop1 and sorted(out["pop2"]) == pop2
    assert out["within1"] > 0 and out["within2"] > 0
    assert out["between12"] < 0 and out["between21"] < 0


def test_top_partners_by_absolute_weight():
    w = np.zeros((4, 4))
    w[0] = [0, -3, 1, 2]
    assert mech.top_partners(w, [0], 2) == {1, 3}
    with pytest.raises(ValueError, match="partner_rank"):
        mech.top_partners(w, [0], 2, how="gain")


def test_finite_prefix_stops_before_a_blow_up():
    h = torch.ones(6, 2)
    h[3] = 1e5
    h[5] = float("inf")
    assert mech.finite_prefix(h, 1e4) == 3
    assert mech.finite_prefix(torch.ones(4, 2), 1e4) == 4
