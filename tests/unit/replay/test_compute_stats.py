"""compute_stats aggregates every (seed, net, variant) of one task into one statistics file.

The inputs come from the package's own dataset/train/replay steps at a tiny size; the expected
values come from the input files themselves, from hand-planted replay trajectories of known
geometry, and from hard-coded net ids — never from re-running the statistics code.
"""

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from noisyrnn.core import io, provenance, settings
from noisyrnn.studies.replay import nets
from noisyrnn.studies.replay.steps import dataset, replay, stats, train

ROOT = Path(__file__).resolve().parents[3]
TASK = "tmaze"
SEEDS = [0, 1]
STEPS = 12  # replay steps: trajectories have STEPS + 1 points, reach is censored at STEPS
# networks(sweeps, "tmaze") for alphas [1, 0.2] x mask_k [1, 2], then the extra replayed net
NETS = ["a1_k1_m0", "a1_k2_m0", "a0.2_k1_m0", "a0.2_k2_m0", "a0.2_k1_m1"]
REPLAYED = ["a0.2_k1_m0", "a0.2_k1_m1"]
POSITION_STATS = ("step_length", "compression_ratio", "reach_median", "reach_rmst",
                  "reach_fraction", "msd_exponent", "coverage", "entropy", "coverage_pooled",
                  "entropy_pooled", "frac_off_support", "wasserstein", "kde_kl", "step_autocorr")


def _tiny_config() -> dict:
    cfg = settings.load_config([ROOT / "config/config.yaml", ROOT / "config/smoke.yaml"],
                               ROOT / "config/schema")
    r = cfg["replay"]
    r["seeds"], r["tasks"] = SEEDS, [TASK]
    r["task"][TASK].update(n_train=32, n_test=16, seq_len=10)
    r["model"]["n_hidden"] = 8
    r["training"].update(iterations=3, batch_size=4, n_eval=8, log_every=1, alphas=[1.0, 0.2],
                         mask_k=[1, 2], modifiers_in_training=[False, True], replay_alphas=[0.2])
    r["replay"].update(steps=STEPS, n_traj=4, b_a=[0.0, 0.3], lambda_v=[1.0, 0.5], hidden_trials=2)
    r.setdefault("claims", {}).update(masked_k=2, leaky_alpha=0.2, adapt_b_a=0.3, momentum_lambda_v=0.5)
    r["stats"].update(reference_steps=12, wasserstein_samples=50, wasserstein_projections=5,
                      msd_max_lag=3, autocorr_max_lag=2, score_pca=3, time_bins=2)
    return settings.validate_config(cfg, ROOT / "config/schema")


def _prov(rule: str, outputs: list[str], inputs: list[str] = ()) -> dict:
    return provenance.record(rule=rule, outputs=outputs, inputs=list(inputs))


def _walk(start, step, direction, n=STEPS + 1) -> np.ndarray:
    """A straight walk (n, 2) from ``start`` with constant step length ``step`` along ``direction``."""
    return np.asarray(start) + step * np.arange(n)[:, None] * np.asarray(direction, dtype=float)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Dataset, every trained net, every replay and the stats file, made once in a tmp dir."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path_factory.mktemp("compute_stats"))
        cfg = _tiny_config()
        wc = {"task": TASK}
        ds = "dataset.nc"
        dataset.make_dataset(settings.step_settings("replay", "dataset", cfg, wc), TASK,
                             settings.step_seed("replay", "dataset", cfg, wc), ds,
                             _prov("dataset", [ds]))
        for net in NETS:
            w = {"task": TASK, "net": net}
            outputs = {s: (f"{net}_s{s}.pt", f"{net}_s{s}_history.nc") for s in SEEDS}
            provs = {s: _prov("train", list(outputs[s]), [ds]) for s in SEEDS}
            train.train_networks(settings.step_settings("replay", "train", cfg, w), TASK, net,
                                 [SEEDS], ds, outputs, provs)
        for net, seed in nets.network_seeds(REPLAYED, SEEDS):
            w = {"task": TASK, "net": net, "seed": str(seed)}
            out = f"{net}_s{seed}_replay.nc"
            replay.run_replay(settings.step_settings("replay", "replay", cfg, w), TASK, net, seed,
                              ds, f"{net}_s{seed}.pt", out, _prov("replay", [out], [ds]))
        args = dict(
            settings=settings.step_settings("replay", "stats", cfg, wc), task=TASK, dataset_nc=ds,
            models=[f"{n}_s{s}.pt" for n, s in nets.network_seeds(NETS, SEEDS)],
            histories=[f"{n}_s{s}_history.nc" for n, s in nets.network_seeds(NETS, SEEDS)],
            replays=[f"{n}_s{s}_replay.nc" for n, s in nets.network_seeds(REPLAYED, SEEDS)],
        )
        args["prov"] = _prov("stats", ["stats.nc"], [ds, *args["histories"], *args["replays"]])
        stats.compute_stats(**args, out_nc="stats.nc")
        yield args, xr.load_dataset("stats.nc")


