"""Figures built from synthetic statistics (make_fake_stats from test_claims.py)."""

from __future__ import annotations

import json
import re
import types
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from noisyrnn.core import io, plotting  # noqa: E402
from noisyrnn.studies.replay import figures  # noqa: E402
from noisyrnn.studies.replay.selection import ClaimsConfig  # noqa: E402

from test_claims import make_fake_gm, make_fake_stats  # noqa: E402

KW = dict(n_seeds=2, b_a=(0.0, 0.3, 1.0), lambda_v=(1.0, 0.5), mask_k=(1, 4), n_time=15, n_lag=3, n_iter=4)
NK = 2  # mask_k values above
ROOT = Path(__file__).resolve().parents[3]
CAPTION = ROOT / "workflow" / "report" / "replay" / "figure.rst"


@pytest.fixture(scope="module")
def full():
    return {
        "tmaze": make_fake_stats("tmaze", **KW),
        "triangle": make_fake_stats("triangle", **KW),
        "box": make_fake_stats("box", waking_dim="waking_time", ref_examples=True, **KW),
        "gauss_markov": make_fake_gm(n_time=20),
    }


def _copy(stats):
    return {k: v.copy(deep=True) for k, v in stats.items()}


def _panels(fig):
    """The figure's data panels (every axes but colourbars)."""
    return [ax for ax in fig.axes if not hasattr(ax, "_colorbar")]


def _colorbars(fig):
    return [ax for ax in fig.axes if hasattr(ax, "_colorbar")]


def _texts(fig):
    out = [ax.get_title() for ax in fig.axes] + [t.get_text() for ax in fig.axes for t in ax.texts]
    out += [ax.get_xlabel() for ax in fig.axes] + [ax.get_ylabel() for ax in fig.axes]
    out += [t.get_text() for ax in fig.axes for t in ax.get_xticklabels()]
    for leg in list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]:
        out += [t.get_text() for t in leg.get_texts()] + [leg.get_title().get_text()]
    root_and_subs = [fig, *fig.subfigs, *[s for sf in fig.subfigs for s in sf.subfigs]]
    out += [f._suptitle.get_text() for f in root_and_subs if f._suptitle is not None]
    return out


def _check(fig, n_axes):
    try:
        assert isinstance(fig, Figure)
        assert len(_panels(fig)) == n_axes, [a.get_title() for a in _panels(fig)]
        assert all(ax.get_title() for ax in _panels(fig)), [a.get_title() for a in _panels(fig)]
        assert fig._suptitle is not None and fig._suptitle.get_text()
    finally:
        plt.close(fig)


def _letters_in_reading_order(fig) -> list[str]:
    """The panel letters, checked to run a, b, c, … in reading order on the drawn figure:
    each lettered panel is right of the previous one in the same row, or in a lower row."""
    fig.canvas.draw()
    lettered = [(plotting.panel_letter_of(ax), ax.get_window_extent()) for ax in _panels(fig)]
    lettered = [(c, bb) for c, bb in lettered if c]
    letters = [c for c, _ in lettered]
    assert len(set(letters)) == len(letters), letters  # unique
    ref = plotting.PanelLetters()
    assert sorted(letters, key=lambda c: (len(c), c)) == [ref.next() for _ in letters], letters
    by_letter = sorted(lettered, key=lambda t: (len(t[0]), t[0]))
    for (c0, a), (c1, b) in zip(by_letter, by_letter[1:]):
        same_row = b.y0 < a.y1 and b.y1 > a.y0 and abs(b.y1 - a.y1) < 0.5 * a.height
        lower_row = b.y1 <= (a.y0 + a.y1) / 2
        assert (same_row and b.x0 > a.x0) or lower_row, f"({c1}) is not after ({c0}) in reading order"
    return letters


