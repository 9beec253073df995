"""File-to-file steps of the replay study. The Snakemake scripts call these and nothing else.

Each step reads its inputs, calls the pure science functions, and writes one artefact with the
provenance record of the job (``prov``) through :mod:`rnnreplay.io`.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr

from . import io, replay as replay_mod, score, stats, tasks
from .config import (
    TRACK_TASKS,
    DecodeConfig,
    ModelConfig,
    ReplayConfig,
    StatsConfig,
    TaskConfig,
    TrainConfig,
)
from .device import pick_device
from .model import NoisyRNN, StepParams, build_model, from_blob, save_blob
from .training import PathBatcher, train

log = logging.getLogger(__name__)

SWEEP_KEYS = ("alphas", "mask_k", "modifiers_in_training", "replay_alphas")
NET_RE = re.compile(r"^a(?P<alpha>[0-9.]+)_k(?P<k>[0-9]+)_m(?P<m>[01])$")
SAMPLERS = ("overdamped", "underdamped")
N_EXAMPLES = 4

# --------------------------------------------------------------------------------------------
# Networks (training variants) and config resolution
# --------------------------------------------------------------------------------------------


def net_id(alpha: float, k: int, modifiers: bool) -> str:
    return f"a{float(alpha):g}_k{int(k)}_m{int(bool(modifiers))}"


def parse_net(net: str) -> tuple[float, int, bool]:
    m = NET_RE.match(net)
    if not m:
        raise ValueError(f"network id {net!r} is not of the form a<alpha>_k<k>_m<0|1>")
    return float(m["alpha"]), int(m["k"]), m["m"] == "1"


def _sweeps(config: dict) -> dict[str, list]:
    tr = config.get("training", {}) or {}
    return {
        "alphas": list(tr.get("alphas", [1.0, 0.2])),
        "mask_k": list(tr.get("mask_k", [1, 2, 4, 8])),
        "modifiers_in_training": list(tr.get("modifiers_in_training", [False, True])),
        "replay_alphas": list(tr.get("replay_alphas", [0.2])),
    }


def replay_networks(config: dict, task: str) -> list[str]:
    """Networks that are replayed: alpha in replay_alphas, k = 1, every regime."""
    sw = _sweeps(config)
    return [net_id(a, 1, m) for a in sw["replay_alphas"] for m in sw["modifiers_in_training"]]


def networks(config: dict, task: str) -> list[str]:
    """Every network trained for ``task`` (see docs/design.md)."""
    sw = _sweeps(config)
    nets = []
    if task in TRACK_TASKS:
        nets = [net_id(a, k, False) for a in sw["alphas"] for k in sw["mask_k"]]
    for n in replay_networks(config, task):
        if n not in nets:
            nets.append(n)
    return nets


def _section(config: dict, task: str, name: str) -> dict:
    base = dict(config.get(name) or {})
    override = ((config.get("overrides") or {}).get(task) or {}).get(name) or {}
    base.update(override)
    return base


def task_config(config: dict, task: str) -> TaskConfig:
    return TaskConfig.from_dict({**((config.get("task") or {}).get(task) or {}), "name": task})


def model_config(config: dict, task: str) -> ModelConfig:
    return ModelConfig.from_dict(_section(config, task, "model"))


def train_config(config: dict, task: str, net: str) -> TrainConfig:
    alpha, k, mods = parse_net(net)
    section = {k_: v for k_, v in _section(config, task, "training").items() if k_ not in SWEEP_KEYS}
    return TrainConfig.from_dict({**section, "alpha": alpha, "mask_k": k, "modifiers_in_training": mods})


def replay_config(config: dict, task: str) -> ReplayConfig:
    return ReplayConfig.from_dict(_section(config, task, "replay"))


def decode_config(config: dict) -> DecodeConfig:
    return DecodeConfig.from_dict(config.get("decode"))


def stats_config(config: dict, task: str | None = None) -> StatsConfig:
    return StatsConfig.from_dict(_section(config, task, "stats") if task else config.get("stats"))


def _seed_for(seed: int, *salt: str) -> int:
    """A deterministic per-step seed, so train/replay/stats streams never coincide."""
    h = 0
    for ch in "/".join(salt):
        h = (h * 131 + ord(ch)) % 1_000_003
    return int(seed) * 1_000_003 + h


# --------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------


def make_dataset(config: dict, task: str, seed: int, out_nc: str, prov: dict) -> None:
    ds = tasks.generate(task_config(config, task), seed)
    io.write_netcdf(ds, out_nc, prov, title=f"{task} waking paths (train and test splits)",
                    source="rnnreplay.tasks.generate")


def load_dataset(path: str) -> xr.Dataset:
    return io.read_netcdf(path, required_dims=("trial", "time", "space"),
                          required_vars=("position", "velocity"))


def train_network(config: dict, task: str, net: str, seed: int, dataset_nc: str, out_pt: str,
                  out_history_nc: str, prov: dict, checkpoint: str | None = None) -> None:
    ds = load_dataset(dataset_nc)
    mcfg, tcfg = model_config(config, task), train_config(config, task, net)
    device = pick_device()
    torch.manual_seed(_seed_for(seed, task, net, "torch"))
    batcher = PathBatcher(ds, tcfg, device)
    model = build_model(batcher.n_in, batcher.n_code, batcher.n_out, mcfg, tcfg.alpha,
                        seed=_seed_for(seed, task, net, "init"))
    log.info("training %s/%s seed %d on %s: %s", task, net, seed, device, tcfg)
    hist = train(model, batcher, tcfg, sigma=mcfg.sigma_train, seed=_seed_for(seed, task, net),
                 decode=decode_config(config), checkpoint=checkpoint)
    hist = hist.assign_coords(seed=seed).assign_attrs(task=task, net=net, seed=seed,
                                                      alpha=tcfg.alpha, mask_k=tcfg.mask_k,
                                                      modifiers_in_training=int(tcfg.modifiers_in_training))
    io.save_model(save_blob(model, task=task, net=net, seed=seed, train_config=tcfg.to_dict()),
                  out_pt, prov)
    io.write_netcdf(hist, out_history_nc, prov, title=f"training history {task}/{net} seed {seed}",
                    source="rnnreplay.training.train")
    if checkpoint and Path(checkpoint).exists():
        Path(checkpoint).unlink()


def load_network(model_pt: str, device=None) -> tuple[NoisyRNN, dict]:
    blob = io.load_model_blob(model_pt)
    return from_blob(blob, device=device), blob


def run_replay(config: dict, task: str, net: str, seed: int, dataset_nc: str, model_pt: str,
               out_nc: str, prov: dict) -> None:
    ds = load_dataset(dataset_nc)
    info = tasks.task_info(ds)
    device = pick_device()
    model, _ = load_network(model_pt, device)
    rcfg = replay_config(config, task)
    starts = replay_mod.start_positions(info, ds, rcfg.n_traj, _seed_for(seed, task, net, "starts"))
    out = replay_mod.replay(model, info, starts, rcfg, sigma_train=model.cfg.sigma_train,
                            decode=decode_config(config), seed=_seed_for(seed, task, net, "replay"),
                            device=device)
    out = out.assign_attrs(net=net, seed=seed)
    io.write_netcdf(out, out_nc, prov, title=f"replay {task}/{net} seed {seed}",
                    source="rnnreplay.replay.replay")


# --------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------


def _replay_stats(info, pos: np.ndarray, waking: np.ndarray, waking_step: float,
                  scfg: StatsConfig, seed: int) -> dict[str, Any]:
    """All §5 statistics of one variant's trajectories ``pos`` (trial, time, space)."""
    bins, n_bins = tasks.bin_index(info, pos, scfg.track_bins, scfg.box_bins)
    kw: dict[str, Any] = {}
    if info.task == "box":
        kw["reach_distance"] = scfg.box_reach_distance
    else:
        start = np.nan_to_num(pos[:, 0])
        kw["targets"] = tasks.reach_targets(info, start)
        kw["radius"] = scfg.reach_radius
    return stats.trajectory_stats(
        pos, waking_step=waking_step, bins=bins, n_bins=n_bins, max_lag=scfg.msd_max_lag,
        autocorr_max_lag=scfg.autocorr_max_lag, waking=waking,
        wasserstein_method=scfg.wasserstein, wasserstein_samples=scfg.wasserstein_samples,
        wasserstein_projections=scfg.wasserstein_projections,
        kde_bandwidth=scfg.kde_bandwidth if scfg.kde_kl else None, seed=seed, **kw,
    )


