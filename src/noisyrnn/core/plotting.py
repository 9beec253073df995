"""Study-neutral figure style and small plotting helpers.

Shared by every study in the package: nothing here knows about a particular task, network or
statistic. Study modules (e.g. :mod:`noisyrnn.studies.replay.figures`) build their figures with these helpers.

* :func:`use_style` sets one seaborn theme, font sizes and vector-friendly PDF fonts.
* :data:`PALETTE`, :data:`SEQUENTIAL`, :data:`MISSING_COLOR`, :data:`CI_ALPHA` are the colour
  constants.
* :func:`ci_band` draws mean ± CI over seeds as a line with a shaded band. The interval is the
  claims engine's (:func:`noisyrnn.core.inference.mean_ci_over_axis0`, Student t), so a figure's
  band and a claims row's interval are the same interval.
* :func:`bar_ci` draws grouped bars (mean over seeds) with CI whiskers and per-seed dots.
* :func:`time_paths` draws trajectories coloured by time step and returns the mappable for
  the colourbar that explains the colour.
* :class:`PanelLetters` hands out panel letters (a), (b), … in the order panels are titled;
  :func:`panel_letter_of` reads one back.
* :func:`mark_missing`, :func:`panel_label`, :func:`note` label panels.

All helpers use the Agg-safe object-oriented matplotlib API (no ``pyplot`` state besides figure
creation in the callers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg", force=False)

import re  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.cm import ScalarMappable  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402

from .inference import mean_ci_over_axis0  # noqa: E402

__all__ = [
    "PALETTE",
    "SEQUENTIAL",
    "MISSING_COLOR",
    "CI_ALPHA",
    "FONT_SIZES",
    "use_style",
    "colors",
    "ci_band",
    "bar_ci",
    "time_paths",
    "PanelLetters",
    "panel_letter_of",
    "mark_missing",
    "panel_label",
    "note",
]

#: Qualitative palette (seaborn "colorblind"), as hex strings.
PALETTE: list[str] = sns.color_palette("colorblind", 10).as_hex()
#: Colormap name for ordered quantities (sweeps).
SEQUENTIAL: str = "viridis"
#: Colour of placeholders and missing data.
MISSING_COLOR: str = "0.6"
#: Opacity of confidence bands.
CI_ALPHA: float = 0.25
#: Font sizes (points) set by :func:`use_style`.
FONT_SIZES: dict[str, float] = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.title_fontsize": 7,
    "figure.titlesize": 10,
}


def use_style(context: str = "paper") -> None:
    """Apply the package figure style (seaborn whitegrid theme, palette, fonts, PDF fonttype 42)."""
    sns.set_theme(context=context, style="whitegrid", palette=PALETTE)
    matplotlib.rcParams.update(FONT_SIZES)
    matplotlib.rcParams.update(
        {
            "pdf.fonttype": 42,  # embed TrueType: editable text in vector editors
            "ps.fonttype": 42,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "axes.titleweight": "bold",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "lines.linewidth": 1.2,
            "legend.frameon": False,
        }
    )


def colors(n: int, cmap: str | None = None) -> list:
    """``n`` colours: the qualitative palette (cycled), or ``n`` samples of a colormap."""
    if cmap is None:
        return [PALETTE[i % len(PALETTE)] for i in range(n)]
    return list(plt.get_cmap(cmap)(np.linspace(0.1, 0.9, max(n, 1))))[:n]


def ci_band(
    ax,
    x: Sequence[float],
    values: Any,
    label: str | None = None,
    color=None,
    ci: float = 0.95,
    marker: str | None = None,
    linestyle: str = "-",
    alpha: float = CI_ALPHA,
    **line_kw,
):
    """Plot the mean over seeds of ``values`` (seed, x) against ``x`` with a t-interval band.

    NaN values are skipped per point; a point with no finite seed is a gap in the line. Returns the
    line artist.
    """
    x = np.asarray(x, dtype=float)
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v[None, :]
    mean, lo, hi = mean_ci_over_axis0(v, ci=ci)
    (line,) = ax.plot(x, mean, label=label, color=color, marker=marker, linestyle=linestyle, **line_kw)
    if np.any(np.isfinite(lo)):
        ax.fill_between(x, lo, hi, color=line.get_color(), alpha=alpha, linewidth=0)
    return line


def bar_ci(
    ax,
    labels: Sequence[str],
    values: Any,
    hue_labels: Sequence[str] | None = None,
    palette: Sequence | None = None,
    ci: float = 0.95,
    seed: int = 0,
    show_points: bool = True,
    missing_text: str = "n/a",
    legend: bool = True,
):
    """Grouped bars: mean over seeds with t-interval whiskers and per-seed dots (``seed``: the
    dots' jitter).

    ``values`` has shape ``(seed, group)`` or, with ``hue_labels``, ``(seed, group, hue)``. A bar
    with no finite value is left empty and marked ``missing_text`` (a gap, never a zero).
    ``legend=False`` leaves the hue legend to the caller (e.g. one legend for the whole figure).
    """
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    if hue_labels is None:
        v = v[:, :, None]
        hue_labels = [None]
    n_group, n_hue = v.shape[1], v.shape[2]
    palette = list(palette) if palette is not None else colors(n_hue)
    width = 0.8 / n_hue
    mean, lo, hi = mean_ci_over_axis0(v, ci=ci)
    xs = np.arange(n_group)
    finite = v[np.isfinite(v)]
    ybase = float(np.min(finite)) if finite.size else 0.0
    ybase = min(ybase, 0.0)
    rng = np.random.default_rng(seed)
    for h in range(n_hue):
        pos = xs - 0.4 + width * (h + 0.5)
        col = (
            palette[h % len(palette)]
            if hue_labels[0] is not None
            else [palette[g % len(palette)] for g in range(n_group)]
        )
        ax.bar(
            pos,
            np.nan_to_num(mean[:, h], nan=0.0),
            width=width * 0.9,
            color=col,
            label=hue_labels[h],
            edgecolor="none",
            alpha=0.85,
        )
        err_ok = np.isfinite(lo[:, h])
        if np.any(err_ok):
            ax.errorbar(
                pos[err_ok],
                mean[err_ok, h],
                yerr=[mean[err_ok, h] - lo[err_ok, h], hi[err_ok, h] - mean[err_ok, h]],
                fmt="none",
                ecolor="0.15",
                elinewidth=1,
                capsize=2,
            )
        if show_points:
            for g in range(n_group):
                pts = v[:, g, h]
                pts = pts[np.isfinite(pts)]
                if pts.size:
                    jitter = rng.uniform(-0.25, 0.25, pts.size) * width
                    ax.scatter(pos[g] + jitter, pts, s=6, color="0.1", zorder=3, linewidths=0)
        for g in np.flatnonzero(~np.isfinite(mean[:, h])):
            ax.text(
                pos[g],
                ybase,
                missing_text,
                ha="center",
                va="bottom",
                fontsize=6,
                color=MISSING_COLOR,
                rotation=90,
            )
    ax.set_xticks(xs)
    ax.set_xticklabels(list(labels), rotation=30, ha="right")
    if legend and hue_labels[0] is not None:
        ax.legend(fontsize=6)
    return ax


def time_paths(
    ax,
    paths: Any,
    n_steps: int | None = None,
    cmap: str = SEQUENTIAL,
    lw: float = 0.9,
    start_marker: bool = True,
) -> tuple[ScalarMappable, int]:
    """Trajectories ``paths`` (trajectory, time, 2), each segment coloured by its time step.

    Step ``t`` (0 = start) maps to ``cmap`` over ``[0, n_steps]`` (default: the paths' last
    index), so several panels drawn with the same ``n_steps`` share one colour scale. A segment
    touching a non-finite point is left out (a gap); a dot marks each trajectory's first finite
    point. Returns ``(mappable, n_bad)``: the mappable for ``figure.colorbar`` and the number of
    trajectories with a non-finite point.
    """
    p = np.asarray(paths, dtype=float)
    if p.ndim != 3 or p.shape[-1] != 2:
        raise ValueError(f"paths must have shape (trajectory, time, 2), got {p.shape}")
    n_t = p.shape[1]
    top = max(int(n_steps if n_steps is not None else n_t - 1), 1)
    norm = Normalize(vmin=0, vmax=top)
    cm = plt.get_cmap(cmap)
    ok = np.all(np.isfinite(p), axis=-1)  # (trajectory, time)
    segs, cols = [], []
    n_bad = 0
    for traj, good in zip(p, ok):
        n_bad += int(not good.all())
        both = good[:-1] & good[1:]
        if both.any():
            seg = np.stack([traj[:-1], traj[1:]], axis=1)[both]  # (n, 2 points, 2)
            segs.append(seg)
            cols.append(cm(norm(np.flatnonzero(both) + 0.5)))
    if segs:
        lc = LineCollection(np.concatenate(segs), colors=np.concatenate(cols), linewidths=lw)
        ax.add_collection(lc, autolim=False)
    pts = p[ok]
    if pts.size:
        ax.update_datalim(pts)
        ax.autoscale_view()
    if start_marker:
        for traj, good in zip(p, ok):
            if good.any():
                i = int(np.argmax(good))
                ax.plot(traj[i, 0], traj[i, 1], "o", color=cm(norm(i)), ms=3.5, mec="k", mew=0.5, zorder=4)
    sm = ScalarMappable(norm=norm, cmap=cm)
    sm.set_array([])
    return sm, n_bad


class PanelLetters:
    """Panel letters in the order panels are titled: ``title(ax, text)`` writes
    ``"(a) text"``, the next call ``"(b) …"``, and so on (``aa``, ``ab``, … after ``z``)."""

    def __init__(self) -> None:
        self.count = 0

    def next(self) -> str:
        i, out = self.count, ""
        self.count += 1
        while True:
            out = chr(ord("a") + i % 26) + out
            i = i // 26 - 1
            if i < 0:
                return out

    def title(self, ax, text: str = "", **kw) -> str:
        letter = self.next()
        ax.set_title(f"({letter}) {text}".rstrip(), **kw)
        return letter


_LETTER = re.compile(r"^\(([a-z]+)\)(\s|$)")


def panel_letter_of(ax) -> str | None:
    """The panel letter a :class:`PanelLetters` title gave ``ax`` (``"a"``), or None."""
    m = _LETTER.match(ax.get_title())
    return m.group(1) if m else None


def mark_missing(ax, text: str = "not available") -> None:
    """Turn ``ax`` into a labelled placeholder for a panel whose data are missing."""
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(True)
        s.set_color(MISSING_COLOR)
        s.set_linestyle(":")
    ax.set_facecolor("none")
    ax.text(
        0.5,
        0.5,
        text,
        ha="center",
        va="center",
        transform=ax.transAxes,
        color=MISSING_COLOR,
        wrap=True,
        fontsize=8,
    )


def panel_label(ax, label: str) -> None:
    """Bold panel letter in the top-left corner, outside the axes."""
    ax.text(
        -0.12, 1.04, label, transform=ax.transAxes, fontweight="bold", fontsize=10, va="bottom", ha="right"
    )


def note(ax, text: str, loc: str = "lower right") -> None:
    """Small grey annotation inside ``ax`` (e.g. the fraction of missing runs)."""
    if not text:
        return
    x, ha = (0.98, "right") if "right" in loc else (0.02, "left")
    y, va = (0.02, "bottom") if "lower" in loc else (0.98, "top")
    ax.text(x, y, text, transform=ax.transAxes, ha=ha, va=va, fontsize=6, color="0.35")


def require_vars(ds, names: Sequence[str], fig: str) -> None:
    """Raise :class:`noisyrnn.core.io.ArtefactError` naming the file ``ds`` came from (its
    ``encoding["source"]``) when it lacks a variable figure ``fig`` draws."""
    from .io import ArtefactError

    missing = [n for n in names if n not in ds.variables]
    if missing:
        raise ArtefactError(f"{ds.encoding.get('source', ds.attrs.get('title', 'a statistics file'))}: "
                            f"lacks variable(s) {', '.join(missing)} that figure {fig} draws; rerun "
                            "the rule that writes this statistics file")


def draw_from_stats(figures: dict, name: str, stats_ncs, out_pdf, out_png, prov, config=None) -> None:
    """Draw figure ``name`` of a study's ``figures`` ({name: fn(stats, config) -> Figure}) from
    its statistics files ({key: path}, each read with its digest checked and its path kept in
    ``encoding["source"]``), and save it with its provenance."""
    from . import io

    if name not in figures:
        raise KeyError(f"unknown figure {name!r}; known: {sorted(figures)}")
    use_style()
    stats = {}
    for key, path in stats_ncs.items():
        ds = io.read_netcdf(path)
        ds.encoding["source"] = str(path)
        stats[key] = ds
    fig = figures[name](stats, config or {})
    try:
        io.save_figure(fig, out_pdf, out_png, prov or {})
    finally:
        plt.close(fig)
