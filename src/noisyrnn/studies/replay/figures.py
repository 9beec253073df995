"""Figures fig1–fig6 of the replay study, drawn from statistics files only (SCIENCE.md §6).

Each figure has a builder ``build_<name>(stats, cfg=None) -> matplotlib.figure.Figure`` taking the
opened statistics datasets (keys: ``"tmaze"``, ``"triangle"``, ``"box"``, ``"gauss_markov"``; any
may be absent) and a :class:`~noisyrnn.studies.replay.selection.ClaimsConfig` that names the "adaptation on"
(``adapt_b_a``), "momentum on" (``momentum_lambda_v``), leaky (``leaky_alpha``) and masked
(``masked_k``) settings. :data:`FIGURES` maps each figure name to its builder and
:func:`draw` opens the files, builds the figure and saves it with :func:`noisyrnn.core.io.save_figure`.

Conventions: lines and bars are means over seeds with 95 % Student-t intervals over seeds, the
claims engine's interval (:mod:`noisyrnn.core.plotting`); NaN statistics (diverged replays) are gaps /
empty bars and panels note the fraction of diverged replays; a task absent from the run gets a
labelled placeholder, but a statistics file that lacks a variable a figure needs is an error
(:class:`noisyrnn.core.io.ArtefactError` naming the file and the variable), never a placeholder.
Panels are lettered (a), (b), … in reading order (:class:`noisyrnn.core.plotting.PanelLetters`);
trajectories are coloured by time step, explained by a colourbar; regimes, adaptation and
bar hues are explained by one legend per figure, outside the panels.
Replay panels use the replayed network of each regime (α = ``leaky_alpha``, k = 1; regime
``m0`` = modifiers at replay only, ``m1`` = modifiers in training too; figures spell the regime
out). Variants are matched by nearest (b_a, λ_v) (:func:`select_variant`). Reference Langevin
samplers are matched per variant (its own fitted step, friction and temperature); a variant is
compared with its matched sampler (:func:`matched_sampler`: overdamped at λ_v = 1, underdamped
with momentum).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib

matplotlib.use("Agg", force=False)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

from ...core import io, plotting  # noqa: E402
from ...core.inference import mean_ci_over_axis0  # noqa: E402
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
    "REGIME_LABELS",
    "REQUIRED",
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
#: the two training regimes, spelled out (figures never show the ids m0 / m1)
REGIME_LABELS = {"m0": "modifiers at replay only", "m1": "modifiers in training too"}
REGIME_STYLE = {"m0": "-", "m1": "--"}
REGIME_COLOR = {"m0": plotting.PALETTE[0], "m1": plotting.PALETTE[1]}
SAMPLER_LABELS = {"overdamped": "overdamped Langevin", "underdamped": "underdamped Langevin"}
REF_BAR = {"overdamped": "ref. overdamped", "underdamped": "ref. underdamped"}
MISSING_TASK = "{task}: not in this run\n(no statistics file)"
WAKING_COLOR = "0.82"
#: box side (m) when a statistics file's provenance does not give it: TaskConfig.box_size's
#: default (not imported: the figures' code hash must not depend on the task generators)
DEFAULT_BOX_SIZE = 2.2

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
    "wasserstein": "Wasserstein-1 to waking positions (m)",
    "drift_score_cosine": "cosine(drift, score)",
    # ε = <f, s> / <s, s>: drift f (state units per step) regressed on the waking score s
    # (1 / state units) in the network's hidden-state space, so ε is in state units², not m²
    "fitted_eps": "fitted step ε (network-state units²)",
    "tv_score_gap": "time-binned vs pooled score gap (relative)",
    "step_autocorr": "lag-1 autocorrelation of steps",
    "final_position_error": "decoded position error (m)",
    "test_loss": "test loss (MSE)",
}
AXIS_LABELS = {
    "b_a": "adaptation strength $b_a$ ($\\lambda_v$ = 1)",
    "lambda_v": "momentum friction $\\lambda_v$ (1 = no momentum)",
}

#: Variables each figure reads from each task's statistics file (``"gauss_markov"``: the toy's
#: file). A present file that lacks one is an error naming the file and the variable.
REQUIRED: dict[str, dict[str, tuple[str, ...]]] = {
    "fig1_tasks": {t: ("waking_example", "example_position") for t in TASKS},
    "fig2_leakage": {
        **{t: ("final_position_error", "test_loss") for t in TRACKS},
        "gauss_markov": ("score_rate", "pooled_score_rate"),
    },
    "fig3_adaptation": {
        t: (
            "waking_example",
            "example_position",
            "coverage",
            "entropy",
            "step_length",
            "step_autocorr",
            "frac_diverged",
        )
        for t in TASKS
    },
    "fig4_momentum": {
        t: ("compression_ratio", "reach_rmst", "reach_fraction", "coverage", "frac_diverged") for t in TASKS
    },
    "fig5_placecells": {
        "box": (
            "waking_example",
            "example_position",
            "ref_example_position",
            "step_length",
            "step_length_smooth",
            "coverage",
            "wasserstein",
            "ref_step_length",
            "ref_coverage",
            "ref_wasserstein",
            "frac_diverged",
        ),
    },
    "fig6_langevin": {
        t: (
            "drift_score_cosine",
            "fitted_eps",
            "compression_ratio",
            "coverage",
            "ref_compression_ratio",
            "ref_coverage",
            "tv_score_gap",
            "frac_diverged",
        )
        for t in TASKS
    },
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


def _source(ds: xr.Dataset, key: str) -> str:
    src = ds.encoding.get("source")
    return str(src) if src else f"statistics of {key!r} (in memory)"


def require(stats: dict[str, xr.Dataset], figure: str) -> None:
    """Raise :class:`noisyrnn.core.io.ArtefactError` naming the file and the variables when a
    present statistics file lacks a variable that ``figure`` reads (:data:`REQUIRED`)."""
    for key, names in REQUIRED[figure].items():
        ds = stats.get(key)
        if ds is None:
            continue  # a task not in this run: a labelled placeholder
        if key == "gauss_markov":
            names = tuple(n for n in names if not (n == "score_rate" and "P_t" in ds.data_vars))
        missing = [n for n in names if n not in ds.data_vars]
        if missing:
            raise io.ArtefactError(
                f"{_source(ds, key)}: lacks required variable(s) {', '.join(missing)} that "
                f"figure {figure} draws; rerun the rule that writes this statistics file"
            )


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


def _box_size(ds: xr.Dataset) -> float:
    """Side (m) of the box the dataset behind ``ds`` was generated in: the ``replay_dataset``
    settings in the file's provenance lineage, else the task default."""
    prov = io.provenance_of(ds) or {}
    for node in [prov, *(prov.get("lineage") or [])]:
        task = ((node.get("params") or {}).get("settings") or {}).get("task") or {}
        if isinstance(task, dict) and "box_size" in task:
            return float(task["box_size"])
    return DEFAULT_BOX_SIZE


