"""Step stats: statistics of one task over every seed, network and replay variant (SCIENCE.md §5).

Figures and claims read the file this step writes, and nothing upstream of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import xarray as xr

from ....core import io
from ....core.cell import NoisyRNN, StepParams
from ....core.seeds import derive_seed
from .. import replay as replay_mod
from .. import score, stats, tasks
from ..artefacts import load_dataset, load_network
from ..nets import network_seeds, networks, parse_net, replay_networks
from ..replay import ReplayConfig
from ..stats import StatsConfig
from ..tasks import DecodeConfig

SAMPLERS = ("overdamped", "underdamped")
N_EXAMPLES = 4


def _keyed(paths: list[str], keys: list[tuple[str, int]], what: str) -> dict[tuple[str, int], str]:
    """{(net, seed): path} for input files listed in :func:`nets.network_seeds` order."""
    paths = [str(p) for p in paths]
    if len(paths) != len(keys):
        raise ValueError(f"stats: {len(paths)} {what} given for {len(keys)} (network, seed) pairs")
    return dict(zip(keys, paths))


def _replay_stats(info, pos: np.ndarray, waking: np.ndarray, waking_step: float,
                  scfg: StatsConfig, seed: int) -> dict[str, Any]:
    """All §5 statistics of one variant's trajectories ``pos`` (trial, time, space)."""
    bins, n_bins = tasks.bin_index(info, pos, scfg.track_bins, scfg.box_bins,
                                   track_tolerance=scfg.track_support_tolerance)
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


SCALAR_STATS = ("step_length", "compression_ratio", "reach_median", "reach_rmst", "reach_fraction",
                "msd_exponent", "coverage", "entropy", "coverage_pooled", "entropy_pooled",
                "frac_off_support", "wasserstein", "kde_kl")
STAT_META = {
    "step_length": ("mean decoded replay step length", "m"),
    "step_length_smooth": ("mean replay step length on the softmax-centroid decode", "m"),
    "compression_ratio": ("replay step length / waking step length", "1"),
    "reach_median": ("Kaplan-Meier median reach time, censored at the replay length (inf: "
                     "fewer than half reach)", "steps"),
    "reach_rmst": ("restricted mean reach time up to the replay length (Kaplan-Meier)", "steps"),
    "reach_fraction": ("fraction of trajectories reaching the target within the replay", "1"),
    "msd_exponent": ("slope of log MSD against log lag", "1"),
    "coverage": ("mean over trajectories of the fraction of occupancy bins visited", "1"),
    "entropy": ("mean over trajectories of the normalised occupancy entropy", "1"),
    "coverage_pooled": ("fraction of occupancy bins visited by the union of all trajectories", "1"),
    "entropy_pooled": ("normalised occupancy entropy of the union of all trajectories", "1"),
    "frac_off_support": ("fraction of valid decoded points off the environment (outside the box, "
                         "or farther than stats.track_support_tolerance from the track), pooled "
                         "over trajectories; coverage and entropy ignore them", "1"),
    "wasserstein": ("Wasserstein-1 distance of replay to waking positions", "m"),
    "kde_kl": ("KL(replay || waking) between Gaussian KDEs", "nat"),
    "frac_diverged": ("fraction of replay trajectories that diverged", "1"),
    "frac_out_of_bounds": ("mean over trajectories of the fraction of valid decoded points "
                           "farther than replay.bounds_tolerance outside the environment", "1"),
    "drift_score_cosine": ("cosine between zero-input drift and waking score", "1"),
    "fitted_eps": ("least-squares slope of drift on score", "1"),
}


@torch.no_grad()
def waking_hidden(model: NoisyRNN, ds: xr.Dataset, n: int, seed: int) -> np.ndarray:
    """Hidden states (trial, time, N) of the network path-integrating test paths, noise on."""
    info = tasks.task_info(ds)
    pos, inp = tasks.split_arrays(ds, "test")  # inp: what the network was trained on
    pos, inp = torch.as_tensor(pos[:n]), torch.as_tensor(inp[:n])
    device = next(model.parameters()).device
    gen = torch.Generator(device=device).manual_seed(seed)
    _, r = model(inp.to(device), tasks.encode(info, pos[:, 0].to(device)),
                 StepParams(noise_std=model.cfg.sigma_train), generator=gen, return_hidden=True)
    return r.cpu().numpy()


