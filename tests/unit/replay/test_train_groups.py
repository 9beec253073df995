"""Train jobs over groups of seeds: the packing changes no result, and is sized by memory."""

from __future__ import annotations

import copy

import pytest
import xarray as xr

from noisyrnn.core import packing, provenance, settings
from noisyrnn.studies.replay import groups
from noisyrnn.studies.replay.steps import dataset, train
from support import ROOT, load_yaml_config

TASK, NET, SEEDS = "tmaze", "a0.2_k2_m1", [0, 1, 2]


def _config(**training):
    cfg = load_yaml_config([ROOT / "config/smoke.yaml"])
    r = cfg["replay"]
    r["seeds"] = SEEDS
    r["task"][TASK].update(n_train=40, n_test=16, seq_len=10)
    r["model"]["n_hidden"] = 16
    r["training"].update(iterations=12, batch_size=8, log_every=4, n_eval=8, **training)
    return settings.validate_config(cfg, ROOT / "config/schema")


def _train(tmp, cfg, grouping):
    wc = {"task": TASK}
    ds = str(tmp / "dataset.nc")
    dataset.make_dataset(settings.step_settings("replay", "dataset", cfg, wc), TASK,
                         settings.step_seed("replay", "dataset", cfg, wc), ds,
                         provenance.record(rule="replay_dataset", outputs=[ds]))
    outputs = {s: (str(tmp / f"seed{s}.pt"), str(tmp / f"seed{s}.history.nc")) for s in SEEDS}
    provs = {s: provenance.record(rule="replay_train", outputs=list(outputs[s]), inputs=[ds])
             for s in SEEDS}
    train.train_networks(settings.step_settings("replay", "train", cfg, {"task": TASK, "net": NET}),
                         TASK, NET, grouping, ds, outputs, provs)
    return outputs


@pytest.mark.parametrize("data", ["stored", "online"])
def test_a_network_is_the_same_bytes_in_any_group(tmp_path, data):
    cfg = _config(data=data)
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    together = _train(tmp_path / "a", cfg, [SEEDS])
    apart = _train(tmp_path / "b", cfg, [[0], [1, 2]])
    for s in SEEDS:
        a, b = open(together[s][0], "rb").read(), open(apart[s][0], "rb").read()
        assert a == b, f"seed {s}: model bytes differ between groupings"
        ha, hb = xr.load_dataset(together[s][1]), xr.load_dataset(apart[s][1])
        assert ha["train_loss"].equals(hb["train_loss"]) and ha["test_loss"].equals(hb["test_loss"])
        assert int(ha["seed"]) == s and ha.attrs["net"] == NET
    # and the seeds are different networks
    assert open(together[0][0], "rb").read() != open(together[1][0], "rb").read()


def test_packing_keys_are_not_in_the_train_settings():
    base = settings.step_settings("replay", "train", _config(), {"task": TASK})
    other = settings.step_settings("replay", "train", _config(group_size=1, group_memory_mb=10),
                                   {"task": TASK})
    assert base == other
    assert "group_size" not in base["training"]


def test_seed_groups_follow_size_and_memory_budget():
    cfg = _config()["replay"]
    per_net = groups.network_memory_mb(cfg, TASK)
    # by hand: 10 saved (B, N) tensors per step, B = 8, T = 10, N = 16, n_in = n_out = 2
    assert per_net == pytest.approx(packing.training_memory_mb(16, 8, 10, 2, 2))
    assert groups.seed_groups(cfg, TASK) == [SEEDS]  # 4000 MB holds all three
    tight = copy.deepcopy(cfg)
    tight["training"]["group_memory_mb"] = 2.5 * per_net
    assert groups.seed_groups(tight, TASK) == [[0, 1], [2]]
    fixed = copy.deepcopy(cfg)
    fixed["training"]["group_size"] = 1
    assert groups.seed_groups(fixed, TASK) == [[0], [1], [2]]
    # a per-task override of the training section reaches the packing too
    fixed["overrides"] = {TASK: {"training": {"group_size": 3}}}
    assert groups.seed_groups(fixed, TASK) == [SEEDS]