# panels (no colourbars): fig1 9; fig2 3 + 2 nk; fig3 per task 2 regimes × 3 b_a examples + 4;
# fig4 4/task; fig5 (4 variants + 4 matched samplers) per regime + 4 bars; fig6 5/task
EXPECTED_FULL = {
    "fig1_tasks": 9,
    "fig2_leakage": 3 + 2 * NK,
    "fig3_adaptation": 3 * (2 * 3 + 4),
    "fig4_momentum": 3 * 4,
    "fig5_placecells": (4 + 4) * 2 + 4,
    "fig6_langevin": 3 * 5,
}
# lettered panels: fig3 letters each task's row of examples once
LETTERS_FULL = {**EXPECTED_FULL, "fig3_adaptation": 3 * (1 + 4)}
COLORBARS_FULL = {"fig1_tasks": 1, "fig3_adaptation": 3, "fig5_placecells": 4}


@pytest.mark.parametrize("name", sorted(figures.FIGURES))
def test_build_full(name, full):
    fig = figures.FIGURES[name](full, ClaimsConfig())
    letters = _letters_in_reading_order(fig)
    assert len(letters) == LETTERS_FULL[name]
    cbs = _colorbars(fig)
    assert len(cbs) == COLORBARS_FULL.get(name, 0)
    assert all("step" in cb.get_ylabel() + cb.get_xlabel() for cb in cbs)  # the colour scale says what it is
    _check(fig, EXPECTED_FULL[name])


# axis labels each caption promises: (words in the rendered caption, words in an axis label)
PROMISED = {
    "fig1_tasks": [("waking paths", "y (m)"), ("coloured by replay step", "replay step")],
    "fig2_leakage": [
        (":math:`1/P_t`", "$1/P_t$"),
        ("final decoded-position error (m)", "decoded position error (m)"),
        ("mask\ndifficulty k", "mask difficulty k"),
        ("Test loss (MSE", "test loss (MSE)"),
        ("during training", "training iteration"),
    ],
    "fig3_adaptation": [
        ("coverage per trajectory", "coverage per trajectory"),
        ("occupancy entropy", "occupancy entropy"),
        ("step length, m / step", "step length (m / step)"),
        ("lag-1 step", "lag-1 autocorrelation"),
        ("adaptation strength b_a", "adaptation strength $b_a$"),
        ("replay step", "replay step"),
    ],
    "fig4_momentum": [
        ("momentum\nfriction λ_v", "momentum friction $\\lambda_v$"),
        ("compression ratio", "compression ratio"),
        ("restricted mean reach time", "restricted mean reach time (steps)"),
        ("fraction of\ntrajectories reaching", "fraction reaching target"),
        ("coverage per trajectory", "coverage per trajectory"),
    ],
    "fig5_placecells": [
        ("replay step", "replay step"),
        ("sampler step", "sampler step"),
        ("m / step", "step length (m / step)"),
        ("centroid decode", "centroid decode"),
        ("coverage per trajectory", "coverage per trajectory"),
        ("Wasserstein-1", "Wasserstein-1"),
    ],
    "fig6_langevin": [
        ("cosine", "cosine(drift, score)"),
        ("network-state units²", "fitted step ε (network-state units²)"),
        ("compression ratio", "compression ratio"),
        ("coverage per", "coverage per trajectory"),
        ("time-binned and the pooled", "time-binned vs pooled score gap"),
    ],
}
SMOKE_LIKE = {
    "replay": {
        "seeds": [0, 1, 2, 3, 4],
        "tasks": ["tmaze", "triangle", "box"],
        "replay": {"n_traj": 37, "steps": 41},
        "training": {"mask_k": [1, 4], "n_eval": 33},
    }
}


def _caption(fig: str, config=SMOKE_LIKE) -> str:
    jinja2 = pytest.importorskip("jinja2")
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)  # as Snakemake's report renders it
    sm = types.SimpleNamespace(wildcards=types.SimpleNamespace(fig=fig), config=config)
    return env.from_string(CAPTION.read_text()).render(snakemake=sm)