def test_dims_coords_and_which_nets_have_replay_stats(run):
    args, out = run
    # the tiny config must list exactly the nets hard-coded above, else this test proves nothing
    assert nets.networks(args["settings"]["sweeps"], TASK) == NETS
    assert list(out["seed"].values) == SEEDS
    assert list(out["net"].values) == NETS
    np.testing.assert_array_equal(out["alpha"].values, [1.0, 1.0, 0.2, 0.2, 0.2])
    np.testing.assert_array_equal(out["mask_k"].values, [1, 2, 1, 2, 1])
    np.testing.assert_array_equal(out["modifiers_in_training"].values, [0, 0, 0, 0, 1])
    # variants: b_a outer, lambda_v inner
    np.testing.assert_array_equal(out["b_a"].values, [0.0, 0.0, 0.3, 0.3])
    np.testing.assert_array_equal(out["lambda_v"].values, [1.0, 0.5, 1.0, 0.5])
    assert out["step_length"].dims == ("seed", "net", "variant")
    assert out["step_length"].shape == (2, 5, 4)
    assert out.attrs["task"] == TASK
    replayed = np.isin(NETS, REPLAYED)
    for k in POSITION_STATS + ("frac_diverged", "drift_score_cosine", "fitted_eps",
                               "tv_score_gap", "ref_step_length"):
        v = out[k].values
        assert np.isnan(v[:, ~replayed]).all(), k
        # reach_median is inf when fewer than half reach: present, but not finite
        assert (~np.isnan(v[:, replayed]) if k == "reach_median"
                else np.isfinite(v[:, replayed])).all(), k


def test_histories_are_aggregated_under_their_seed_and_net(run):
    args, out = run
    files = dict(zip(nets.network_seeds(NETS, SEEDS), args["histories"]))
    losses = [xr.load_dataset(f)["train_loss"].values for f in files.values()]
    # pairwise distinct histories, so a permuted aggregation cannot pass by accident
    assert len({tuple(v) for v in losses}) == len(losses)
    for (net, seed), path in files.items():
        h = xr.load_dataset(path)
        cell = dict(seed=seed, net=net)
        assert out["final_position_error"].sel(cell).item() == h["position_error"].values[-1]
        np.testing.assert_array_equal(out["train_loss"].sel(cell).values, h["train_loss"].values)
        np.testing.assert_array_equal(out["test_loss"].sel(cell).values, h["test_loss"].values)


