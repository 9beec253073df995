"""Exploration metrics as SCIENCE.md §5 defines them: coverage and entropy per trajectory, then
averaged; off-support decodes are off-support (bin −1), not visits to an edge bin; the pooled
variants and the sliced Wasserstein distance are what docs/design.md says they are.

Expected values are hand-computed from the geometry (T-maze: stem 1 m, arms 0.5 m, so 2 m of
track in 40 bins of 0.05 m; box: 2.2 m in 20 × 20 cells of 0.11 m).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from noisyrnn.studies.replay import stats as S
from noisyrnn.studies.replay import tasks
from noisyrnn.studies.replay.stats import StatsConfig
from noisyrnn.studies.replay.tasks import TaskConfig

N_TRACK, N_BOX = 40, 20


def _tmaze():
    return tasks.TaskInfo.from_config(TaskConfig(name="tmaze", stem_length=1.0, arm_length=0.5))


def _box():
    centres = np.random.default_rng(0).uniform(-1.1, 1.1, (16, 2)).astype(np.float32)
    return tasks.TaskInfo.from_config(TaskConfig(name="box", box_size=2.2, n_place_cells=16), centres)


def _mid(n_bins: int, length: float) -> np.ndarray:
    """The centre of each of ``n_bins`` equal bins over [0, length) (no point near a boundary)."""
    return (np.arange(n_bins) + 0.5) * length / n_bins


def _halves_tmaze() -> np.ndarray:
    """Two trajectories (2, 20, 2): one through the 20 stem bins, one through the 20 arm bins."""
    y = _mid(20, 1.0)  # stem bins 0..19
    stem = np.stack([np.zeros(20), y], -1)
    d = _mid(10, 0.5)  # arm bins 20..29 (left) and 30..39 (right)
    arms = np.concatenate([np.stack([-d, np.ones(10)], -1), np.stack([d, np.ones(10)], -1)])
    return np.stack([stem, arms])


def _exploration(info, x, **kw):
    bins, n = tasks.bin_index(info, x, N_TRACK, N_BOX, **kw)
    return S.trajectory_stats(x, bins=bins, n_bins=n)


# ------------------------------------------------------------------ per trajectory vs pooled


def test_tmaze_disjoint_halves_per_trajectory_half_pooled_whole():
    x = _halves_tmaze()
    bins, n = tasks.bin_index(_tmaze(), x, N_TRACK, N_BOX)
    # the hand-planned bins: each trajectory visits its own 20 bins once
    np.testing.assert_array_equal(bins[0], np.arange(20))
    np.testing.assert_array_equal(bins[1], np.arange(20, 40))
    out = S.trajectory_stats(x, bins=bins, n_bins=n)
    assert out["coverage"] == pytest.approx(0.5)  # 20 of 40 bins, each trajectory
    assert out["coverage_pooled"] == pytest.approx(1.0)  # the union visits all 40
    # uniform on 20 of 40 bins: log 20 / log 40; the union is uniform on all 40
    assert out["entropy"] == pytest.approx(math.log(20) / math.log(40))
    assert out["entropy_pooled"] == pytest.approx(1.0)
    assert out["frac_off_support"] == 0.0


def test_nan_trajectory_is_skipped_but_an_off_support_one_covers_nothing():
    x = _halves_tmaze()
    nan = np.full((1, 20, 2), np.nan)  # diverged before its start: no data
    off = np.tile([3.0, -2.0], (1, 20, 1))  # valid decodes, all far from the track
    with_nan = _exploration(_tmaze(), np.concatenate([x, nan]))
    assert with_nan["coverage"] == pytest.approx(0.5)
    assert with_nan["frac_off_support"] == 0.0  # missing points are not off-support
    both = _exploration(_tmaze(), np.concatenate([x, nan, off]))
    # the off-support trajectory explored 0 bins: (0.5 + 0.5 + 0) / 3; it has no entropy
    assert both["coverage"] == pytest.approx(1 / 3)
    assert both["entropy"] == pytest.approx(math.log(20) / math.log(40))
    assert both["coverage_pooled"] == pytest.approx(1.0)
    assert both["frac_off_support"] == pytest.approx(20 / 60)  # 20 of the 60 valid points


def test_box_disjoint_halves():
    c = _mid(N_BOX, 2.2) - 1.1  # cell centres
    gx, gy = np.meshgrid(c, c, indexing="ij")
    grid = np.stack([gx, gy], -1)  # (ix, iy, 2)
    left, right = grid[:10].reshape(-1, 2), grid[10:].reshape(-1, 2)  # 200 cells each
    out = _exploration(_box(), np.stack([left, right]))
    assert out["coverage"] == pytest.approx(0.5)
    assert out["coverage_pooled"] == pytest.approx(1.0)
    assert out["entropy"] == pytest.approx(math.log(200) / math.log(400))
    assert out["entropy_pooled"] == pytest.approx(1.0)


def test_per_trajectory_coverage_codes():
    x = np.array([[[0.0, 0.0], [1.0, 0.0]], [[np.nan, np.nan], [np.nan, np.nan]], [[9.0, 9.0], [9.0, 9.0]]])
    bins = np.array([[0, 1], [-1, -1], [-1, -1]])
    np.testing.assert_array_equal(S.per_trajectory_coverage(x, bins, 4), [0.5, np.nan, 0.0])
    assert S.off_support_fraction(x, bins) == pytest.approx(2 / 4)
    assert np.isnan(S.off_support_fraction(x[1:2], bins[1:2]))


# ------------------------------------------------------------------ off-support decodes


def test_off_track_decode_is_off_support_not_the_nearest_bin():
    tm = _tmaze()
    pts = np.array([[3.0, -2.0], [0.0, 0.53], [0.05, 0.53], [0.15, 0.53], [np.nan, 0.0]])
    bins, n = tasks.bin_index(tm, pts, N_TRACK, N_BOX)
    assert n == N_TRACK
    # (3, -2) is 3.6 m from the track (nearest point: the stem base, bin 0 before this change);
    # 0.05 m beside the stem at y = 0.53 keeps the stem's bin floor(0.53 / 0.05) = 10;
    # 0.15 m beside it is beyond the default 0.1 m tolerance
    np.testing.assert_array_equal(bins, [-1, 10, 10, -1, -1])
    # the tolerance is a parameter: 0.2 m admits the third point, 0 m only the one on the track
    np.testing.assert_array_equal(tasks.bin_index(tm, pts, N_TRACK, N_BOX, track_tolerance=0.2)[0],
                                  [-1, 10, 10, 10, -1])
    np.testing.assert_array_equal(tasks.bin_index(tm, pts, N_TRACK, N_BOX, track_tolerance=0.0)[0],
                                  [-1, 10, -1, -1, -1])
    with pytest.raises(ValueError, match="track_tolerance"):
        tasks.bin_index(tm, pts, N_TRACK, N_BOX, track_tolerance=-1.0)


def test_outside_box_is_off_support_the_wall_is_the_edge_bin():
    box = _box()
    wall32 = float(np.float32(1.1))  # a float32 centre on the wall lies ~2e-8 m outside
    pts = np.array([[1.2, 0.0], [1.1, 0.0], [wall32, 0.0], [-1.1, -1.1], [0.0, -1.3], [np.nan, 0.0]])
    bins, n = tasks.bin_index(box, pts, N_TRACK, N_BOX)
    assert n == N_BOX * N_BOX
    # the wall x = 1.1 is in the last column ix = 19; y = 0 in row floor(1.1 / 0.11) = 10
    np.testing.assert_array_equal(bins, [-1, 19 * N_BOX + 10, 19 * N_BOX + 10, 0, -1, -1])


def test_track_tolerance_default_is_the_stats_config_default():
    assert tasks.TRACK_SUPPORT_TOLERANCE == StatsConfig().track_support_tolerance


# ------------------------------------------------------------------ sliced vs exact Wasserstein


def test_default_sliced_wasserstein_of_a_shift_is_two_over_pi_of_it():
    """The pipeline's default (sliced, 200 projections) is E|cos θ|·d = 2d/π for a shift d in 2-D,
    not the exact W1 = d."""
    rng = np.random.default_rng(7)
    a = rng.normal(0.0, 0.3, size=(1, 1500, 2))
    d = 0.4
    cfg = StatsConfig()
    w = S.trajectory_stats(a + [d, 0.0], waking=a, wasserstein_method=cfg.wasserstein,
                           wasserstein_projections=cfg.wasserstein_projections,
                           kde_bandwidth=None)["wasserstein"]
    assert cfg.wasserstein == "sliced"
    assert w == pytest.approx(2 * d / math.pi, rel=0.08)  # MC s.e. over 200 directions ~3.4 %
    assert w < 0.8 * d
    # exact W1 of the same shift (whole clouds: independent subsamples would not be a shift)
    b = a[:, :300]
    assert S.wasserstein(b + [d, 0.0], b, "exact", n_samples=None) == pytest.approx(d, rel=1e-6)
