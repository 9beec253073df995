"""stm training cost: seconds per epoch of one training job, as the train rule runs it.

Times :func:`noisyrnn.studies.stm.training.train_grid` on the networks of one job of a config
(the first lr job of a family, or the whole family with ``lrs_per_job: 0``) for a few epochs,
after one warm-up epoch, and extrapolates to the job's and the family's epochs. Prints the
machine, the threads and the setting with every number.

    python benchmarks/bench_stm.py                              # default config, nopost, 1 thread
    python benchmarks/bench_stm.py --config config/config.yaml config/paper.yaml --family post
    python benchmarks/bench_stm.py --device cuda --epochs 50
"""

from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")

import torch  # noqa: E402

from noisyrnn.core import device as core_device  # noqa: E402
from noisyrnn.core import settings  # noqa: E402
from noisyrnn.studies.stm import grid, training  # noqa: E402
from noisyrnn.studies.stm.conditions import alpha_for, task_kw  # noqa: E402
from noisyrnn.studies.stm.study import TASK_KEYS  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", nargs="+", default=["config/config.yaml"])
    p.add_argument("--family", default="nopost")
    p.add_argument("--job", type=int, default=0)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default=None)
    args = p.parse_args()
    core_device.set_threads(args.threads)
    cfg = settings.load_config(args.config)["stm"]
    fam = grid.family_config(cfg, args.family)
    task = {k: cfg[k] for k in TASK_KEYS}
    nets = grid.job_networks(cfg, args.family, args.job)
    dev = core_device.pick_device(args.device)
    specs = [{**n, "epochs": args.epochs + 1, "alpha": alpha_for(task, fam)} for n in nets]
    kw = dict(model_kw={"n_hidden": cfg["model"]["n_hidden"], "linear_readout": bool(fam.get("control"))},
              task_kw=task_kw(task, fam), copies_per_class=int(cfg["copies_per_class"]),
              sigma=float(cfg["model"]["sigma"]), device=dev, label="bench")
    training.train_grid([{**s, "epochs": 1} for s in specs], **kw)  # warm-up
    t0 = time.perf_counter()
    training.train_grid(specs, **kw)
    per_epoch = (time.perf_counter() - t0) / (args.epochs + 1)
    job_epochs = max(n["epochs"] for n in nets)
    all_jobs = [grid.job_networks(cfg, args.family, j) for j in range(grid.n_jobs(cfg, args.family))]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"torch {torch.__version__}, {args.threads} thread(s), device {dev}")
    print(f"setting: {' + '.join(args.config)}, family {args.family}, job {args.job}: "
          f"{len(nets)} networks, N = {cfg['model']['n_hidden']}, "
          f"{2 * cfg['copies_per_class']} trials, longest delay {max(grid.delays_ms(fam))} ms")
    print(f"seconds per epoch: {per_epoch:.3f} ({1e3 * per_epoch / len(nets):.2f} ms per network-epoch)")
    print(f"this job ({job_epochs} epochs): {per_epoch * job_epochs / 60:.1f} min")
    est = sum(per_epoch * len(j) / len(nets) * max(n["epochs"] for n in j) for j in all_jobs)
    print(f"family {args.family} ({len(all_jobs)} jobs, scaled by networks and epochs): "
          f"{est / 60:.1f} min on one core")


if __name__ == "__main__":
    main()