SCALAR_STATS = ("step_length", "compression_ratio", "reach_median", "reach_fraction",
                "msd_exponent", "coverage", "entropy", "wasserstein", "kde_kl")
STAT_META = {
    "step_length": ("mean decoded replay step length", "m"),
    "step_length_smooth": ("mean replay step length on the softmax-centroid decode", "m"),
    "compression_ratio": ("replay step length / waking step length", "1"),
    "reach_median": ("median reach time over trajectories that reached the target", "steps"),
    "reach_fraction": ("fraction of trajectories reaching the target within the replay", "1"),
    "msd_exponent": ("slope of log MSD against log lag", "1"),
    "coverage": ("fraction of occupancy bins visited", "1"),
    "entropy": ("normalised occupancy entropy", "1"),
    "wasserstein": ("Wasserstein-1 distance of replay to waking positions", "m"),
    "kde_kl": ("KL(replay || waking) between Gaussian KDEs", "nat"),
    "frac_diverged": ("fraction of replay trajectories that diverged", "1"),
    "frac_out_of_bounds": ("mean fraction of valid steps outside the environment", "1"),
    "drift_score_cosine": ("cosine between zero-input drift and waking score", "1"),
    "fitted_eps": ("least-squares slope of drift on score", "1"),
}


@torch.no_grad()
def waking_hidden(model: NoisyRNN, ds: xr.Dataset, n: int, seed: int) -> np.ndarray:
    """Hidden states (trial, time, N) of the network path-integrating test paths, noise on."""
    info = tasks.task_info(ds)
    pos, vel = tasks.split_arrays(ds, "test")
    pos, vel = torch.as_tensor(pos[:n]), torch.as_tensor(vel[:n])
    device = next(model.parameters()).device
    gen = torch.Generator(device=device).manual_seed(seed)
    _, r = model(vel.to(device), tasks.encode(info, pos[:, 0].to(device)),
                 StepParams(noise_std=model.cfg.sigma_train), generator=gen, return_hidden=True)
    return r.cpu().numpy()


