"""Step stats: one family's statistics from its training and analysis files.

Everything the figures and claims read, on named dimensions:
- per network (``net``): lr, delay, seed, outcome, the two mechanism labels, the PSD ratio;
- phase fractions over (lr, delay): not learned, LC, SP (by the PSD index, and by the second
  label);
- the critical delay T0 per lr (piecewise-exponential onset of the not-learned fraction) and
  the scaling fit log lr = B log T0 + log A: β = |B| with SE, R², p, a 95 % band, and the
  whole-seed bootstrap interval (the project's CI);
- the SP boundary (a sigmoid on the SP fraction per lr) and its own exponent;
- loss and accuracy curves per outcome class at the lr nearest 0.1;
- two example free runs (one LC, one SP network) projected on their top-2 PCs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from ....core import io
from .. import scaling
from ..labels import CLASS_CODES, LC, NOT_LEARNED, SP

def _per_net(parts: Sequence[xr.Dataset]) -> xr.Dataset:
    """The jobs' per-network variables and coordinates, one after another on ``net`` (only
    those: curves have each job's own epoch axis, examples their own length)."""
    keep = [p[[v for v in p.data_vars if p[v].dims == ("net",)]] for p in parts]
    return xr.concat(keep, dim="net") if len(keep) > 1 else keep[0]


def grid_counts(values: np.ndarray, lr_idx: np.ndarray, delay_idx: np.ndarray, seed: np.ndarray,
                n_lr: int, n_delay: int, n_seed: int, fill=np.nan) -> np.ndarray:
    """Per-network values on the (seed, lr, delay) grid."""
    out = np.full((n_seed, n_lr, n_delay), fill, dtype=float)
    out[seed, lr_idx, delay_idx] = values
    return out


def fractions(code: np.ndarray, axis: int | tuple[int, ...] = 0) -> dict[str, np.ndarray]:
    """Fractions of each class code over ``axis`` (default: over seeds); NaN cells (no
    network) excluded, NaN where no cell has a network."""
    valid = np.isfinite(code)
    n = valid.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {name: np.where(n > 0, ((code == c) & valid).sum(axis=axis) / n, np.nan)
                for name, c in CLASS_CODES.items()}


def _scaling_vars(prefix: str, fit: dict, band_dim: str) -> dict:
    attrs = {"beta": ("scaling exponent |B| of log lr = B log T0 + log A", "1"),
             "se": ("standard error of β from the fit covariance", "1"),
             "r2": ("R² of the log-log fit", "1"), "p": ("p-value of the log-log slope", "1"),
             "n": ("learning rates in the fit", "1"), "logA": ("intercept log A", "1"),
             "B": ("slope B of log lr against log T0", "1")}
    out = {}
    for key, (long_name, units) in attrs.items():
        out[f"{prefix}_{key}"] = xr.Variable((), float(fit.get(key, np.nan)),
                                             {"long_name": long_name, "units": units})
    for key in ("band_lo", "band_hi"):
        out[f"{prefix}_{key}"] = xr.Variable((band_dim,), np.asarray(fit[key], dtype=float),
                                             {"long_name": f"95 % band of the fit ({key[5:]})",
                                              "units": "1"})
    return out