# --------------------------------------------------------------------------------------------
# drawing helpers
# --------------------------------------------------------------------------------------------


def _new_figure(width: float, height: float) -> Figure:
    plotting.use_style()
    return plt.figure(figsize=(width, height), layout="constrained")


def _outline(ax, box: float | None) -> None:
    """The walls of the box (side ``box`` m, centred at the origin)."""
    if box is None:
        return
    h = box / 2.0
    ax.add_patch(Rectangle((-h, -h), box, box, fill=False, ec="0.2", lw=1.4, zorder=1))
    ax.update_datalim([(-h, -h), (h, h)])
    ax.autoscale_view()


def _paths(
    ax,
    paths: np.ndarray | None,
    background: np.ndarray | None = None,
    title: str = "",
    letters: plotting.PanelLetters | None = None,
    empty_text: str = "no finite samples (diverged)",
    box: float | None = None,
    n_steps: int | None = None,
):
    """Trajectories (example, time, space) coloured by time step (dot: start) over the waking
    paths (grey) and, for the box, its walls. Returns the colour mappable (None if nothing drawn)."""
    if background is not None:
        for p in np.asarray(background, float):
            ax.plot(p[:, 0], p[:, 1], color=WAKING_COLOR, lw=2.5, zorder=0, solid_capstyle="round")
    if letters is not None:
        letters.title(ax, title)
    else:
        ax.set_title(title)
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_aspect("equal", adjustable="datalim")
    _outline(ax, box)
    if paths is None or not np.any(np.isfinite(paths)):
        plotting.note(ax, empty_text, loc="upper left")
        return None
    sm, n_bad = plotting.time_paths(ax, paths, n_steps=n_steps)
    if n_bad:
        plotting.note(ax, f"{n_bad}/{len(paths)} examples diverged (truncated)", loc="upper left")
    return sm


def _waking_paths(ax, paths: np.ndarray | None, title: str, letters, box: float | None = None) -> None:
    """Waking example paths in one dark colour (dot: start)."""
    letters.title(ax, title)
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_aspect("equal", adjustable="datalim")
    _outline(ax, box)
    if paths is None or not np.any(np.isfinite(paths)):
        plotting.note(ax, "no waking examples", loc="upper left")
        return
    for p in np.asarray(paths, float):
        ax.plot(p[:, 0], p[:, 1], color="0.2", lw=0.9)
        ok = np.all(np.isfinite(p), axis=-1)
        if ok.any():
            s = p[np.argmax(ok)]
            ax.plot(s[0], s[1], "o", color="0.2", ms=3.5, mec="k", mew=0.5)


def _time_colorbar(owner, sm, axes, label: str = "replay step (0 = start)", **kw) -> None:
    """One colourbar explaining the time colour of the trajectories in ``axes``."""
    if sm is None:
        return
    kw = {"shrink": 0.85, "aspect": 25, "pad": 0.01, **kw}
    owner.colorbar(sm, ax=list(np.ravel(axes)), label=label, **kw)


def _example(ds: xr.Dataset, net: int, b_a: float, lambda_v: float) -> tuple[np.ndarray | None, str]:
    """example_position of (net, nearest variant) and the label of the variant actually used."""
    vi = variant_index(ds, b_a, lambda_v)
    b, lv = float(ds["b_a"].values[vi]), float(ds["lambda_v"].values[vi])
    ex = ds["example_position"].isel(net=net, variant=vi).transpose("example", ..., "space").values
    return _finite_or_none(ex), f"b_a={b:g}, λ_v={lv:g}"


