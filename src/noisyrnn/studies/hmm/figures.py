"""The hmm study's figures (HMM.md §5), each from statistics files only.

``draw(name, stats_ncs, pdf, png, prov, config)``: ``stats_ncs`` maps each configured HMM to
its statistics file (the reference model's analysis whole, the grid's emission metrics, the
HMM's matrices and examples). A figure that needs an HMM the config does not train says so in
its panel; a file that lacks a variable a figure draws raises
:class:`noisyrnn.core.io.ArtefactError` naming the file. Panel titles start with their letter,
"(a) ...", in reading order. Mechanism panels of a network still on the plateau say so.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

from ...core import plotting  # noqa: E402

LETTERS = "abcdefghijklmnopqrstuvwxyz"
SYMBOL_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c"]
REGION_NAMES = {0: "transition", 1: "kick-zone", 2: "cluster"}
REGION_COLORS = {0: "#d62728", 1: "#ff7f0e", 2: "#1f77b4"}
ABLATION_LABELS = {"kick_recurrent": "kick recurrent input", "partner_noise": "partners' noise",
                   "control_noise": "control noise"}
TITLES = {"chain2": "2-state chain", "chain3": "3-state chain", "chain4": "4-state chain",
          "chain5": "5-state chain", "fully": "fully connected", "cyclic": "cyclic"}


def _need(ds: xr.Dataset, names, fig: str) -> None:
    plotting.require_vars(ds, names, fig)


class Panels:
    """A grid of axes titled "(a) ...", "(b) ..." in reading order."""

    def __init__(self, n: int, ncols: int, width: float = 3.1, height: float = 2.6):
        nrows = int(np.ceil(n / ncols))
        self.fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                                      squeeze=False, constrained_layout=True)
        self.axes = list(axes.ravel())
        for ax in self.axes[n:]:
            ax.remove()
        self.axes = self.axes[:n]
        self.i = 0

    def next(self, title: str):
        ax = self.axes[self.i]
        ax.set_title(f"({LETTERS[self.i]}) {title}", loc="left", fontsize=9)
        self.i += 1
        return ax


def shown_seed(ds: xr.Dataset) -> int:
    """Index of the seed a single-network panel shows: the first that left the plateau with
    sustained activity (its run never blew up), else the first with mechanism values, else 0."""
    left = np.asarray(ds["left_plateau"].values) > 0
    blown = np.isfinite(ds["run_diverged_at"].values) if "run_diverged_at" in ds else np.zeros(left.size, bool)
    analysed = np.isfinite(ds["fp_spread"].values) if "fp_spread" in ds else np.ones(left.size, bool)
    for ok in (left & ~blown & analysed, analysed):
        if ok.any():
            return int(np.flatnonzero(ok)[0])
    return 0


def _seed_label(ds: xr.Dataset, j: int) -> str:
    return f"seed {int(ds['seed'].values[j])}"


def _plateau_mark(ax, ds: xr.Dataset, seed_index: int = 0) -> None:
    if "fp_spread" in ds and not np.isfinite(ds["fp_spread"].values[seed_index]):
        plotting.mark_missing(ax, "the noise-driven run blew up at once:\nno sustained activity to analyse")
    elif int(ds["left_plateau"].values[seed_index]) == 0:
        plotting.note(ax, "on the i.i.d. plateau:\nno mechanism expected", loc="upper right")
    elif "run_diverged_at" in ds and np.isfinite(ds["run_diverged_at"].values[seed_index]):
        plotting.note(ax, f"run blew up at step {int(ds['run_diverged_at'].values[seed_index])}:\n"
                          "states before it", loc="upper right")


def _title(name: str, ds: xr.Dataset | None = None) -> str:
    t = TITLES.get(name, name)
    return t if ds is None else f"{t}, {ds.attrs.get('reference_model', '')}"


def fig_hmms(stats: Mapping[str, xr.Dataset], cfg: dict) -> plt.Figure:
    names = list(stats)
    p = Panels(3 * len(names), 3)
    for name in names:
        ds = stats[name]
        _need(ds, ["hmm_transition", "hmm_emission", "example"], "hmm_fig_hmms")
        for var, label, xl in (("hmm_transition", "transitions", "next state"),
                               ("hmm_emission", "emissions", "symbol")):
            ax = p.next(f"{TITLES.get(name, name)}: {label}")
            m = ds[var].values
            im = ax.imshow(m, vmin=0, vmax=1, cmap="viridis")
            for (i, j), v in np.ndenumerate(m):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=6,
                        color="w" if v < 0.6 else "k")
            ax.set_xlabel(xl)
            ax.set_ylabel("state")
            ax.set_xticks(range(m.shape[1]))
            ax.set_yticks(range(m.shape[0]))
            p.fig.colorbar(im, ax=ax, shrink=0.8, label="probability")
        ax = p.next(f"{TITLES.get(name, name)}: example sequences")
        ax.imshow(ds["example"].values, aspect="auto", interpolation="nearest",
                  cmap=ListedColormap(SYMBOL_COLORS), vmin=-0.5, vmax=2.5)
        ax.set_xlabel("step")
        ax.set_ylabel("sequence")
        handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in SYMBOL_COLORS]
        ax.legend(handles, ["symbol 0", "symbol 1", "symbol 2"], fontsize=6, loc="upper right")
    return p.fig


def fig_metrics(stats, cfg) -> plt.Figure:
    names = list(stats)
    p = Panels(4, 4, width=3.3)
    x = np.arange(len(names))
    rng = np.random.default_rng(0)
    ax_d, ax_t, ax_m, ax_v = (p.next(t) for t in (
        "aligned distance", "transition-matrix error", "marginal frequencies", "volatility"))
    for i, name in enumerate(names):
        ds = stats[name]
        _need(ds, ["grid_distance", "grid_distance_baseline", "grid_transition_sq_error",
                   "grid_marginal_mean", "grid_volatility_mean"], "hmm_fig_metrics")
        d = ds["grid_distance"].values.ravel()
        b = ds["grid_distance_baseline"].values.ravel()
        j = rng.uniform(-0.12, 0.12, d.size)
        ax_d.scatter(i - 0.15 + j, d, s=12, color="#1f77b4", label="RNN–HMM" if i == 0 else None)
        ax_d.scatter(i + 0.15 + j, b, s=12, color="#7f7f7f", marker="s",
                     label="HMM–HMM" if i == 0 else None)
        e = ds["grid_transition_sq_error"].values.reshape(d.size, -1)
        eb = ds["grid_transition_sq_error_baseline"].values.reshape(d.size, -1)
        ax_t.scatter(i - 0.15 + j, np.nanmax(e, 1), s=12, color="#1f77b4")
        ax_t.scatter(i + 0.15 + j, np.nanmax(eb, 1), s=12, color="#7f7f7f", marker="s")
        mm = ds["grid_marginal_mean"].values.reshape(d.size, 3)
        mh = ds["grid_marginal_mean_hmm"].values.reshape(d.size, 3)
        for k in range(3):
            ax_m.scatter(np.full(d.size, i + (k - 1) * 0.25) + j / 3, mm[:, k], s=12,
                         color=SYMBOL_COLORS[k], label=f"symbol {k}" if i == 0 else None)
            ax_m.hlines(mh[:, k].mean(), i + (k - 1) * 0.25 - 0.1, i + (k - 1) * 0.25 + 0.1,
                        color="k", lw=1.5)
        v = ds["grid_volatility_mean"].values.ravel()
        ax_v.scatter(i - 0.2 + j, v, s=12, color="#1f77b4", label="RNN" if i == 0 else None)
        ax_v.scatter(i + j, ds["grid_volatility_mean_hmm"].values.ravel(), s=12, color="#7f7f7f",
                     marker="s", label="HMM" if i == 0 else None)
        ax_v.scatter(i + 0.2 + j, ds["grid_volatility_iid"].values.ravel(), s=12, color="#d62728",
                     marker="^", label="i.i.d. (same marginals)" if i == 0 else None)
    ax_t.axhline(0.02, color="k", ls="--", lw=0.8, label="0.02")
    ax_d.set_ylabel("mean matched L2")
    ax_t.set_ylabel("largest squared cell error")
    ax_t.set_yscale("log")
    ax_m.set_ylabel("fraction (black: HMM)")
    ax_v.set_ylabel("symbol changes per sequence")
    for ax in (ax_d, ax_t, ax_m, ax_v):
        ax.set_xticks(x)
        ax.set_xticklabels([TITLES.get(n, n) for n in names], rotation=20, fontsize=7)
        ax.legend(fontsize=6)
    return p.fig


def _orbit_panel(ax, ds: xr.Dataset, seed: int) -> None:
    pc = ds["orbit_pc"].values[seed]
    if not np.isfinite(pc).any():
        _plateau_mark(ax, ds, seed)
        return
    sym = ds["orbit_symbol"].values[seed]
    for k in range(3):
        sel = sym == k
        if sel.any():
            ax.scatter(pc[sel, 0], pc[sel, 1], s=2, color=SYMBOL_COLORS[k], label=f"argmax {k}")
    fp = ds["fp_pc"].values[seed]
    ax.scatter([fp[0]], [fp[1]], marker="*", s=60, color="k", label="fixed point (no input)")
    ax.set_xlabel("PC1")
    ax.set_ylabel("PC2")
    ax.legend(fontsize=6, markerscale=2)
    _plateau_mark(ax, ds, seed)


def fig_orbits(stats, cfg) -> plt.Figure:
    names = list(stats)
    p = Panels(len(names) + 1, min(len(names) + 1, 4))
    for name in names:
        ds = stats[name]
        _need(ds, ["orbit_pc", "orbit_symbol", "fp_pc", "fp_spread"], "hmm_fig_orbits")
        j = shown_seed(ds)
        _orbit_panel(p.next(f"{TITLES.get(name, name)}: noise-driven, {_seed_label(ds, j)}"), ds, j)
    ax = p.next("without input: end-state spread")
    for i, name in enumerate(names):
        sp = stats[name]["fp_spread"].values
        ax.scatter(np.full(sp.size, i), np.clip(sp, 1e-12, None), color="k", s=14)
    tol = float(next(iter(stats.values())).attrs.get("fp_tol", 1e-4))
    ax.axhline(tol, color="#d62728", ls="--", lw=0.8, label=f"fp_tol {tol:g}: one fixed point below")
    ax.set_yscale("log")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([TITLES.get(n, n) for n in names], rotation=20, fontsize=7)
    ax.set_ylabel("max |h_end − h*| / max(1, |h*|)")
    ax.legend(fontsize=6)
    return p.fig


def fig_noise(stats, cfg) -> plt.Figure:
    import seaborn as sns

    names = list(stats)
    p = Panels(2 * len(names) + 1, 3)
    for name in names:
        ds = stats[name]
        _need(ds, ["orbit_noise_pc", "orbit_radius", "readout_alignment"], "hmm_fig_noise")
        j0 = shown_seed(ds)
        ax = p.next(f"{TITLES.get(name, name)}: 95 % contours, {_seed_label(ds, j0)}")
        levels = ds["noise_level"].values
        cols = plotting.colors(len(levels), "viridis")
        for i, lev in enumerate(levels):
            pts = ds["orbit_noise_pc"].values[j0, i]
            if np.isfinite(pts).all() and np.ptp(pts[:, 0]) > 0 and np.ptp(pts[:, 1]) > 0:
                sns.kdeplot(x=pts[:, 0], y=pts[:, 1], levels=[0.05], color=cols[i], ax=ax,
                            warn_singular=False)
            ax.plot([], [], color=cols[i], label=f"noise {lev:g}")
        ax.set_xlabel("PC1")
        ax.set_ylabel("PC2")
        ax.legend(fontsize=6)
        _plateau_mark(ax, ds, j0)
        ax = p.next(f"{TITLES.get(name, name)}: radius vs noise")
        for j, s in enumerate(ds["seed"].values):
            r = ds["orbit_radius"].values[j]
            ax.plot(levels, r, "o-", ms=3, label=f"seed {int(s)}")
            for x, kind, ls in ((levels, "sigma", ":"), (levels ** 2, "var", "--")):
                slope = float(ds[f"radius_slope_{kind}"].values[j])
                r2 = float(ds[f"radius_r2_{kind}"].values[j])
                if np.isfinite(slope):
                    icpt = np.mean(r) - slope * np.mean(x)
                    ax.plot(levels, slope * x + icpt, ls=ls, lw=0.8, color="k",
                            label=f"fit vs {'σ' if kind == 'sigma' else 'σ²'} (R² {r2:.2f})" if j == 0 else None)
        ax.set_xlabel(f"noise level (applied as {ds['noise_level'].attrs.get('long_name', 'std').split('as ')[-1].rstrip(')')})")
        ax.set_ylabel("orbit radius (PC1–PC2)")
        ax.legend(fontsize=6)
    ax = p.next("readout alignment with PC1–PC2")
    for i, name in enumerate(names):
        a = stats[name]["readout_alignment"].values
        for k in range(3):
            ax.scatter(np.full(a.shape[0], i + (k - 1) * 0.2), a[:, k], color=SYMBOL_COLORS[k],
                       s=14, label=f"readout {k}" if i == 0 else None)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([TITLES.get(n, n) for n in names], rotation=20, fontsize=7)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("|projection| of the unit readout row")
    ax.legend(fontsize=6)
    return p.fig


def fig_training(stats, cfg) -> plt.Figure:
    names = list(stats)
    p = Panels(4 * len(names), 4)
    for name in names:
        ds = stats[name]
        _need(ds, ["val_loss", "train_loss"], "hmm_fig_training")
        ax = p.next(f"{_title(name, ds)}: loss")
        for j, s in enumerate(ds["seed"].values):
            ax.plot(ds["epoch"].values, ds["train_loss"].values[j], lw=0.8, label=f"train, seed {int(s)}")
            v = ds["val_loss"].values[j]
            ok = np.isfinite(v)  # validated every training.val_every epochs
            ax.plot(ds["epoch"].values[ok], v[ok], lw=0.8, ls="--", marker=".", ms=2,
                    label=f"validation, seed {int(s)}")
            ax.axvline(int(ds["best_epoch"].values[j]), color="0.6", lw=0.5)
        ax.set_xlabel("epoch")
        ax.set_ylabel("Sinkhorn divergence")
        ax.legend(fontsize=5)
        dyn = "dyn_transition_rate" in ds
        titles = ("transition rate", "near-critical fraction", "E[δh⁽²⁾] per neuron (seed 0)")
        axes = [p.next(f"{TITLES.get(name, name)}: {t}") for t in titles]
        if not dyn:
            for ax in axes:
                plotting.mark_missing(ax, "no checkpoints (training.checkpoint_every = 0)")
            continue
        ep = ds["dyn_epoch"].values
        for j, s in enumerate(ds["seed"].values):
            axes[0].plot(ep, ds["dyn_transition_rate"].values[j], "o-", ms=3, label=f"seed {int(s)}")
            axes[1].plot(ep, ds["dyn_critical_fraction"].values[j], "o-", ms=3, label=f"seed {int(s)}")
            b = float(ds["bifurcation_epoch"].values[j])
            if np.isfinite(b):
                axes[1].axvline(b, color="#d62728", ls="--", lw=0.8,
                                label="bifurcation" if j == 0 else None)
        axes[0].set_ylabel("mean 1/interval (1/steps)")
        axes[1].set_ylabel("fraction of steps")
        for ax in axes[:2]:
            ax.set_xlabel("epoch")
            ax.legend(fontsize=6)
        e2 = ds["dyn_e2"].values[0]
        im = axes[2].imshow(e2.T, aspect="auto", cmap="RdBu_r", origin="lower",
                            extent=[ep[0], ep[-1], 0, e2.shape[1]],
                            vmin=-np.nanmax(np.abs(e2)), vmax=np.nanmax(np.abs(e2)))
        axes[2].set_xlabel("epoch")
        axes[2].set_ylabel("neuron")
        p.fig.colorbar(im, ax=axes[2], shrink=0.8, label="E[h_noisy − h_free]")
    return p.fig


def fig_regions(stats, cfg) -> plt.Figure:
    name = next(iter(stats))
    ds = stats[name]
    _need(ds, ["rt", "rt_pc", "region", "sign_changes", "unstable", "sensitivity_cluster",
               "sensitivity_transition"], "hmm_fig_regions")
    p = Panels(4, 4, width=3.2)
    j = shown_seed(ds)
    ax = p.next(f"{TITLES.get(name, name)}: residency time, {_seed_label(ds, j)}")
    pc, rt = ds["rt_pc"].values[j], ds["rt"].values[j]
    sc = ax.scatter(pc[:, 0], pc[:, 1], c=np.log10(np.clip(rt, 1, None)), s=4, cmap="magma")
    p.fig.colorbar(sc, ax=ax, shrink=0.8, label="log10 RT (steps)")
    ax.set_xlabel("PC1")
    ax.set_ylabel("PC2")
    _plateau_mark(ax, ds, j)
    region = ds["region"].values
    for ax, var, ylabel in ((p.next("sign changes per region"), "sign_changes",
                             "sign changes of Δ max logit"),
                            (p.next("unstable eigenvalues per region"), "unstable",
                             "eigenvalues with |λ| > 1")):
        vals = ds[var].values
        for c, label in REGION_NAMES.items():
            per_seed = [np.nanmean(vals[j][region[j] == c]) if (region[j] == c).any() else np.nan
                        for j in range(vals.shape[0])]
            ax.bar(c, np.nanmean(per_seed) if np.isfinite(per_seed).any() else 0,
                   color=REGION_COLORS[c], alpha=0.7)
            ax.scatter(np.full(len(per_seed), c), per_seed, color="k", s=10, zorder=3)
        frac = [float((region == c).mean()) for c in REGION_NAMES]
        ax.set_xticks(list(REGION_NAMES))
        ax.set_xticklabels([f"{n}\n{f:.0%} of states" for n, f in zip(REGION_NAMES.values(), frac)], fontsize=7)
        ax.set_ylabel(ylabel)
    ax = p.next("noise sensitivity")
    gammas = ds["gamma"].values
    steps = np.arange(1, ds.sizes["sens_step"] + 1)
    for var, color, label in (("sensitivity_cluster", REGION_COLORS[2], "cluster"),
                              ("sensitivity_transition", REGION_COLORS[0], "transition")):
        v = np.nanmean(ds[var].values, axis=0)
        for i, g in enumerate(gammas):
            ax.plot(steps, v[i], color=color, alpha=0.4 + 0.6 * i / max(1, len(gammas) - 1),
                    label=f"{label}, γ = {g:g}")
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_xlabel("step")
    ax.set_ylabel("covariance trace")
    ax.legend(fontsize=5)
    return p.fig


def fig_kick(stats, cfg) -> plt.Figure:
    name = next(iter(stats))
    ds = stats[name]
    _need(ds, ["kick_p_cluster", "kick_p_transition", "kick_mask", "pop_within1", "ablation_rate",
               "ablation_pairs"], "hmm_fig_kick")
    p = Panels(4, 4, width=3.2)
    j = shown_seed(ds)
    ax = p.next(f"{TITLES.get(name, name)}: kick rule, {_seed_label(ds, j)}")
    pc, pt, mask = ds["kick_p_cluster"].values[j], ds["kick_p_transition"].values[j], ds["kick_mask"].values[j] > 0
    if not (np.isfinite(pc) & np.isfinite(pt)).any():
        plotting.mark_missing(ax, "no cluster or no transition states: the rule has no data")
    ax.scatter(pc[~mask], pt[~mask], s=6, color="0.6", label="other neurons")
    ax.scatter(pc[mask], pt[mask], s=24, color="#d62728", label="kick neurons (rule)")
    ax.axvline(0.1, color="k", ls=":", lw=0.8)
    ax.axhline(0.5, color="k", ls=":", lw=0.8)
    ax.set_xlabel("P(pre-activation > 0 | cluster)")
    ax.set_ylabel("P(pre-activation > 0 | transition)")
    ax.legend(fontsize=6)
    _plateau_mark(ax, ds, j)
    ax = p.next("population weights (seed mean)")
    blocks = np.array([[np.nanmean(ds["pop_within1"].values), np.nanmean(ds["pop_between21"].values)],
                       [np.nanmean(ds["pop_between12"].values), np.nanmean(ds["pop_within2"].values)]])
    if np.isfinite(blocks).any():
        lim = np.nanmax(np.abs(blocks))
        im = ax.imshow(blocks, cmap="RdBu_r", vmin=-lim, vmax=lim)
        for (i, j), v in np.ndenumerate(blocks):
            ax.text(j, i, f"{v:.3f}", ha="center", va="center", fontsize=7)
        p.fig.colorbar(im, ax=ax, shrink=0.8, label="mean W_hh")
        ax.set_xticks([0, 1], ["from pop 1", "from pop 2"])
        ax.set_yticks([0, 1], ["to pop 1", "to pop 2"])
    else:
        plotting.mark_missing(ax, "fewer than two kick groups: no populations")
    gains = ds["gain"].values
    for ax, var, ylabel in ((p.next("ablation: transition rate"), "ablation_rate", "output changes per step"),
                            (p.next("ablation: critical pairs"), "ablation_pairs",
                             "critical pairs per step near changes")):
        if not np.isfinite(ds[var].values).any():
            plotting.mark_missing(ax, "no kick neurons found: nothing to ablate")
            continue
        for c, cond in enumerate(ds["ablation"].values):
            v = ds[var].values[:, c]
            ax.plot(gains, np.nanmean(v, 0), "o-", ms=3, label=ABLATION_LABELS.get(str(cond), str(cond)))
        ax.axvline(1, color="0.6", lw=0.5)
        ax.set_xlabel("gain μ")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=6)
    return p.fig


def fig_multi(stats, cfg) -> plt.Figure:
    names = [n for n in ("fully", "cyclic") if n in stats]
    if not names:
        p = Panels(1, 1)
        plotting.mark_missing(p.next("fully connected and cyclic"),
                              "neither fully nor cyclic is in this config")
        return p.fig
    p = Panels(3 * len(names), 3)
    for name in names:
        ds = stats[name]
        _need(ds, ["orbit_pc", "rt", "rt_symbol", "region", "kick_block"], "hmm_fig_multi")
        j = shown_seed(ds)
        _orbit_panel(p.next(f"{TITLES.get(name, name)}: orbits, {_seed_label(ds, j)}"), ds, j)
        ax = p.next(f"{TITLES.get(name, name)}: residency per output")
        rt, region, sym = ds["rt"].values, ds["region"].values, ds["rt_symbol"].values
        for k in range(3):
            per_seed = [np.nanmean(rt[j][sym[j] == k]) if (sym[j] == k).any() else np.nan
                        for j in range(rt.shape[0])]
            if np.isfinite(per_seed).any():
                ax.bar(k, np.nanmean(per_seed), color=SYMBOL_COLORS[k], alpha=0.7)
                ax.scatter(np.full(len(per_seed), k), per_seed, color="k", s=10, zorder=3)
        if not np.isfinite(rt).any():
            plotting.mark_missing(ax, "no sustained activity: no residency times")
        ax.set_xticks(range(3), [f"argmax {k}" for k in range(3)])
        ax.set_ylabel("mean residency time (steps)")
        if np.isfinite(rt).any():
            plotting.note(ax, f"{float((region == 2).mean()):.0%} of states in clusters", loc="upper right")
        ax = p.next(f"{TITLES.get(name, name)}: W_hh between kick triplets")
        b = np.nanmean(ds["kick_block"].values, axis=0) if np.isfinite(ds["kick_block"].values).any() else None
        if b is None:
            plotting.mark_missing(ax, "no kick triplet found")
            continue
        lim = np.nanmax(np.abs(b))
        im = ax.imshow(b, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_xlabel("to the triplet leaving symbol")
        ax.set_ylabel("from the triplet leaving symbol")
        p.fig.colorbar(im, ax=ax, shrink=0.8, label="mean W_hh")
    return p.fig


FIGURES = {
    "hmm_fig_hmms": fig_hmms,
    "hmm_fig_metrics": fig_metrics,
    "hmm_fig_orbits": fig_orbits,
    "hmm_fig_noise": fig_noise,
    "hmm_fig_training": fig_training,
    "hmm_fig_regions": fig_regions,
    "hmm_fig_kick": fig_kick,
    "hmm_fig_multi": fig_multi,
}


def draw(name: str, stats_ncs: Mapping[str, str], out_pdf: str, out_png: str,
         prov: dict | None, config: dict | None = None) -> None:
    plotting.draw_from_stats(FIGURES, name, stats_ncs, out_pdf, out_png, prov, config)