def family_stats(settings: dict, family: str, task_nc: str, training_ncs: Sequence[str],
                 analysis_ncs: Sequence[str], out_nc: str, prov: dict) -> xr.Dataset:
    fam, sc = settings["family"], settings["scaling"]
    trains = [io.read_netcdf(p, required_vars=["loss", "accuracy", "reliability", "lr",
                                                "delay_ms", "seed"]) for p in training_ncs]
    train = _per_net(trains)
    examples = [io.read_netcdf(p, required_vars=["mechanism_code", "index_code", "psd_ratio"])
                for p in analysis_ncs]
    ana = _per_net(examples)
    if train.sizes["net"] != ana.sizes["net"]:
        raise io.ArtefactError(f"{family}: {train.sizes['net']} trained networks but "
                               f"{ana.sizes['net']} analysed ({list(analysis_ncs)})")
    lrs = np.unique(train["lr"].values)[::-1]  # high to low, the order of the grid
    delays = np.unique(train["delay_ms"].values)
    seeds = np.unique(train["seed"].values)
    li = np.searchsorted(-lrs, -train["lr"].values)
    di = np.searchsorted(delays, train["delay_ms"].values)
    si = np.searchsorted(seeds, train["seed"].values)
    mech = ana["mechanism_code"].values.astype(float)  # 0 not learned, 1 LC, 2 SP
    index_code = ana["index_code"].values.astype(float)
    second_code = ana["second_code"].values.astype(float) if "second_code" in ana else None
    learned = mech != CLASS_CODES[NOT_LEARNED]
    cube = grid_counts(mech, li, di, si, len(lrs), len(delays), len(seeds))  # (seed, lr, delay)
    frac = fractions(cube)
    not_learned = cube == CLASS_CODES[NOT_LEARNED]
    nl = np.where(np.isfinite(cube), not_learned.astype(float), np.nan)

    min_frac, p0 = float(fam.get("min_frac", 0.1)), tuple(fam.get("p0", (0.1, 0.1)))
    exclude = set(int(i) for i in fam.get("fit_exclude_lr_idx") or ())
    keep = np.array([i not in exclude for i in range(len(lrs))])
    t0 = scaling.critical_delays(frac[NOT_LEARNED], delays, min_frac=min_frac, p0=p0)
    rng = np.random.default_rng(int(sc["bootstrap_seed"]))
    fit = scaling.fit_power_law(lrs[keep], t0[keep], min_points=int(sc["min_lrs"]),
                                n_band=int(sc["band_n"]), rng=rng)
    boot = scaling.bootstrap_beta(nl[:, keep], delays, lrs[keep], n_boot=int(sc["bootstrap_n"]),
                                  min_frac=min_frac, p0=p0, level=float(sc["level"]),
                                  min_points=int(sc["min_lrs"]), rng=rng)
    n_sp = min(int(sc["sp_boundary_lrs"]), len(lrs))
    sp_t0 = np.full(len(lrs), np.nan)
    sp_k = np.full(len(lrs), np.nan)
    for i in range(n_sp):
        sp_t0[i], sp_k[i] = scaling.fit_sigmoid(delays, frac[SP][i])
    fit_sp = scaling.fit_power_law(lrs[:n_sp], sp_t0[:n_sp], min_points=int(sc["min_lrs"]),
                                   n_band=int(sc["band_n"]), rng=rng)

    ms = {"units": "ms"}
    data = {
        "frac_not_learned": (("lr", "delay_ms"), frac[NOT_LEARNED],
                             {"long_name": "fraction of seeds not learned", "units": "1"}),
        "frac_lc": (("lr", "delay_ms"), frac[LC],
                    {"long_name": "fraction of seeds learned as a limit cycle (PSD index)", "units": "1"}),
        "frac_sp": (("lr", "delay_ms"), frac[SP],
                    {"long_name": "fraction of seeds learned as a slow point (PSD index)", "units": "1"}),
        "critical_delay": (("lr",), t0, {"long_name": "critical delay T0 (onset of not learned)", **ms}),
        "sp_boundary": (("lr",), sp_t0, {"long_name": "SP-boundary delay (sigmoid midpoint)", **ms}),
        "sp_boundary_k": (("lr",), sp_k, {"long_name": "SP-boundary sigmoid slope", "units": "1/ms"}),
        "net_lr": (("net",), train["lr"].values, {"long_name": "learning rate", "units": "1"}),
        "net_delay_ms": (("net",), train["delay_ms"].values, {"long_name": "delay", **ms}),
        "net_seed": (("net",), train["seed"].values.astype(np.int64), {"long_name": "seed"}),
        "mechanism_code": (("net",), ana["mechanism_code"].values,
                           {"long_name": "outcome and mechanism", "flag_values": "0 not learned, 1 LC, 2 SP"}),
        "outcome": (("net",), ana["outcome"].values.astype(str),
                    {"long_name": "outcome class (learned, unstable, no_learning)"}),
        "index_code": (("net",), ana["index_code"].values,
                       {"long_name": "mechanism by the PSD index (learned nets)", "flag_values": "1 LC, 2 SP, -1 n/a"}),
        "psd_ratio": (("net",), ana["psd_ratio"].values,
                      {"long_name": "PSD ratio (low-frequency power share)", "units": "1"}),
        "beta_boot_lo": ((), float(boot["lo"]), {"long_name": "bootstrap-over-seeds interval of β, lower", "units": "1"}),
        "beta_boot_hi": ((), float(boot["hi"]), {"long_name": "bootstrap-over-seeds interval of β, upper", "units": "1"}),
        "beta_boot_valid": ((), int(boot["n_valid"]), {"long_name": "bootstrap resamples with a β"}),
    }
    # per seed (the unit of replication: seeds are paired across the grid), over lrs
    over_lrs = fractions(cube, axis=1)                # (seed, delay)
    per_seed_sp, per_seed_nl = over_lrs[SP], over_lrs[NOT_LEARNED]
    per_seed_grid = fractions(cube, axis=(1, 2))[SP]  # (seed,)
    data["seed_frac_sp"] = (("seed", "delay_ms"), per_seed_sp,
                            {"long_name": "SP fraction over learning rates, per seed", "units": "1"})
    data["seed_frac_not_learned"] = (("seed", "delay_ms"), per_seed_nl,
                                     {"long_name": "not-learned fraction over learning rates, per seed",
                                      "units": "1"})
    data["seed_frac_sp_grid"] = (("seed",), per_seed_grid,
                                 {"long_name": "SP fraction over the whole grid, per seed", "units": "1"})
    if second_code is not None:
        data["second_code"] = (("net",), ana["second_code"].values,
                               {"long_name": "mechanism by speed and winding (learned nets)",
                                "flag_values": "1 LC, 2 SP, -1 n/a"})
        agree = (index_code == second_code)[learned]
        data["label_agreement"] = ((), float(agree.mean()) if agree.size else np.nan,
                                   {"long_name": "fraction of learned nets where both labels agree", "units": "1"})
    # loss and accuracy per outcome class at the lr nearest 0.1 (the paper's example lr)
    i_ex = int(np.argmin(np.abs(np.log(lrs) - np.log(0.1))))
    offsets = np.cumsum([0] + [t.sizes["net"] for t in trains])
    job = next(k for k, t in enumerate(trains) if np.any(np.isclose(t["lr"].values, lrs[i_ex])))
    src = trains[job]
    at = np.isclose(src["lr"].values, lrs[i_ex])
    mech_src = mech[offsets[job]:offsets[job + 1]]
    curves = {}
    for name in ("loss", "accuracy"):
        rows = []
        for code in (CLASS_CODES[NOT_LEARNED], CLASS_CODES[LC], CLASS_CODES[SP]):
            pick = at & (mech_src == code)
            with np.errstate(invalid="ignore"):
                rows.append(np.nanmean(src[name].values[pick], axis=0) if pick.any()
                            else np.full(src.sizes["epoch"], np.nan))
        curves[f"class_{name}"] = (("class", "epoch"), np.asarray(rows),
                                   {"long_name": f"mean {name} per outcome class at lr "
                                                 f"{lrs[i_ex]:.3g}", "units": "1"})
    data.update(curves)
    data["example_lr"] = ((), float(lrs[i_ex]), {"long_name": "lr of the per-class curves"})
    offsets = np.cumsum([0] + [e.sizes["net"] for e in examples])
    for label, code in ((LC, CLASS_CODES[LC]), (SP, CLASS_CODES[SP])):
        # the family's most typical one: the job example whose ratio is nearest the median
        # PSD ratio of its class over the whole family
        key = label.lower()
        ratios = ana["psd_ratio"].values[mech == code]
        cands = [(abs(float(e[f"example_{key}_ratio"]) - np.median(ratios)), i)
                 for i, e in enumerate(examples) if int(e[f"example_{key}_net"]) >= 0]
        width = max(e.sizes["free_time"] for e in examples)
        lat, net_attrs = np.full((width, 2), np.nan), "none"
        if cands and ratios.size:
            i = min(cands)[1]
            e = examples[i]
            lat[: e.sizes["free_time"]] = e[f"example_{key}"].values
            j = offsets[i] + int(e[f"example_{key}_net"])
            net_attrs = (f"lr {train['lr'].values[j]:.3g}, delay {int(train['delay_ms'].values[j])} ms, "
                         f"seed {int(train['seed'].values[j])}, PSD ratio {ana['psd_ratio'].values[j]:.2f}")
        data[f"example_{key}"] = (("free_time", "pc"), lat,
                                  {"long_name": f"free run of one {label} network, top-2 PCs",
                                   "network": net_attrs, "units": "1"})
    # one cue-1 trial of the task at the middle delay, for the task figure
    task = io.read_netcdf(task_nc, required_vars=["input", "target", "weight", "length"])
    mid = task.sizes["delay_ms"] // 2
    t_len = int(task["length"].values[mid])
    dt = float(task.attrs["dt_ms"])
    cue1 = int(np.flatnonzero(task["label"].values == 0)[0])
    data["task_input"] = (("task_time", "channel"), task["input"].values[mid, cue1, :t_len],
                          {"long_name": "input of one cue-1 trial", "units": "1"})
    data["task_target"] = (("task_time", "channel"), task["target"].values[mid, cue1, :t_len],
                           {"long_name": "target of that trial", "units": "1"})
    data["task_weight"] = (("task_time",), task["weight"].values[mid, :t_len],
                           {"long_name": "loss weight per step", "units": "1"})
    data["task_delay_ms"] = ((), float(task["delay_ms"].values[mid]), {"units": "ms"})
    ds = xr.Dataset(data, coords={
        "task_time_ms": ("task_time", np.arange(t_len) * dt, {"long_name": "time in the trial", "units": "ms"}),
        "lr": ("lr", lrs, {"long_name": "learning rate", "units": "1"}),
        "delay_ms": ("delay_ms", delays, {"long_name": "delay (control: reaction window)", **ms}),
        "class": ("class", [NOT_LEARNED, LC, SP]),
        "seed": ("seed", seeds.astype(np.int64), {"long_name": "seed (paired across the grid)"}),
        "epoch": ("epoch", src["epoch"].values),
        "band_T": ("band_T", np.asarray(fit["band_T"], dtype=float), {"long_name": "T0 of the band", **ms}),
        "band_T_sp": ("band_T_sp", np.asarray(fit_sp["band_T"], dtype=float), {"long_name": "T0 of the SP band", **ms}),
    })
    ds = ds.assign(_scaling_vars("beta", fit, "band_T")).assign(_scaling_vars("beta_sp", fit_sp, "band_T_sp"))
    ds.attrs.update(family=family, n_seeds=len(seeds), n_lrs=len(lrs), n_delays=len(delays),
                    fit_excluded_lr_idx=sorted(exclude), min_frac=min_frac, dt_ms=dt,
                    min_lrs=int(sc["min_lrs"]), bootstrap_min_seeds=int(sc["bootstrap_min_seeds"]))
    io.write_netcdf(ds, out_nc, prov, title=f"stm statistics, family {family}",
                    source="noisyrnn.studies.stm.steps.stats")
    return ds