def _steps(ds: xr.Dataset, var: str) -> int:
    """Last time index of the trajectories in ``var`` (their length in steps)."""
    da = ds[var]
    tdim = [d for d in da.dims if d not in ("net", "variant", "sampler", "example", "space")]
    return max(int(da.sizes[tdim[0]]) - 1, 1) if tdim else 1


def _waking(ds: xr.Dataset | None) -> np.ndarray | None:
    if ds is None or "waking_example" not in ds.data_vars:
        return None
    return np.asarray(ds["waking_example"].transpose("example", ..., "space").values, float)


def _missing_panel(ax, task: str, letters, what: str = "") -> None:
    lab = TASK_LABELS.get(task, task)
    plotting.mark_missing(ax, MISSING_TASK.format(task=lab))
    letters.title(ax, f"{lab}{': ' + what if what else ''}")


def _regime_handles(nets: Sequence[str] = ("m0", "m1"), kind: str = "line"):
    if kind == "bar":
        return [Patch(color=REGIME_COLOR[r], label=REGIME_LABELS[r]) for r in nets]
    return [Line2D([], [], color=REGIME_COLOR[r], marker="o", ms=3, label=REGIME_LABELS[r]) for r in nets]


def _figure_legend(fig: Figure, handles, title: str | None = None) -> None:
    """One legend for the whole figure, below the panels (never over data)."""
    if handles:
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncols=min(len(handles), 4),
            title=title,
            frameon=False,
        )


def _x_axis(ax, x: np.ndarray, along: str) -> None:
    """The sweep axis at its values (kept even when the panel has no finite data); λ_v runs
    from 1 (no momentum) on the left to strong momentum on the right."""
    x = np.unique(np.asarray(x, float))
    pad = 0.06 * (x.max() - x.min()) if x.size > 1 else 0.1
    lo, hi = x.min() - pad, x.max() + pad
    ax.set_xlim((hi, lo) if along == "lambda_v" else (lo, hi))
    ax.set_xticks(x, [f"{v:g}" for v in x])
    ax.set_xlabel(AXIS_LABELS[along])


# --------------------------------------------------------------------------------------------
# fig1: tasks
# --------------------------------------------------------------------------------------------


def build_fig1_tasks(stats: dict[str, xr.Dataset], cfg: ClaimsConfig | None = None) -> Figure:
    """Rows: tasks. Columns: waking paths; replay of the unmodified leaky net (b_a=0, λ_v=1, modifiers at
    replay only); replay with adaptation and momentum (b_a=adapt_b_a, λ_v=momentum_lambda_v).
    9 lettered axes and a colourbar for the replay step."""
    cfg = _cfg(cfg)
    require(stats, "fig1_tasks")
    letters = plotting.PanelLetters()
    fig = _new_figure(9.5, 9.0)
    axes = fig.subplots(len(TASKS), 3, squeeze=False)
    sm, steps_seen = None, set()
    for r, task in enumerate(TASKS):
        ds = stats.get(task)
        lab = TASK_LABELS[task]
        if ds is None:
            for c, what in enumerate(("waking paths", "replay, leaky network", "replay, with modifiers")):
                _missing_panel(axes[r, c], task, letters, what)
            continue
        box = _box_size(ds) if task == "box" else None
        wake = _waking(ds)
        _waking_paths(axes[r, 0], wake, f"{lab}: waking paths", letters, box=box)
        nets = dict(replay_nets(ds, cfg))
        reg = "m0" if "m0" in nets else "m1"
        net = nets.get(reg)
        n_steps = _steps(ds, "example_position")
        for c, (b, lv, what) in enumerate(
            ((0.0, 1.0, "leaky network"), (cfg.adapt_b_a, cfg.momentum_lambda_v, "with modifiers")), start=1
        ):
            if net is None:
                plotting.mark_missing(axes[r, c], "no replayed network")
                letters.title(axes[r, c], f"{lab}: replay, {what}")
                continue
            ex, vlab = _example(ds, net, b, lv)
            got = _paths(
                axes[r, c],
                ex,
                background=wake,
                letters=letters,
                box=box,
                n_steps=n_steps,
                title=f"{lab}: replay, {what}\n({vlab})",
            )
            if got is not None:
                sm = got
                steps_seen.add(n_steps)
    label = "replay step (0 = start)" if len(steps_seen) <= 1 else "replay step (per task's replay length)"
    _time_colorbar(fig, sm, axes[:, 1:], label=label, location="bottom", shrink=0.5, aspect=40)
    regs = {("m0" if "m0" in dict(replay_nets(d, cfg)) else "m1") for t, d in stats.items() if t in TASKS}
    who = " / ".join(REGIME_LABELS[r] for r in sorted(regs)) or REGIME_LABELS["m0"]
    fig.suptitle(
        f"Tasks: waking paths and example replays (zero input; replayed network: {who}; "
        "grey: waking paths, dot: start)"
    )
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