@pytest.mark.parametrize("name", sorted(figures.FIGURES))
def test_caption_promises_axis_labels_and_gives_n(name, full):
    text = _caption(name)
    flat = " ".join(text.split())
    n_per = (
        "33 test sequences"
        if name == "fig2_leakage"
        else "37 replay trajectories" if name == "fig1_tasks" else "37 trajectories per variant"
    )
    assert (
        "5 seeds" in flat and n_per in flat
    ), flat  # n: seeds, and trajectories (or test sequences) per seed
    assert "m0" not in text and "m1" not in text
    fig = figures.FIGURES[name](full, ClaimsConfig())
    labels = [ax.get_xlabel() for ax in fig.axes] + [ax.get_ylabel() for ax in fig.axes]
    plt.close(fig)
    for cap_words, label in PROMISED[name]:
        assert " ".join(cap_words.split()) in flat, (name, cap_words)
        assert any(label in lab for lab in labels), (name, label, sorted(set(labels)))
    docutils = pytest.importorskip("docutils.core")
    docutils.publish_parts(text, writer="html", settings_overrides={"halt_level": 2, "report_level": 2})


def test_caption_letters_follow_the_tasks_in_the_run():
    flat = " ".join(_caption("fig4_momentum").split())
    assert "(a–d) T-maze; (e–h) triangle; (i–l) box" in flat
    cfg = {"replay": {**SMOKE_LIKE["replay"], "tasks": ["tmaze", "box"]}}
    flat = " ".join(_caption("fig4_momentum", cfg).split())
    assert "(a–d) T-maze; (e) triangle, not in this run: placeholder; (f–i) box" in flat
    stats = {t: make_fake_stats(t, **KW) for t in ("tmaze", "box")}
    fig = figures.build_fig4_momentum(stats)
    assert _letters_in_reading_order(fig) == list("abcdefghi")
    plt.close(fig)


@pytest.mark.parametrize("name", sorted(figures.FIGURES))
def test_no_regime_ids_and_legends_outside_panels(name, full):
    fig = figures.FIGURES[name](full, ClaimsConfig())
    texts = _texts(fig)
    assert not [t for t in texts if re.search(r"\bm[01]\b", t)], [
        t for t in texts if re.search(r"\bm[01]\b", t)
    ]
    if name not in ("fig1_tasks", "fig2_leakage"):  # fig2: networks trained without modifiers only
        assert any("modifiers at replay only" in t for t in texts)
    if name != "fig1_tasks":
        assert len(fig.legends) == 1  # one legend for the figure, outside the panels
    inside = [ax.get_title() for ax in _panels(fig) if ax.get_legend() is not None]
    assert inside in ([], ["(a) Gauss–Markov toy: exact score rate"]), inside  # its legend: a free corner
    plt.close(fig)


EXPECTED_NO_BOX_ONE_REGIME = {  # box absent, gauss_markov absent, one regime (m0)
    "fig1_tasks": 9,
    "fig2_leakage": 3 + 2 * NK,
    "fig3_adaptation": 2 * (3 + 4) + 1,
    "fig4_momentum": 2 * 4 + 1,
    "fig5_placecells": 1,
    "fig6_langevin": 2 * 5 + 1,
}


@pytest.mark.parametrize("name", sorted(figures.FIGURES))
def test_build_missing_task_and_nan(name):
    kw = dict(KW, regimes=(False,), nan_variants=[(0.3, 0.5), (1.0, 1.0)])
    stats = {"tmaze": make_fake_stats("tmaze", **kw), "triangle": make_fake_stats("triangle", **kw)}
    stats["triangle"]["coverage"][:] = np.nan  # a whole statistic without values
    fig = figures.FIGURES[name](stats, ClaimsConfig())
    texts = [t.get_text() for ax in fig.axes for t in ax.texts] + [ax.get_title() for ax in fig.axes]
    if name in ("fig3_adaptation", "fig4_momentum", "fig5_placecells", "fig6_langevin", "fig1_tasks"):
        assert any("not in this run" in t for t in texts)
    if name in ("fig1_tasks", "fig3_adaptation", "fig4_momentum", "fig6_langevin"):
        assert any("diverged" in t for t in texts), name
    if name in ("fig3_adaptation", "fig4_momentum"):  # the NaN coverage panel says why it is empty
        assert any("no data: coverage is NaN for every variant" in t for t in texts), name
    _letters_in_reading_order(fig)
    _check(fig, EXPECTED_NO_BOX_ONE_REGIME[name])


