"""Figures fig1–fig6 of the replay study, drawn from statistics files only (SCIENCE.md §6).

Each figure has a builder ``build_<name>(stats, cfg=None) -> matplotlib.figure.Figure`` taking the
opened statistics datasets (keys: ``"tmaze"``, ``"triangle"``, ``"box"``, ``"gauss_markov"``; any
may be absent) and a :class:`~noisyrnn.studies.replay.selection.ClaimsConfig` that names the "adaptation on"
(``adapt_b_a``), "momentum on" (``momentum_lambda_v``), leaky (``leaky_alpha``) and masked
(``masked_k``) settings. :data:`FIGURES` maps each figure name to its builder and
:func:`draw` opens the files, builds the figure and saves it with :func:`noisyrnn.core.io.save_figure`.

Conventions: lines and bars are means over seeds with 95 % Student-t intervals over seeds, the
claims engine's interval (:mod:`noisyrnn.core.plotting`); NaN statistics (diverged replays) are gaps /
empty bars and panels note
the fraction of diverged replays; a task absent from the run gets a labelled placeholder.
Replay panels use the replayed network of each regime (α = ``leaky_alpha``, k = 1; regime m0 =
modifiers at replay only, m1 = modifiers in training too). Variants are matched by nearest
(b_a, λ_v) (:func:`select_variant`). Reference Langevin samplers are matched per variant (its own
fitted step, friction and temperature); a variant is compared with its matched sampler
(:func:`matched_sampler`: overdamped at λ_v = 1, underdamped with momentum).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib

matplotlib.use("Agg", force=False)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ...core import io, plotting  # noqa: E402
from .nets import TASKS, TRACK_TASKS  # noqa: E402
from .selection import (  # noqa: E402  (shared with the claims table)
    REGIMES,
    ClaimsConfig,
    gauss_markov_gap,
    load_stats,
    net_table,
    pooled_rate,
    select_net,
    select_variant,
    variant_index,
)

__all__ = [
    "FIGURES",
    "TASK_LABELS",
    "draw",
    "build_fig1_tasks",
    "build_fig2_leakage",
    "build_fig3_adaptation",
    "build_fig4_momentum",
    "build_fig5_placecells",
    "build_fig6_langevin",
    "select_variant",
    "select_net",
    "variant_index",
    "matched_sampler",
    "ref_matrix",
]

TRACKS = TRACK_TASKS
TASK_LABELS = {"tmaze": "T-maze", "triangle": "Triangle", "box": "Box (place cells)"}
TASK_SHORT = {"tmaze": "T-maze", "triangle": "Triangle", "box": "Box"}
REGIME_LABELS = {"m0": "m0: modifiers at replay only", "m1": "m1: modifiers in training"}
REGIME_STYLE = {"m0": "-", "m1": "--"}
SAMPLER_LABELS = {"overdamped": "overdamped Langevin", "underdamped": "underdamped Langevin"}
REF_BAR = {"overdamped": "ref. overd.", "underdamped": "ref. underd."}
MISSING_TASK = "{task}: not in this run\n(no statistics file)"

STAT_LABELS = {
    "step_length": "step length (m / step)",
    "step_length_smooth": "step length, centroid decode (m / step)",
    "compression_ratio": "compression ratio (replay ÷ waking step)",
    "reach_median": "median reach time (steps)",
    "reach_rmst": "restricted mean reach time (steps)",
    "reach_fraction": "fraction reaching target",
    "coverage": "coverage per trajectory (fraction of bins)",
    "entropy": "occupancy entropy per trajectory (normalised)",
    "coverage_pooled": "coverage of all trajectories pooled (fraction of bins)",
    "entropy_pooled": "occupancy entropy of all trajectories pooled (normalised)",
    "frac_off_support": "fraction of decoded points off the environment",
    "wasserstein": "Wasserstein to waking (m)",
    "drift_score_cosine": "drift–score cosine",
    "fitted_eps": "fitted Langevin step ε",
    "tv_score_gap": "time-varying vs pooled score gap (rel.)",
}


# --------------------------------------------------------------------------------------------
# data helpers
# --------------------------------------------------------------------------------------------


def _cfg(cfg: ClaimsConfig | dict | None) -> ClaimsConfig:
    if cfg is None:
        return ClaimsConfig()
    if isinstance(cfg, dict):
        return ClaimsConfig.from_dict(cfg)
    return cfg


def replay_nets(ds: xr.Dataset, cfg: ClaimsConfig) -> list[tuple[str, int]]:
    """(regime id, net position) of the replayed network of each regime present in ``ds``."""
    out = []
    for reg, (m, _) in REGIMES.items():
        i = select_net(ds, alpha=cfg.leaky_alpha, mask_k=1, modifiers_in_training=m)
        if i is not None:
            out.append((reg, i))
    return out


def named_variants(cfg: ClaimsConfig) -> list[tuple[str, float, float]]:
    """(label, b_a, λ_v) of the four variants compared throughout."""
    a, m = cfg.adapt_b_a, cfg.momentum_lambda_v
    return [
        ("leaky", 0.0, 1.0),
        (f"+adapt. (b_a={a:g})", a, 1.0),
        (f"+mom. (λ_v={m:g})", 0.0, m),
        ("+both", a, m),
    ]


def seed_matrix(ds: xr.Dataset, var: str, net: int, variants: Sequence[int]) -> np.ndarray:
    """``var`` at one net for the given variant positions, shape (seed, len(variants)); NaN if absent."""
    n_seed = ds.sizes.get("seed", 1)
    if var not in ds.data_vars:
        return np.full((n_seed, len(variants)), np.nan)
    da = ds[var].isel(net=net)
    if "variant" in da.dims:
        da = da.isel(variant=list(variants)).transpose("seed", "variant")
        return np.asarray(da.values, float)
    v = np.asarray(da.transpose("seed").values, float)
    return np.repeat(v[:, None], len(variants), axis=1)


def matched_sampler(lambda_v: float) -> str:
    """The reference sampler a variant is compared with: the momentum cell is an underdamped
    sampler, the cell without momentum (λ_v = 1) an overdamped one (the two coincide in law there)."""
    return "overdamped" if np.isclose(float(lambda_v), 1.0) else "underdamped"


def ref_matrix(ds: xr.Dataset, stat: str, net: int, variants: Sequence[int]) -> np.ndarray:
    """``ref_<stat>`` at one net of the sampler matched to each given variant (each variant's own
    reference, :func:`matched_sampler`), shape (seed, len(variants)); NaN if absent."""
    name = f"ref_{stat}"
    n_seed = ds.sizes.get("seed", 1)
    if name not in ds.data_vars or "sampler" not in ds[name].dims:
        return np.full((n_seed, len(variants)), np.nan)
    names = samplers(ds)
    da = ds[name].isel(net=net)
    cols = []
    for vi in variants:
        q = matched_sampler(float(ds["lambda_v"].values[vi]))
        if q not in names:
            cols.append(np.full(n_seed, np.nan))
            continue
        d = da.isel(sampler=names.index(q))
        if "variant" in d.dims:
            d = d.isel(variant=vi)
        cols.append(np.asarray(d.transpose("seed").values, float))
    return np.stack(cols, axis=1)


def samplers(ds: xr.Dataset) -> list[str]:
    if "sampler" in ds.coords:
        return [str(s) for s in ds["sampler"].values]
    return ["overdamped", "underdamped"]


def sweep_variants(ds: xr.Dataset, along: str, fixed: float) -> tuple[np.ndarray, list[int]]:
    """Variants along one sweep axis (``"b_a"`` or ``"lambda_v"``) with the other coordinate at its
    value nearest ``fixed``; returns (sorted sweep values, variant positions)."""
    other = "lambda_v" if along == "b_a" else "b_a"
    ov = np.asarray(ds[other].values, float)
    target = ov[np.argmin(np.abs(ov - fixed))]
    idx = np.flatnonzero(np.isclose(ov, target))
    x = np.asarray(ds[along].values, float)[idx]
    order = np.argsort(x)
    return x[order], [int(i) for i in idx[order]]


def diverged_text(ds: xr.Dataset, nets: Sequence[int], variants: Sequence[int]) -> str:
    """ "x% of replays diverged" over the given nets × variants (mean over seeds), "" if none."""
    if "frac_diverged" not in ds.data_vars or not nets or not variants:
        return ""
    vals = np.concatenate([seed_matrix(ds, "frac_diverged", n, variants).ravel() for n in nets])
    vals = vals[np.isfinite(vals)]
    if vals.size == 0 or vals.max() <= 0:
        return ""
    return f"{vals.mean():.0%} of replays diverged; NaN shown as gaps"


def _with_note(title: str, note: str) -> str:
    return f"{title}\n({note})" if note else title


def _finite_or_none(a: np.ndarray) -> np.ndarray | None:
    a = np.asarray(a, float)
    return a if np.any(np.isfinite(a)) else None


# --------------------------------------------------------------------------------------------
# drawing helpers
# --------------------------------------------------------------------------------------------


def _new_figure(width: float, height: float) -> Figure:
    plotting.use_style()
    return plt.figure(figsize=(width, height), layout="constrained")


def _paths(
    ax,
    paths: np.ndarray | None,
    background: np.ndarray | None = None,
    title: str = "",
    cmap: str = plotting.SEQUENTIAL,
    empty_text: str = "no finite samples (diverged)",
) -> None:
    """Trajectories (example, time, space) coloured by example; start marked with a dot."""
    if background is not None:
        for p in np.asarray(background, float):
            ax.plot(p[:, 0], p[:, 1], color="0.85", lw=2.5, zorder=0, solid_capstyle="round")
    ax.set_title(title)
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_aspect("equal", adjustable="datalim")
    if paths is None or not np.any(np.isfinite(paths)):
        plotting.note(ax, empty_text, loc="upper left")
        return
    paths = np.asarray(paths, float)
    cols = plotting.colors(len(paths), cmap)
    n_bad = 0
    for p, c in zip(paths, cols):
        ok = np.all(np.isfinite(p), axis=-1)
        n_bad += int(not ok.all())
        ax.plot(p[:, 0], p[:, 1], color=c, lw=0.8, alpha=0.9)
        if ok.any():
            s = p[np.argmax(ok)]
            ax.plot(s[0], s[1], "o", color=c, ms=3, mec="k", mew=0.4)
    if n_bad:
        plotting.note(ax, f"{n_bad}/{len(paths)} examples diverged (truncated)", loc="upper left")


def _example(ds: xr.Dataset, net: int, b_a: float, lambda_v: float) -> tuple[np.ndarray | None, str]:
    """example_position of (net, nearest variant) and the label of the variant actually used."""
    if "example_position" not in ds.data_vars:
        return None, ""
    vi = variant_index(ds, b_a, lambda_v)
    b, lv = float(ds["b_a"].values[vi]), float(ds["lambda_v"].values[vi])
    ex = ds["example_position"].isel(net=net, variant=vi).transpose("example", ..., "space").values
    return _finite_or_none(ex), f"b_a={b:g}, λ_v={lv:g}"


def _waking(ds: xr.Dataset | None) -> np.ndarray | None:
    if ds is None or "waking_example" not in ds.data_vars:
        return None
    return np.asarray(ds["waking_example"].transpose("example", ..., "space").values, float)


def _missing(fig: Figure, spec, task: str):
    ax = fig.add_subplot(spec)
    plotting.mark_missing(ax, MISSING_TASK.format(task=TASK_LABELS.get(task, task)))
    ax.set_title(TASK_LABELS.get(task, task))
    return ax


# --------------------------------------------------------------------------------------------
# fig1: tasks
# --------------------------------------------------------------------------------------------


def build_fig1_tasks(stats: dict[str, xr.Dataset], cfg: ClaimsConfig | None = None) -> Figure:
    """Rows: tasks. Columns: waking paths; replay of the unmodified leaky m0 net (b_a=0, λ_v=1);
    replay with adaptation and momentum (b_a=adapt_b_a, λ_v=momentum_lambda_v). 9 axes."""
    cfg = _cfg(cfg)
    fig = _new_figure(9.0, 9.0)
    axes = fig.subplots(len(TASKS), 3, squeeze=False)
    for r, task in enumerate(TASKS):
        ds = stats.get(task)
        lab = TASK_LABELS[task]
        if ds is None:
            for c, what in enumerate(("waking paths", "replay, leaky net", "replay, with modifiers")):
                plotting.mark_missing(axes[r, c], MISSING_TASK.format(task=lab))
                axes[r, c].set_title(f"{lab}: {what}")
            continue
        wake = _waking(ds)
        _paths(axes[r, 0], wake, title=f"{lab}: waking paths", cmap="crest", empty_text="no waking examples")
        nets = dict(replay_nets(ds, cfg))
        net = nets.get("m0", next(iter(nets.values()), None))
        reg = "m0" if "m0" in nets else "m1"
        for c, (b, lv, what) in enumerate(
            ((0.0, 1.0, "leaky net"), (cfg.adapt_b_a, cfg.momentum_lambda_v, "with modifiers")), start=1
        ):
            if net is None:
                plotting.mark_missing(axes[r, c], "no replayed network")
                axes[r, c].set_title(f"{lab}: replay, {what}")
                continue
            ex, vlab = _example(ds, net, b, lv)
            _paths(axes[r, c], ex, background=wake, title=f"{lab}: replay, {what}\n({vlab}, {reg})")
    fig.suptitle("Tasks: waking paths and example replays (zero input)")
    return fig


# --------------------------------------------------------------------------------------------
# fig2: leakage
# --------------------------------------------------------------------------------------------


def _m0_nets_by(ds: xr.Dataset) -> dict[tuple[float, int], int]:
    tab = net_table(ds)
    out = {}
    for i, r in tab.iterrows():
        if not bool(r["modifiers_in_training"]):
            out[(float(r["alpha"]), int(r["mask_k"]))] = int(i)
    return out


def _gm_panel(ax, gm: xr.Dataset | None) -> None:
    ax.set_title("(a) Gauss–Markov toy: exact score rate")
    if gm is None or not ({"score_rate", "P_t"} & set(gm.data_vars)):
        plotting.mark_missing(ax, "gauss_markov.nc not available")
        return

    rate = gm["score_rate"] if "score_rate" in gm.data_vars else 1.0 / gm["P_t"]
    t = np.asarray(rate[rate.dims[0]].values if rate.dims else [0], float)
    ax.plot(t, np.asarray(rate.values, float), label="time-varying 1/P_t", color=plotting.PALETTE[0])
    gap = gauss_markov_gap(gm)
    pooled = pooled_rate(gm)
    if pooled is not None:
        ax.axhline(pooled, color=plotting.PALETTE[1], ls="--", label="pooled (stationary) rate")
    ax.set_xlabel("time step t")
    ax.set_ylabel("score rate 1/P_t (1 / variance)")
    ax.set_yscale("log")
    ax.legend(loc="upper right", title=f"max relative gap = {gap:.2g}" if np.isfinite(gap) else None)


def build_fig2_leakage(stats: dict[str, xr.Dataset], cfg: ClaimsConfig | None = None) -> Figure:
    """(a) analytic score rate; (c) final masked error vs k per track task; (b) test-loss curves
    per (task, k), α = 1 vs α < 1 (m0 nets). Axes: 3 + 2·n_k (one placeholder per missing task
    in each of (b) and (c))."""
    cfg = _cfg(cfg)
    ks = sorted({k for t in TRACKS if stats.get(t) is not None for (_, k) in _m0_nets_by(stats[t])}) or [1]
    nk = len(ks)
    fig = _new_figure(max(9.0, 2.6 * nk), 8.5)
    gs = fig.add_gridspec(3, 3 * nk)
    _gm_panel(fig.add_subplot(gs[0, 0:nk]), stats.get("gauss_markov"))
    for j, task in enumerate(TRACKS):
        ds = stats.get(task)
        lab = TASK_LABELS[task]
        ax = fig.add_subplot(gs[0, nk * (j + 1) : nk * (j + 2)])
        ax.set_title(f"(c) {lab}: final masked-training error")
        if ds is None:
            plotting.mark_missing(ax, MISSING_TASK.format(task=lab))
            _missing(fig, gs[1 + j, :], task).set_title(f"(b) {lab}: training curves")
            continue
        by = _m0_nets_by(ds)
        alphas = sorted({a for (a, _) in by}, reverse=True)
        cols = plotting.colors(len(alphas))
        for a, c in zip(alphas, cols):
            kk = [k for k in ks if (a, k) in by]
            if not kk:
                continue
            vals = np.stack(
                [seed_matrix(ds, "final_position_error", by[(a, k)], [0])[:, 0] for k in kk], axis=1
            )
            plotting.ci_band(
                ax, kk, vals, label=f"α={a:g}" + (" (no leak)" if a >= 1 else " (leaky)"), color=c, marker="o"
            )
        ax.set_xscale("log", base=2)
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_xlabel("mask difficulty k (input every k steps)")
        ax.set_ylabel("decoded position error (m)")
        ax.legend()
        for i, k in enumerate(ks):
            axb = fig.add_subplot(gs[1 + j, 3 * i : 3 * (i + 1)])
            axb.set_title(f"(b) {lab}, k={k}: test loss")
            drawn = False
            for a, c in zip(alphas, cols):
                if (a, k) not in by or "test_loss" not in ds.data_vars:
                    continue
                da = ds["test_loss"].isel(net=by[(a, k)]).transpose("seed", "iteration")
                it = np.asarray(ds["iteration"].values, float)
                plotting.ci_band(axb, it, da.values, label=f"α={a:g}", color=c)
                drawn = True
            if not drawn:
                plotting.mark_missing(axb, f"no networks with k={k}")
                continue
            axb.set_yscale("log")
            axb.set_xlabel("training iteration")
            axb.set_ylabel("test loss (MSE)")
            axb.legend()
    fig.suptitle("Leakage: time-varying score and masked training (mean ± 95% CI over seeds, m0 nets)")
    return fig


# --------------------------------------------------------------------------------------------
# fig3: adaptation
# --------------------------------------------------------------------------------------------

FIG3_METRICS = ("coverage", "entropy", "step_length", "step_autocorr")


def _sweep_panel(
    ax,
    ds,
    nets: list[tuple[str, int]],
    var: str,
    along: str,
    fixed: float,
    lag: int | None = None,
    color_by_regime=True,
    color=None,
    label_extra: str = "",
    linestyle: str | None = None,
) -> list[int]:
    x, vidx = sweep_variants(ds, along, fixed)
    for j, (reg, net) in enumerate(nets):
        if var == "step_autocorr" and var in ds.data_vars:
            lags = np.asarray(ds["lag"].values)
            li = int(np.argmin(np.abs(lags - (lag or 1))))
            vals = np.asarray(
                ds[var].isel(net=net, lag=li, variant=vidx).transpose("seed", "variant").values, float
            )
        else:
            vals = seed_matrix(ds, var, net, vidx)
        c = plotting.PALETTE[j] if color_by_regime else color
        ls = linestyle or (REGIME_STYLE[reg] if not color_by_regime else "-")
        plotting.ci_band(ax, x, vals, label=f"{reg}{label_extra}", color=c, marker="o", ms=3, linestyle=ls)
    return vidx


def build_fig3_adaptation(stats: dict[str, xr.Dataset], cfg: ClaimsConfig | None = None) -> Figure:
    """Per task (tmaze, triangle, box): example replays for b_a ∈ {0, adapt_b_a, max} at λ_v≈1 for
    each regime, and coverage / entropy / step length / lag-1 step autocorrelation vs b_a (hue =
    regime). Axes per present task: 3·n_regimes + 4; per missing task: 1."""
    cfg = _cfg(cfg)
    fig = _new_figure(13.0, 4.2 * len(TASKS))
    gs = fig.add_gridspec(2 * len(TASKS), 12)
    for r, task in enumerate(TASKS):
        ds = stats.get(task)
        lab = TASK_LABELS[task]
        if ds is None:
            _missing(fig, gs[2 * r : 2 * r + 2, :], task)
            continue
        nets = replay_nets(ds, cfg)
        b_all = np.asarray(ds["b_a"].values, float)
        b_show = sorted({0.0, float(cfg.adapt_b_a), float(np.nanmax(b_all))})[:3]
        wake = _waking(ds)
        for j, (reg, net) in enumerate(nets[:2]):
            for i, b in enumerate(b_show):
                ax = fig.add_subplot(gs[2 * r, 2 * (3 * j + i) : 2 * (3 * j + i) + 2])
                ex, vlab = _example(ds, net, b, 1.0)
                _paths(ax, ex, background=wake, title=f"{TASK_SHORT[task]} {reg}\n{vlab}")
        titles = {
            "coverage": "coverage per trajectory",
            "entropy": "occupancy entropy per trajectory",
            "step_length": "speed (step length)",
            "step_autocorr": "step autocorrelation, lag 1",
        }
        _, vidx = sweep_variants(ds, "b_a", 1.0)
        note = diverged_text(ds, [n for _, n in nets], vidx)
        for i, var in enumerate(FIG3_METRICS):
            ax = fig.add_subplot(gs[2 * r + 1, 3 * i : 3 * i + 3])
            ax.set_title(_with_note(f"{TASK_SHORT[task]}: {titles[var]}", note))
            if var not in ds.data_vars or not nets:
                plotting.mark_missing(ax, f"{var} not available")
                continue
            _sweep_panel(ax, ds, nets, var, "b_a", 1.0, lag=1)
            ax.set_xlabel("adaptation strength b_a (λ_v = 1)")
            ax.set_ylabel("lag-1 autocorrelation of steps" if var == "step_autocorr" else STAT_LABELS[var])
            ax.legend(title="regime")
    fig.suptitle(
        "Adaptation: replay examples and exploration / speed vs b_a (mean ± 95% CI over seeds; "
        "m0 = replay only, m1 = in training)"
    )
    return fig


# --------------------------------------------------------------------------------------------
# fig4: momentum
# --------------------------------------------------------------------------------------------

FIG4_METRICS = ("compression_ratio", "reach_rmst", "reach_fraction", "coverage")


def build_fig4_momentum(stats: dict[str, xr.Dataset], cfg: ClaimsConfig | None = None) -> Figure:
    """Per task: compression ratio, median reach time, reach fraction, coverage vs λ_v, adaptation
    off (b_a=0) vs on (b_a=adapt_b_a) as colour, regime as line style. Axes: 4 per present task,
    1 per missing task."""
    cfg = _cfg(cfg)
    fig = _new_figure(12.0, 3.0 * len(TASKS))
    gs = fig.add_gridspec(len(TASKS), 4)
    titles = {
        "compression_ratio": "compression ratio",
        "reach_rmst": "reach time (KM restricted mean)",
        "reach_fraction": "fraction reaching target",
        "coverage": "exploration (coverage per trajectory)",
    }
    for r, task in enumerate(TASKS):
        ds = stats.get(task)
        lab = TASK_LABELS[task]
        if ds is None:
            _missing(fig, gs[r, :], task)
            continue
        nets = replay_nets(ds, cfg)
        bvals = np.asarray(ds["b_a"].values, float)
        adapt_on = float(bvals[np.argmin(np.abs(bvals - cfg.adapt_b_a))])
        v_all = []
        for b in (0.0, adapt_on):
            v_all += sweep_variants(ds, "lambda_v", b)[1]
        note = diverged_text(ds, [n for _, n in nets], v_all)
        for i, var in enumerate(FIG4_METRICS):
            ax = fig.add_subplot(gs[r, i])
            ax.set_title(_with_note(f"{TASK_SHORT[task]}: {titles[var]}", note))
            if var not in ds.data_vars or not nets:
                plotting.mark_missing(ax, f"{var} not available")
                continue
            for c, (b, name) in enumerate(((0.0, "adapt. off"), (adapt_on, f"adapt. on (b_a={adapt_on:g})"))):
                for reg, net in nets:
                    _sweep_panel(
                        ax,
                        ds,
                        [(reg, net)],
                        var,
                        "lambda_v",
                        b,
                        color_by_regime=False,
                        color=plotting.PALETTE[c],
                        label_extra=f", {name}",
                        linestyle=REGIME_STYLE[reg],
                    )
            if var == "compression_ratio":
                ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
            ax.invert_xaxis()
            ax.set_xlabel("momentum friction λ_v (1 = none)")
            ax.set_ylabel(STAT_LABELS[var])
            if i == 0:
                ax.legend(fontsize=6)
    fig.suptitle(
        "Momentum × adaptation (mean ± 95% CI over seeds; solid m0 = replay only, dashed m1 = in training)"
    )
    return fig


# --------------------------------------------------------------------------------------------
# fig5: place cells (box)
# --------------------------------------------------------------------------------------------


def _variants_vs_samplers(ds, nets, stat, variants):
    """(seed, 2 · variants, regimes) matrix of ``stat`` with, after each variant, ``ref_<stat>``
    of the reference sampler matched to that variant; and the bar labels."""
    vidx = [variant_index(ds, b, lv) for _, b, lv in variants]
    cols = []
    for _, net in nets:
        rnn = seed_matrix(ds, stat, net, vidx)
        ref = ref_matrix(ds, stat, net, vidx)
        cols.append(np.stack([rnn, ref], axis=2).reshape(rnn.shape[0], -1))  # rnn, ref alternating
    labels = []
    for (name, _, _), vi in zip(variants, vidx):
        q = matched_sampler(float(ds["lambda_v"].values[vi]))
        labels += [name, REF_BAR.get(q, q)]  # the sampler bar follows its variant's bar
    return np.stack(cols, axis=-1), labels


def _ref_example(ds: xr.Dataset, net: int, b_a: float, lambda_v: float) -> tuple[np.ndarray | None, str]:
    """Example trajectories of the sampler matched to (net, nearest variant), and its label."""
    vi = variant_index(ds, b_a, lambda_v)
    q = matched_sampler(float(ds["lambda_v"].values[vi]))
    names = samplers(ds)
    if "ref_example_position" not in ds.data_vars or q not in names:
        return None, SAMPLER_LABELS.get(q, q)
    da = ds["ref_example_position"].isel(net=net, sampler=names.index(q))
    if "variant" in da.dims:
        da = da.isel(variant=vi)
    return _finite_or_none(da.transpose("example", ..., "space").values), SAMPLER_LABELS.get(q, q)


def build_fig5_placecells(stats: dict[str, xr.Dataset], cfg: ClaimsConfig | None = None) -> Figure:
    """Box task: decoded example replays of leaky, +adaptation, +momentum, +both (one row per
    regime; when ``ref_example_position`` is present, a second row per regime with the examples
    of the reference sampler matched to each variant) and bars of step length (top-k and, if
    present, centroid decode), coverage per trajectory and Wasserstein distance for the 4
    variants, each followed by its matched reference sampler (hue = regime). Axes: 4·n_regimes
    (×2 with sampler examples) + 3 or 4 bar panels; 1 if box is absent."""
    cfg = _cfg(cfg)
    ds = stats.get("box")
    if ds is None:
        fig = _new_figure(8.0, 3.0)
        _missing(fig, fig.add_gridspec(1, 1)[0, 0], "box")
        fig.suptitle("Place cells (box): replay variants vs reference Langevin samplers")
        return fig
    nets = replay_nets(ds, cfg)
    variants = named_variants(cfg)
    has_ref_ex = "ref_example_position" in ds.data_vars
    rows_per_reg = 2 if has_ref_ex else 1
    n_ex = len(variants)
    bar_stats = (
        ["step_length"]
        + (["step_length_smooth"] if "step_length_smooth" in ds.data_vars else [])
        + ["coverage", "wasserstein"]
    )
    n_rows_ex = max(len(nets) * rows_per_reg, 1)
    fig = _new_figure(max(2.6 * n_ex, 12.0), 3.0 * (n_rows_ex + 1) + 0.8)
    top, bottom = fig.subfigures(2, 1, height_ratios=[n_rows_ex, 1.15])
    wake = _waking(ds)
    for r, (reg, net) in enumerate(nets):
        for i, (name, b, lv) in enumerate(variants):
            ax = top.add_subplot(n_rows_ex, n_ex, rows_per_reg * r * n_ex + i + 1)
            ex, vlab = _example(ds, net, b, lv)
            _paths(ax, ex, background=wake, title=f"{reg} {name}\n({vlab})")
            if has_ref_ex:
                ax = top.add_subplot(n_rows_ex, n_ex, (rows_per_reg * r + 1) * n_ex + i + 1)
                ex, qlab = _ref_example(ds, net, b, lv)
                _paths(ax, ex, background=wake, title=f"{reg} {qlab}\nmatched to {name}")
    if not nets:
        plotting.mark_missing(top.add_subplot(1, 1, 1), "no replayed network in box statistics")
    note = diverged_text(ds, [n for _, n in nets], [variant_index(ds, b, lv) for _, b, lv in variants])
    for i, stat in enumerate(bar_stats):
        ax = bottom.add_subplot(1, len(bar_stats), i + 1)
        ax.set_title(
            _with_note(
                {
                    "step_length": "speed (top-k decode)",
                    "step_length_smooth": "speed (centroid decode)",
                    "coverage": "exploration (coverage per trajectory)",
                    "wasserstein": "distance to waking",
                }[stat],
                note,
            )
        )
        if not nets:
            plotting.mark_missing(ax, "no data")
            continue
        vals, labels = _variants_vs_samplers(ds, nets, stat, variants)
        plotting.bar_ci(ax, labels, vals, hue_labels=[r for r, _ in nets])
        ax.set_ylabel(STAT_LABELS[stat])
    fig.suptitle(
        "Place cells (box): decoded replay of the four variants, each next to the reference "
        "Langevin sampler matched to it (bars: mean ± 95% CI over seeds)"
    )
    return fig


# --------------------------------------------------------------------------------------------
# fig6: Langevin comparison
# --------------------------------------------------------------------------------------------


def build_fig6_langevin(stats: dict[str, xr.Dataset], cfg: ClaimsConfig | None = None) -> Figure:
    """Per task: drift–score cosine and fitted ε for the four variants (hue = regime); each variant
    next to its matched reference sampler for speed (compression ratio) and exploration (coverage
    per trajectory). Last row:
    ``tv_score_gap`` per task. Axes: 4 per present task, 1 per missing task, + 1."""
    cfg = _cfg(cfg)
    variants = named_variants(cfg)
    fig = _new_figure(13.0, 3.0 * (len(TASKS) + 1))
    gs = fig.add_gridspec(len(TASKS) + 1, 4)
    panels = (
        ("drift_score_cosine", False, "drift–score alignment"),
        ("fitted_eps", False, "fitted Langevin step ε"),
        ("compression_ratio", True, "speed: RNN vs matched sampler"),
        ("coverage", True, "exploration: RNN vs matched sampler"),
    )
    for r, task in enumerate(TASKS):
        ds = stats.get(task)
        lab = TASK_LABELS[task]
        if ds is None:
            _missing(fig, gs[r, :], task)
            continue
        nets = replay_nets(ds, cfg)
        note = diverged_text(ds, [n for _, n in nets], [variant_index(ds, b, lv) for _, b, lv in variants])
        for i, (stat, with_ref, title) in enumerate(panels):
            ax = fig.add_subplot(gs[r, i])
            ax.set_title(_with_note(f"{TASK_SHORT[task]}: {title}", note))
            if stat not in ds.data_vars or not nets:
                plotting.mark_missing(ax, f"{stat} not available")
                continue
            if with_ref:
                vals, labels = _variants_vs_samplers(ds, nets, stat, variants)
            else:
                vidx = [variant_index(ds, b, lv) for _, b, lv in variants]
                vals = np.stack([seed_matrix(ds, stat, net, vidx) for _, net in nets], axis=-1)
                labels = [n for n, _, _ in variants]
            plotting.bar_ci(ax, labels, vals, hue_labels=[reg for reg, _ in nets])
            if stat == "drift_score_cosine":
                ax.axhline(0.0, color="0.3", lw=0.8)
            ax.set_ylabel(STAT_LABELS[stat])
    ax = fig.add_subplot(gs[len(TASKS), 0:2])
    ax.set_title("Time-varying score: gap to pooled score (trained nets)")
    present = [t for t in TASKS if stats.get(t) is not None and "tv_score_gap" in stats[t].data_vars]
    if not present:
        plotting.mark_missing(ax, "tv_score_gap not available")
    else:
        regs = list(REGIMES)
        n_seed = max(stats[t].sizes.get("seed", 1) for t in present)
        vals = np.full((n_seed, len(present), len(regs)), np.nan)
        for j, t in enumerate(present):
            d = stats[t]
            for reg, net in replay_nets(d, cfg):
                h = regs.index(reg)
                v = np.asarray(d["tv_score_gap"].isel(net=net).transpose("seed").values, float)
                vals[: v.size, j, h] = v
        keep = [h for h in range(len(regs)) if np.any(np.isfinite(vals[:, :, h]))] or [0]
        plotting.bar_ci(
            ax, [TASK_LABELS[t] for t in present], vals[:, :, keep], hue_labels=[regs[h] for h in keep]
        )
        ax.set_ylabel(STAT_LABELS["tv_score_gap"])
    fig.suptitle(
        "Langevin view: drift–score alignment, fitted step, RNN vs reference samplers "
        "(mean ± 95% CI over seeds)"
    )
    return fig


# --------------------------------------------------------------------------------------------
# registry and entry point
# --------------------------------------------------------------------------------------------

FIGURES: dict[str, Callable[..., Figure]] = {
    "fig1_tasks": build_fig1_tasks,
    "fig2_leakage": build_fig2_leakage,
    "fig3_adaptation": build_fig3_adaptation,
    "fig4_momentum": build_fig4_momentum,
    "fig5_placecells": build_fig5_placecells,
    "fig6_langevin": build_fig6_langevin,
}


def draw(
    name: str,
    stats_ncs: dict[str, str],
    out_pdf: str,
    out_png: str,
    prov: dict | None,
    config: dict | None = None,
) -> None:
    """Build figure ``name`` from the statistics files ``stats_ncs`` (keys: task names and
    ``"gauss_markov"``; absent keys are drawn as placeholders) and save PDF + PNG with provenance
    via :func:`noisyrnn.core.io.save_figure`. ``config`` (optional, the workflow config dict) supplies
    the ``claims`` section (which b_a / λ_v / α / k count as "on"); defaults otherwise."""
    if name not in FIGURES:
        raise KeyError(f"unknown figure {name!r}; known: {sorted(FIGURES)}")

    cfg = ClaimsConfig.from_dict((config or {}).get("claims"))
    stats = load_stats(stats_ncs)
    fig = FIGURES[name](stats, cfg)
    try:
        io.save_figure(fig, out_pdf, out_png, prov or {})
    finally:
        plt.close(fig)