def _decode_np(model: NoisyRNN, info, r: np.ndarray, decode: DecodeConfig) -> np.ndarray:
    with torch.no_grad():
        y = model.readout(torch.as_tensor(r, dtype=torch.float32))
        return tasks.decode(info, y, method=decode.method, k=decode.k,
                            temperature=decode.temperature).numpy()


def _score_stats(model, info, ds, variants_b, variants_l, starts_r, scfg: StatsConfig,
                 decode: DecodeConfig, ref_lambda_v: float, n_traj: int, seed: int):
    """Drift–score alignment per variant and the reference Langevin samplers (SCIENCE.md §5)."""
    hid = waking_hidden(model, ds, n=200, seed=seed)
    states = hid[:, 1:].reshape(-1, hid.shape[-1])
    dens = score.fit_density(states, scfg.score_pca, kind=scfg.score_density,
                             n_components=scfg.score_gmm_components, seed=seed)
    rng = np.random.default_rng(seed)
    pts = states[rng.choice(len(states), size=min(2000, len(states)), replace=False)]
    s = dens.score(pts)
    pts_t = torch.as_tensor(pts, dtype=torch.float32)
    cos, eps = [], []
    for b, lv in zip(variants_b, variants_l):
        f = model.drift(pts_t, b_a=float(b), lambda_v=float(lv), velocity=scfg.drift_velocity).numpy()
        al = score.drift_score_alignment(f, s, subspace=dens if scfg.score_subspace else None)
        cos.append(al["cosine"])
        eps.append(al["eps"])
    # Reference samplers on p̂ with the step fitted to the unmodified network.
    base = int(np.argmin(np.abs(np.asarray(variants_b)) + np.abs(np.asarray(variants_l) - 1.0)))
    h = score.fitted_step(eps[base])
    ref_pos = {}
    if np.isfinite(h):
        par = score.rnn_langevin_params(h, lambda_v=ref_lambda_v)
        z0 = dens.project(starts_r[:n_traj])
        zo = score.overdamped_langevin(dens.score_z, z0, par["overdamped_eps"], scfg.reference_steps,
                                       np.random.default_rng(seed + 1))
        zu = score.underdamped_langevin(dens.score_z, z0, par["underdamped_eps"], par["gamma_eps"],
                                        scfg.reference_steps, np.random.default_rng(seed + 2))
        for name, z in (("overdamped", zo), ("underdamped", zu)):
            ref_pos[name] = _decode_np(model, info, dens.lift(z.reshape(-1, z.shape[-1])), decode) \
                .reshape(z.shape[0], z.shape[1], 2)
    tv = score.time_binned_score_gap(hid, scfg.time_bins, scfg.score_pca, seed=seed)
    return np.asarray(cos), np.asarray(eps), ref_pos, float(tv["gap_mean"])