def _planted_positions(n_var: int, n_traj: int) -> tuple[np.ndarray, dict]:
    """Trajectories of known geometry (variant, trial, time, space) and their expected stats."""
    up, right = (0.0, 1.0), (1.0, 0.0)
    stem_slow = _walk((0.0, 0.1), 0.02, up)   # max y 0.34: never within 0.15 m of an arm end
    stem_fast = _walk((0.0, 0.1), 0.05, up)   # max y 0.70: never reaches either
    stem_mid = _walk((0.0, 0.1), 0.04, up)
    # along the right arm from the junction: distance to (0.5, 1) is 0.5 - 0.04 t, first
    # <= 0.15 m (reach radius) at t = 9 (0.14 m; t = 8 is 0.18 m, far from the boundary)
    arm = _walk((0.0, 1.0), 0.04, right)
    pos = np.empty((n_var, n_traj, STEPS + 1, 2), np.float32)
    pos[0], pos[1], pos[2] = stem_slow, stem_fast, arm
    pos[3, : n_traj // 2], pos[3, n_traj // 2:] = arm, stem_mid
    # Kaplan-Meier: all reach at 9 -> median 9, RMST 9; half at 9, half censored at 12 ->
    # RMST = 9 + 0.5 * (12 - 9) = 10.5
    # every planted point lies on the track: nothing is off-support
    expected = {"step_length": [0.02, 0.05, 0.04, 0.04], "reach_fraction": [0, 0, 1, 0.5],
                "frac_off_support": [0, 0, 0, 0],
                "reach_rmst": [STEPS, STEPS, 9, 10.5], "reach_median": [np.inf, np.inf, 9, None]}
    return pos, expected


def test_planted_replay_statistics_land_at_their_seed_net_variant(run, tmp_path):
    args, first = run
    net, seed = "a0.2_k1_m0", 1  # net index 2, seed index 1: neither is the first entry
    i = nets.network_seeds(REPLAYED, SEEDS).index((net, seed))
    rep = xr.load_dataset(args["replays"][i])
    pos, expected = _planted_positions(rep.sizes["variant"], rep.sizes["trial"])
    rep["position"] = rep["position"].copy(data=pos)  # same dims, coords and attrs
    rep.attrs.pop(io.DIGEST_ATTR)  # planted on purpose: no longer the data the job wrote
    planted = tmp_path / "planted_replay.nc"
    rep.to_netcdf(planted)
    replays = list(args["replays"])
    replays[i] = str(planted)
    stats.compute_stats(**{**args, "replays": replays}, out_nc=str(tmp_path / "stats.nc"))
    out = xr.load_dataset(tmp_path / "stats.nc")

    wds = xr.load_dataset(args["dataset_nc"])
    wpos = wds["position"].values[wds["split"].values == "test"].astype(np.float64)
    waking_step = np.linalg.norm(np.diff(wpos, axis=1), axis=-1).mean()
    np.testing.assert_allclose(out["waking_step_length"].values, waking_step, rtol=1e-6)
    cell = dict(seed=seed, net=net)
    for k, want in expected.items():
        got = out[k].sel(cell).values
        keep = [j for j, w in enumerate(want) if w is not None]
        np.testing.assert_allclose(got[keep], np.asarray(want, float)[keep], rtol=1e-5, err_msg=k)
    np.testing.assert_allclose(out["compression_ratio"].sel(cell).values,
                               np.asarray(expected["step_length"]) / waking_step, rtol=1e-5)
    # every other entry is unchanged from the first run; the file's own slice is masked out
    si, ni = SEEDS.index(seed), NETS.index(net)
    for k in first.data_vars:
        a, b = first[k].values.copy(), out[k].values.copy()
        if k in POSITION_STATS:
            a[si, ni], b[si, ni] = np.nan, np.nan
        np.testing.assert_array_equal(a, b, err_msg=k)


@pytest.mark.parametrize("what", ["histories", "models", "replays"])
def test_input_list_of_wrong_length_is_named(run, tmp_path, what):
    args, _ = run
    short = {**args, what: args[what][:-1]}
    n = len(args[what])
    with pytest.raises(ValueError, match=rf"{n - 1} {what} given for {n} "):
        stats.compute_stats(**short, out_nc=str(tmp_path / "stats.nc"))
    assert not (tmp_path / "stats.nc").exists()


def test_two_runs_give_byte_identical_files(run, tmp_path):
    args, _ = run
    stats.compute_stats(**args, out_nc=str(tmp_path / "again.nc"))
    # the run fixture keeps the cwd in its working directory, where the first stats.nc lies
    assert (tmp_path / "again.nc").read_bytes() == Path("stats.nc").read_bytes()


def test_kde_kl_off_leaves_it_missing_and_the_rest_unchanged(run, tmp_path):
    """stats.kde_kl: false (the default config) writes NaN KDE-KL and changes nothing else."""
    args, out = run
    off = {**args, "settings": {**args["settings"],
                                "stats": {**args["settings"]["stats"], "kde_kl": False}}}
    stats.compute_stats(**off, out_nc=str(tmp_path / "nokde.nc"))
    nokde = xr.load_dataset(tmp_path / "nokde.nc")
    assert out["kde_kl"].notnull().any() and nokde["kde_kl"].isnull().all()
    assert nokde["ref_kde_kl"].isnull().all()
    for k in ("coverage", "wasserstein", "reach_rmst", "ref_coverage", "drift_score_cosine"):
        xr.testing.assert_identical(nokde[k], out[k])
