"""Figures built from synthetic statistics (make_fake_stats from test_claims.py)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from noisyrnn.core import plotting  # noqa: E402
from noisyrnn.studies.replay import figures  # noqa: E402
from noisyrnn.studies.replay.selection import ClaimsConfig  # noqa: E402

from test_claims import make_fake_gm, make_fake_stats  # noqa: E402

KW = dict(n_seeds=2, b_a=(0.0, 0.3, 1.0), lambda_v=(1.0, 0.5), mask_k=(1, 4), n_time=15, n_lag=3, n_iter=4)
NK = 2  # mask_k values above


@pytest.fixture(scope="module")
def full():
    return {
        "tmaze": make_fake_stats("tmaze", **KW),
        "triangle": make_fake_stats("triangle", **KW),
        "box": make_fake_stats("box", waking_dim="waking_time", ref_examples=True, **KW),
        "gauss_markov": make_fake_gm(n_time=20),
    }


def _check(fig, n_axes):
    try:
        assert isinstance(fig, Figure)
        assert len(fig.axes) == n_axes, [a.get_title() for a in fig.axes]
        assert all(ax.get_title() for ax in fig.axes), [a.get_title() for a in fig.axes]
        assert fig._suptitle is not None and fig._suptitle.get_text()
    finally:
        plt.close(fig)


# expected axes: fig1 9; fig2 3 + 2 nk; fig3 per task 3*regimes+4; fig4 4/task; fig5 8*regimes + 4 bars;
# fig6 4/task + 1
EXPECTED_FULL = {
    "fig1_tasks": 9,
    "fig2_leakage": 3 + 2 * NK,
    "fig3_adaptation": 3 * (3 * 2 + 4),
    "fig4_momentum": 3 * 4,
    "fig5_placecells": (4 + 4) * 2 + 4,  # per regime 4 variants + their 4 matched samplers, 4 bar panels
    "fig6_langevin": 3 * 4 + 1,
}


@pytest.mark.parametrize("name", sorted(figures.FIGURES))
def test_build_full(name, full):
    _check(figures.FIGURES[name](full, ClaimsConfig()), EXPECTED_FULL[name])


EXPECTED_NO_BOX_ONE_REGIME = {  # box absent, gauss_markov absent, one regime (m0)
    "fig1_tasks": 9,
    "fig2_leakage": 3 + 2 * NK,
    "fig3_adaptation": 2 * (3 + 4) + 1,
    "fig4_momentum": 2 * 4 + 1,
    "fig5_placecells": 1,
    "fig6_langevin": 2 * 4 + 1 + 1,
}


@pytest.mark.parametrize("name", sorted(figures.FIGURES))
def test_build_missing_task_and_nan(name):
    kw = dict(KW, regimes=(False,), nan_variants=[(0.3, 0.5), (1.0, 1.0)])
    stats = {"tmaze": make_fake_stats("tmaze", **kw), "triangle": make_fake_stats("triangle", **kw)}
    stats["triangle"]["coverage"][:] = np.nan  # a whole statistic missing
    fig = figures.FIGURES[name](stats, ClaimsConfig())
    texts = [t.get_text() for ax in fig.axes for t in ax.texts] + [ax.get_title() for ax in fig.axes]
    if name in ("fig3_adaptation", "fig4_momentum", "fig5_placecells", "fig6_langevin", "fig1_tasks"):
        assert any("not in this run" in t for t in texts)
    if name in ("fig1_tasks", "fig3_adaptation", "fig4_momentum", "fig6_langevin"):
        assert any("diverged" in t for t in texts), name
    _check(fig, EXPECTED_NO_BOX_ONE_REGIME[name])


def test_only_track_missing_in_fig2():
    stats = {"tmaze": make_fake_stats("tmaze", **KW)}
    fig = figures.build_fig2_leakage(stats)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("gauss_markov.nc not available" in t for t in texts)
    assert any("not in this run" in t for t in texts)
    _check(fig, 3 + NK + 1)


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


def test_draw_writes_pdf_png(tmp_path, full):
    io = pytest.importorskip("noisyrnn.core.io")
    if not hasattr(io, "save_figure"):
        pytest.skip("noisyrnn.core.io.save_figure not available yet")
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