def test_only_track_missing_in_fig2():
    stats = {"tmaze": make_fake_stats("tmaze", **KW)}
    fig = figures.build_fig2_leakage(stats)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("gauss_markov.nc not available" in t for t in texts)
    assert any("not in this run" in t for t in texts)
    assert _letters_in_reading_order(fig) == list("abcdef")
    _check(fig, 3 + NK + 1)


def test_fig2_letters_mathtext_and_one_loss_range(full):
    fig = figures.build_fig2_leakage(full)
    titles = [ax.get_title() for ax in _panels(fig)]
    assert [t[:3] for t in titles] == ["(a)", "(b)", "(c)", "(d)", "(e)", "(f)", "(g)"]
    assert "T-maze" in titles[1] and "Triangle" in titles[2]
    assert "k = 1" in titles[3] and "k = 4" in titles[4] and "Triangle, k = 1" in titles[5]
    assert any("$1/P_t$" in ax.get_ylabel() for ax in fig.axes)
    assert any(
        "$1/P_t$" in t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()
    )
    loss = [ax for ax in _panels(fig) if ax.get_ylabel() == "test loss (MSE)"]
    assert len(loss) == 2 * NK
    assert all(ax.get_yscale() == "log" for ax in loss)
    lims = {tuple(np.round(ax.get_ylim(), 12)) for ax in loss}
    assert len(lims) == 1, lims
    lo, hi = lims.pop()  # the range holds every curve of every panel
    means = [line.get_ydata() for ax in loss for line in ax.get_lines()]
    assert lo <= min(np.nanmin(m) for m in means) and hi >= max(np.nanmax(m) for m in means)
    plt.close(fig)


def test_fig3_example_rows_fill_the_width(full):
    """No empty slots between example replays: each task's examples tile the row."""
    fig = figures.build_fig3_adaptation(full)
    fig.canvas.draw()
    traj = [ax for ax in _panels(fig) if ax.get_xlabel() == "x (m)"]
    assert len(traj) == 3 * 6
    width = fig.bbox.width
    for r in range(3):
        row = sorted((ax.get_window_extent() for ax in traj[6 * r : 6 * r + 6]), key=lambda b: b.x0)
        gaps = [b.x0 - a.x1 for a, b in zip(row, row[1:])]
        assert max(gaps) < 0.1 * width, gaps
    plt.close(fig)


def _reach_stats(all_nan: bool):
    s = {t: make_fake_stats(t, **KW) for t in ("tmaze", "triangle", "box")}
    h = s["tmaze"].sizes["time"] - 1
    for t in ("tmaze", "triangle"):
        ok = np.isfinite(s[t]["reach_rmst"].values)
        s[t]["reach_rmst"].values[ok] = np.nan if all_nan else h  # none reached: censored at h
        s[t]["reach_fraction"].values[ok] = np.nan if all_nan else 0.0
        s[t]["reach_median"].values[ok] = np.nan if all_nan else np.inf
    return s, h


@pytest.mark.parametrize("all_nan", [False, True])
def test_fig4_reach_panels_keep_the_lambda_axis_and_say_why(all_nan):
    stats, h = _reach_stats(all_nan)
    fig = figures.build_fig4_momentum(stats)
    lv = np.unique(stats["tmaze"]["lambda_v"].values)
    reach = [ax for ax in _panels(fig) if ax.get_ylabel() == "restricted mean reach time (steps)"]
    assert len(reach) == 3
    for ax in reach:
        lo, hi = sorted(ax.get_xlim())
        assert lo < lv.min() and hi > lv.max() and hi - lo < 2  # λ_v, not an empty default axis
        assert ax.xaxis_inverted()  # momentum grows to the right
        assert sorted(ax.get_xticks()) == sorted(lv)
    tm, tr, box = reach
    notes = [" ".join(t.get_text() for t in ax.texts) for ax in reach]
    want = "no data" if all_nan else "no trajectory reached the target"
    assert want in notes[0] and want in notes[1] and want not in notes[2]
    if not all_nan:  # the restricted mean of never-reaching trajectories is the replay length
        y = np.concatenate([line.get_ydata() for line in tm.get_lines() if len(line.get_ydata()) == len(lv)])
        assert np.allclose(y[np.isfinite(y)], h)
        assert f"({h} steps)" in notes[0]
        assert tm.get_ylim()[0] == 0 and tm.get_ylim()[1] >= h
    plt.close(fig)


