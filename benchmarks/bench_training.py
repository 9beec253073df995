"""Time one training iteration of the train rule's loop against a matmul roofline.

What is timed is the package's real loop, at the train rule's settings by default (1 thread,
``THP_MEM_ALLOC_ENABLE=1``, set before torch loads as workflow/scripts/replay/train.py sets
them): ``train_population()`` with ``--population K`` networks (default 1), or the single-network
reference ``train()`` with ``--reference``, on a small generated box dataset. The clock is
stamped at every call of the objective's ``loss``; the interval between two stamps is exactly
one iteration of the loop body: draw the batch (index, mask, place-code targets), forward
through the cell over T steps, MSE, the loss values, backward, Adam step. Warm-up iterations
and the final evaluation after the last step are outside the measured intervals. The roofline
covers the K networks' matmuls.

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

    python benchmarks/bench_training.py                          # paper scale, train rule settings
    python benchmarks/bench_training.py --iters 20 --warmup 3 --threads 2
    python benchmarks/bench_training.py --population 5           # the paper's 5 seeds together
    python benchmarks/bench_training.py --reference              # the single-network train()
    python benchmarks/bench_training.py --device cpu --hidden 128 --batch 64
    python benchmarks/bench_training.py --profile                # + torch.profiler op table
"""

from __future__ import annotations

import argparse
import os

# the train rule's allocator (workflow/scripts/replay/train.py); export =0 to compare
os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

from noisyrnn.core import bptt  # noqa: E402
from noisyrnn.core.cell import ModelConfig, build_model
from noisyrnn.core.device import describe_device, pick_device, set_threads
from noisyrnn.core.population import PopulationRNN  # noqa: E402
from noisyrnn.core.training import train, train_population  # noqa: E402
from noisyrnn.studies.replay import tasks  # noqa: E402
from noisyrnn.studies.replay.tasks import TaskConfig  # noqa: E402
from noisyrnn.studies.replay.training import (  # noqa: E402
    PathBatcher,
    PopulationPathBatcher,
    TrainConfig,
    training_params,
)


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


class _Stamped:
    """The objective, with the clock stamped at each ``loss`` call (one per iteration)."""

    def __init__(self, inner, device, stamps):
        self.inner, self.device, self.metrics, self.stamps = inner, device, inner.metrics, stamps

    def loss(self, *args):
        sync(self.device)
        self.stamps.append((time.perf_counter(), time.process_time(), minor_faults()))
        return self.inner.loss(*args)

    def evaluate(self, *args):
        return self.inner.evaluate(*args)


def time_training(args, device):
    tcfg = TaskConfig(name="box", n_train=max(args.batch, args.n_train), n_test=args.batch,
                      seq_len=args.steps, n_place_cells=args.place_cells)
    ds = tasks.generate(tcfg, seed=0)
    n_iter = args.warmup + args.iters + 1  # +1: n stamps give n-1 intervals
    cfg = TrainConfig(alpha=args.alpha, iterations=n_iter, batch_size=args.batch, log_every=10**9,
                      n_eval=1, modifiers_in_training=args.modifiers_in_training)
    mcfg = ModelConfig(n_hidden=args.hidden)
    params = training_params(cfg, args.sigma)
    stamps: list[tuple[float, float, int]] = []
    k = args.population
    if args.reference:
        inner = PathBatcher(ds, cfg, device)
        model = build_model(inner.n_in, inner.n_code, inner.n_out, mcfg, args.alpha, seed=0)
        run = lambda: train(model, objective, cfg, params, seed=0)  # noqa: E731
    else:
        inner = PopulationPathBatcher(ds, [cfg] * k, device)
        model = PopulationRNN.build(inner.n_in, inner.n_code, inner.n_out, mcfg, [args.alpha] * k,
                                    list(range(k)))
        run = lambda: train_population(model, objective, [cfg] * k, params,  # noqa: E731
                                       seeds=list(range(k)))
    objective = _Stamped(inner, device, stamps)
    if args.profile:
        from torch.profiler import ProfilerActivity, profile
        acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
        with profile(activities=acts) as prof:
            run()
        key = "cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
        print(prof.key_averages().table(sort_by=key, row_limit=25))
    else:
        run()
    rows = [tuple(y - x for x, y in zip(a, b)) for a, b in zip(stamps, stamps[1:])][args.warmup:]
    wall = [1e3 * r[0] for r in rows]
    cpu = [1e3 * r[1] for r in rows]
    faults = [r[2] for r in rows]
    return wall, cpu, faults, inner


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hidden", type=int, default=512, help="N hidden units (paper: 512)")
    ap.add_argument("--batch", type=int, default=200, help="batch size (paper: 200)")
    ap.add_argument("--steps", type=int, default=100, help="T steps per sequence (paper: 100)")
    ap.add_argument("--place-cells", type=int, default=512, help="box place cells (paper: 512)")
    ap.add_argument("--iters", type=int, default=5, help="timed iterations")
    ap.add_argument("--warmup", type=int, default=2, help="untimed iterations first")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (train rule: 1)")
    ap.add_argument("--population", type=int, default=1, help="K networks trained together")
    ap.add_argument("--autograd", action="store_true",
                    help="autograd through the cell's loop instead of the fused backward (core.bptt)")
    ap.add_argument("--reference", action="store_true",
                    help="time the single-network reference train() instead")
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
    with bptt.use_fused(not args.autograd):
        wall, cpu, faults, batcher = time_training(args, device)
    k = 1 if args.reference else args.population
    shapes = [(count * k, *rest) for count, *rest in
              matmul_shapes(args.batch, args.steps, args.hidden, batcher.n_in, batcher.n_code,
                            batcher.n_out)]
    f = flops(shapes)
    roof, roof_cpu = roofline_ms(shapes, device, torch.float32, args.roofline_repeats)
    med, best = statistics.median(wall), min(wall)
    print(f"box: N={args.hidden} batch={args.batch} T={args.steps} place_cells={args.place_cells} "
          f"alpha={args.alpha} modifiers_in_training={args.modifiers_in_training} dtype=float32 "
          f"{'reference train()' if args.reference else f'train_population K={k}'} "
          f"backward={'autograd' if args.autograd else 'fused (core.bptt)'} "
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
