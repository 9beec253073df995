"""Tests of noisyrnn.studies.replay.tasks against independent truths (distributions, hand-computed geometry)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
import xarray as xr

from noisyrnn.studies.replay import tasks
from noisyrnn.studies.replay.tasks import TaskConfig


@pytest.fixture(scope="module")
def box_ds():
    return tasks.generate(TaskConfig(name="box", n_train=3000, n_test=100), seed=0)


@pytest.fixture(scope="module")
def tmaze_ds():
    return tasks.generate(TaskConfig(name="tmaze", n_train=2000, n_test=200), seed=0)


@pytest.fixture(scope="module")
def triangle_ds():
    return tasks.generate(TaskConfig(name="triangle", n_train=2000, n_test=200), seed=0)


@pytest.fixture(scope="module")
def all_ds(box_ds, tmaze_ds, triangle_ds):
    return {"box": box_ds, "tmaze": tmaze_ds, "triangle": triangle_ds}


# ----------------------------------------------------------------------------- layout / contract


@pytest.mark.parametrize("name", ["box", "tmaze", "triangle"])
def test_layout_and_velocity_consistency(all_ds, name):
    ds = all_ds[name]
    dt = ds.attrs["gen_dt"]
    n, T = 2200 if name != "box" else 3100, 100
    assert ds["position"].dims == ("trial", "time", "space")
    assert ds["position"].shape == (n, T + 1, 2)
    assert ds["velocity"].dims == ("trial", "step", "space")
    assert ds["velocity"].shape == (n, T, 2)
    assert ds["position"].dtype == np.float32 and ds["velocity"].dtype == np.float32
    assert list(ds["space"].values) == ["x", "y"]
    p, v = ds["position"].values, ds["velocity"].values
    np.testing.assert_allclose(p[:, 1:] - p[:, :-1], v * dt, rtol=0, atol=2e-7)
    assert np.isfinite(p).all() and np.isfinite(v).all()
    split = ds["split"].values
    n_train = ds.attrs["gen_n_train"]
    assert (split[:n_train] == "train").all() and (split[n_train:] == "test").all()
    for var in ds.data_vars:
        assert "long_name" in ds[var].attrs and "units" in ds[var].attrs, var
    assert ds["position"].attrs["units"] == "m"
    assert ds["velocity"].attrs["units"] == "m s-1"
    assert ds.attrs["task"] == name and ds.attrs["seed"] == 0
    for f in dataclasses.fields(TaskConfig):
        assert f"gen_{f.name}" in ds.attrs, f.name
    extra = {"box": {"place_cell_centre"}, "tmaze": {"arm"}, "triangle": {"start_vertex", "direction"}}
    assert set(ds.data_vars) == {"position", "velocity"} | extra[name]


def test_netcdf_roundtrip_and_split_arrays(tmp_path):
    cfg = TaskConfig(name="box", n_train=30, n_test=10, seq_len=7, n_place_cells=16)
    ds = tasks.generate(cfg, seed=3)
    path = tmp_path / "box.nc"
    ds.to_netcdf(path)
    with xr.open_dataset(path) as back:
        info = tasks.task_info(back)
        pos, vel = tasks.split_arrays(back, "test")
    assert info.task == "box" and info.centres.shape == (16, 2) and info.seq_len == 7
    np.testing.assert_array_equal(info.centres, ds["place_cell_centre"].values)
    assert pos.shape == (10, 8, 2) and vel.shape == (10, 7, 2)
    assert pos.dtype == np.float32 and vel.dtype == np.float32
    np.testing.assert_array_equal(pos, ds["position"].values[30:])
    assert tasks.code_dim(info) == 16
    with pytest.raises(ValueError, match="split"):
        tasks.split_arrays(ds, "val")


def test_seed_determinism():
    for name in ("box", "tmaze", "triangle"):
        cfg = TaskConfig(name=name, n_train=50, n_test=10, seq_len=20, n_place_cells=32)
        a, b, c = tasks.generate(cfg, 7), tasks.generate(cfg, 7), tasks.generate(cfg, 8)
        np.testing.assert_array_equal(a["position"].values, b["position"].values)
        np.testing.assert_array_equal(a["velocity"].values, b["velocity"].values)
        assert not np.array_equal(a["position"].values, c["position"].values)


def test_bad_input_names_the_field():
    with pytest.raises(ValueError, match="name"):
        TaskConfig(name="maze")
    bad = TaskConfig(name="tmaze")
    object.__setattr__(bad, "name", "maze")  # bypass __post_init__: generate checks itself
    with pytest.raises(ValueError, match="name"):
        tasks.generate(bad, 0)
    for name in ("box", "tmaze", "triangle"):
        with pytest.raises(ValueError, match="seq_len"):
            tasks.generate(TaskConfig(name=name, seq_len=0), 0)
    with pytest.raises(ValueError, match="dt"):
        tasks.generate(TaskConfig(name="box", dt=0.0), 0)
    with pytest.raises(ValueError, match="side"):
        tasks.generate(TaskConfig(name="triangle", side=-1.0), 0)
    with pytest.raises(ValueError, match="mask_mode"):
        tasks.input_mask(2, 3, "sometimes", 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="mask_k"):
        tasks.input_mask(2, 3, "every_k", 0, np.random.default_rng(0))


# ----------------------------------------------------------------------------- box motion model


def _far_from_walls(p, half, buf):
    return (np.abs(p) < half - buf).all(-1)


def test_box_inside_and_rayleigh_speed(box_ds):
    cfg = TaskConfig(name="box")
    half = cfg.box_size / 2
    p, v = box_ds["position"].values, box_ds["velocity"].values
    assert (np.abs(p) <= half + 1e-6).all()
    # Away from walls no wall rule applies and no step can reach a wall (step <= ~6 b dt < 0.1 m):
    # the speed is exactly Rayleigh(b): mean b sqrt(pi/2), second moment 2 b^2.
    far = _far_from_walls(p[:, :-1], half, 0.2)
    speed = np.linalg.norm(v, axis=-1)[far].astype(np.float64)
    assert speed.size > 100_000
    b = cfg.rayleigh_b
    assert abs(speed.mean() / (b * math.sqrt(math.pi / 2)) - 1) < 0.01
    assert abs((speed**2).mean() / (2 * b**2) - 1) < 0.02
    # Rayleigh CDF at the median: 1 - exp(-m^2 / 2b^2) = 1/2
    med = b * math.sqrt(2 * math.log(2))
    assert abs((speed < med).mean() - 0.5) < 0.01


def test_box_heading_turn_std(box_ds):
    # SCIENCE.md: heading turns by N(0, turn_std) * dt per step -> turn std = turn_std * dt
    # (0.23 rad). Measured from consecutive step directions with both steps far from walls.
    cfg = TaskConfig(name="box")
    half = cfg.box_size / 2
    p, v = box_ds["position"].values, box_ds["velocity"].values.astype(np.float64)
    hd = np.arctan2(v[..., 1], v[..., 0])
    turn = np.mod(hd[:, 1:] - hd[:, :-1] + np.pi, 2 * np.pi) - np.pi
    far = _far_from_walls(p[:, :-2], half, 0.2) & _far_from_walls(p[:, 1:-1], half, 0.2)
    tt = turn[far]
    assert tt.size > 100_000
    assert abs(tt.mean()) < 0.01
    assert abs(tt.std() / (cfg.turn_std * cfg.dt) - 1) < 0.02


def test_box_wall_rule_slows_and_turns():
    # Start everyone just inside the right wall heading straight at it: the first step is slowed
    # by wall_slow, and the next heading is turned by ~pi/2 (parallel to the wall).
    cfg = TaskConfig(name="box", n_train=4000, n_test=0, seq_len=2, turn_std=0.0, wall_margin=0.5)
    ds = tasks.generate(cfg, 1)
    p, v = ds["position"].values, ds["velocity"].values.astype(np.float64)
    half = cfg.box_size / 2
    d = np.stack([half - p[:, 0, 0], half - p[:, 0, 1], half + p[:, 0, 0], half + p[:, 0, 1]])
    near_right = np.argmin(d, 0) == 0
    hd0 = np.arctan2(v[:, 0, 1], v[:, 0, 0])
    into = near_right & (d[0] < cfg.wall_margin - 0.05) & (np.abs(hd0) < np.pi / 2 - 0.05)
    far = _far_from_walls(p[:, 0], half, cfg.wall_margin + 0.2)
    assert into.sum() > 100 and far.sum() > 100
    s_into = np.linalg.norm(v[into, 0], axis=-1).mean()
    s_far = np.linalg.norm(v[far, 0], axis=-1).mean()
    assert abs(s_into / s_far - cfg.wall_slow) < 0.05
    hd1 = np.arctan2(v[into, 1, 1], v[into, 1, 0])
    # turned parallel to the wall: heading +-pi/2 (turn_std = 0 so the turn is exact)
    np.testing.assert_allclose(np.abs(hd1), np.pi / 2, atol=1e-3)
    np.testing.assert_allclose(np.sign(hd1), np.sign(hd0[into]))


def test_place_cell_centres_uniform(box_ds):
    c = box_ds["place_cell_centre"].values
    assert c.shape == (512, 2)
    assert (np.abs(c) <= 1.1).all()
    # uniform on [-1.1, 1.1]: mean 0 (sd 0.635/sqrt(512) = 0.028), variance 2.2^2/12 = 0.403
    assert np.abs(c.mean(0)).max() < 0.12
    assert np.abs(c.var(0) / (2.2**2 / 12) - 1).max() < 0.2


# ----------------------------------------------------------------------------- tracks


def test_tmaze_paths(tmaze_ds):
    cfg = TaskConfig(name="tmaze")
    p = tmaze_ds["position"].values.astype(np.float64)
    arm = tmaze_ds["arm"].values
    assert tmaze_ds["arm"].dtype == np.int8 and set(np.unique(arm)) == {-1, 1}
    np.testing.assert_array_equal(p[:, 0], 0.0)  # every trial starts at the stem base
    assert abs((arm == 1).mean() - 0.5) < 0.05
    end = p[:, -1]
    # never beyond the arm end; the end point lies on the chosen arm for most trials
    assert np.abs(p[..., 0]).max() <= cfg.arm_length + 1e-5
    assert (np.sign(end[:, 0]) == arm).mean() > 0.97
    # Run distance D = sum_t v_t dt of a stationary AR(1) speed (clipping at 0 is ~3 sd away):
    # mean L_s + L_a, var = (sd dt)^2 [T(1+r)/(1-r) - 2r(1-r^T)/(1-r)^2]. So half the runs
    # reach the arm end and P(D > L_s + L_a/2) = Phi((L_a/2) / sd_D).
    T, L = cfg.seq_len, cfg.stem_length + cfg.arm_length
    r = math.exp(-cfg.dt / cfg.speed_ou_tau)
    sd_v = cfg.speed_ou_cv * L / (T * cfg.dt)
    sd_D = sd_v * cfg.dt * math.sqrt(T * (1 + r) / (1 - r) - 2 * r * (1 - r**T) / (1 - r) ** 2)
    p_half = 0.5 * (1 + math.erf(cfg.arm_length / 2 / sd_D / math.sqrt(2)))
    assert abs((end[:, 0] * arm > cfg.arm_length / 2).mean() - p_half) < 0.03
    at_end = np.abs(end[:, 0] * arm - cfg.arm_length) < 1e-6
    assert abs(at_end.mean() - 0.5) < 0.05
    ends = tasks.tmaze_ends(cfg.stem_length, cfg.arm_length)[(arm + 1) // 2]
    np.testing.assert_allclose(end[at_end], ends[at_end], atol=5 * cfg.lateral_jitter)
    info = tasks.task_info(tmaze_ds)
    _, dist = tasks.arc_length(info, p)
    assert dist.max() < 6 * cfg.lateral_jitter
    # mean speed of the first half is the OU mean (L_s + L_a) / (seq_len dt)
    v = np.linalg.norm(tmaze_ds["velocity"].values[:, :40], axis=-1)
    assert abs(v.mean() / (1.5 / 2.0) - 1) < 0.05


def test_triangle_paths(triangle_ds):
    cfg = TaskConfig(name="triangle")
    p = triangle_ds["position"].values.astype(np.float64)
    sv, direction = triangle_ds["start_vertex"].values, triangle_ds["direction"].values
    V = tasks.triangle_vertices(cfg.side)
    np.testing.assert_allclose(np.linalg.norm(V[1] - V[0]), cfg.side)
    np.testing.assert_allclose(V.mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(p[:, 0], V[sv], atol=1e-6)
    assert abs((direction == 1).mean() - 0.5) < 0.05
    for k in range(3):
        assert abs((sv == k).mean() - 1 / 3) < 0.05
    info = tasks.task_info(triangle_ds)
    s, dist = tasks.arc_length(info, p)
    assert dist.max() < 6 * cfg.lateral_jitter
    # unwrap the arc length: ccw runs increase it, cw runs decrease it; about one lap in total
    ds_ = np.diff(s, axis=1)
    ds_ = np.mod(ds_ + 1.5 * cfg.side, 3 * cfg.side) - 1.5 * cfg.side
    total = ds_.sum(1)
    assert (np.sign(total) == direction).all()
    assert abs(np.abs(total).mean() / (3 * cfg.side * cfg.laps) - 1) < 0.05


# ----------------------------------------------------------------------------- code / decoding


def _box_info(n_cells=512, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-1.1, 1.1, (n_cells, 2)).astype(np.float32)
    return tasks.TaskInfo.from_config(TaskConfig(name="box", n_place_cells=n_cells), centres)


def test_place_code_numpy_and_torch():
    info = _box_info()
    x = np.random.default_rng(1).uniform(-1.1, 1.1, (7, 11, 2)).astype(np.float32)
    y = tasks.place_code(x, info.centres, 0.2)
    assert y.shape == (7, 11, 512)
    np.testing.assert_allclose(y.sum(-1), 1.0, atol=1e-5)
    d2 = ((x[..., None, :] - info.centres) ** 2).sum(-1)
    np.testing.assert_array_equal(y.argmax(-1), d2.argmin(-1))
    ref = np.exp(-d2.astype(np.float64) / (2 * 0.2**2))
    ref /= ref.sum(-1, keepdims=True)
    np.testing.assert_allclose(y, ref, atol=2e-6)
    yt = tasks.encode(info, torch.from_numpy(x))
    assert isinstance(yt, torch.Tensor) and yt.shape == (7, 11, 512)
    np.testing.assert_allclose(yt.numpy(), ref, atol=2e-6)


def test_topk_and_centroid_decode():
    info = _box_info()
    spacing = 2.2 / math.sqrt(512)
    x = np.random.default_rng(2).uniform(-0.8, 0.8, (2000, 2))
    y = tasks.encode(info, x)
    # top-k of the exact code = mean of the k nearest centres (independent brute force)
    d2 = ((x[:, None, :] - info.centres) ** 2).sum(-1)
    nearest3 = np.argsort(d2, axis=-1)[:, :3]
    np.testing.assert_allclose(tasks.decode(info, y, "topk", k=3), info.centres[nearest3].mean(1), atol=1e-6)
    for method in ("topk", "centroid"):
        xh = tasks.decode(info, y, method)
        err = np.linalg.norm(xh - x, axis=-1)
        assert err.mean() < 0.6 * spacing, method
        assert err.max() < 2 * spacing, method
        xt = tasks.decode(info, torch.from_numpy(y), method)
        assert isinstance(xt, torch.Tensor)
        np.testing.assert_allclose(xt.numpy(), xh, atol=1e-5)
    with pytest.raises(ValueError, match="method"):
        tasks.decode(info, y, "argmax")


def test_track_code_is_identity(tmaze_ds):
    x = np.zeros((3, 4, 2), np.float32) + 0.3
    assert tasks.code_dim(tmaze_ds) == 2
    assert tasks.encode(tmaze_ds, x) is x
    assert tasks.decode(tmaze_ds, x) is x


# ----------------------------------------------------------------------------- geometry


def _tmaze_info():
    return tasks.TaskInfo.from_config(TaskConfig(name="tmaze", stem_length=1.0, arm_length=0.5))


def _triangle_info():
    return tasks.TaskInfo.from_config(TaskConfig(name="triangle", side=1.0))


def test_arc_length_tmaze_hand_values():
    info = _tmaze_info()
    pts = np.array([[0, 0.5], [0.1, 0.5], [-0.25, 1.0], [0.25, 1.05], [0.6, 1.0], [0, -0.2], [np.nan, 0]])
    s, d = tasks.arc_length(info, pts)
    np.testing.assert_allclose(s[:6], [0.5, 0.5, 1.25, 1.75, 2.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(d[:6], [0.0, 0.1, 0.0, 0.05, 0.1, 0.2], atol=1e-12)
    assert np.isnan(s[6]) and np.isnan(d[6])
    assert tasks.track_length(info) == 2.0


def test_arc_length_triangle_hand_values():
    info = _triangle_info()
    R = 1 / math.sqrt(3)
    V = np.array([[0, R], [-0.5, -R / 2], [0.5, -R / 2]])
    pts = np.array([V[0], (V[0] + V[1]) / 2, V[1], V[1] + [0.25, 0], V[2], (V[2] + V[0]) / 2, [0, 0]])
    s, d = tasks.arc_length(info, pts)
    np.testing.assert_allclose(s[:6], [0.0, 0.5, 1.0, 1.25, 2.0, 2.5], atol=1e-12)
    np.testing.assert_allclose(d[:6], 0.0, atol=1e-12)
    np.testing.assert_allclose(d[6], 1 / (2 * math.sqrt(3)), atol=1e-12)  # inradius
    # a point just before V0 going ccw wraps to s close to 3
    s2, _ = tasks.arc_length(info, V[0] + 1e-3 * (V[2] - V[0]))
    np.testing.assert_allclose(s2, 3.0 - 1e-3, atol=1e-9)
    assert tasks.track_length(info) == 3.0


def test_bin_index_hand_values():
    box = _box_info(n_cells=4)
    pts = np.array([[-0.5, -0.5], [0.5, -0.5], [-0.5, 0.5], [0.5, 0.5], [1.1, 1.1], [np.nan, 0.0]])
    idx, n = tasks.bin_index(box, pts, n_track_bins=10, n_box_bins=2)
    assert n == 4
    np.testing.assert_array_equal(idx, [0, 2, 1, 3, 3, -1])
    idx, n = tasks.bin_index(box, np.array([[-1.0, 0.05]]), 10, 11)  # 0.2 m cells
    assert n == 121 and idx[0] == 0 * 11 + 5
    tm = _tmaze_info()
    pts = np.array([[0, 0.0], [0, 0.99], [-0.25, 1.0], [0.5, 1.0], [np.nan, np.nan]])
    idx, n = tasks.bin_index(tm, pts, n_track_bins=8, n_box_bins=20)  # 0.25 m bins
    assert n == 8
    np.testing.assert_array_equal(idx, [0, 3, 5, 7, -1])


def test_reach_targets_and_in_bounds():
    tm, tri = _tmaze_info(), _triangle_info()
    np.testing.assert_allclose(tasks.reach_targets(tm, [0, 0]), [[-0.5, 1.0], [0.5, 1.0]])
    V = tasks.triangle_vertices(1.0)
    tg = tasks.reach_targets(tri, V[1] + 0.01)
    np.testing.assert_allclose(tg, V[[2, 0]])
    tg = tasks.reach_targets(tri, np.stack([V[0], V[2]]))
    assert tg.shape == (2, 2, 2)
    np.testing.assert_allclose(tg[1], V[[0, 1]])
    assert tasks.reach_targets(_box_info(4), [0, 0]).shape == (0, 2)
    np.testing.assert_array_equal(
        tasks.in_bounds(tm, np.array([[0.05, 0.5], [0.2, 0.5], [0.6, 1.0], [np.nan, 0]]), 0.1),
        [True, False, True, False],
    )
    np.testing.assert_array_equal(
        tasks.in_bounds(_box_info(4), np.array([[1.1, -1.1], [1.2, 0], [0, 0]]), 0.0), [True, False, True]
    )


# ----------------------------------------------------------------------------- masks


@pytest.mark.parametrize("k", [1, 2, 4, 8])
def test_masks_fraction(k):
    rng = np.random.default_rng(0)
    gen = torch.Generator().manual_seed(0)
    m = tasks.input_mask(4000, 96, "every_k", k, rng)
    assert m.shape == (4000, 96) and m.dtype == np.float32
    assert set(np.unique(m)) <= {0.0, 1.0}
    np.testing.assert_array_equal(m.sum(1), 96 // k)  # 96 is a multiple of k: exact per trajectory
    for t in range(k):  # shown steps are exactly k apart
        rows = m[m[:, t] == 1]
        np.testing.assert_array_equal(rows[:, t::k], 1.0)
    if k > 1:  # random phase: every phase appears
        phases = np.argmax(m, axis=1)
        assert set(np.unique(phases)) == set(range(k))
    mb = tasks.input_mask(4000, 96, "bernoulli", k, rng)
    assert abs(mb.mean() - 1 / k) < 0.01
    mt = tasks.input_mask(4000, 96, "every_k", k, gen)
    assert isinstance(mt, torch.Tensor) and mt.dtype == torch.float32
    np.testing.assert_array_equal(mt.sum(1).numpy(), 96 // k)
    mtb = tasks.input_mask_torch(4000, 96, "bernoulli", k, generator=gen)
    assert abs(mtb.mean().item() - 1 / k) < 0.01
    # reproducible with the same generator seed
    a = tasks.input_mask_torch(8, 10, "bernoulli", k, torch.Generator().manual_seed(3))
    b = tasks.input_mask_torch(8, 10, "bernoulli", k, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


# ---------------------------------------------------------------- network input and fresh paths
def test_input_units_displacement_is_the_position_step_and_velocity_is_stored():
    cfg = TaskConfig(name="tmaze", n_train=6, n_test=4, seq_len=9)
    ds = tasks.generate(cfg, seed=2)
    assert ds.attrs["gen_input_units"] == "displacement"
    pos, inp = tasks.split_arrays(ds, "train")
    # the predecessor feeds x[t+1] - x[t] (m per step): exactly the difference of the positions
    np.testing.assert_array_equal(inp, pos[:, 1:] - pos[:, :-1])
    np.testing.assert_allclose(inp, ds["velocity"].values[:6] * cfg.dt, rtol=1e-5, atol=1e-7)
    vds = tasks.generate(dataclasses.replace(cfg, input_units="velocity"), seed=2)
    _, vinp = tasks.split_arrays(vds, "train")
    np.testing.assert_array_equal(vinp, vds["velocity"].values[:6])
    # a dataset written before the key existed fed velocity, and still does
    del vds.attrs["gen_input_units"]
    np.testing.assert_array_equal(tasks.split_arrays(vds, "train")[1], vinp)
    with pytest.raises(ValueError, match="input_units"):
        TaskConfig(name="box", input_units="m/s")


def test_task_config_round_trips_through_the_dataset(tmp_path):
    cfg = TaskConfig(name="box", n_train=5, n_test=3, seq_len=6, n_place_cells=8, wall_slow=0.5,
                     box_clip=False, input_units="velocity")
    ds = tasks.generate(cfg, seed=0)
    ds.to_netcdf(tmp_path / "b.nc")
    with xr.open_dataset(tmp_path / "b.nc") as back:
        assert tasks.task_config(back) == cfg


@pytest.mark.parametrize("name", ["box", "tmaze", "triangle"])
def test_fresh_paths_are_the_generator_s_paths(name):
    """Online batches come from the dataset's own generator: drawn from the same stream they are
    the dataset's trials (after the box's centres, which online training keeps)."""
    cfg = TaskConfig(name=name, n_train=7, n_test=3, seq_len=12, n_place_cells=16)
    ds = tasks.generate(cfg, seed=5)
    rng = np.random.default_rng(5)
    if name == "box":
        rng.uniform(-1.1, 1.1, size=(16, 2))  # the centres are drawn first
    pos, vel = tasks.sample_paths(cfg, 10, rng)
    np.testing.assert_array_equal(pos, ds["position"].values)
    np.testing.assert_array_equal(vel, ds["velocity"].values)
    again = tasks.sample_paths(cfg, 10, np.random.default_rng(6))[0]
    assert not np.array_equal(again, pos)