def compute_stats(config: dict, task: str, dataset_nc: str, models: list[str], histories: list[str],
                  replays: list[str], out_nc: str, prov: dict) -> None:
    """Aggregate every network, seed and replay variant of ``task`` into one statistics file."""
    ds = load_dataset(dataset_nc)
    info = tasks.task_info(ds)
    scfg, decode, rcfg = stats_config(config, task), decode_config(config), replay_config(config, task)
    seeds = [int(s) for s in config.get("seeds", [0])]
    nets = networks(config, task)
    rnets = set(replay_networks(config, task))
    variants = rcfg.variants()
    n_var = len(variants)
    lags = np.arange(1, scfg.autocorr_max_lag + 1)
    wpos, _ = tasks.split_arrays(ds, "test")
    waking_step = float(stats.mean_step_length(wpos))
    waking_cloud = wpos.reshape(-1, 2)

    def by_key(paths, pattern):
        out = {}
        for p in paths:
            m = re.search(pattern, str(p))
            if not m:
                raise ValueError(f"cannot tell network and seed from input path {p}")
            out[(m["net"], int(m["seed"]))] = p
        return out

    pat = r"(?P<net>a[0-9.]+_k[0-9]+_m[01])/seed(?P<seed>[0-9]+)"
    hist_by, model_by, rep_by = by_key(histories, pat), by_key(models, pat), by_key(replays, pat)

    shape3 = (len(seeds), len(nets), n_var)
    arr = {k: np.full(shape3, np.nan) for k in (*SCALAR_STATS, "frac_diverged", "frac_out_of_bounds",
                                                "drift_score_cosine", "fitted_eps", "step_length_smooth")}
    autocorr = np.full(shape3 + (len(lags),), np.nan)
    ref = {k: np.full((len(seeds), len(nets), len(SAMPLERS)), np.nan) for k in SCALAR_STATS}
    tv_gap = np.full((len(seeds), len(nets)), np.nan)
    final_err = np.full((len(seeds), len(nets)), np.nan)
    histories_ds = {}
    example = None
    ref_example = None
    steps = rcfg.steps
    for si, seed in enumerate(seeds):
        for ni, net in enumerate(nets):
            h = io.read_netcdf(hist_by[(net, seed)], required_dims=("iteration",))
            histories_ds[(si, ni)] = h
            final_err[si, ni] = float(h["position_error"].values[-1])
            if net not in rnets:
                continue
            rep = io.read_netcdf(rep_by[(net, seed)], required_dims=("variant", "trial", "time", "space"),
                                 required_vars=("position", "diverged"))
            pos = rep["position"].values
            for vi in range(n_var):
                st = _replay_stats(info, pos[vi], waking_cloud, waking_step, scfg,
                                   seed=_seed_for(seed, task, net, str(vi)))
                for k in SCALAR_STATS:
                    arr[k][si, ni, vi] = st[k]
                autocorr[si, ni, vi] = st["step_autocorr"]
                if "position_smooth" in rep:
                    arr["step_length_smooth"][si, ni, vi] = stats.mean_step_length(rep["position_smooth"].values[vi])
            arr["frac_diverged"][si, ni] = rep["diverged"].values.mean(axis=1)
            arr["frac_out_of_bounds"][si, ni] = np.nanmean(rep["out_of_bounds"].values, axis=1)
            model, _ = load_network(model_by[(net, seed)])
            start_xy = replay_mod.start_positions(info, ds, rcfg.n_traj,
                                                  _seed_for(seed, task, net, "starts"))
            with torch.no_grad():
                r0 = model.encoder(tasks.encode(info, torch.as_tensor(start_xy))).numpy()
            cos, eps, ref_pos, gap = _score_stats(
                model, info, ds, rep["b_a"].values, rep["lambda_v"].values, r0, scfg, decode,
                config.get("claims", {}).get("momentum_lambda_v", 0.5), rcfg.n_traj,
                seed=_seed_for(seed, task, net, "score"))
            arr["drift_score_cosine"][si, ni] = cos
            arr["fitted_eps"][si, ni] = eps
            tv_gap[si, ni] = gap
            for qi, sampler in enumerate(SAMPLERS):
                if sampler in ref_pos:
                    st = _replay_stats(info, ref_pos[sampler], waking_cloud, waking_step, scfg,
                                       seed=_seed_for(seed, task, net, sampler))
                    for k in SCALAR_STATS:
                        ref[k][si, ni, qi] = st[k]
            if si == 0:
                if example is None:
                    example = np.full((len(nets), n_var, N_EXAMPLES, steps + 1, 2), np.nan, np.float32)
                    ref_example = np.full((len(nets), len(SAMPLERS), N_EXAMPLES,
                                           scfg.reference_steps + 1, 2), np.nan, np.float32)
                example[ni] = pos[:, :N_EXAMPLES]
                for qi, sampler in enumerate(SAMPLERS):
                    if sampler in ref_pos:
                        ref_example[ni, qi] = ref_pos[sampler][:N_EXAMPLES]
    out = _stats_dataset(task, seeds, nets, variants, lags, arr, autocorr, ref, tv_gap, final_err,
                         histories_ds, example, ref_example, wpos, waking_step)
    out.attrs.update(decoder=decode.method if task == "box" else "identity",
                     wasserstein_method=scfg.wasserstein)
    io.write_netcdf(out, out_nc, prov, title=f"replay statistics, task {task}",
                    source="rnnreplay.pipeline.compute_stats")