def _gm_panel(ax, gm: xr.Dataset | None, letters) -> None:
    letters.title(ax, "Gauss–Markov toy: exact score rate")
    if gm is None:
        plotting.mark_missing(ax, "gauss_markov.nc not available")
        return
    rate = gm["score_rate"] if "score_rate" in gm.data_vars else 1.0 / gm["P_t"]
    t = np.asarray(rate[rate.dims[0]].values if rate.dims else [0], float)
    ax.plot(t, np.asarray(rate.values, float), label="time-varying $1/P_t$", color=plotting.PALETTE[2])
    gap = gauss_markov_gap(gm)
    pooled = pooled_rate(gm)
    if pooled is not None:
        ax.axhline(pooled, color=plotting.PALETTE[4], ls="--", label="pooled (stationary) rate")
    ax.set_xlabel("time step t")
    ax.set_ylabel("score rate $1/P_t$ (1 / variance)")
    ax.set_yscale("log")
    ax.legend(loc="upper right", title=f"max relative gap = {gap:.2g}" if np.isfinite(gap) else None)


def _alpha_label(a: float) -> str:
    return f"α = {a:g}" + (" (no leak)" if a >= 1 else " (leaky)")


def build_fig2_leakage(stats: dict[str, xr.Dataset], cfg: ClaimsConfig | None = None) -> Figure:
    """(a) analytic score rate; (b, c) final masked error vs k per track task; (d …) test-loss
    curves per (task, k), α = 1 vs α < 1 (networks trained without modifiers), all on one log
    y-range. Axes: 3 + n_k per present track task, 3 + 1 per missing one."""
    cfg = _cfg(cfg)
    require(stats, "fig2_leakage")
    letters = plotting.PanelLetters()
    ks = sorted({k for t in TRACKS if stats.get(t) is not None for (_, k) in _m0_nets_by(stats[t])}) or [1]
    nk = len(ks)
    alphas_all = sorted(
        {a for t in TRACKS if stats.get(t) is not None for (a, _) in _m0_nets_by(stats[t])}, reverse=True
    )
    acol = dict(zip(alphas_all, plotting.colors(len(alphas_all))))
    fig = _new_figure(max(9.0, 3.2 * nk), 8.8)
    gs = fig.add_gridspec(3, 3 * nk)
    _gm_panel(fig.add_subplot(gs[0, 0:nk]), stats.get("gauss_markov"), letters)
    for j, task in enumerate(TRACKS):  # top row, reading order: (b) T-maze, (c) triangle
        ds = stats.get(task)
        lab = TASK_LABELS[task]
        ax = fig.add_subplot(gs[0, nk * (j + 1) : nk * (j + 2)])
        letters.title(ax, f"{lab}: final error vs mask k")
        if ds is None:
            plotting.mark_missing(ax, MISSING_TASK.format(task=lab))
            continue
        by = _m0_nets_by(ds)
        for a in alphas_all:
            kk = [k for k in ks if (a, k) in by]
            if not kk:
                continue
            vals = np.stack(
                [seed_matrix(ds, "final_position_error", by[(a, k)], [0])[:, 0] for k in kk], axis=1
            )
            plotting.ci_band(ax, kk, vals, color=acol[a], marker="o")
        ax.set_xscale("log", base=2)
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.minorticks_off()
        ax.set_xlabel("mask difficulty k (input every k steps)")
        ax.set_ylabel(STAT_LABELS["final_position_error"])
    loss_axes, lo_hi = [], []
    for j, task in enumerate(TRACKS):  # rows below: test-loss curves, one panel per k
        ds = stats.get(task)
        lab = TASK_LABELS[task]
        if ds is None:
            _missing_panel(fig.add_subplot(gs[1 + j, :]), task, letters, "training curves")
            continue
        by = _m0_nets_by(ds)
        it = np.asarray(ds["iteration"].values, float)
        for i, k in enumerate(ks):
            axb = fig.add_subplot(gs[1 + j, 3 * i : 3 * (i + 1)])
            letters.title(axb, f"{lab}, k = {k}: test loss")
            drawn = False
            for a in alphas_all:
                if (a, k) not in by:
                    continue
                v = np.asarray(
                    ds["test_loss"].isel(net=by[(a, k)]).transpose("seed", "iteration").values, float
                )
                plotting.ci_band(axb, it, v, color=acol[a])
                mean, lo, hi = mean_ci_over_axis0(v)
                lo_hi.append(np.concatenate([mean, lo, hi]))
                drawn = True
            if not drawn:
                plotting.mark_missing(axb, f"no networks with k={k}")
                continue
            axb.set_yscale("log")
            axb.set_xlabel("training iteration")
            axb.set_ylabel(STAT_LABELS["test_loss"])
            loss_axes.append(axb)
    if loss_axes and lo_hi:  # one log y-range for every test-loss panel: k = 1 vs k = 4 comparable
        allv = np.concatenate(lo_hi)
        pos = allv[np.isfinite(allv) & (allv > 0)]
        if pos.size:
            lo, hi = pos.min(), pos.max()
            for axb in loss_axes:
                axb.set_ylim(lo / 1.3, hi * 1.3)
    _figure_legend(
        fig,
        [Line2D([], [], color=acol[a], marker="o", ms=3, label=_alpha_label(a)) for a in alphas_all],
        title="leak (networks trained without modifiers)",
    )
    fig.suptitle("Leakage: time-varying score and masked training (mean ± 95% CI over seeds)")
    return fig


