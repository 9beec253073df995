"""Claims table: verdicts from synthetic statistics with built-in effects.

``make_fake_stats`` builds a statistics Dataset with exactly the variables / dims / coords of the
statistics-file contract (docs/design.md) and controllable effects; test_figures.py reuses it.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats as sps

from noisyrnn.core import claims as engine
from noisyrnn.studies.replay import claims, selection
from noisyrnn.studies.replay.selection import ClaimsConfig

B_A = (0.0, 0.1, 0.3, 0.5, 1.0)
LAMBDA_V = (1.0, 0.9, 0.7, 0.5, 0.3)
STATS_VARS = (
    "step_length",
    "compression_ratio",
    "reach_median",
    "reach_rmst",
    "reach_fraction",
    "msd_exponent",
    "coverage",
    "entropy",
    "coverage_pooled",
    "entropy_pooled",
    "frac_off_support",
    "wasserstein",
    "kde_kl",
    "frac_diverged",
    "frac_out_of_bounds",
    "drift_score_cosine",
    "fitted_eps",
)
REF_STATS = (
    "step_length",
    "compression_ratio",
    "reach_median",
    "reach_fraction",
    "msd_exponent",
    "coverage",
    "entropy",
    "wasserstein",
)


def _nets(task, regimes, alphas, mask_k, replay_alpha=0.2):
    nets = []
    if task == "box":
        nets = [(replay_alpha, 1, m) for m in regimes]
    else:
        if False in regimes:
            nets = [(a, k, False) for a in alphas for k in mask_k]
        if True in regimes:
            nets.append((replay_alpha, 1, True))
    return nets


def make_fake_stats(
    task: str,
    n_seeds: int = 3,
    *,
    regimes=(False, True),
    alphas=(1.0, 0.2),
    mask_k=(1, 2, 4, 8),
    b_a=B_A,
    lambda_v=LAMBDA_V,
    adapt_coverage: float = 0.2,
    adapt_entropy: float = 0.1,
    adapt_step: float = -0.4,
    adapt_reach: float = 40.0,
    momentum_speed: float = 1.5,
    momentum_reach: float = -80.0,
    momentum_coverage: float = 0.05,
    c1_gain: float = 0.05,
    cosine: float = 0.5,
    noise: float = 0.01,
    nan_variants=(),
    n_iter: int = 6,
    n_examples: int = 2,
    n_time: int = 25,
    n_lag: int = 4,
    waking_dim: str = "time",
    ref_examples: bool = False,
) -> xr.Dataset:
    """Synthetic ``results/stats/{task}.nc`` following the contract.

    Effects (per unit b_a or per unit (1 − λ_v), relative to b_a = 0, λ_v = 1):
    ``adapt_*`` change coverage/entropy/step length (relative)/reach time with b_a;
    ``momentum_*`` change step length (relative)/reach time/coverage with 1 − λ_v.
    ``c1_gain``: error reduction (m) of α < 1 vs α = 1 at k > 1. ``cosine``: drift–score cosine.
    ``noise``: deterministic seed-alternating perturbation (sign (−1)^seed, variant-dependent size),
    so zero effects give paired differences with mean ≈ 0 and CIs straddling 0.
    ``nan_variants``: (b_a, λ_v) pairs that "diverge" (NaN stats, frac_diverged = 1).
    ``waking_dim``: time dim of ``waking_example`` ("time" per the contract, "waking_time" as
    pipeline.compute_stats writes it); ``ref_examples``: add ``ref_example_position``
    (net, variant, sampler, example, ref_time, space) as pipeline.compute_stats does.
    ``ref_<stat>`` (seed, net, variant, sampler): the variant's value × 1 (overdamped) and × 1.3
    (underdamped), so a figure that reads the wrong variant or sampler draws different numbers.
    Non-replayed networks (not α = 0.2, k = 1) have NaN replay statistics, as in the pipeline.
    """
    nets = _nets(task, regimes, alphas, mask_k)
    ids = [f"a{a:g}_k{k}_m{int(m)}" for a, k, m in nets]
    variants = [(b, lv) for b in b_a for lv in lambda_v]
    S, N, V = n_seeds, len(nets), len(variants)
    sgn = np.array([(-1.0) ** s for s in range(S)])[:, None, None]
    vb = np.array([v[0] for v in variants])[None, None, :]
    vl = np.array([v[1] for v in variants])[None, None, :]
    vi = np.arange(V)[None, None, :] / V
    ni = np.arange(N)[None, :, None] / max(N, 1)
    eps = noise * sgn * (1.0 + vi + 0.3 * ni)  # (S, N, V)

    replayed = np.array([math.isclose(a, 0.2) and k == 1 for a, k, m in nets])[None, :, None]
    waking = 0.02 + 0.001 * np.arange(S)
    step = 0.012 * np.clip(1 + adapt_step * vb, 0.05, None) * (1 + momentum_speed * (1 - vl)) * (1 + eps)
    out = {
        "step_length": step,
        "compression_ratio": step / waking[:, None, None],
        "reach_median": 150 + adapt_reach * vb + momentum_reach * (1 - vl) + 100 * eps,
        "reach_rmst": 170 + adapt_reach * vb + momentum_reach * (1 - vl) + 100 * eps,
        "reach_fraction": np.clip(0.5 - 0.1 * vb + 0.5 * (1 - vl) + eps, 0, 1),
        "msd_exponent": 1.0 + 0.5 * (1 - vl) + eps,
        "coverage": np.clip(0.3 + adapt_coverage * vb + momentum_coverage * (1 - vl) + eps, 0, 1),
        "entropy": np.clip(0.5 + adapt_entropy * vb + eps, 0, 1),
        "coverage_pooled": np.clip(0.6 + adapt_coverage * vb + eps, 0, 1),
        "entropy_pooled": np.clip(0.7 + adapt_entropy * vb + eps, 0, 1),
        "frac_off_support": 0.02 + 0 * eps,
        "wasserstein": 0.2 - 0.05 * vb + eps,
        "kde_kl": 1.0 - 0.2 * vb + eps,
        "frac_diverged": np.zeros((S, N, V)) + 0 * eps,
        "frac_out_of_bounds": 0.01 + 0 * eps,
        "drift_score_cosine": cosine + eps + 0 * vb,
        "fitted_eps": 0.1 + 0.01 * vb + eps,
    }
    for k in out:
        out[k] = np.where(replayed, np.broadcast_to(out[k], (S, N, V)), np.nan).astype(float)
    for b, lv in nan_variants:
        j = variants.index((b, lv))
        for k in out:
            out[k][:, :, j] = np.where(
                replayed[:, :, 0], 1.0 if k == "frac_diverged" else np.nan, out[k][:, :, j]
            )
    if task == "box":
        out["step_length_smooth"] = out["step_length"] * 0.8

    data = {k: (("seed", "net", "variant"), v) for k, v in out.items()}
    lag = np.arange(1, n_lag + 1)
    ac = (0.3 + 0.3 * vb[..., None]) * np.exp(-lag[None, None, None, :] / (1 + 3 * (1 - vl[..., None])))
    ac = np.where(replayed[..., None], np.broadcast_to(ac + eps[..., None], (S, N, V, n_lag)), np.nan)
    data["step_autocorr"] = (("seed", "net", "variant", "lag"), ac)

    it = np.arange(n_iter) * 50
    alpha_arr = np.array([a for a, k, m in nets])[None, :, None]
    k_arr = np.array([k for a, k, m in nets])[None, :, None]
    curve = np.exp(-it / 100.0)[None, None, :]
    base = 0.05 + 0.01 * k_arr + c1_gain * (alpha_arr >= 1) * (k_arr > 1)
    sgn_i = sgn[:, :, :1]
    data["train_loss"] = (("seed", "net", "iteration"), base * (1 + curve) * (1 + 0.05 * sgn_i))
    data["test_loss"] = (("seed", "net", "iteration"), base * (1 + curve) * (1 + 0.06 * sgn_i))
    data["position_error"] = (("seed", "net", "iteration"), np.sqrt(base * (1 + curve)) + 0 * sgn_i)
    fpe = (0.1 + 0.01 * k_arr + c1_gain * (alpha_arr >= 1) * (k_arr > 1))[:, :, 0] + noise * sgn[:, :, 0] * (
        1 + 0.5 * (alpha_arr[:, :, 0] < 1)
    )
    data["final_position_error"] = (("seed", "net"), np.broadcast_to(fpe, (S, N)).copy())
    data["waking_step_length"] = (("seed",), waking)
    ref = {}
    for st in REF_STATS:
        fin = np.isfinite(out[st]).any(axis=0)  # (N, V)
        base_ref = np.where(fin, np.nanmean(np.where(fin, out[st], 0.0), axis=0), 0.0)
        vals = np.stack([np.broadcast_to(base_ref, (S, N, V)) * f for f in (1.0, 1.3)], axis=-1)
        vals = vals + noise * sgn[..., None]
        ref[f"ref_{st}"] = (("seed", "net", "variant", "sampler"),
                            np.where(replayed[..., None], vals, np.nan))
    data.update(ref)
    data["tv_score_gap"] = (("seed", "net"), np.where(replayed[:, :, 0], 0.3 + noise * sgn[:, :, 0], np.nan))

    t = np.linspace(0, 1, n_time)
    ex = np.zeros((N, V, n_examples, n_time, 2))
    for e in range(n_examples):
        ex[..., e, :, 0] = (
            (0.2 + vb[0, 0, :, None] + (1 - vl[0, 0, :, None])) * np.cos(6 * t + e)[None, :] * 0.3
        )
        ex[..., e, :, 1] = t * (1 + e)
    ex = np.where(replayed[0, :, :, None, None, None], ex, np.nan)
    for b, lv in nan_variants:
        ex[:, variants.index((b, lv)), :, n_time // 2 :, :] = np.nan
    data["example_position"] = (("net", "variant", "example", "time", "space"), ex)
    wk = np.stack([np.stack([np.sin(3 * t + e), t], -1) for e in range(n_examples)])
    data["waking_example"] = (("example", waking_dim, "space"), wk)
    if ref_examples:
        rex = np.stack([ex, 1.5 * ex], axis=2)  # (net, variant, sampler, example, time, space)
        data["ref_example_position"] = (("net", "variant", "sampler", "example", "ref_time", "space"), rex)

    coords = {
        "seed": np.arange(S),
        "net": ids,
        "alpha": ("net", [float(a) for a, k, m in nets]),
        "mask_k": ("net", [int(k) for a, k, m in nets]),
        "modifiers_in_training": ("net", [bool(m) for a, k, m in nets]),
        "variant": np.arange(V),
        "b_a": ("variant", [float(v[0]) for v in variants]),
        "lambda_v": ("variant", [float(v[1]) for v in variants]),
        "lag": lag,
        "iteration": it,
        "example": np.arange(n_examples),
        "time": np.arange(n_time),
        "space": ["x", "y"],
        "sampler": ["overdamped", "underdamped"],
    }
    ds = xr.Dataset(data, coords=coords, attrs={"task": task})
    return ds


def make_fake_gm(
    n_time: int = 40,
    rho: float = 0.9,
    q: float = 0.01,
    p0: float = 1e-4,
    stationary=False,
    with_gap: bool = True,
):
    """Synthetic gauss_markov.nc as pipeline.gauss_markov writes it: m_t, P_t, score_rate = 1/P_t,
    pooled_score_rate, score_rate_gap (dropped when ``with_gap`` is False)."""
    P = np.empty(n_time)
    P[0] = q / (1 - rho**2) if stationary else p0
    for t in range(1, n_time):
        P[t] = rho**2 * P[t - 1] + q
    m = np.zeros(n_time)
    pooled = 1.0 / (P.mean() + m.var())
    data = {
        "m_t": ("time", m),
        "P_t": ("time", P),
        "score_rate": ("time", 1 / P),
        "pooled_score_rate": ((), pooled),
    }
    if with_gap:
        data["score_rate_gap"] = ("time", np.abs(1 / P - pooled) / pooled)
    return xr.Dataset(data, coords={"time": np.arange(n_time)})


def full_stats(**kw):
    return {
        "tmaze": make_fake_stats("tmaze", c1_gain=0.08, **kw),
        "triangle": make_fake_stats("triangle", c1_gain=0.03, **kw),
        "box": make_fake_stats("box", **kw),
        "gauss_markov": make_fake_gm(),
    }


CFG = ClaimsConfig()


def _rows(df, claim, regime=None, task=None):
    """Rows of ``claim``; conditions are "<regime> <task>"."""
    sel = df["claim"] == claim
    if regime is not None:
        sel &= df["condition"].str.split(" ").str[0] == regime
    if task is not None:
        sel &= df["condition"].str.split(" ", n=1).str[1] == task
    return df[sel]


# --------------------------------------------------------------------------------------------


def test_clear_positive_effects_supported():
    df = claims.claims_table(full_stats(), CFG)
    assert list(df.columns) == engine.COLUMNS
    for c in ("C2", "C3", "C4", "C5"):
        rows = _rows(df, c)
        assert len(rows) == 6, c  # 2 regimes x 3 tasks
        assert (rows["verdict"] == "supported").all(), rows[["claim", "condition", "parts"]]
    c6 = _rows(df, "C6")
    assert (c6["verdict"] == "supported").all()
    c1 = _rows(df, "C1")
    assert list(c1["condition"]) == ["m0 tmaze", "m0 triangle", "m0 tmaze vs triangle"]
    assert (c1["verdict"] == "supported").all(), c1[["condition", "effect", "ci_lo", "ci_hi"]]
    # effect is the mean paired difference, with its CI around it
    r = _rows(df, "C2", "m0", "tmaze").iloc[0]
    assert r["ci_lo"] <= r["effect"] <= r["ci_hi"]
    assert r["effect"] == pytest.approx(0.2 * 0.3, rel=0.3)
    assert r["n"] == 3 and r["study"] == "replay"
    assert "b_a=0.3" in r["comparison"] and "b_a=0" in r["comparison"]
    assert "Student-t" in r["rule"] and "Holm" in r["rule"] and "ANY" in r["rule"]
    assert "ALL" in _rows(df, "C4").iloc[0]["rule"]
    # the first part's effect is a paired mean with its t interval (checked by hand below)
    assert r["ci_hi"] - r["effect"] == pytest.approx(r["effect"] - r["ci_lo"])
    assert (df["q"].dropna() >= df["p"].dropna()).all()  # BH never lowers a p-value


def test_clear_negative_effects_contradicted():
    kw = dict(
        adapt_coverage=-0.3,
        adapt_entropy=-0.2,
        adapt_step=+0.8,
        adapt_reach=-60.0,
        momentum_speed=-0.6,
        momentum_reach=+80.0,
        momentum_coverage=0.0,
        cosine=-0.4,
    )
    stats = {
        "tmaze": make_fake_stats("tmaze", c1_gain=-0.05, **kw),
        "triangle": make_fake_stats("triangle", c1_gain=-0.03, **kw),
        "gauss_markov": make_fake_gm(stationary=True),
    }
    df = claims.claims_table(stats, CFG)
    for c in ("C2", "C3", "C4", "C6"):
        assert (_rows(df, c)["verdict"] == "contradicted").all(), c
    # C5: speed part contradicted (momentum slows) -> ALL -> contradicted
    assert (_rows(df, "C5")["verdict"] == "contradicted").all()
    c1 = _rows(df, "C1")
    assert (c1[c1["condition"] != "m0 tmaze vs triangle"]["verdict"] == "contradicted").all()
    gm = _rows(df, "C6", task="gauss_markov").iloc[0]
    assert gm["effect"] == pytest.approx(0.0, abs=1e-9)


def test_gauss_markov_gap_is_relative_to_the_pooled_rate():
    gm = make_fake_gm()
    P, pooled = gm["P_t"].values, float(gm["pooled_score_rate"])
    assert selection.gauss_markov_gap(gm) == pytest.approx(np.max(np.abs(1 / P - pooled)) / pooled)
    assert selection.gauss_markov_gap(make_fake_gm(stationary=True)) == pytest.approx(0, abs=1e-9)
    assert np.isnan(selection.gauss_markov_gap(make_fake_gm(with_gap=False)))
    thr = CFG.tv_gap_threshold
    df = claims.claims_table({"gauss_markov": make_fake_gm()}, CFG)
    assert list(df["verdict"]) == ["supported"] and f"{thr:g}" in df["rule"].iloc[0]
    assert np.isnan(df["p"].iloc[0]) and np.isnan(df["q"].iloc[0])  # analytic: no test


def test_noise_only_inconclusive():
    kw = dict(
        adapt_coverage=0.0,
        adapt_entropy=0.0,
        adapt_step=0.0,
        adapt_reach=0.0,
        momentum_speed=0.0,
        momentum_reach=0.0,
        momentum_coverage=0.0,
        cosine=0.0,
        noise=0.05,
    )
    stats = {t: make_fake_stats(t, n_seeds=4, c1_gain=0.0, **kw) for t in ("tmaze", "triangle", "box")}
    df = claims.claims_table(stats, CFG)
    assert len(df) > 0
    assert (df["verdict"] == "inconclusive").all(), df[df["verdict"] != "inconclusive"][
        ["claim", "task", "parts"]
    ]


@pytest.mark.parametrize("n_seeds", [1, 2])
def test_too_few_seeds_give_no_verdict(n_seeds):
    """Clear effects, but fewer seeds than claims.min_seeds (3): no verdict, and the row says so."""
    df = claims.claims_table(full_stats(n_seeds=n_seeds), CFG)
    seeded = df[df["condition"] != "analytic gauss_markov"]
    assert (seeded["verdict"] == "inconclusive").all()
    assert (seeded["n"] <= n_seeds).all()
    assert seeded["note"].str.contains(f"< {CFG.min_seeds} seeds: no verdict").all()


def test_row_set_with_and_without_box_and_one_regime():
    df = claims.claims_table(full_stats(), CFG)
    keys = set(zip(df["claim"], df["condition"]))
    for c in ("C2", "C3", "C4", "C5", "C6"):
        for reg in ("m0", "m1"):
            for t in ("tmaze", "triangle", "box"):
                assert (c, f"{reg} {t}") in keys
    assert ("C6", "analytic gauss_markov") in keys
    assert len(df) == 3 + 4 * 6 + 6 + 1
    assert not df.duplicated(["claim", "condition"]).any()

    no_box = {k: v for k, v in full_stats().items() if k != "box"}
    df2 = claims.claims_table(no_box, CFG)
    assert not df2["condition"].str.contains("box").any()
    assert len(df2) == 3 + 4 * 4 + 4 + 1

    one = {t: make_fake_stats(t, regimes=(False,)) for t in ("tmaze", "triangle", "box")}
    df3 = claims.claims_table(one, CFG)
    assert set(df3["condition"].str.split(" ").str[0]) == {"m0"}
    assert len(df3) == 3 + 4 * 3 + 3  # no gauss_markov file
    only_m1 = {"box": make_fake_stats("box", regimes=(True,))}
    df4 = claims.claims_table(only_m1, CFG)
    assert set(df4["condition"]) == {"m1 box"} and set(df4["claim"]) == {"C2", "C3", "C4", "C5", "C6"}


def test_c1_more_on_tmaze_logic():
    def c1(gain_t, gain_tri):
        stats = {
            "tmaze": make_fake_stats("tmaze", c1_gain=gain_t, regimes=(False,)),
            "triangle": make_fake_stats("triangle", c1_gain=gain_tri, regimes=(False,)),
        }
        df = claims.claims_table(stats, CFG)
        return _rows(df, "C1").set_index("condition")

    r = c1(0.1, 0.03)
    assert r.loc["m0 tmaze vs triangle", "verdict"] == "supported"
    assert r.loc["m0 tmaze", "verdict"] == "supported" and r.loc["m0 triangle", "verdict"] == "supported"
    r = c1(0.03, 0.1)
    assert r.loc["m0 tmaze vs triangle", "verdict"] == "contradicted"
    assert r.loc["m0 tmaze vs triangle", "effect"] < 0
    r = c1(0.05, 0.05)
    assert r.loc["m0 tmaze vs triangle", "verdict"] == "inconclusive"
    # only one track task: no comparison row
    df = claims.claims_table({"tmaze": make_fake_stats("tmaze")}, CFG)
    assert list(_rows(df, "C1")["condition"]) == ["m0 tmaze"]
    # masked k not trained -> inconclusive with a note
    df = claims.claims_table(
        {"tmaze": make_fake_stats("tmaze", mask_k=(1,))}, ClaimsConfig(masked_k=4)
    )
    row = _rows(df, "C1").iloc[0]
    assert row["verdict"] == "inconclusive" and "k=4" in row["note"]


def test_nan_diverged_variants_inconclusive():
    stats = {"tmaze": make_fake_stats("tmaze", nan_variants=[(0.3, 1.0)])}
    df = claims.claims_table(stats, CFG)
    for c in ("C2", "C3"):
        rows = _rows(df, c)
        assert (rows["verdict"] == "inconclusive").all()
        assert rows["note"].str.contains("diverged").all()
    assert (_rows(df, "C4")["verdict"] == "supported").all()


def test_select_variant_and_net_nearest():
    ds = make_fake_stats("tmaze", n_seeds=2)
    v = selection.select_variant(ds, 0.29, 0.52)
    assert float(v["b_a"]) == 0.3 and float(v["lambda_v"]) == 0.5
    i = selection.select_net(ds, alpha=0.25, mask_k=4, modifiers_in_training=False)
    assert str(ds["net"].values[i]) == "a0.2_k4_m0"
    assert str(ds["net"].values[selection.select_net(ds, 0.2, 1, True)]) == "a0.2_k1_m1"
    assert selection.select_net(ds, 0.2, 3, False) is None


def test_write_claims_roundtrip(tmp_path):
    stats = full_stats(n_seeds=3)
    paths = {}
    for k, ds in stats.items():
        p = tmp_path / f"{k}.nc"
        ds.to_netcdf(p)
        paths[k] = str(p)
    prov = {"git": {"commit": "abc1234", "dirty": False}, "package_hash": "deadbeef"}
    out_csv, out_md = tmp_path / "out" / "claims.csv", tmp_path / "out" / "claims.md"
    df = claims.write_claims({"claims": {}}, paths, str(out_csv), str(out_md), prov)
    back = pd.read_csv(out_csv)
    assert list(back.columns) == engine.COLUMNS
    assert len(back) == len(df)
    assert set(back["verdict"]) <= {"supported", "contradicted", "inconclusive"}
    md = out_md.read_text()
    assert "abc1234" in md and "deadbeef" in md and "Verdict rule" in md and "Holm" in md
    assert engine.verdict_counts(df) in md
    assert md.count("\n| C") == len(df)
    assert not list((tmp_path / "out").glob(".tmp_*"))


def test_write_claims_sidecars_hold_the_lineage_and_the_header_names_config_and_scale(tmp_path):
    paths = {}
    for k, ds in {"tmaze": make_fake_stats("tmaze"), "gauss_markov": make_fake_gm()}.items():
        paths[k] = str(tmp_path / f"{k}.nc")
        ds.to_netcdf(paths[k])
    lineage = [{"rule": "replay_stats", "outputs": [paths["tmaze"]]},
               {"rule": "replay_gauss_markov", "outputs": [paths["gauss_markov"]]}]
    files = ["config/config.yaml", "config/paper.yaml"]
    prov = {"git": {"commit": "abc1234", "dirty": False}, "package_hash": "deadbeef",
            "rule": "replay_claims", "config": {"files": files, "schema": "config/schema"},
            "lineage": lineage}
    out_csv, out_md = tmp_path / "claims.csv", tmp_path / "claims.md"
    claims.write_claims({"claims": {}}, paths, str(out_csv), str(out_md), prov)
    for out in (out_csv, out_md):
        rec = json.loads((tmp_path / f"{out.name}.prov.json").read_text())
        assert rec["lineage"] == lineage and rec["config"]["files"] == files
    header = out_md.read_text().split("## Claims")[0]
    assert "`config/config.yaml`, `config/paper.yaml`" in header and "scale: **paper**" in header
    table_header = next(line for line in out_md.read_text().splitlines() if line.startswith("| claim"))
    assert " rule " in table_header


def test_markdown_lists_every_part_of_a_mixed_multi_part_row(tmp_path):
    """C4 with momentum that raises the compression ratio but leaves reach time unchanged: the
    row is inconclusive (ALL); the page shows both parts' intervals and verdicts, not the first
    part's interval beside the row's verdict."""
    ds = make_fake_stats("tmaze", n_seeds=4, momentum_reach=0.0, noise=0.05)
    df = claims.claims_table({"tmaze": ds}, CFG)
    r = _rows(df, "C4", "m0", "tmaze").iloc[0]
    parts = engine.parse_parts(r["parts"])
    assert r["verdict"] == "inconclusive"
    assert [p["verdict"] for p in parts] == ["supported", "inconclusive"]
    # independent truth: the reach part's per-seed differences and their t interval
    net = selection.select_net(ds, alpha=CFG.leaky_alpha, mask_k=1, modifiers_in_training=False)
    v_on = selection.variant_index(ds, 0.0, CFG.momentum_lambda_v)
    v_off = selection.variant_index(ds, 0.0, 1.0)
    d = (ds["reach_rmst"].isel(net=net, variant=v_on) - ds["reach_rmst"].isel(net=net, variant=v_off)).values
    half = sps.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    assert parts[1]["ci_lo"] == pytest.approx(d.mean() - half, rel=1e-3)
    assert parts[1]["ci_hi"] == pytest.approx(d.mean() + half, rel=1e-3)
    md = engine.render_markdown(df, "t", claims.CLAIM_TEXT, claims.rule_of(CFG))
    lines = md.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith("| C4 | m0 tmaze |"))
    row, p1, p2 = lines[i], lines[i + 1], lines[i + 2]
    assert "**inconclusive**" in row and f"| {r['ci_lo']:.4g} |" not in row
    for line, p in ((p1, parts[0]), (p2, parts[1])):
        assert "↳" in line and f"*{p['verdict']}*" in line
        assert f"| {p['ci_lo']:.4g} | {p['ci_hi']:.4g} |" in line
        assert f"| {p['p_adjusted']:.4g} |" in line


def test_gauss_markov_row_says_it_is_analytic_and_needs_no_seeds():
    df = claims.claims_table({"gauss_markov": make_fake_gm(), "tmaze": make_fake_stats("tmaze")}, CFG)
    gm = _rows(df, "C6", task="gauss_markov").iloc[0]
    assert "closed-form Gauss–Markov toy" in gm["note"] and engine.ANALYTIC_NOTE in gm["note"]
    assert "not a sample size" in gm["note"] and "tv_gap_threshold" in gm["note"]
    seeded = df[df["condition"] != "analytic gauss_markov"]
    assert not seeded["note"].str.contains("analytic").any()


def test_c5_is_a_non_inferiority_test_with_the_margin_in_the_row():
    """C5's speed part: momentum + adaptation slightly slower than unmodified, within the margin,
    is 'at least as fast'; far slower is contradicted. The margin is reported."""
    def c5(margin, momentum_speed):
        stats = {"tmaze": make_fake_stats("tmaze", momentum_speed=momentum_speed, adapt_step=0.0,
                                          momentum_coverage=0.5, noise=0.001)}
        cfg = ClaimsConfig(c5_compression_margin=margin, c5_coverage_margin=0.01)
        return _rows(claims.claims_table(stats, cfg), "C5", "m0", "tmaze").iloc[0]

    # momentum_speed = 0: compression(vb) - compression(v0) = 0 exactly (plus noise)
    within = c5(0.05, 0.0)
    assert within["verdict"] == "supported" and within["margin"] == 0.05
    assert "claimed > -0.05" in within["comparison"]
    assert c5(0.0, 0.0)["verdict"] == "inconclusive"  # no margin: equality is not "at least as"
    assert c5(0.05, -0.9)["verdict"] == "contradicted"  # much slower: shown inferior


def test_reach_parts_use_the_restricted_mean():
    df = claims.claims_table(full_stats(), CFG)
    for c in ("C3", "C4"):
        assert _rows(df, c)["metric"].str.contains("reach_rmst").all()