def _stats_dataset(task, seeds, nets, variants, lags, arr, autocorr, ref, tv_gap, final_err,
                   histories, example, ref_example, wpos, waking_step) -> xr.Dataset:
    parsed = [parse_net(n) for n in nets]
    iters = histories[(0, 0)]["iteration"].values
    hist = {k: np.full((len(seeds), len(nets), len(iters)), np.nan)
            for k in ("train_loss", "test_loss", "position_error")}
    for (si, ni), h in histories.items():
        n = min(len(iters), h.sizes["iteration"])
        for k in hist:
            hist[k][si, ni, :n] = h[k].values[:n]
    v3 = ("seed", "net", "variant")
    data = {k: (v3, arr[k], {"long_name": STAT_META[k][0], "units": STAT_META[k][1]}) for k in arr}
    if task != "box":
        del data["step_length_smooth"]
    data["step_autocorr"] = (v3 + ("lag",), autocorr,
                             {"long_name": "autocorrelation of decoded replay steps", "units": "1"})
    for k, v in ref.items():
        data[f"ref_{k}"] = (("seed", "net", "sampler"), v,
                            {"long_name": f"{STAT_META[k][0]} (reference Langevin sampler)",
                             "units": STAT_META[k][1]})
    data["tv_score_gap"] = (("seed", "net"), tv_gap,
                            {"long_name": "relative gap between time-binned and pooled waking scores",
                             "units": "1"})
    data["final_position_error"] = (("seed", "net"), final_err,
                                    {"long_name": "decoded-position error on the test split at the end of training",
                                     "units": "m"})
    for k, meta in (("train_loss", ("training MSE", "1")), ("test_loss", ("test MSE", "1")),
                    ("position_error", ("decoded-position error on the test split", "m"))):
        data[k] = (("seed", "net", "iteration"), hist[k], {"long_name": meta[0], "units": meta[1]})
    data["waking_step_length"] = (("seed",), np.full(len(seeds), waking_step),
                                  {"long_name": "mean waking step length", "units": "m"})
    if example is not None:
        data["example_position"] = (("net", "variant", "example", "time", "space"), example,
                                    {"long_name": "example replay trajectories (first seed)", "units": "m"})
        data["ref_example_position"] = (("net", "sampler", "example", "ref_time", "space"), ref_example,
                                        {"long_name": "example reference-sampler trajectories (first seed)",
                                         "units": "m"})
    data["waking_example"] = (("example", "waking_time", "space"), wpos[:N_EXAMPLES].astype(np.float32),
                              {"long_name": "example waking paths (test split)", "units": "m"})
    coords = {
        "seed": np.asarray(seeds),
        "net": np.asarray(nets),
        "alpha": ("net", np.array([p[0] for p in parsed]), {"long_name": "leak alpha"}),
        "mask_k": ("net", np.array([p[1] for p in parsed]), {"long_name": "mask difficulty k"}),
        "modifiers_in_training": ("net", np.array([int(p[2]) for p in parsed]),
                                  {"long_name": "modifiers on during training (1) or replay only (0)"}),
        "variant": np.arange(len(variants)),
        "b_a": ("variant", np.array([m.b_a for m in variants])),
        "lambda_v": ("variant", np.array([m.lambda_v for m in variants])),
        "lag": ("lag", lags, {"units": "steps"}),
        "iteration": iters,
        "sampler": np.asarray(SAMPLERS),
        "space": ["x", "y"],
    }
    return xr.Dataset(data, coords=coords, attrs={"task": task})


