"""The stm study's figures (STM.md §5), each from statistics files only.

``draw(name, stats_ncs, pdf, png, prov, config)``: ``stats_ncs`` maps each family present
(``nopost``, ``post``, ``control``, ``longtau``) and ``"theory"`` to its statistics file. A
figure that needs a family the config does not train says so in its panel; a file that lacks a
variable a figure draws raises :class:`noisyrnn.core.io.ArtefactError` naming the file.
Panel titles start with their letter, "(a) ...", in reading order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from ...core import io, plotting  # noqa: E402
from .grid import FAMILY_TITLES  # noqa: E402
from .labels import LC, NOT_LEARNED, SP  # noqa: E402

CLASS_COLORS = {NOT_LEARNED: "#d62728", LC: "#2ca02c", SP: "#1f77b4"}
LETTERS = "abcdefghijklmnop"


def _need(ds: xr.Dataset, names, fig: str) -> None:
    missing = [n for n in names if n not in ds.variables]
    if missing:
        raise io.ArtefactError(f"{ds.encoding.get('source', ds.attrs.get('family'))}: lacks "
                               f"variable(s) {', '.join(missing)} that figure {fig} draws; rerun "
                               "the rule that writes this statistics file")


def _grid(n: int, width: float = 3.2, height: float = 2.7, ncols: int | None = None):
    ncols = ncols or n
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                             squeeze=False, constrained_layout=True)
    axes = list(axes.ravel())
    for ax in axes[n:]:
        ax.remove()
    return fig, axes[:n]


def _title(ax, i: int, text: str) -> None:
    ax.set_title(f"({LETTERS[i]}) {text}", loc="left", fontsize=9)


def _absent(ax, family: str) -> None:
    plotting.mark_missing(ax, f"family {family} not in this config")


def _all_absent(fig: plt.Figure, axes, family: str) -> plt.Figure:
    """A figure whose every panel needs ``family``, when the config does not train it."""
    for ax in axes:
        _absent(ax, family)
    return fig


def fig_task(stats: Mapping[str, xr.Dataset], cfg: dict) -> plt.Figure:
    fams = [f for f in ("nopost", "post", "control") if f in stats]
    fig, axes = _grid(len(fams) * 2, ncols=2, width=3.6, height=2.0)
    for i, fam in enumerate(fams):
        ds = stats[fam]
        _need(ds, ["task_input", "task_target", "task_weight"], "stm_fig_task")
        t = ds["task_time_ms"].values
        ax = axes[2 * i]
        for c, color in zip(range(2), ("#9467bd", "#8c564b")):
            ax.plot(t, ds["task_input"].values[:, c], color=color, lw=1.2, label=f"input {c + 1}",
                    drawstyle="steps-post")
            ax.plot(t, ds["task_target"].values[:, c], color=color, lw=1.2, ls="--",
                    label=f"target {c + 1}", drawstyle="steps-post")
        ax.set_xlabel("time (ms)")
        ax.set_ylabel("value")
        what = "reaction window" if fam == "control" else "delay"
        _title(ax, 2 * i, f"{FAMILY_TITLES[fam]}: cue-1 trial, {what} "
                          f"{float(ds['task_delay_ms']):g} ms")
        if i == 0:
            ax.legend(fontsize=6, ncol=2, loc="upper left", bbox_to_anchor=(0, -0.35))
        ax = axes[2 * i + 1]
        ax.step(t, ds["task_weight"].values, where="post", color="0.2")
        ax.set_xlabel("time (ms)")
        ax.set_ylabel("loss weight")
        _title(ax, 2 * i + 1, f"{FAMILY_TITLES[fam]}: loss weights")
    return fig


def fig_losses(stats, cfg) -> plt.Figure:
    ds = stats.get("nopost")
    fig, axes = _grid(2, width=3.6)
    if ds is None:
        return _all_absent(fig, axes, "nopost")
    _need(ds, ["class_loss", "class_accuracy"], "stm_fig_losses")
    epoch = ds["epoch"].values
    for i, (name, label) in enumerate((("class_loss", "loss"), ("class_accuracy", "accuracy"))):
        ax = axes[i]
        for j, cls in enumerate(ds["class"].values):
            y = ds[name].values[j]
            if np.isfinite(y).any():
                ax.plot(epoch, y, color=CLASS_COLORS[str(cls)], label=str(cls))
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        if name == "class_loss":
            ax.set_yscale("log")
        _title(ax, i, f"{label} per outcome, lr {float(ds['example_lr']):.3g}")
    axes[1].legend(fontsize=7, loc="lower right", title="outcome (mean over nets)", title_fontsize=6)
    return fig


def fig_fractions(stats, cfg) -> plt.Figure:
    fams = ["nopost", "post"]
    fig, axes = _grid(6, ncols=3, width=3.0)
    for r, fam in enumerate(fams):
        ds = stats.get(fam)
        for c, (var, label) in enumerate((("frac_sp", SP), ("frac_lc", LC),
                                          ("frac_not_learned", NOT_LEARNED))):
            ax = axes[3 * r + c]
            _title(ax, 3 * r + c, f"{FAMILY_TITLES[fam]}: {label}")
            if ds is None:
                _absent(ax, fam)
                continue
            _need(ds, [var], "stm_fig_fractions")
            lrs = ds["lr"].values
            cols = plotting.colors(len(lrs), "viridis")
            for k, lr in enumerate(lrs):
                ax.plot(ds["delay_ms"].values, ds[var].values[k], color=cols[k], marker=".",
                        label=f"{lr:.3g}")
            ax.set_ylim(-0.03, 1.03)
            ax.set_xlabel("delay (ms)")
            ax.set_ylabel(f"fraction {label}")
    axes[2].legend(title="lr", fontsize=6, title_fontsize=6, loc="center left",
                   bbox_to_anchor=(1.02, 0.5))
    return fig


def _scaling_panel(ax, ds: xr.Dataset, t0_var: str, prefix: str, band: str, color: str,
                   label: str) -> None:
    lrs, t0 = ds["lr"].values, ds[t0_var].values
    ok = np.isfinite(t0) & (t0 > 0)
    ax.loglog(t0[ok], lrs[ok], "o", color=color, label=f"{label} (T0 per lr)")
    if ok.any():  # the axis follows the data (a T0 can lie below the grid's first delay)
        ax.set_xlim(min(5.0, t0[ok].min() / 2), max(2000.0, t0[ok].max() * 2))
    beta = float(ds[f"{prefix}_beta"])
    if np.isfinite(beta):
        bt = ds[band].values
        ax.fill_between(bt, ds[f"{prefix}_band_lo"].values, ds[f"{prefix}_band_hi"].values,
                        color=color, alpha=0.2, lw=0)
        logA, slope = float(ds[f"{prefix}_logA"]), float(ds[f"{prefix}_B"])
        ax.loglog(bt, np.exp(logA) * bt ** slope, color=color,
                  label=f"fit β = {beta:.2f} ± {float(ds[f'{prefix}_se']):.2f}")
    else:
        plotting.note(ax, f"{label}: {int(ok.sum())} lrs with a T0; no β (needs "
                          f"{int(ds.attrs.get('min_lrs', 4))})", loc="upper right")


def _theory_lines(ax, theory: xr.Dataset | None, dt_ms: float) -> None:
    if theory is None:
        return
    t_ms = theory["t_delay_steps"].values * dt_ms
    for var, style, label in (("eta_lc", ":", "theory LC (β = 3)"), ("eta_sp", "-.", "theory SP (β = 5)")):
        ax.loglog(t_ms, theory[var].values, color="0.4", ls=style, lw=1, label=label)


def fig_scaling(stats, cfg) -> plt.Figure:
    fig, axes = _grid(3, width=3.4)
    theory = stats.get("theory")
    specs = (("nopost", "critical_delay", "beta", "band_T", "no-solution boundary"),
             ("post", "critical_delay", "beta", "band_T", "no-solution boundary"),
             ("nopost", "sp_boundary", "beta_sp", "band_T_sp", "SP boundary"))
    for i, (fam, t0_var, prefix, band, label) in enumerate(specs):
        ax = axes[i]
        _title(ax, i, f"{FAMILY_TITLES[fam]}: {label}")
        ds = stats.get(fam)
        if ds is None:
            _absent(ax, fam)
            continue
        _need(ds, [t0_var, f"{prefix}_beta"], "stm_fig_scaling")
        ax.set_xlim(5, 2000)
        _theory_lines(ax, theory, float(ds.attrs.get("dt_ms", 5.0)))
        _scaling_panel(ax, ds, t0_var, prefix, band, "#1f77b4" if i < 2 else "#2ca02c", label)
        lrs = ds["lr"].values
        ax.set_ylim(lrs.min() / 3, lrs.max() * 3)
        ax.set_xlabel("critical delay T0 (ms)")
        ax.set_ylabel("learning rate")
        ax.legend(fontsize=6, loc="lower left")
    return fig


def fig_phase(stats, cfg) -> plt.Figure:
    fams = ["nopost", "post"]
    fig, axes = _grid(2, width=3.6, height=3.0)
    for i, fam in enumerate(fams):
        ax = axes[i]
        _title(ax, i, f"{FAMILY_TITLES[fam]}: phase diagram")
        ds = stats.get(fam)
        if ds is None:
            _absent(ax, fam)
            continue
        _need(ds, ["frac_not_learned", "frac_lc", "frac_sp"], "stm_fig_phase")
        rgb = np.stack([ds["frac_not_learned"].values, ds["frac_lc"].values,
                        ds["frac_sp"].values], axis=-1)
        rgb = np.nan_to_num(rgb, nan=1.0)
        d, lrs = ds["delay_ms"].values, ds["lr"].values
        ax.imshow(rgb, aspect="auto", origin="upper", interpolation="nearest",
                  extent=(d[0] - 0.5 * _step(d), d[-1] + 0.5 * _step(d), len(lrs) - 0.5, -0.5))
        ax.set_yticks(range(len(lrs)), [f"{lr:.3g}" for lr in lrs], fontsize=6)
        ax.set_xlabel("delay (ms)")
        ax.set_ylabel("learning rate")
    handles = [matplotlib.patches.Patch(color=c, label=f"{k} (colour channel = fraction)")
               for k, c in ((NOT_LEARNED, "red"), (LC, "green"), (SP, "blue"))]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=7)
    return fig


def _step(x) -> float:
    x = np.asarray(x, dtype=float)
    return float(np.min(np.diff(x))) if x.size > 1 else 1.0


def fig_theory(stats, cfg) -> plt.Figure:
    theory = stats.get("theory")
    fig, axes = _grid(2, width=3.6)
    if theory is None:
        for ax in axes:
            plotting.mark_missing(ax, "theory.nc missing")
        return fig
    _need(theory, ["eta_sp", "eta_lc", "lc_loss_analytic", "lc_loss_numeric"], "stm_fig_theory")
    ax = axes[0]
    t = theory["t_delay_steps"].values
    ax.loglog(t, theory["eta_sp"].values, label="SP toy: (π⁴/4) T_resp T_d⁻⁵")
    ax.loglog(t, theory["eta_lc"].values, label="LC toy: T_resp T_d⁻³ / 4")
    ax.set_xlabel("delay T_d (steps)")
    ax.set_ylabel("critical learning rate η_c")
    ax.legend(fontsize=7, loc="lower left")
    _title(ax, 0, f"toy critical lr, T_resp = {float(theory.attrs.get('t_resp_steps', 10)):g} steps")
    ax = axes[1]
    r = theory["r"].values
    ax.plot(r, theory["lc_loss_analytic"].values, color="0.1", label="analytic")
    ax.plot(r, theory["lc_loss_numeric"].values, color="#ff7f0e", ls="--", label="numerical")
    ax.set_xlabel("rotation rate r (1/step)")
    ax.set_ylabel("LC toy loss")
    ax.legend(fontsize=7, loc="upper right")
    _title(ax, 1, f"LC toy loss, T_d = {float(theory.attrs.get('toy_t_d', 60)):g}, "
                  f"T_r = {float(theory.attrs.get('toy_t_r', 10)):g}")
    return fig


def fig_index(stats, cfg) -> plt.Figure:
    ds = stats.get("nopost")
    fig, axes = _grid(3, width=3.2)
    if ds is None:
        return _all_absent(fig, axes, "nopost")
    _need(ds, ["psd_ratio", "index_code", "example_lc", "example_sp"], "stm_fig_index")
    thr = float((cfg.get("analysis") or {}).get("index_threshold", 0.5))
    ax = axes[0]
    ratio = ds["psd_ratio"].values
    learned = np.isfinite(ratio)
    bins = np.linspace(0, 1, 21)
    ax.hist(ratio[learned], bins=bins, color="0.5")
    ax.axvline(thr, color="k", ls="--", lw=1, label=f"threshold {thr:g} (LC below, SP above)")
    ax.set_xlabel("PSD ratio (low-frequency power share)")
    ax.set_ylabel("learned networks")
    text = f"n = {int(learned.sum())} learned nets"
    if "label_agreement" in ds:
        text += f"; second label agrees: {float(ds['label_agreement']):.0%}"
    ax.legend(fontsize=6, loc="upper left", title=text, title_fontsize=6)
    ax.set_ylim(0, max(1.0, ax.get_ylim()[1] * 1.3))  # room for the legend
    _title(ax, 0, "mechanism index")
    for i, (var, label) in enumerate((("example_lc", LC), ("example_sp", SP)), start=1):
        ax = axes[i]
        lat = ds[var].values
        _title(ax, i, f"free run of one {label} network")
        if not np.isfinite(lat).any():
            plotting.mark_missing(ax, f"no {label} network at this scale")
            continue
        steps = np.arange(lat.shape[0])
        ax.plot(lat[:, 0], lat[:, 1], color="0.8", lw=0.6, zorder=1)
        sc = ax.scatter(lat[:, 0], lat[:, 1], c=steps, s=3, cmap="viridis", zorder=2)
        fig.colorbar(sc, ax=ax, label="free-run step")
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
        plotting.note(ax, ds[var].attrs.get("network", ""), loc="lower left")
    return fig


def fig_control(stats, cfg) -> plt.Figure:
    ds = stats.get("control")
    fig, axes = _grid(2, width=3.4)
    _title(axes[0], 0, "control: not-learned fraction")
    _title(axes[1], 1, "control: scaling")
    if ds is None:
        return _all_absent(fig, axes, "control")
    _need(ds, ["frac_not_learned", "critical_delay", "beta_beta"], "stm_fig_control")
    lrs = ds["lr"].values
    cols = plotting.colors(len(lrs), "viridis")
    for k, lr in enumerate(lrs):
        axes[0].plot(ds["delay_ms"].values, ds["frac_not_learned"].values[k], color=cols[k],
                     marker=".", label=f"{lr:.3g}")
    axes[0].set_xlabel("reaction window (ms)")
    axes[0].set_ylabel("fraction not learned")
    axes[0].set_ylim(-0.03, 1.03)
    axes[0].legend(title="lr", fontsize=6, title_fontsize=6, loc="center left",
                   bbox_to_anchor=(1.02, 0.5))
    _scaling_panel(axes[1], ds, "critical_delay", "beta", "band_T", "#9467bd", "control")
    axes[1].set_xlabel("critical window T0 (ms)")
    axes[1].set_ylabel("learning rate")
    axes[1].legend(fontsize=6, loc="lower left")
    return fig


FIGURES: dict[str, Callable] = {
    "stm_fig_task": fig_task,
    "stm_fig_losses": fig_losses,
    "stm_fig_fractions": fig_fractions,
    "stm_fig_scaling": fig_scaling,
    "stm_fig_phase": fig_phase,
    "stm_fig_theory": fig_theory,
    "stm_fig_index": fig_index,
    "stm_fig_control": fig_control,
}


def draw(name: str, stats_ncs: Mapping[str, str], out_pdf: str, out_png: str,
         prov: dict | None, config: dict | None = None) -> None:
    if name not in FIGURES:
        raise KeyError(f"unknown figure {name!r}; known: {sorted(FIGURES)}")
    plotting.use_style()
    stats = {}
    for key, path in stats_ncs.items():
        ds = io.read_netcdf(path)
        ds.encoding["source"] = str(path)
        stats[key] = ds
    fig = FIGURES[name](stats, config or {})
    try:
        io.save_figure(fig, out_pdf, out_png, prov or {})
    finally:
        plt.close(fig)
