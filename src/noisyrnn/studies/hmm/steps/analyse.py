"""Step analyse: emission metrics and mechanism analyses of every seed of one model, and the
training-dynamics statistics of its checkpoints (when it has them)."""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from ....core import io
from ....core.seeds import derive_seed
from .. import analysis, grid
from .. import mechanism as mech
from .data import check_matrices, hmm_of

#: dims after ``seed`` of each per-network value; absent: a scalar
DIMS = {
    "transition_rnn": ("symbol", "next_symbol"), "transition_hmm": ("symbol", "next_symbol"),
    "transition_sq_error": ("symbol", "next_symbol"),
    "transition_sq_error_baseline": ("symbol", "next_symbol"),
    "marginal_mean": ("symbol",), "marginal_sd": ("symbol",), "marginal_mean_hmm": ("symbol",),
    "marginal_sd_hmm": ("symbol",), "pca_explained": ("pc",), "orbit_pc": ("point", "pc"),
    "orbit_symbol": ("point",), "fp_pc": ("pc",), "readout_alignment": ("symbol",),
    "orbit_radius": ("noise_level",), "orbit_noise_pc": ("noise_level", "level_point", "pc2"),
    "rt": ("rt_state",), "rt_symbol": ("rt_state",), "sign_changes": ("rt_state",), "region": ("rt_state",),
    "unstable": ("rt_state",), "rt_pc": ("rt_state", "pc"), "kick_mask": ("neuron",), "kick_p_cluster": ("neuron",),
    "kick_p_transition": ("neuron",), "kick_median": ("neuron",), "kick_group": ("neuron",),
    "kick_block": ("from_group", "to_group"),
    "pop_sizes": ("population",), "sensitivity_cluster": ("gamma", "sens_step"),
    "sensitivity_transition": ("gamma", "sens_step"), "ablation_rate": ("ablation", "gain"),
    "ablation_pairs": ("ablation", "gain"),
}
LONG_NAMES = {
    "distance": "Sinkhorn-aligned Euclidean distance RNN–HMM",
    "distance_baseline": "Sinkhorn-aligned Euclidean distance HMM–HMM (independent samples)",
    "volatility_mean": "symbol changes per sequence (RNN)",
    "volatility_iid": "volatility of i.i.d. symbols with the RNN's marginals",
    "left_plateau": "volatility <= plateau_ratio x i.i.d. volatility",
    "run_diverged_at": "step at which the long noise-driven run blew up (|h| past divergence_factor x |W_ih|_F; NaN: never)",
    "fp_spread": "largest end-state distance to h* over max(1, |h*|) after relaxation",
    "region": "region (0 transition, 1 kick-zone, 2 cluster, -1 none)",
    "rt": "residency time (steps until the argmax output changes)",
    "orbit_radius": "orbit radius in PC1-PC2 (mean distance to the centroid)",
    "kick_mask": "kick neuron found by the rule",
    "ablation_rate": "output changes per step under the gain",
    "ablation_pairs": "critical complex pairs per step within the window of output changes",
}
ABLATIONS = ("kick_recurrent", "partner_noise", "control_noise")


def _stack(per_seed: list[dict], seeds: list[int]) -> dict:
    data = {}
    for key in per_seed[0]:
        vals = [np.asarray(p[key]) for p in per_seed]
        arr = np.stack(vals)
        if arr.dtype == bool:
            arr = arr.astype(np.int8)
        dims = ("seed", *DIMS.get(key, ()))
        if arr.ndim != len(dims):
            raise ValueError(f"analysis value {key} has shape {arr.shape}, dims {dims}")
        data[key] = (dims, arr, {"long_name": LONG_NAMES.get(key, key.replace("_", " "))})
    return data


