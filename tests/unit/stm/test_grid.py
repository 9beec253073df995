"""The stm grid: learning rates, delays, epochs and job lists, by hand."""

from __future__ import annotations

import pytest

from noisyrnn.studies.stm import grid

CONFIG = {
    "families": ["post", "nopost"],
    "training": {"min_epochs": 1000, "lrs_per_job": 2},
    "family": {
        "nopost": {"lr_logspace": [-1, -3, 3], "delay_step_ms": 20, "delay_max_ms": 40,
                   "seeds": 2, "epoch_c": 30},
        "post": {"lr_logspace": [-0.5, -2, 20], "lr_take": 15, "delay_step_ms": 200,
                 "delay_max_ms": 400, "seeds": 1, "epoch_c": 100},
        "control": {"lr_logspace": [0, -3, 20], "delay_step_ms": 20, "delay_max_ms": 60,
                    "seeds": 1, "epochs": 3000, "control": True},
    },
}


def test_learning_rates_delays_and_seeds():
    nopost = CONFIG["family"]["nopost"]
    assert grid.learning_rates(nopost) == [0.1, 0.01, 0.001]
    assert grid.delays_ms(nopost) == [0, 20, 40]
    # the narrow sweep: logspace(-0.5, -2, 20)[:15], 0.316 ... 0.0248 (STM.md §3)
    narrow = grid.learning_rates(CONFIG["family"]["post"])
    assert len(narrow) == 15 and narrow[0] == pytest.approx(0.316228) and narrow[-1] == pytest.approx(0.0248, rel=1e-3)
    assert grid.delays_ms(CONFIG["family"]["control"]) == [20, 40, 60]  # windows (l + 1)·20 ms
    assert grid.seeds(nopost) == [0, 1]


def test_epochs_follow_max_of_min_and_c_over_lr():
    assert grid.epochs_for(0.1, 30, 1000) == 1000
    assert grid.epochs_for(0.001, 30, 1000) == 30000
    assert grid.epochs_for(0.001, 100, 1000) == 100000
    assert grid.epochs_for(0.03, 30, 1000) == 1000


def test_jobs_split_the_lrs_and_list_every_network_once():
    assert grid.n_jobs(CONFIG, "nopost") == 2
    jobs = [grid.job_networks(CONFIG, "nopost", j) for j in range(2)]
    assert [len(j) for j in jobs] == [2 * 3 * 2, 1 * 3 * 2]
    ids = [(n["lr_index"], n["delay_index"], n["seed"]) for j in jobs for n in j]
    assert len(set(ids)) == len(ids) == 18
    assert jobs[1][0]["epochs"] == 30000 and jobs[0][0]["epochs"] == 1000
    control = grid.job_networks({**CONFIG, "training": {"lrs_per_job": 0}}, "control", 0)
    assert {n["epochs"] for n in control} == {3000}
    assert grid.families(CONFIG) == ["nopost", "post"]  # the study's order
    with pytest.raises(ValueError, match="no job 2"):
        grid.job_lr_indices(CONFIG, "nopost", 2)
    with pytest.raises(KeyError, match="stm.family.longtau"):
        grid.family_config(CONFIG, "longtau")