def test_fig5_draws_the_box_walls(full):
    fig = figures.build_fig5_placecells(full)
    traj = [ax for ax in _panels(fig) if ax.get_xlabel() == "x (m)"]
    assert len(traj) == 16
    side = figures._box_size(full["box"])
    for ax in traj:
        walls = [p for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]
        assert (
            len(walls) == 1
            and np.isclose(walls[0].get_width(), side)
            and np.isclose(walls[0].get_x(), -side / 2)
        )
    plt.close(fig)


def test_box_size_from_provenance(full):
    ds = full["box"].copy()
    ds.attrs["provenance"] = json.dumps(
        {"lineage": [{"rule": "replay_dataset", "params": {"settings": {"task": {"box_size": 1.7}}}}]}
    )
    assert figures._box_size(ds) == 1.7
    from noisyrnn.studies.replay.tasks import TaskConfig

    assert figures._box_size(full["box"]) == figures.DEFAULT_BOX_SIZE == TaskConfig().box_size


def test_fig6_full_width_rows_zero_line_and_eps_units(full):
    fig = figures.build_fig6_langevin(full)
    fig.canvas.draw()
    panels = _panels(fig)
    rows = {}
    for ax in panels:
        rows.setdefault(round(ax.get_window_extent().y1), []).append(ax.get_window_extent())
    for boxes in rows.values():  # every row spans the figure: no half-empty row
        assert len(boxes) == 5
        assert max(b.x1 for b in boxes) - min(b.x0 for b in boxes) > 0.85 * fig.bbox.width
    cos = [ax for ax in panels if ax.get_ylabel() == "cosine(drift, score)"]
    assert len(cos) == 3
    for ax in cos:
        zero = [ln for ln in ax.get_lines() if np.allclose(ln.get_ydata(), 0) and ln.get_xdata()[0] == 0]
        assert zero, "no zero line in the cosine panel"
    assert sum(ax.get_ylabel() == "fitted step ε (network-state units²)" for ax in panels) == 3
    plt.close(fig)


@pytest.mark.parametrize("name", sorted(figures.FIGURES))
def test_missing_required_variable_raises_naming_it(name, full):
    """A statistics file without a variable the figure draws is an error naming the variable,
    not a placeholder panel."""
    for key, names in figures.REQUIRED[name].items():
        for var in names:
            stats = _copy(full)
            stats[key] = stats[key].drop_vars(var)
            if key == "gauss_markov" and var == "score_rate":
                stats[key] = stats[key].drop_vars("P_t")
            with pytest.raises(io.ArtefactError, match=re.escape(var)):
                plt.close(figures.FIGURES[name](stats, ClaimsConfig()))


def test_draw_names_file_and_variable(tmp_path, full):
    paths = {}
    for k in ("tmaze", "triangle", "box"):
        p = tmp_path / f"{k}.nc"
        ds = full[k].drop_vars("compression_ratio") if k == "triangle" else full[k]
        ds.to_netcdf(p)
        paths[k] = str(p)
    pdf, png = tmp_path / "fig4.pdf", tmp_path / "fig4.png"
    with pytest.raises(io.ArtefactError) as err:
        figures.draw("fig4_momentum", paths, str(pdf), str(png), {})
    msg = str(err.value)
    assert "compression_ratio" in msg and paths["triangle"] in msg and "not available" not in msg
    assert not png.exists()


def test_select_variant_reexported():
    ds = make_fake_stats("box", **KW)
    v = figures.select_variant(ds, 0.31, 0.6)
    assert (float(v["b_a"]), float(v["lambda_v"])) == (0.3, 0.5)


