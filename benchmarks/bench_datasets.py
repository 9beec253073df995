"""Time ``noisyrnn.studies.replay.tasks.generate``.

Default is paper scale for the box: 2500 iterations x batch 200 = 500 000 training sequences of
100 steps (plus the test split), stored as float32. Prints sequences/s, steps/s, wall seconds,
peak resident memory and the machine.

    python benchmarks/bench_datasets.py                       # paper-scale box
    python benchmarks/bench_datasets.py --task tmaze --n-train 100000
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time

from noisyrnn.studies.replay import tasks
from noisyrnn.studies.replay.tasks import TASKS, TaskConfig


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=TASKS, default="box")
    ap.add_argument("--n-train", type=int, default=2500 * 200)
    ap.add_argument("--n-test", type=int, default=200)
    ap.add_argument("--seq-len", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--write", default=None, help="also time writing the dataset to this netCDF path")
    args = ap.parse_args(argv)

    cfg = TaskConfig(name=args.task, n_train=args.n_train, n_test=args.n_test, seq_len=args.seq_len)
    n = cfg.n_train + cfg.n_test
    print(f"machine: {platform.platform()} | {platform.processor() or platform.machine()} | "
          f"cpu_count={os.cpu_count()} | python {platform.python_version()}")
    print(f"task={cfg.name} sequences={n} seq_len={cfg.seq_len} seed={args.seed}")
    best = float("inf")
    for r in range(args.repeats):
        t0 = time.perf_counter()
        ds = tasks.generate(cfg, args.seed + r)
        wall = time.perf_counter() - t0
        best = min(best, wall)
        nbytes = ds["position"].nbytes + ds["velocity"].nbytes
        print(f"  run {r}: wall {wall:.2f} s  ({n / wall:,.0f} sequences/s, "
              f"{n * cfg.seq_len / wall:,.0f} steps/s; arrays {nbytes / 2**20:.0f} MiB, "
              f"dtype {ds['position'].dtype})")
        if args.write:
            t1 = time.perf_counter()
            ds.to_netcdf(args.write)
            print(f"  write {args.write}: {time.perf_counter() - t1:.2f} s")
        del ds
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    scale = 1 if sys.platform.startswith("linux") else 1 / 1024
    print(f"best wall {best:.2f} s | {n / best:,.0f} sequences/s | "
          f"{n * cfg.seq_len / best:,.0f} steps/s | peak RSS {peak * scale / 2**20:.2f} GiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
