"""One network analysed whole: every value present, and a network that blows up keeps its
emission metrics with NaN mechanism values and the step it blew up at."""

import numpy as np
import pytest

from noisyrnn.studies.hmm import analysis, hmms, model
from noisyrnn.studies.hmm import mechanism as mech

CFG = {
    "evaluation": {"n": 60, "sinkhorn_eps": 0.1, "sinkhorn_max_iter": 200, "sinkhorn_tol": 0.1},
    "analysis": {
        "plateau_ratio": 0.5, "divergence_factor": 1000, "min_run_steps": 100, "fp_starts": 10, "fp_steps": 50,
        "fp_tol": 1e-4, "orbit_steps": 200, "orbit_points": 50, "orbit_noise_levels": [0.5, 1, 2],
        "orbit_noise_steps": 100, "noise_param": "std", "orbit_radius": "centroid_distance",
        "rt_states": 40, "rt_rollouts": 3, "rt_max_steps": 10, "rt_transition": 2, "rt_cluster": 8,
        "cluster_softmax": 0.8, "eig_states": 10, "kick_p_cluster": 0.1, "kick_p_transition": 0.5,
        "kick_median": 0.5, "kick_k": 3, "population_size": 4, "partner_rank": "abs_weight",
        "sensitivity": {"starts": 2, "trajectories": 5, "steps": 3, "gammas": [0, 1]},
        "ablation": {"gains": [0, 1], "trajectories": 4, "steps": 10, "gamma": 0.5, "partners": 3,
                     "control_partners": 2, "eig_trajectories": 1, "window": 3,
                     "critical_re": 0.1, "critical_im": 0.06}},
}


def _analyse(w_hh_scale):
    w = model.init_network(12, 3, seed=0)
    net = mech.Net.of(w["W_ih"].numpy(), w_hh_scale * w["W_hh"].numpy(), w["A"].numpy())
    return analysis.analyse(net, hmms.chain(2), eval_length=8, first_symbol="h0", tau=1.0, seed=1,
                            cfg=CFG)


def test_a_quiet_network_gets_every_value():
    out = _analyse(1.0)
    assert np.isnan(out["run_diverged_at"])
    assert np.isfinite(out["fp_spread"]) and out["orbit_pc"].shape == (50, 3)
    assert out["region"].shape == (40,) and out["ablation_rate"].shape == (3, 2)


def test_a_network_that_blows_up_keeps_its_emission_metrics():
    quiet, blown = _analyse(1.0), _analyse(200.0)
    assert set(blown) == set(quiet)
    assert blown["run_diverged_at"] == 0                   # already past the bound after warm-up
    assert np.isfinite(blown["distance"]) and np.isfinite(blown["volatility_mean"])
    for key in ("fp_spread", "orbit_pc", "region", "kick_mask", "ablation_rate", "sensitivity_cluster"):
        assert np.shape(blown[key]) == np.shape(quiet[key]), key
        assert np.isnan(np.asarray(blown[key], float)).all(), key


def test_blow_up_bound_scales_with_the_noise_drive():
    w = model.init_network(5, 2, seed=0)
    net = mech.Net.of(w["W_ih"].numpy(), w["W_hh"].numpy(), w["A"].numpy())
    twice = mech.Net.of(2 * w["W_ih"].numpy(), w["W_hh"].numpy(), w["A"].numpy())
    assert analysis.blow_up_bound(twice, 10) == pytest.approx(2 * analysis.blow_up_bound(net, 10))