def test_plotting_helpers_nan():
    plotting.use_style()
    fig, ax = plt.subplots()
    vals = np.array([[1.0, np.nan, 3.0], [2.0, np.nan, np.nan]])
    line = plotting.ci_band(ax, [0, 1, 2], vals, label="x")
    y = line.get_ydata()
    assert y[0] == 1.5 and np.isnan(y[1]) and y[2] == 3.0
    plotting.bar_ci(ax, ["a", "b", "c"], vals)
    assert any(t.get_text() == "n/a" for t in ax.texts)
    plt.close(fig)


def test_time_paths_colour_by_step():
    plotting.use_style()
    fig, ax = plt.subplots()
    p = np.zeros((2, 5, 2))
    p[:, :, 0] = np.arange(5)
    p[1, 3:] = np.nan  # second trajectory stops after step 2
    sm, n_bad = plotting.time_paths(ax, p, n_steps=10)
    assert n_bad == 1 and sm.norm.vmin == 0 and sm.norm.vmax == 10
    (lc,) = ax.collections
    assert len(lc.get_segments()) == 4 + 2  # segments touching a NaN point are left out
    cols = lc.get_colors()
    np.testing.assert_allclose(cols[0], sm.cmap(sm.norm(0.5)))  # step 0→1 of the first
    np.testing.assert_allclose(cols[3], sm.cmap(sm.norm(3.5)))  # step 3→4
    plt.close(fig)


def test_panel_letters():
    let = plotting.PanelLetters()
    got = [let.next() for _ in range(28)]
    assert got[:3] == ["a", "b", "c"] and got[25] == "z" and got[26:] == ["aa", "ab"]
    fig, ax = plt.subplots()
    plotting.PanelLetters().title(ax, "x")
    assert ax.get_title() == "(a) x" and plotting.panel_letter_of(ax) == "a"
    ax.set_title("(not a letter)")
    assert plotting.panel_letter_of(ax) is None
    plt.close(fig)


def test_draw_writes_pdf_png(tmp_path, full):
    paths = {}
    for k in ("tmaze", "gauss_markov"):  # triangle and box absent: placeholders
        p = tmp_path / f"{k}.nc"
        full[k].to_netcdf(p)
        paths[k] = str(p)
    prov = {"git": {"commit": "abc", "dirty": False}, "package_hash": "h", "rule": "figure"}
    pdf, png = tmp_path / "fig" / "fig2_leakage.pdf", tmp_path / "fig" / "fig2_leakage.png"
    figures.draw("fig2_leakage", paths, str(pdf), str(png), prov)
    assert pdf.stat().st_size > 1000 and png.stat().st_size > 1000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(KeyError):
        figures.draw("nope", paths, str(pdf), str(png), prov)


def test_each_variant_is_compared_with_its_own_matched_sampler():
    """ref_matrix reads, per variant, that variant's reference and the sampler matched to its
    friction: overdamped at λ_v = 1, underdamped with momentum."""
    ds = make_fake_stats("box", **KW)
    assert figures.matched_sampler(1.0) == "overdamped"
    assert figures.matched_sampler(0.5) == "underdamped"
    net = 0
    # KW variants, b_a outer, λ_v inner: (0, 1), (0, .5), (.3, 1), (.3, .5), (1, 1), (1, .5)
    picks = {1: "underdamped", 2: "overdamped", 5: "underdamped"}
    got = figures.ref_matrix(ds, "coverage", net, list(picks))
    for j, (vi, q) in enumerate(picks.items()):
        want = ds["ref_coverage"].values[:, net, vi, ["overdamped", "underdamped"].index(q)]
        np.testing.assert_array_equal(got[:, j], want)
    # the fake reference differs between samplers (× 1 vs × 1.3) and between variants, so a
    # wrong pick would not pass
    assert not np.allclose(got[:, 0], ds["ref_coverage"].values[:, net, 1, 0])
    assert not np.allclose(got[:, 2], ds["ref_coverage"].values[:, net, 4, 1])
