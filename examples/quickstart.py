"""Train a small leaky RNN on the T-maze, replay it with and without momentum, print statistics.

    .venv/bin/python examples/quickstart.py            # about 30-40 s on one CPU core
"""

import argparse

import numpy as np
import torch

from noisyrnn.core.cell import ModelConfig, build_model
from noisyrnn.core.training import train
from noisyrnn.studies.replay import replay, stats, tasks
from noisyrnn.studies.replay.replay import ReplayConfig
from noisyrnn.studies.replay.tasks import DecodeConfig, TaskConfig
from noisyrnn.studies.replay.training import PathBatcher, TrainConfig, training_params


def main(iterations: int = 400, seed: int = 0) -> dict[str, dict[str, float]]:
    torch.set_num_threads(1)
    ds = tasks.generate(TaskConfig(name="tmaze", n_train=500, n_test=100), seed=seed)
    cfg = TrainConfig(alpha=0.2, iterations=iterations, batch_size=64, log_every=100)
    batcher = PathBatcher(ds, cfg, torch.device("cpu"))
    model_cfg = ModelConfig(n_hidden=128)
    net = build_model(batcher.n_in, batcher.n_code, batcher.n_out, model_cfg, cfg.alpha, seed=seed)
    hist = train(net, batcher, cfg, training_params(cfg, model_cfg.sigma_train), seed=seed)
    print(f"final test position error: {hist['position_error'].values[-1]:.3f} m")

    info = tasks.task_info(ds)
    rcfg = ReplayConfig(steps=300, n_traj=100, b_a=(0.0,), lambda_v=(1.0, 0.5))
    starts = replay.start_positions(info, ds, rcfg.n_traj, seed=seed)
    out = replay.replay(net, info, starts, rcfg, sigma_train=model_cfg.sigma_train,
                        decode=DecodeConfig(), seed=seed)
    waking, _ = tasks.split_arrays(ds, "test")
    waking_step = stats.mean_step_length(waking)
    rows = {}
    for v in range(out.sizes["variant"]):
        pos = out["position"].values[v]
        bins, n_bins = tasks.bin_index(info, pos, 40, 20)
        st = stats.trajectory_stats(pos, waking_step=waking_step, bins=bins, n_bins=n_bins,
                                    targets=tasks.reach_targets(info, pos[:, 0]), radius=0.15,
                                    waking=waking.reshape(-1, 2))
        name = f"lambda_v={float(out['lambda_v'][v]):g}"
        rows[name] = {k: float(np.asarray(st[k])) for k in
                      ("compression_ratio", "reach_fraction", "coverage", "msd_exponent", "wasserstein")}
    print(f"{'variant':14s}" + "".join(f"{k:>18s}" for k in next(iter(rows.values()))))
    for name, row in rows.items():
        print(f"{name:14s}" + "".join(f"{v:18.3f}" for v in row.values()))
    return rows


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--iterations", type=int, default=400)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    main(a.iterations, a.seed)