def dynamics_dataset(training: xr.Dataset, seeds: list[int], cfg: dict, name: str, model: str) -> dict:
    dy = cfg["analysis"]["dynamics"]
    ck = training["checkpoint"].values
    pick = ck[::max(1, int(dy["every"]))]
    rate = np.full((len(seeds), len(pick)), np.nan)
    crit = np.full_like(rate, np.nan)
    n = training.sizes["neuron"]
    e2 = np.full((len(seeds), len(pick), n), np.nan)
    for j, s in enumerate(seeds):
        for i, c in enumerate(pick):
            w = {k: training[f"{k}_ckpt"].sel(seed=s, checkpoint=c).values for k in ("W_ih", "W_hh", "A")}
            gen = torch.Generator().manual_seed(derive_seed(s, "hmm", "dynamics", name, model, str(int(c))))
            d = analysis.dynamics(mech.Net.of(**w), gen, dy, float(cfg["analysis"]["divergence_factor"]))
            rate[j, i], crit[j, i], e2[j, i] = d["transition_rate"], d["critical_fraction"], d["e2"]
    bif = np.array([mech.bifurcation_epoch(pick, crit[j], float(dy["jump"])) for j in range(len(seeds))])
    return {
        "dyn_transition_rate": (("seed", "dyn_epoch"), rate, {"long_name": "transition rate (mean 1/interval between output changes)", "units": "1/steps"}),
        "dyn_critical_fraction": (("seed", "dyn_epoch"), crit, {"long_name": "fraction of noisy steps with a near-critical pair and some |lambda| > 1"}),
        "dyn_e2": (("seed", "dyn_epoch", "neuron"), e2, {"long_name": "E[delta h(2)] per neuron (mean of h_noisy - h_noise-free)"}),
        "bifurcation_epoch": (("seed",), bif, {"long_name": "first checkpoint where the critical fraction rises by more than the jump", "units": "epochs"}),
    }, pick


def analyse_model(settings: dict, name: str, model: str, data_nc: str, train_nc: str,
                  out_nc: str, prov: dict) -> xr.Dataset:
    data = io.read_netcdf(data_nc, required_vars=["transition", "emission"])
    hmm = hmm_of(settings, name)
    check_matrices(data, hmm, data_nc)
    tr = io.read_netcdf(train_nc, required_vars=["W_ih", "W_hh", "A", "val_loss"])
    seeds = [int(s) for s in tr["seed"].values]
    md = settings["model"]
    per_seed = []
    for s in seeds:
        w = {k: tr[k].sel(seed=s).values for k in ("W_ih", "W_hh", "A")}
        per_seed.append(analysis.analyse(
            mech.Net.of(**w), hmm, eval_length=int(settings["eval_length"]),
            first_symbol=md["first_symbol"], tau=float(md["gumbel_tau"]),
            seed=derive_seed(s, "hmm", "analyse", name, model), cfg=settings))
    data_vars = _stack(per_seed, seeds)
    an = settings["analysis"]
    coords = {"seed": ("seed", np.asarray(seeds, np.int64)),
              "noise_level": ("noise_level", np.asarray(an["orbit_noise_levels"], float),
                              {"long_name": f"noise level (applied as {an['noise_param']})"}),
              "gamma": ("gamma", np.asarray(an["sensitivity"]["gammas"], float),
                        {"long_name": "fresh-noise fraction"}),
              "gain": ("gain", np.asarray(an["ablation"]["gains"], float), {"long_name": "gain mu"}),
              "ablation": ("ablation", list(ABLATIONS))}
    if "checkpoint" in tr.coords and an["dynamics"]["enabled"]:
        dyn, pick = dynamics_dataset(tr, seeds, settings, name, model)
        data_vars.update(dyn)
        coords["dyn_epoch"] = ("dyn_epoch", np.asarray(pick, np.int64), {"units": "epochs"})
    data_vars["val_loss"] = tr["val_loss"].variable
    data_vars["train_loss"] = tr["train_loss"].variable
    data_vars["best_epoch"] = tr["best_epoch"].variable
    coords["epoch"] = tr["epoch"].variable
    hidden, dim = grid.parse_model(model)
    ds = xr.Dataset(data_vars, coords=coords,
                    attrs={"hmm": name, "model": model, "n_hidden": hidden, "input_dim": dim,
                           "eval_length": int(settings["eval_length"]),
                           "fp_tol": float(an["fp_tol"]), "plateau_ratio": float(an["plateau_ratio"])})
    io.write_netcdf(ds, out_nc, prov, title=f"hmm analysis, {name} {model}",
                    source="noisyrnn.studies.hmm.analysis")
    return ds