# --------------------------------------------------------------------------------------------
# fig3: adaptation
# --------------------------------------------------------------------------------------------

FIG3_METRICS = ("coverage", "entropy", "step_length", "step_autocorr")


def _sweep_values(ds, net: int, var: str, vidx: list[int], lag: int | None = None) -> np.ndarray:
    if var == "step_autocorr":
        lags = np.asarray(ds["lag"].values)
        li = int(np.argmin(np.abs(lags - (lag or 1))))
        return np.asarray(
            ds[var].isel(net=net, lag=li, variant=vidx).transpose("seed", "variant").values, float
        )
    return seed_matrix(ds, var, net, vidx)


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
    for reg, net in nets:
        vals = _sweep_values(ds, net, var, vidx, lag)
        c = REGIME_COLOR[reg] if color_by_regime else color
        ls = linestyle or (REGIME_STYLE[reg] if not color_by_regime else "-")
        plotting.ci_band(
            ax, x, vals, label=f"{REGIME_LABELS[reg]}{label_extra}", color=c, marker="o", ms=3, linestyle=ls
        )
    _x_axis(ax, x, along)
    return vidx


def _no_data_note(ax, ds, nets, var, vidx, lag=None) -> bool:
    """A note in ``ax`` when ``var`` has no finite value at the drawn nets × variants (why)."""
    vals = (
        np.concatenate([_sweep_values(ds, n, var, vidx, lag).ravel() for _, n in nets])
        if nets
        else np.array([])
    )
    if np.any(np.isfinite(vals)):
        return False
    div = np.concatenate([seed_matrix(ds, "frac_diverged", n, vidx).ravel() for _, n in nets]) if nets else []
    div = np.asarray(div, float)
    why = (
        "every replay diverged"
        if div.size and np.all(div[np.isfinite(div)] >= 1) and np.isfinite(div).any()
        else f"{var} is NaN for every variant"
    )
    _centre_note(ax, f"no data: {why}")
    return True


def _centre_note(ax, text: str) -> None:
    """A readable note in the middle of a panel (why it is flat or empty)."""
    if text:
        ax.text(
            0.5,
            0.5,
            text,
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=7,
            color="0.25",
            bbox={"boxstyle": "round", "fc": "white", "ec": "0.7", "alpha": 0.9},
            zorder=5,
        )


def build_fig3_adaptation(stats: dict[str, xr.Dataset], cfg: ClaimsConfig | None = None) -> Figure:
    """Per task (tmaze, triangle, box): one row of example replays for b_a ∈ {0, adapt_b_a, max}
    at λ_v≈1 for each regime (lettered once, with a colourbar for the replay step) and a row of
    coverage / entropy / step length / lag-1 step autocorrelation vs b_a (colour = regime).
    Axes per present task: n_regimes · n_b examples + 4 (+ 1 colourbar); per missing task: 1."""
    cfg = _cfg(cfg)
    require(stats, "fig3_adaptation")
    letters = plotting.PanelLetters()
    rows = []
    for task in TASKS:
        ds = stats.get(task)
        if ds is None:
            rows.append((task, None, [], []))
            continue
        b_all = np.asarray(ds["b_a"].values, float)
        b_show = sorted(
            {
                float(b_all[np.argmin(np.abs(b_all - b))])
                for b in (0.0, float(cfg.adapt_b_a), float(np.nanmax(b_all)))
            }
        )
        rows.append((task, ds, replay_nets(ds, cfg)[:2], b_show))
    n_ex = max([len(n) * len(b) for _, ds, n, b in rows if ds is not None] or [1])
    ex_h = min(2.8, 11.0 / max(n_ex, 1)) + 0.6
    heights = [ex_h + 2.8 if ds is not None else 1.2 for _, ds, _, _ in rows]
    fig = _new_figure(13.0, sum(heights) + 0.9)
    subs = fig.subfigures(len(rows), 1, height_ratios=heights)
    for sf, (task, ds, nets, b_show) in zip(np.ravel(subs), rows):
        lab = TASK_LABELS[task]
        if ds is None:
            _missing_panel(sf.add_subplot(1, 1, 1), task, letters)
            continue
        top, bottom = sf.subfigures(2, 1, height_ratios=[ex_h, 2.8])
        wake = _waking(ds)
        box = _box_size(ds) if task == "box" else None
        n_steps = _steps(ds, "example_position")
        if nets:
            ex_axes = top.subplots(1, len(nets) * len(b_show), squeeze=False)[0]
            sm = None
            for j, (reg, net) in enumerate(nets):
                for i, b in enumerate(b_show):
                    ax = ex_axes[j * len(b_show) + i]
                    ex, vlab = _example(ds, net, b, 1.0)
                    head = f"{lab}: example replays\n" if ax is ex_axes[0] else "\n"
                    got = _paths(
                        ax,
                        ex,
                        background=wake,
                        box=box,
                        n_steps=n_steps,
                        letters=letters if ax is ex_axes[0] else None,
                        title=f"{head}{REGIME_LABELS[reg]}, {vlab}",
                    )
                    sm = got or sm
            _time_colorbar(top, sm, ex_axes)
        else:
            ax = top.add_subplot(1, 1, 1)
            plotting.mark_missing(ax, "no replayed network in these statistics")
            letters.title(ax, f"{lab}: example replays")
        titles = {
            "coverage": "coverage per trajectory",
            "entropy": "occupancy entropy per trajectory",
            "step_length": "speed (step length)",
            "step_autocorr": "step autocorrelation, lag 1",
        }
        _, vidx = sweep_variants(ds, "b_a", 1.0)
        note = diverged_text(ds, [n for _, n in nets], vidx)
        for ax, var in zip(bottom.subplots(1, len(FIG3_METRICS)), FIG3_METRICS):
            letters.title(ax, _with_note(f"{TASK_SHORT[task]}: {titles[var]}", note))
            if not nets:
                plotting.mark_missing(ax, "no replayed network")
                continue
            _sweep_panel(ax, ds, nets, var, "b_a", 1.0, lag=1)
            _no_data_note(ax, ds, nets, var, vidx, lag=1)
            ax.set_ylabel(STAT_LABELS[var])
    regs = sorted({r for _, ds, n, _ in rows if ds is not None for r, _ in n})
    _figure_legend(fig, _regime_handles(regs), title="training regime (line colour)")
    fig.suptitle(
        "Adaptation: replay examples and exploration / speed vs $b_a$ (mean ± 95% CI over seeds; "
        "grey: waking paths, dot: start)"
    )
    return fig