def gauss_markov(config: dict, out_nc: str, prov: dict) -> None:
    """Analytic time-varying score of the Gauss–Markov toy x_{t+1} = ρ x_t + η (SCIENCE.md §5.3)."""
    s = stats_config(config)
    m, P = score.gauss_markov_marginals(s.gm_rho, s.gm_q, s.gm_m0, s.gm_p0, s.gm_steps)
    m, P = np.asarray(m, float).reshape(-1), np.asarray(P, float).reshape(-1)
    pooled = float(score.pooled_score_rate(m, P))
    gap = score.score_rate_gap(P, pooled)
    t = np.arange(len(P))
    ds = xr.Dataset(
        {
            "m_t": ("time", m, {"long_name": "marginal mean", "units": "1"}),
            "P_t": ("time", P, {"long_name": "marginal variance", "units": "1"}),
            "score_rate": ("time", 1.0 / P, {"long_name": "exact score rate 1/P_t (score = -(x - m_t)/P_t)",
                                            "units": "1"}),
            "pooled_score_rate": ((), pooled, {"long_name": "score rate of the time-pooled Gaussian",
                                              "units": "1"}),
            "score_rate_gap": ("time", np.asarray(gap, float).reshape(-1),
                               {"long_name": "|1/P_t - pooled rate| / (1/P_t)", "units": "1"}),
            "stationary_variance": ((), float(score.stationary_variance(s.gm_rho, s.gm_q)),
                                    {"long_name": "q / (1 - rho^2)", "units": "1"}),
        },
        coords={"time": ("time", t, {"units": "steps"})},
        attrs={"rho": s.gm_rho, "q": s.gm_q, "m0": s.gm_m0, "P0": s.gm_p0},
    )
    io.write_netcdf(ds, out_nc, prov, title="Gauss-Markov toy: exact time-varying score",
                    source="rnnreplay.score.gauss_markov_marginals")
