"""Claims B1–B12 on planted statistics: verdicts follow the data, and the plateau gate drops
networks without a mechanism and says so."""

import numpy as np
import xarray as xr

from noisyrnn.core import claims as engine
from noisyrnn.studies.hmm import claims

S = 5


def planted(left=(1, 1, 1, 1, 1), seed=0, worst_error=1e-3) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    jitter = lambda m, s=0.01: m + rng.normal(0, s, S)  # noqa: E731
    err = np.full((S, 3, 3), worst_error / 10)
    err[:, 0, 0] = jitter(worst_error, worst_error / 20)
    gains = np.linspace(0, 2, 5)
    rate = np.stack([np.stack([0.01 + 0.05 * gains + rng.normal(0, 0.002, 5) for _ in range(3)])
                     for _ in range(S)])
    ds = xr.Dataset({
        "distance": (("seed",), jitter(3.2)), "distance_baseline": (("seed",), jitter(3.3)),
        "transition_sq_error": (("seed", "symbol", "next_symbol"), err),
        "volatility_mean": (("seed",), jitter(2.0, 0.05)),
        "volatility_mean_hmm": (("seed",), jitter(2.0, 0.05)),
        "volatility_sd_hmm": (("seed",), jitter(1.3, 0.01)),
        "volatility_iid": (("seed",), jitter(14.5, 0.1)),
        "marginal_mean": (("seed", "symbol"), np.tile([0.5, 0.01, 0.49], (S, 1))),
        "marginal_mean_hmm": (("seed", "symbol"), np.tile([0.5, 0.01, 0.49], (S, 1))),
        "marginal_sd_hmm": (("seed", "symbol"), np.tile([0.3, 0.02, 0.3], (S, 1))),
        "left_plateau": (("seed",), np.asarray(left, np.int8)),
        "fp_spread": (("seed",), 10 ** jitter(-8, 0.2)),
        "fp_spectral_radius": (("seed",), jitter(0.9)),
        "radius_slope_var": (("seed",), jitter(0.5)), "radius_r2_var": (("seed",), jitter(0.99, 0.002)),
        "radius_r2_sigma": (("seed",), jitter(0.9, 0.002)),
        "unstable_kick_zone": (("seed",), jitter(3.0, 0.1)), "unstable_cluster": (("seed",), jitter(0.1, 0.02)),
        "sign_changes_cluster": (("seed",), jitter(10, 0.5)),
        "sign_changes_kick_zone": (("seed",), jitter(3, 0.2)),
        "sign_changes_transition": (("seed",), jitter(0.5, 0.05)),
        "sensitivity_cluster": (("seed", "gamma", "sens_step"), np.tile(jitter(5.0, 0.1)[:, None, None], (1, 3, 6))),
        "sensitivity_transition": (("seed", "gamma", "sens_step"), np.tile(jitter(0.5, 0.05)[:, None, None], (1, 3, 6))),
        "n_kick_groups": (("seed",), np.full(S, 2.0)), "n_candidates": (("seed",), np.full(S, 7.0)),
        "pop_within1": (("seed",), jitter(0.05, 0.005)), "pop_within2": (("seed",), jitter(0.05, 0.005)),
        "pop_between12": (("seed",), jitter(-0.05, 0.005)), "pop_between21": (("seed",), jitter(-0.05, 0.005)),
        "ablation_rate": (("seed", "ablation", "gain"), rate),
        "bifurcation_epoch": (("seed",), np.full(S, 20.0)),
        "dyn_transition_rate": (("seed", "dyn_epoch"), np.tile([0.01, 0.01, 0.2, 0.21], (S, 1)) + rng.normal(0, 0.002, (S, 4))),
    }, coords={"seed": np.arange(S), "gain": gains, "dyn_epoch": [0, 10, 20, 30],
               "ablation": ["kick_recurrent", "partner_noise", "control_noise"]},
        attrs={"reference_model": "h150_d100", "fp_tol": 1e-4})
    return ds


def _verdicts(df, hmm="chain2"):
    rows = df[df["condition"].str.startswith(hmm)]
    return dict(zip(rows["claim"], rows["verdict"])), dict(zip(rows["claim"], rows["note"]))


def test_planted_mechanism_is_supported():
    df = claims.claims_table({"chain2": planted()})
    v, _ = _verdicts(df)
    for c in ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10", "B11"):
        assert v[c] == engine.SUPPORTED, (c, df.set_index("claim").loc[c, "note"])
    assert "B12" not in v                      # fully and cyclic only


def test_a_large_transition_error_is_contradicted():
    df = claims.claims_table({"chain2": planted(worst_error=0.1)})
    assert _verdicts(df)[0]["B2"] == engine.CONTRADICTED


def test_networks_on_the_plateau_have_no_mechanism_verdict():
    df = claims.claims_table({"fully": planted(left=(0, 0, 0, 0, 0))}, plateau_ratio=0.5)
    v, notes = _verdicts(df, "fully")
    assert v["B1"] == engine.SUPPORTED        # emission rows still use every seed
    for c in ("B4", "B5", "B6", "B7", "B8", "B9", "B10", "B11", "B12"):
        assert v[c] == engine.INCONCLUSIVE
        assert notes[c].startswith("mechanism absent: no network both left the plateau"), notes[c]
        assert "0 of 5 networks left the plateau" in notes[c]


def test_only_networks_off_the_plateau_count():
    df = claims.claims_table({"chain2": planted(left=(1, 1, 1, 0, 0))})
    b4 = df[df["claim"] == "B4"].iloc[0]
    assert b4["n"] == 3 and b4["verdict"] == engine.SUPPORTED
    assert "3 of 5 networks left the plateau" in b4["note"]
    df = claims.claims_table({"chain2": planted(left=(1, 1, 0, 0, 0))})
    assert df[df["claim"] == "B4"].iloc[0]["verdict"] == engine.INCONCLUSIVE   # 2 < min_seeds


def test_a_seed_without_mechanism_values_is_dropped_and_named():
    ds = planted()
    for var in ("n_candidates", "n_kick_groups", "fp_spread", "fp_spectral_radius"):
        ds[var].values[0] = np.nan
    ds["run_diverged_at"] = (("seed",), np.array([0.0, np.nan, np.nan, np.nan, np.nan]))
    df = claims.claims_table({"chain2": ds})
    b8 = df[df["claim"] == "B8"].iloc[0]
    assert b8["n"] == 4 and "candidates per seed: n/a, 7" in b8["note"]
    assert "blew up for seed 0 at step 0" in b8["note"]