# --------------------------------------------------------------------------------------------
# fig4: momentum
# --------------------------------------------------------------------------------------------

FIG4_METRICS = ("compression_ratio", "reach_rmst", "reach_fraction", "coverage")


def _reach_note(ds, nets, vidx, var: str) -> str:
    """Why a reach panel is flat: no trajectory reached the target (the restricted mean is then
    the replay length, the fraction 0)."""
    frac = (
        np.concatenate([seed_matrix(ds, "reach_fraction", n, vidx).ravel() for _, n in nets]) if nets else []
    )
    frac = np.asarray(frac, float)
    frac = frac[np.isfinite(frac)]
    if not (frac.size and np.all(frac == 0)):
        return ""
    h = _steps(ds, "example_position") if "example_position" in ds.data_vars else None
    out = "no trajectory reached the target" + (f"\nwithin the replay ({h} steps)" if h else "")
    return out + (";\nrestricted mean = replay length (dotted)" if var == "reach_rmst" else "")


def build_fig4_momentum(stats: dict[str, xr.Dataset], cfg: ClaimsConfig | None = None) -> Figure:
    """Per task: compression ratio, restricted-mean reach time, reach fraction, coverage vs λ_v,
    adaptation off (b_a=0) vs on (b_a=adapt_b_a) as colour, regime as line style. Axes: 4 per
    present task, 1 per missing task."""
    cfg = _cfg(cfg)
    require(stats, "fig4_momentum")
    letters = plotting.PanelLetters()
    fig = _new_figure(12.5, 3.1 * len(TASKS) + 0.8)
    gs = fig.add_gridspec(len(TASKS), 4)
    titles = {
        "compression_ratio": "compression ratio",
        "reach_rmst": "reach time (KM restricted mean)",
        "reach_fraction": "fraction reaching target",
        "coverage": "exploration (coverage per trajectory)",
    }
    regs, adapt_vals = set(), set()
    for r, task in enumerate(TASKS):
        ds = stats.get(task)
        if ds is None:
            _missing_panel(fig.add_subplot(gs[r, :]), task, letters)
            continue
        nets = replay_nets(ds, cfg)
        regs |= {reg for reg, _ in nets}
        bvals = np.asarray(ds["b_a"].values, float)
        adapt_on = float(bvals[np.argmin(np.abs(bvals - cfg.adapt_b_a))])
        adapt_vals.add(adapt_on)
        v_all = []
        for b in (0.0, adapt_on):
            v_all += sweep_variants(ds, "lambda_v", b)[1]
        note = diverged_text(ds, [n for _, n in nets], v_all)
        for i, var in enumerate(FIG4_METRICS):
            ax = fig.add_subplot(gs[r, i])
            letters.title(ax, _with_note(f"{TASK_SHORT[task]}: {titles[var]}", note))
            if not nets:
                plotting.mark_missing(ax, "no replayed network")
                continue
            for c, b in enumerate((0.0, adapt_on)):
                for reg, net in nets:
                    _sweep_panel(
                        ax,
                        ds,
                        [(reg, net)],
                        var,
                        "lambda_v",
                        b,
                        color_by_regime=False,
                        color=plotting.PALETTE[2 + c],
                        linestyle=REGIME_STYLE[reg],
                    )
            if not _no_data_note(ax, ds, nets, var, v_all) and var in ("reach_rmst", "reach_fraction"):
                _centre_note(ax, _reach_note(ds, nets, v_all, var))
            if var == "reach_rmst" and "example_position" in ds.data_vars:
                h = _steps(ds, "example_position")  # the restricted mean lies in [0, replay length]
                ax.axhline(h, color="0.5", lw=0.8, ls=":")
                ax.set_ylim(0, 1.08 * h)
            if var == "reach_fraction":
                ax.set_ylim(-0.03, 1.03)
            if var == "compression_ratio":
                ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
            ax.set_ylabel(STAT_LABELS[var])
    on = ", ".join(f"{v:g}" for v in sorted(adapt_vals)) or f"{cfg.adapt_b_a:g}"
    handles = [
        Line2D([], [], color=plotting.PALETTE[2], marker="o", ms=3, label="adaptation off ($b_a$ = 0)"),
        Line2D([], [], color=plotting.PALETTE[3], marker="o", ms=3, label=f"adaptation on ($b_a$ = {on})"),
    ] + [Line2D([], [], color="0.2", ls=REGIME_STYLE[g], label=REGIME_LABELS[g]) for g in sorted(regs)]
    _figure_legend(fig, handles, title="colour: adaptation; line style: training regime")
    fig.suptitle(
        "Momentum × adaptation vs $\\lambda_v$ (mean ± 95% CI over seeds; dotted: compression ratio 1, "
        "replay length)"
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


def _variants_only(ds, nets, stat, variants):
    vidx = [variant_index(ds, b, lv) for _, b, lv in variants]
    vals = np.stack([seed_matrix(ds, stat, net, vidx) for _, net in nets], axis=-1)
    return vals, [n for n, _, _ in variants]


def _ref_example(ds: xr.Dataset, net: int, b_a: float, lambda_v: float) -> tuple[np.ndarray | None, str]:
    """Example trajectories of the sampler matched to (net, nearest variant), and its label."""
    vi = variant_index(ds, b_a, lambda_v)
    q = matched_sampler(float(ds["lambda_v"].values[vi]))
    names = samplers(ds)
    if q not in names:
        return None, SAMPLER_LABELS.get(q, q)
    da = ds["ref_example_position"].isel(net=net, sampler=names.index(q))
    if "variant" in da.dims:
        da = da.isel(variant=vi)
    return _finite_or_none(da.transpose("example", ..., "space").values), SAMPLER_LABELS.get(q, q)


def build_fig5_placecells(stats: dict[str, xr.Dataset], cfg: ClaimsConfig | None = None) -> Figure:
    """Box task: decoded example replays of leaky, +adaptation, +momentum, +both (a row per
    regime), each row followed by the examples of the reference sampler matched to each variant,
    all inside the box walls and coloured by step; then bars of step length (top-k decode, with
    matched samplers; centroid decode, RNN only), coverage per trajectory and Wasserstein distance
    (hue = regime). Axes: 8 · n_regimes + 4 lettered (+ colourbars); 1 if box is absent."""
    cfg = _cfg(cfg)
    require(stats, "fig5_placecells")
    letters = plotting.PanelLetters()
    ds = stats.get("box")
    if ds is None:
        fig = _new_figure(8.0, 3.0)
        _missing_panel(fig.add_subplot(1, 1, 1), "box", letters)
        fig.suptitle("Place cells (box): replay variants vs reference Langevin samplers")
        return fig
    nets = replay_nets(ds, cfg)
    variants = named_variants(cfg)
    n_ex = len(variants)
    bar_stats = ("step_length", "step_length_smooth", "coverage", "wasserstein")
    n_rows_ex = max(2 * len(nets), 1)
    fig = _new_figure(max(2.9 * n_ex, 12.0), 3.2 * n_rows_ex + 3.6)
    top, bottom = fig.subfigures(2, 1, height_ratios=[3.2 * n_rows_ex, 3.3])
    wake = _waking(ds)
    box = _box_size(ds)
    rows = top.subfigures(n_rows_ex, 1) if n_rows_ex > 1 else [top]
    steps_rnn, steps_ref = _steps(ds, "example_position"), _steps(ds, "ref_example_position")
    for r, (reg, net) in enumerate(nets):
        for kind, row in (("rnn", rows[2 * r]), ("ref", rows[2 * r + 1])):
            axes = row.subplots(1, n_ex, squeeze=False)[0]
            sm = None
            for ax, (name, b, lv) in zip(axes, variants):
                if kind == "rnn":
                    ex, vlab = _example(ds, net, b, lv)
                    title, n_steps = f"{name}\n({vlab})", steps_rnn
                else:
                    ex, qlab = _ref_example(ds, net, b, lv)
                    title, n_steps = f"{qlab}\nmatched to {name}", steps_ref
                sm = (
                    _paths(ax, ex, background=wake, title=title, letters=letters, box=box, n_steps=n_steps)
                    or sm
                )
            what = (
                "decoded RNN replay"
                if kind == "rnn"
                else "reference Langevin sampler matched to each variant"
            )
            row.suptitle(f"{REGIME_LABELS[reg].capitalize()}: {what}", fontsize=9)
            _time_colorbar(row, sm, axes, label="replay step" if kind == "rnn" else "sampler step")
    if not nets:
        ax = rows[0].add_subplot(1, 1, 1)
        plotting.mark_missing(ax, "no replayed network in box statistics")
        letters.title(ax, "example replays")
    note = diverged_text(ds, [n for _, n in nets], [variant_index(ds, b, lv) for _, b, lv in variants])
    titles = {
        "step_length": "speed (top-k decode)",
        "step_length_smooth": "speed (centroid decode; RNN only)",
        "coverage": "exploration (coverage per trajectory)",
        "wasserstein": "distance to waking positions",
    }
    for ax, stat in zip(bottom.subplots(1, len(bar_stats)), bar_stats):
        letters.title(ax, _with_note(titles[stat], note))
        if not nets:
            plotting.mark_missing(ax, "no data")
            continue
        if stat == "step_length_smooth":  # the samplers are decoded one way only (top-k)
            vals, labels = _variants_only(ds, nets, stat, variants)
        else:
            vals, labels = _variants_vs_samplers(ds, nets, stat, variants)
        plotting.bar_ci(
            ax,
            labels,
            vals,
            hue_labels=[REGIME_LABELS[r] for r, _ in nets],
            palette=[REGIME_COLOR[r] for r, _ in nets],
            legend=False,
        )
        ax.set_ylabel(STAT_LABELS[stat])
    _figure_legend(
        fig, _regime_handles([r for r, _ in nets], kind="bar"), title="training regime (bar colour)"
    )
    fig.suptitle(
        "Place cells (box): decoded replay of the four variants, each next to the reference "
        "Langevin sampler matched to it (grey: waking paths, dot: start; bars: mean ± 95% CI over seeds)"
    )
    return fig


# --------------------------------------------------------------------------------------------
# fig6: Langevin comparison
# --------------------------------------------------------------------------------------------


def build_fig6_langevin(stats: dict[str, xr.Dataset], cfg: ClaimsConfig | None = None) -> Figure:
    """Per task (one row each): drift–score cosine and fitted ε for the four variants; each variant
    next to its matched reference sampler for speed (compression ratio) and exploration (coverage
    per trajectory); the gap between time-binned and pooled waking scores (hue = regime
    throughout). Axes: 5 per present task, 1 per missing task."""
    cfg = _cfg(cfg)
    require(stats, "fig6_langevin")
    letters = plotting.PanelLetters()
    variants = named_variants(cfg)
    fig = _new_figure(15.0, 3.3 * len(TASKS) + 0.8)
    gs = fig.add_gridspec(len(TASKS), 5, width_ratios=[1, 1, 1.6, 1.6, 0.75])
    panels = (
        ("drift_score_cosine", "drift–score alignment"),
        ("fitted_eps", "fitted Langevin step ε"),
        ("compression_ratio", "speed: RNN vs matched sampler"),
        ("coverage", "exploration: RNN vs matched sampler"),
        ("tv_score_gap", "score gap,\ntime-binned vs pooled"),
    )
    regs = set()
    for r, task in enumerate(TASKS):
        ds = stats.get(task)
        if ds is None:
            _missing_panel(fig.add_subplot(gs[r, :]), task, letters)
            continue
        nets = replay_nets(ds, cfg)
        regs |= {reg for reg, _ in nets}
        note = diverged_text(ds, [n for _, n in nets], [variant_index(ds, b, lv) for _, b, lv in variants])
        for i, (stat, title) in enumerate(panels):
            ax = fig.add_subplot(gs[r, i])
            letters.title(
                ax, _with_note(f"{TASK_SHORT[task]}: {title}", note if stat != "tv_score_gap" else "")
            )
            if not nets:
                plotting.mark_missing(ax, "no replayed network")
                continue
            hue = dict(
                hue_labels=[REGIME_LABELS[g] for g, _ in nets],
                palette=[REGIME_COLOR[g] for g, _ in nets],
                legend=False,
            )
            if stat == "tv_score_gap":
                vals = np.stack([seed_matrix(ds, stat, net, [0]) for _, net in nets], axis=-1)
                plotting.bar_ci(ax, ["trained\nnetwork"], vals, **hue)
                ax.tick_params(axis="x", labelrotation=0)
            elif stat in ("compression_ratio", "coverage"):
                vals, labels = _variants_vs_samplers(ds, nets, stat, variants)
                plotting.bar_ci(ax, labels, vals, **hue)
            else:
                vals, labels = _variants_only(ds, nets, stat, variants)
                plotting.bar_ci(ax, labels, vals, **hue)
            if stat == "drift_score_cosine":
                ax.axhline(0.0, color="k", lw=1.0, zorder=2.5)
            ax.set_ylabel(STAT_LABELS[stat])
    _figure_legend(fig, _regime_handles(sorted(regs), kind="bar"), title="training regime (bar colour)")
    fig.suptitle(
        "Langevin view: drift–score alignment, fitted step, RNN vs matched reference samplers, "
        "time-varying score (mean ± 95% CI over seeds; dots: seeds)"
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
    the ``claims`` section (which b_a / λ_v / α / k count as "on"); defaults otherwise.
    A file that lacks a variable the figure draws raises :class:`noisyrnn.core.io.ArtefactError`
    naming the file and the variable (:data:`REQUIRED`)."""
    if name not in FIGURES:
        raise KeyError(f"unknown figure {name!r}; known: {sorted(FIGURES)}")

    cfg = ClaimsConfig.from_dict((config or {}).get("claims"))
    stats = load_stats(stats_ncs)
    for key, ds in stats.items():  # errors name the file
        ds.encoding.setdefault("source", str(stats_ncs[key]))
    fig = FIGURES[name](stats, cfg)
    try:
        io.save_figure(fig, out_pdf, out_png, prov or {})
    finally:
        plt.close(fig)
