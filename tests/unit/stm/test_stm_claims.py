"""stm claims on hand-made statistics: a planted exponent inside or outside published ± margin,
no β without enough learning rates, and the per-seed phase claims."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from noisyrnn.core import claims as engine
from noisyrnn.studies.stm import claims


def stats(beta=2.7, se=0.05, n=5, lo=2.5, hi=2.9, sp_beta=4.2, sp_se=0.1, seeds=5,
          sp_short=0.6, sp_long=0.1, grid_sp=0.3, boot_seeds=10) -> xr.Dataset:
    rng = np.random.default_rng(0)
    sp = np.stack([np.full(seeds, sp_short), np.full(seeds, sp_long)], axis=1) + rng.normal(0, 0.02, (seeds, 2))
    nl = np.stack([np.full(seeds, 0.0), np.full(seeds, 0.7)], axis=1) + rng.normal(0, 0.02, (seeds, 2))
    data = {}
    for prefix, b, s in (("beta", beta, se), ("beta_sp", sp_beta, sp_se)):
        for key, v in (("beta", b), ("se", s), ("n", n), ("r2", 0.95), ("B", -b), ("logA", 0.0), ("p", 1e-4)):
            data[f"{prefix}_{key}"] = ((), v)
    data.update(beta_boot_lo=((), lo), beta_boot_hi=((), hi),
                seed_frac_sp=(("seed", "delay_ms"), sp),
                seed_frac_not_learned=(("seed", "delay_ms"), nl),
                seed_frac_sp_grid=(("seed",), np.full(seeds, grid_sp) + rng.normal(0, 0.02, seeds)))
    return xr.Dataset(data, coords={"seed": np.arange(seeds), "delay_ms": [0, 400]},
                      attrs={"family": "nopost", "min_lrs": 4, "n_seeds": boot_seeds,
                             "bootstrap_min_seeds": 10})


def verdicts(df):
    return dict(zip(df["claim"], df["verdict"]))


def test_published_exponent_inside_margin_is_reproduced_outside_is_contradicted():
    df = claims.claims_table({"nopost": stats()})
    v = verdicts(df)
    assert v["A1"] == engine.SUPPORTED  # [2.5, 2.9] inside 2.72 ± 0.5
    a3 = df.set_index("claim").loc["A3"]
    # A3 uses the fit's t interval: 4.2 ± t(0.975, 3)·0.1 = [3.88, 4.52], inside 4.05 ± 0.5
    assert a3["ci_lo"] == pytest.approx(4.2 - 3.182446 * 0.1, rel=1e-5)
    assert v["A3"] == engine.SUPPORTED
    far = claims.claims_table({"nopost": stats(beta=1.2, lo=1.0, hi=1.4)})
    assert verdicts(far)["A1"] == engine.CONTRADICTED
    wide = claims.claims_table({"nopost": stats(lo=1.5, hi=4.0)})
    assert verdicts(wide)["A1"] == engine.INCONCLUSIVE  # a vague estimate decides nothing


def test_no_beta_from_too_few_learning_rates_gets_no_verdict():
    df = claims.claims_table({"nopost": stats(beta=np.nan, se=np.nan, n=2, lo=np.nan, hi=np.nan)})
    row = df.set_index("claim").loc["A1"]
    assert row["verdict"] == engine.INCONCLUSIVE and "2 learning rates" in row["note"]


def test_theory_ranges_and_phase_claims():
    # LC part [2.5, 2.9] inside [2, 3]; SP part 4.2 ± 3.18·0.1 = [3.88, 4.52] straddles 4
    v = verdicts(claims.claims_table({"nopost": stats()}))
    assert v["A5"] == engine.INCONCLUSIVE
    v = verdicts(claims.claims_table({"nopost": stats(sp_beta=4.5)}))
    assert v["A5"] == engine.SUPPORTED
    assert v["A6"] == engine.SUPPORTED      # SP falls with delay, not-learned rises
    v = verdicts(claims.claims_table({"nopost": stats(), "post": stats(grid_sp=0.02)}))
    assert v["A7"] == engine.SUPPORTED      # post suppresses SP (paired by seed)
    v = verdicts(claims.claims_table({"nopost": stats(grid_sp=0.02), "post": stats(grid_sp=0.3)}))
    assert v["A7"] == engine.CONTRADICTED


def test_bootstrap_from_too_few_seeds_is_reported_but_decides_nothing():
    df = claims.claims_table({"nopost": stats(boot_seeds=4)})
    row = df.set_index("claim").loc["A1"]
    assert row["verdict"] == engine.INCONCLUSIVE
    assert "[2.5, 2.9] from 4 seeds is not used for a verdict" in row["note"]
