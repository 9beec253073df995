"""Time one training iteration of ``noisyrnn.core.training.train`` against a matmul roofline.

What is timed is the package's real loop: ``train()`` is called on a small generated box
dataset, and a global optimizer step-post hook stamps the clock after every ``opt.step()``. The
interval between two stamps is exactly one iteration of train()'s loop body: draw the batch
(index, mask, place-code targets), forward through the cell over T steps, MSE, ``loss.item()``,
backward, Adam step. Warm-up iterations and the final evaluation that train() runs after its
last step are outside the measured intervals.

The roofline is the same matmul FLOPs done as bare ``torch.matmul`` calls of the same shapes,
dtype, device and thread count, with nothing else in between:

    forward   T x (B,N)@(N,N)  recurrent W r, one per step (the recurrence is sequential)
              (B*T,n_in)@(n_in,N)  input projection, once outside the loop
              (B*T,N)@(N,n_out)    readout
              (B,n_code)@(n_code,N) encoder of the start code
    backward  T x (B,N)@(N,N)  dL/dr through W;  (N,B*T)@(B*T,N) dL/dW in one matmul
              (B*T,n_out)@(n_out,N) and (n_out,B*T)@(B*T,N)  readout input and weight grads
              (N,B*T)@(B*T,n_in) dL/dU;  (N,B)@(B,n_code) dL/dE   (inputs need no grad)

FLOPs are counted analytically as 2*m*k*n per matmul. Default is paper scale (SCIENCE.md §3,
§8): N = 512, batch 200, T = 100, 512 place cells, box task. Prints the machine line, then
ms/iteration (median and best), roofline ms/iteration, their ratio, achieved GFLOP/s.

    python benchmarks/bench_training.py                          # paper scale, current device
    python benchmarks/bench_training.py --iters 20 --warmup 3 --threads 2
    python benchmarks/bench_training.py --device cpu --hidden 128 --batch 64
    python benchmarks/bench_training.py --profile                # + torch.profiler op table
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time

import torch
from torch.optim.optimizer import register_optimizer_step_post_hook

from noisyrnn.core.cell import ModelConfig, build_model
from noisyrnn.core.device import describe_device, pick_device, set_threads
from noisyrnn.core.training import train
from noisyrnn.studies.replay import tasks
from noisyrnn.studies.replay.tasks import TaskConfig
from noisyrnn.studies.replay.training import PathBatcher, TrainConfig, training_params


def minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def machine_line(device: torch.device) -> str:
    d = describe_device(device)
    return (f"machine: {platform.platform()} | {d['type']}: {d['name']} | cpu_count={os.cpu_count()} "
            f"| torch {torch.__version__} | threads={torch.get_num_threads()} "
            f"| python {platform.python_version()} "
            f"| THP_MEM_ALLOC_ENABLE={os.environ.get('THP_MEM_ALLOC_ENABLE', 'unset')}")


def matmul_shapes(b: int, t: int, n: int, n_in: int, n_code: int, n_out: int):
    """[(count, m, k, n, phase)] of the matmuls one training iteration needs."""
    bt = b * t
    return [
        (t, b, n, n, "fwd"),          # W r, per step
        (1, bt, n_in, n, "fwd"),      # U u, all steps at once
        (1, bt, n, n_out, "fwd"),     # readout
        (1, b, n_code, n, "fwd"),     # encoder
        (t, b, n, n, "bwd"),          # dL/dr_t = dL/dpre_t W
        (1, n, bt, n, "bwd"),         # dL/dW, all steps in one matmul
        (1, bt, n_out, n, "bwd"),     # dL/dr from the readout
        (1, n_out, bt, n, "bwd"),     # dL/dD
        (1, n, bt, n_in, "bwd"),      # dL/dU
        (1, n, b, n_code, "bwd"),     # dL/dE
    ]


def flops(shapes) -> dict[str, float]:
    out = {"fwd": 0.0, "bwd": 0.0}
    for count, m, k, n, phase in shapes:
        out[phase] += 2.0 * count * m * k * n
    out["total"] = out["fwd"] + out["bwd"]
    return out


def roofline_ms(shapes, device, dtype, repeats: int) -> tuple[float, float]:
    """Best-of-``repeats`` (wall ms, process CPU ms) of the bare matmuls (outputs preallocated)."""
    g = torch.Generator(device=device).manual_seed(0)
    ops = []
    for count, m, k, n, _ in shapes:
        a = torch.randn(m, k, generator=g, device=device, dtype=dtype)
        w = torch.randn(k, n, generator=g, device=device, dtype=dtype)
        out = torch.empty(m, n, device=device, dtype=dtype)
        ops.append((count, a, w, out))

    def once():
        for count, a, w, out in ops:
            for _ in range(count):
                torch.matmul(a, w, out=out)

    once()  # warm-up: library init, allocation
    best_wall = best_cpu = float("inf")
    for _ in range(repeats):
        sync(device)
        t0, c0 = time.perf_counter(), time.process_time()
        once()
        sync(device)
        best_wall = min(best_wall, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return 1e3 * best_wall, 1e3 * best_cpu


def time_training(args, device) -> tuple[list[float], PathBatcher]:
    tcfg = TaskConfig(name="box", n_train=max(args.batch, args.n_train), n_test=args.batch,
                      seq_len=args.steps, n_place_cells=args.place_cells)
    ds = tasks.generate(tcfg, seed=0)
    n_iter = args.warmup + args.iters + 1  # +1: n stamps give n-1 intervals
    cfg = TrainConfig(alpha=args.alpha, iterations=n_iter, batch_size=args.batch, log_every=10**9,
                      n_eval=1, modifiers_in_training=args.modifiers_in_training)
    batcher = PathBatcher(ds, cfg, device)
    model = build_model(batcher.n_in, batcher.n_code, batcher.n_out,
                        ModelConfig(n_hidden=args.hidden), args.alpha, seed=0)
    stamps: list[tuple[float, float, int]] = []

    def stamp(opt, *_):
        sync(device)
        stamps.append((time.perf_counter(), time.process_time(), minor_faults()))

    handle = register_optimizer_step_post_hook(stamp)
    try:
        if args.profile:
            from torch.profiler import ProfilerActivity, profile
            acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
            with profile(activities=acts) as prof:
                train(model, batcher, cfg, training_params(cfg, args.sigma), seed=0)
            key = "cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
            print(prof.key_averages().table(sort_by=key, row_limit=25))
        else:
            train(model, batcher, cfg, training_params(cfg, args.sigma), seed=0)
    finally:
        handle.remove()
    rows = [tuple(y - x for x, y in zip(a, b)) for a, b in zip(stamps, stamps[1:])][args.warmup:]
    wall = [1e3 * r[0] for r in rows]
    cpu = [1e3 * r[1] for r in rows]
    faults = [r[2] for r in rows]
    return wall, cpu, faults, batcher


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hidden", type=int, default=512, help="N hidden units (paper: 512)")
    ap.add_argument("--batch", type=int, default=200, help="batch size (paper: 200)")
    ap.add_argument("--steps", type=int, default=100, help="T steps per sequence (paper: 100)")
    ap.add_argument("--place-cells", type=int, default=512, help="box place cells (paper: 512)")
    ap.add_argument("--iters", type=int, default=5, help="timed iterations")
    ap.add_argument("--warmup", type=int, default=2, help="untimed iterations first")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    ap.add_argument("--device", default=None, help="cpu | cuda | cuda:1 ... (default: noisyrnn.core.device)")
    ap.add_argument("--alpha", type=float, default=0.2, help="leak of the trained cell")
    ap.add_argument("--sigma", type=float, default=0.01, help="training noise std")
    ap.add_argument("--modifiers-in-training", action="store_true",
                    help="train with adaptation on (b_a = 0.3), the other training regime")
    ap.add_argument("--n-train", type=int, default=1000, help="sequences in the generated dataset")
    ap.add_argument("--roofline-repeats", type=int, default=5)
    ap.add_argument("--profile", action="store_true", help="print a torch.profiler op table")
    args = ap.parse_args(argv)

    set_threads(args.threads)
    device = pick_device(args.device)
    print(machine_line(device))
    wall, cpu, faults, batcher = time_training(args, device)
    shapes = matmul_shapes(args.batch, args.steps, args.hidden, batcher.n_in, batcher.n_code,
                           batcher.n_out)
    f = flops(shapes)
    roof, roof_cpu = roofline_ms(shapes, device, torch.float32, args.roofline_repeats)
    med, best = statistics.median(wall), min(wall)
    print(f"box: N={args.hidden} batch={args.batch} T={args.steps} place_cells={args.place_cells} "
          f"alpha={args.alpha} modifiers_in_training={args.modifiers_in_training} dtype=float32 "
          f"warmup={args.warmup} iters={len(wall)}")
    print("  iteration wall ms: " + " ".join(f"{x:.0f}" for x in wall))
    print("  iteration CPU ms:  " + " ".join(f"{x:.0f}" for x in cpu)
          + "   (process CPU time, all threads)")
    print(f"  minor page faults/iteration: median {statistics.median(faults):.0f}")
    print(f"  matmul FLOPs/iteration: {f['total'] / 1e9:.2f} GFLOP "
          f"(forward {f['fwd'] / 1e9:.2f}, backward {f['bwd'] / 1e9:.2f})")
    print(f"train ms/iter: median {med:.1f}  best {best:.1f}")
    print(f"roofline ms/iter (bare matmuls, best of {args.roofline_repeats}): {roof:.1f}")
    print(f"ratio train/roofline: median {med / roof:.2f}x  best {best / roof:.2f}x  (target <= 1.5x)")
    if device.type == "cpu":
        cmed, cbest = statistics.median(cpu), min(cpu)
        print(f"CPU-time ratio (robust to other load on the machine): train median {cmed:.0f} / "
              f"best {cbest:.0f} ms vs roofline {roof_cpu:.0f} ms -> {cmed / roof_cpu:.2f}x / "
              f"{cbest / roof_cpu:.2f}x")
    print(f"achieved GFLOP/s: train {f['total'] / med / 1e6:.1f} (median), "
          f"{f['total'] / best / 1e6:.1f} (best) | roofline {f['total'] / roof / 1e6:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
