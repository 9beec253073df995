"""Time ``noisyrnn.studies.replay.replay.replay``: every (b_a, lambda_v) variant batched, on an untrained net.

The network is randomly initialised (``build_model``, PyTorch default init) at the requested size,
so no training is needed; the replay cost does not depend on the weights unless trajectories
diverge (the script prints how many did). Default is paper scale (SCIENCE.md §4, §8): box task
with 512 place cells (so every step also decodes with top-k and the softmax centroid), N = 512,
the default sweep of 5 b_a x 5 lambda_v = 25 variants, 200 trajectories per variant, 500 steps.

Prints the machine line, then variants, trajectories, steps, wall seconds and trajectory-steps/s
for the full ``replay()`` call (cell loop, divergence check, decoding, hidden-state subsampling
and the conversion to an xarray Dataset), and for comparison the bare cell loop (``NoisyRNN.run``
with the same batched parameters, no decoding). On CUDA the noise for all steps is drawn up
front, (steps x trajectories x N) float32 = 5.1 GB of device memory at paper scale; on the CPU it
is drawn step by step (bitwise the same numbers, see model.NoisyRNN.run).

    python benchmarks/bench_replay.py                                 # paper scale
    python benchmarks/bench_replay.py --task tmaze --repeats 3
    python benchmarks/bench_replay.py --n-traj 20 --steps 100 --device cpu --threads 2
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time

import numpy as np
import torch

from noisyrnn.core.cell import ModelConfig, StepParams, build_model
from noisyrnn.core.device import describe_device, pick_device, set_threads
from noisyrnn.studies.replay import replay, tasks
from noisyrnn.studies.replay.replay import ReplayConfig
from noisyrnn.studies.replay.tasks import TASKS, DecodeConfig, TaskConfig


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def floats(text: str) -> tuple[float, ...]:
    return tuple(float(x) for x in text.split(","))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=TASKS, default="box")
    ap.add_argument("--hidden", type=int, default=512, help="N hidden units (paper: 512)")
    ap.add_argument("--place-cells", type=int, default=512, help="box place cells (paper: 512)")
    ap.add_argument("--n-traj", type=int, default=200, help="trajectories per variant (paper: 200)")
    ap.add_argument("--steps", type=int, default=500, help="replay steps (paper: 500)")
    ap.add_argument("--b-a", type=floats, default=ReplayConfig.b_a, help="comma-separated b_a sweep")
    ap.add_argument("--lambda-v", type=floats, default=ReplayConfig.lambda_v,
                    help="comma-separated lambda_v sweep")
    ap.add_argument("--alpha", type=float, default=0.2, help="leak of the (untrained) network")
    ap.add_argument("--sigma", type=float, default=0.01, help="sigma_train; replay noise is sqrt(2) x this")
    ap.add_argument("--decode", choices=("topk", "centroid"), default="topk")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--no-bare", action="store_true", help="skip timing the bare cell loop")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    ap.add_argument("--device", default=None, help="cpu | cuda | cuda:1 ... (default: noisyrnn.core.device)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    set_threads(args.threads)
    device = pick_device(args.device)
    d = describe_device(device)
    print(f"machine: {platform.platform()} | {d['type']}: {d['name']} | cpu_count={os.cpu_count()} "
          f"| torch {torch.__version__} | threads={torch.get_num_threads()} "
          f"| python {platform.python_version()} "
            f"| THP_MEM_ALLOC_ENABLE={os.environ.get('THP_MEM_ALLOC_ENABLE', 'unset')}")

    tcfg = TaskConfig(name=args.task, n_train=8, n_test=max(args.n_traj, 8), seq_len=20,
                      n_place_cells=args.place_cells)
    ds = tasks.generate(tcfg, seed=args.seed)
    info = tasks.task_info(ds)
    n_code = tasks.code_dim(info)
    model = build_model(2, n_code, n_code, ModelConfig(n_hidden=args.hidden), args.alpha,
                        seed=args.seed).to(device)
    rcfg = ReplayConfig(steps=args.steps, n_traj=args.n_traj, b_a=args.b_a, lambda_v=args.lambda_v)
    decode = DecodeConfig(method=args.decode)
    starts = replay.start_positions(info, ds, rcfg.n_traj, seed=args.seed)
    n_var = len(rcfg.variants())
    batch = n_var * rcfg.n_traj
    traj_steps = batch * rcfg.steps
    print(f"task={args.task} N={args.hidden} code={n_code} variants={n_var} "
          f"(b_a {list(rcfg.b_a)} x lambda_v {list(rcfg.lambda_v)}) trajectories/variant={rcfg.n_traj} "
          f"trajectories={batch} steps={rcfg.steps} "
          f"decode={decode.method if args.task == 'box' else 'identity (2-d readout)'}"
          f"{' + centroid' if args.task == 'box' else ''} noise_std={rcfg.noise_scale * args.sigma:.4g}")

    walls = []
    for r in range(args.repeats):
        sync(device)
        t0 = time.perf_counter()
        out = replay.replay(model, info, starts, rcfg, sigma_train=args.sigma, decode=decode,
                            seed=args.seed + r, device=device)
        sync(device)
        wall = time.perf_counter() - t0
        walls.append(wall)
        n_div = int(out["diverged"].sum())
        print(f"  replay run {r}: wall {wall:.2f} s  {traj_steps / wall:,.0f} trajectory-steps/s  "
              f"(diverged {n_div}/{batch})")
        del out

    bare = []
    if not args.no_bare:
        variants = rcfg.variants()
        col = lambda name: torch.tensor(  # noqa: E731
            [getattr(m, name) for m in variants for _ in range(rcfg.n_traj)], device=device)
        params = StepParams(b_a=col("b_a"), tau_a=col("tau_a"), lambda_v=col("lambda_v"),
                            noise_std=rcfg.noise_scale * args.sigma)
        start_t = torch.as_tensor(np.tile(starts, (n_var, 1)), device=device)
        code0 = tasks.encode(info, start_t)
        for r in range(args.repeats):
            gen = torch.Generator(device=device).manual_seed(args.seed + r)
            sync(device)
            t0 = time.perf_counter()
            with torch.no_grad():
                model.run(None, code0, params, steps=rcfg.steps, generator=gen, keep_hidden=False)
            sync(device)
            bare.append(time.perf_counter() - t0)
            print(f"  bare cell loop run {r}: wall {bare[-1]:.2f} s  "
                  f"{traj_steps / bare[-1]:,.0f} trajectory-steps/s")

    best = min(walls)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB on Linux
    # matmul FLOPs per step: recurrent W r and the readout for decoding
    gflop = 2 * batch * args.hidden * (args.hidden + n_code) * rcfg.steps / 1e9
    print(f"variants {n_var} | trajectories {batch} | steps {rcfg.steps} | "
          f"replay wall best {best:.2f} s (median {statistics.median(walls):.2f}) | "
          f"{traj_steps / best:,.0f} trajectory-steps/s | {gflop / best:.1f} matmul GFLOP/s")
    if bare:
        print(f"bare cell loop best {min(bare):.2f} s | {traj_steps / min(bare):,.0f} trajectory-steps/s "
              f"| replay()/bare {best / min(bare):.2f}x")
    if device.type == "cuda":
        print(f"peak CUDA memory {torch.cuda.max_memory_allocated(device) / 2**30:.2f} GiB")
    print(f"peak RSS {peak:.2f} GiB" if sys.platform.startswith("linux") else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