def _decode_np(model: NoisyRNN, info, r: np.ndarray, decode: DecodeConfig) -> np.ndarray:
    with torch.no_grad():
        y = model.readout(torch.as_tensor(r, dtype=torch.float32))
        return tasks.decode(info, y, method=decode.method, k=decode.k,
                            temperature=decode.temperature).numpy()


def cell_step(eps_fit: float, lambda_v: float, drift_velocity: str) -> float:
    """The cell's per-step velocity increment h (Δ ≈ h ∇log p̂) from the fitted slope ``eps_fit``.

    ``drift_velocity="terminal"`` fits the terminal velocity Δ/λ_v, so ``eps_fit = h / λ_v``;
    ``"first_step"`` fits Δ itself. NaN unless the slope is finite and positive
    (:func:`score.fitted_step`).
    """
    eps = score.fitted_step(eps_fit)
    if drift_velocity == "terminal":
        return eps * float(lambda_v)
    if drift_velocity == "first_step":
        return eps
    raise ValueError(f"drift_velocity={drift_velocity!r} is not one of terminal, first_step")


def reference_params(h: float, lambda_v: float, sigma: float) -> dict[str, dict[str, float]] | None:
    """Parameters of the two reference samplers matched to one replay variant; None if h is NaN.

    ``h``: the variant's velocity increment step (:func:`cell_step`); ``lambda_v``: its friction;
    ``sigma``: the replay noise std. The momentum cell ``v' = (1 − λ_v) v + h s + σ ξ``,
    ``r' = r + v'`` is exactly :func:`score.underdamped_langevin` with ``ε = √h``, ``γε = λ_v``
    and ``noise_scale = σ / √(2 λ_v h)`` (:func:`score.rnn_langevin_params`), so it samples
    ``p̂^(1/noise_scale²)``: that noise_scale is the variant's effective temperature.

    * ``underdamped``: the cell itself, those three parameters.
    * ``overdamped``: the Markov sampler of the *same* tempered density and the same mean step
      per replay step: ``ε = h / λ_v`` (the terminal-velocity step, the fitted ε of the default
      ``drift_velocity="terminal"``) at the same ``noise_scale``. Only momentum differs between
      the two. At λ_v = 1 this is ``rnn_langevin_params``' overdamped ``(h, σ/√(2h))`` and the two
      samplers are the same chain in law. (Overdamped at step h and noise σ, the cell without
      momentum, would sample a λ_v times colder density than the variant.)
    """
    if not np.isfinite(h) or h <= 0:
        return None
    par = score.rnn_langevin_params(h, lambda_v=lambda_v, sigma=sigma)
    temp = par["noise_scale_underdamped"]
    return {
        "overdamped": {"eps": h / par["gamma_eps"], "noise_scale": temp},
        "underdamped": {"eps": par["underdamped_eps"], "gamma_eps": par["gamma_eps"], "noise_scale": temp},
    }


def reference_trajectories(score_z: score.ScoreFn, z0: np.ndarray, params: dict[str, dict[str, float]],
                           n_steps: int, seed: Sequence[int]) -> dict[str, np.ndarray]:
    """Both reference samplers from the starts ``z0`` (B, k), each run as one batch of B chains.

    Returns ``{sampler: (B, n_steps + 1, k)}`` subspace trajectories; each sampler has its own
    generator, seeded by ``(*seed, sampler index)``.
    """
    od, ud = params["overdamped"], params["underdamped"]
    rng = {q: np.random.default_rng([*map(int, seed), qi]) for qi, q in enumerate(SAMPLERS)}
    return {
        "overdamped": score.overdamped_langevin(score_z, z0, od["eps"], n_steps, rng["overdamped"],
                                                noise_scale=od["noise_scale"]),
        "underdamped": score.underdamped_langevin(score_z, z0, ud["eps"], ud["gamma_eps"], n_steps,
                                                  rng["underdamped"], noise_scale=ud["noise_scale"]),
    }


def _decode_ref(model: NoisyRNN, info, dens: score.Density, z: np.ndarray,
                decode: DecodeConfig) -> np.ndarray:
    """Decoded positions (B, T, 2) of subspace trajectories z (B, T, k); NaN where z diverged
    (a top-k decode of a NaN output would otherwise return finite centres)."""
    with np.errstate(invalid="ignore", over="ignore"):  # diverged chains: inf / NaN, masked below
        r = dens.lift(z.reshape(-1, z.shape[-1]))
    pos = _decode_np(model, info, r, decode)
    pos = pos.reshape(z.shape[0], z.shape[1], 2).astype(np.float64)
    pos[~np.all(np.isfinite(z), axis=-1)] = np.nan
    return pos


def _score_stats(model, info, ds, variants_b, variants_l, starts_r, scfg: StatsConfig,
                 decode: DecodeConfig, sigma: float, n_traj: int, seed: int):
    """Drift–score alignment per variant and, per variant, the reference Langevin samplers
    matched to it (its own fitted step, friction and effective temperature; SCIENCE.md §5).

    Returns (cosine (V,), eps (V,), {(variant, sampler): positions (n_traj, T+1, 2)},
    {"eps"|"noise_scale": (V, sampler)} sampler parameters, time-varying score gap).
    """
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
    z0 = dens.project(starts_r[:n_traj])
    ref_pos: dict[tuple[int, str], np.ndarray] = {}
    ref_par = {k: np.full((len(eps), len(SAMPLERS)), np.nan) for k in ("eps", "noise_scale")}
    for vi, (e, lv) in enumerate(zip(eps, variants_l)):
        par = reference_params(cell_step(e, lv, scfg.drift_velocity), float(lv), sigma)
        if par is None:  # the drift does not descend p̂: no Langevin step matches this variant
            continue
        zs = reference_trajectories(dens.score_z, z0, par, scfg.reference_steps, (seed, vi))
        for qi, q in enumerate(SAMPLERS):
            ref_pos[(vi, q)] = _decode_ref(model, info, dens, zs[q], decode)
            ref_par["eps"][vi, qi] = par[q]["eps"]
            ref_par["noise_scale"][vi, qi] = par[q]["noise_scale"]
    tv = score.time_binned_score_gap(hid, scfg.time_bins, scfg.score_pca, seed=seed)
    return np.asarray(cos), np.asarray(eps), ref_pos, ref_par, float(tv["gap_mean"])


def compute_stats(settings: dict, task: str, dataset_nc: str, models: list[str],
                  histories: list[str], replays: list[str], out_nc: str, prov: dict) -> None:
    """Aggregate every network, seed and replay variant of ``task`` into one statistics file.

    ``models`` and ``histories`` list one file per :func:`nets.network_seeds` pair of every
    trained network, ``replays`` one per pair of the replayed networks, in that order.
    """
    ds = load_dataset(dataset_nc)
    info = tasks.task_info(ds)
    scfg = StatsConfig.from_dict(settings["stats"])
    decode = DecodeConfig.from_dict(settings["decode"])
    rcfg = ReplayConfig.from_dict(settings["replay"])
    seeds = [int(s) for s in settings["seeds"]]
    nets = networks(settings["sweeps"], task)
    replayed = replay_networks(settings["sweeps"])
    rnets = set(replayed)
    variants = rcfg.variants()
    n_var = len(variants)
    lags = np.arange(1, scfg.autocorr_max_lag + 1)
    wpos, _ = tasks.split_arrays(ds, "test")
    waking_step = float(stats.mean_step_length(wpos))
    waking_cloud = wpos.reshape(-1, 2)
    hist_by = _keyed(histories, network_seeds(nets, seeds), "histories")
    model_by = _keyed(models, network_seeds(nets, seeds), "models")
    rep_by = _keyed(replays, network_seeds(replayed, seeds), "replays")

    shape3 = (len(seeds), len(nets), n_var)
    arr = {k: np.full(shape3, np.nan) for k in (*SCALAR_STATS, "frac_diverged", "frac_out_of_bounds",
                                                "drift_score_cosine", "fitted_eps", "step_length_smooth")}
    autocorr = np.full(shape3 + (len(lags),), np.nan)
    shape_ref = shape3 + (len(SAMPLERS),)
    ref = {k: np.full(shape_ref, np.nan) for k in SCALAR_STATS}
    ref_par = {k: np.full(shape_ref, np.nan) for k in ("eps", "noise_scale")}
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
                                   seed=derive_seed(seed, task, net, str(vi)))
                for k in SCALAR_STATS:
                    arr[k][si, ni, vi] = st.get(k, np.nan)  # kde_kl: off by config
                autocorr[si, ni, vi] = st["step_autocorr"]
                if "position_smooth" in rep:
                    arr["step_length_smooth"][si, ni, vi] = stats.mean_step_length(rep["position_smooth"].values[vi])
            arr["frac_diverged"][si, ni] = rep["diverged"].values.mean(axis=1)
            arr["frac_out_of_bounds"][si, ni] = np.nanmean(rep["out_of_bounds"].values, axis=1)
            model, _ = load_network(model_by[(net, seed)])
            start_xy = replay_mod.start_positions(info, ds, rcfg.n_traj,
                                                  derive_seed(seed, task, net, "starts"))
            with torch.no_grad():
                r0 = model.encoder(tasks.encode(info, torch.as_tensor(start_xy))).numpy()
            # the replay noise std, as replay.replay ran it (its file's noise_std attribute)
            sigma = rcfg.noise_scale * model.cfg.sigma_train
            cos, eps, ref_pos, par, gap = _score_stats(
                model, info, ds, rep["b_a"].values, rep["lambda_v"].values, r0, scfg, decode,
                sigma, rcfg.n_traj, seed=derive_seed(seed, task, net, "score"))
            arr["drift_score_cosine"][si, ni] = cos
            arr["fitted_eps"][si, ni] = eps
            tv_gap[si, ni] = gap
            for k in ref_par:
                ref_par[k][si, ni] = par[k]
            for (vi, sampler), rpos in ref_pos.items():
                st = _replay_stats(info, rpos, waking_cloud, waking_step, scfg,
                                   seed=derive_seed(seed, task, net, sampler, str(vi)))
                for k in SCALAR_STATS:
                    ref[k][si, ni, vi, SAMPLERS.index(sampler)] = st.get(k, np.nan)
            if si == 0:
                if example is None:
                    example = np.full((len(nets), n_var, N_EXAMPLES, steps + 1, 2), np.nan, np.float32)
                    ref_example = np.full((len(nets), n_var, len(SAMPLERS), N_EXAMPLES,
                                           scfg.reference_steps + 1, 2), np.nan, np.float32)
                example[ni] = pos[:, :N_EXAMPLES]
                for (vi, sampler), rpos in ref_pos.items():
                    ref_example[ni, vi, SAMPLERS.index(sampler)] = rpos[:N_EXAMPLES]
    out = _stats_dataset(task, seeds, nets, variants, lags, arr, autocorr, ref, ref_par, tv_gap,
                         final_err, histories_ds, example, ref_example, wpos, waking_step)
    out.attrs.update(decoder=decode.method if task == "box" else "identity",
                     wasserstein_method=scfg.wasserstein)
    io.write_netcdf(out, out_nc, prov, title=f"replay statistics, task {task}",
                    source="noisyrnn.studies.replay.steps.stats.compute_stats")


def _stats_dataset(task, seeds, nets, variants, lags, arr, autocorr, ref, ref_par, tv_gap,
                   final_err, histories, example, ref_example, wpos, waking_step) -> xr.Dataset:
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
    v4 = v3 + ("sampler",)
    for k, v in ref.items():
        data[f"ref_{k}"] = (v4, v, {"long_name": f"{STAT_META[k][0]} (reference Langevin sampler "
                                                 "matched to the variant)", "units": STAT_META[k][1]})
    data["reference_eps"] = (v4, ref_par["eps"],
                             {"long_name": "step of the reference sampler matched to the variant",
                              "units": "1"})
    data["reference_noise_scale"] = (v4, ref_par["noise_scale"],
                                     {"long_name": "noise scale of the reference sampler: the "
                                                   "variant's effective temperature is its square",
                                      "units": "1"})
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
        data["ref_example_position"] = (("net", "variant", "sampler", "example", "ref_time", "space"),
                                        ref_example,
                                        {"long_name": "example trajectories of the reference samplers "
                                                      "matched to each variant (first seed)",
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
