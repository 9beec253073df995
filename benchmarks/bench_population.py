"""Population training throughput: K networks as one batched model against K single runs.

What is timed is the package's real loops: :func:`noisyrnn.core.training.train_population`
(the population, what the train rule runs) and :func:`noisyrnn.core.training.train` (one
network, the reference), with the same thread count, in one process. An iteration is the
interval between two successive calls of the objective's ``loss`` (batch, forward, backward,
optimiser step); warm-up iterations are dropped. "K single runs" cost K times one single run,
so the speed-up at K is K * t_single / t_population, both measured in this process.

Two settings:

* ``replay``: the replay study's default scale (N = 128, batch 64, T = 100, Adam), on a generated
  task dataset, through ``PopulationPathBatcher`` / ``PathBatcher``. Network-iterations per
  second for K = 1, 3, 8, 16.
* ``stm``: short-term-memory shapes (N = 100, tanh with bias, noise 1e-3, SGD with momentum 0.9
  and weight decay 1e-7, full batch: one step per epoch), trial lengths 16-96 steps and 8-128
  trials, on fixed random inputs and targets. Network-epochs per second for K = 1 ... 4096
  (combinations over the memory budget are skipped and say so).

The last line is ``population speed-up K=8: <ratio>x`` (stm shape: N = 100, 8 trials, 56
steps, against 8 single-network runs on the same cores), for scripts. Both sides use the same
cell code, the fused backward through time included (core.bptt); the line before it gives the
ratio against single runs with autograd through the loop as well.

    python benchmarks/bench_population.py                   # both, 1 thread, CPU
    python benchmarks/bench_population.py --only stm --threads 2
    python benchmarks/bench_population.py --device cuda --ks 1 64 1024 4096 16384
"""

from __future__ import annotations

import argparse
import os

# the train rule's allocator setting (workflow/scripts/replay/train.py), before torch loads
os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")

import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import torch  # noqa: E402

from bench_training import machine_line, sync  # noqa: E402
from noisyrnn.core import bptt, packing  # noqa: E402
from noisyrnn.core.cell import ModelConfig, StepParams, build_model  # noqa: E402
from noisyrnn.core.device import pick_device, set_threads  # noqa: E402
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


class Stamped:
    """Wraps an objective; stamps the clock at every ``loss`` call (one per iteration)."""

    def __init__(self, inner, device):
        self.inner, self.device, self.metrics = inner, device, inner.metrics
        self.stamps: list[float] = []

    def loss(self, *args):
        sync(self.device)
        self.stamps.append(time.perf_counter())
        return self.inner.loss(*args)

    def evaluate(self, *args):
        return self.inner.evaluate(*args)

    def intervals_ms(self, warmup: int) -> list[float]:
        return [1e3 * (b - a) for a, b in zip(self.stamps, self.stamps[1:])][warmup:]


# ----------------------------------------------------------------------------- stm shapes
@dataclass(frozen=True)
class Loop:
    iterations: int
    lr: float
    log_every: int = 10**9
    grad_clip: float = 0.0
    checkpoint_every: int = 0
    optimizer: str = "sgd"
    momentum: float = 0.9
    weight_decay: float = 1e-7


class FixedTrials:
    """A full-batch objective of STM shapes: fixed inputs (trials, T, 2) and targets, weighted
    MSE, r_0 = tanh(z / 10) redrawn from each network's index stream every epoch."""

    metrics = {"train_loss": ("weighted MSE", "1")}

    def __init__(self, trials: int, steps: int, n_hidden: int, device, population: bool):
        g = torch.Generator().manual_seed(0)
        self.u = torch.randn(trials, steps, 2, generator=g).to(device)
        self.target = torch.rand(trials, steps, 2, generator=g).to(device)
        w = torch.full((steps,), 16 / steps)
        w[-16:] = 1 - 16 / steps
        self.weight = w.view(1, steps, 1).to(device)
        self.n_hidden, self.trials, self.device, self.population = n_hidden, trials, device, population

    def _r0(self, gen):
        z = torch.randn(self.trials, self.n_hidden, generator=gen)
        return torch.tanh(z / 10).to(self.device)

    def loss(self, model, params, generators):
        if self.population:
            k = len(generators)
            r0 = torch.stack([self._r0(g["index"]) for g in generators])
            u = self.u.expand(k, *self.u.shape)
            y = model(u, r0, params, generator=[g["noise"] for g in generators])
            return torch.mean(self.weight * (torch.sigmoid(y) - self.target) ** 2, dim=(1, 2, 3))
        y = model(self.u, self._r0(generators["index"]), params, generator=generators["noise"])
        return torch.mean(self.weight * (torch.sigmoid(y) - self.target) ** 2)

    def evaluate(self, model, params, seed):
        return {}


def stm_memory_mb(k: int, trials: int, steps: int, n: int) -> float:
    return k * packing.training_memory_mb(n, trials, steps, 2, 2)


def time_stm(k: int, trials: int, steps: int, args, device, single: bool = False) -> float:
    """Median ms per epoch (one full-batch step) of a population of ``k`` (or one single run)."""
    n = 100
    mcfg = ModelConfig(n_hidden=n, activation="tanh", bias=True, encoder_bias=False)
    iters = args.warmup + max(2, args.epochs if k < 512 else 2) + 1
    cfg = Loop(iterations=iters, lr=0.05)
    params = StepParams(noise_std=1e-3)
    objective = Stamped(FixedTrials(trials, steps, n, device, population=not single), device)
    if single:
        model = build_model(2, 0, 2, mcfg, 0.5, seed=0)
        train(model, objective, cfg, params, seed=0)
    else:
        model = PopulationRNN.build(2, 0, 2, mcfg, [0.5] * k, list(range(k)))
        lrs = [cfg.lr * (1 + j % 7) / 4 for j in range(k)]  # per-network lr, as the stm sweep
        train_population(model, objective, [Loop(iterations=iters, lr=lr) for lr in lrs], params,
                         seeds=list(range(k)))
    return statistics.median(objective.intervals_ms(args.warmup))


# ----------------------------------------------------------------------------- replay scale
def time_replay(k: int, args, device, single: bool = False) -> float:
    tcfg = TaskConfig(name=args.task, n_train=256, n_test=64, seq_len=args.replay_steps,
                      n_place_cells=args.place_cells)
    ds = tasks.generate(tcfg, seed=0)
    iters = args.warmup + args.iters + 1
    cfg = TrainConfig(alpha=0.2, iterations=iters, batch_size=args.replay_batch, log_every=10**9,
                      n_eval=1)
    mcfg = ModelConfig(n_hidden=args.replay_hidden)
    params = training_params(cfg, mcfg.sigma_train)
    if single:
        inner = PathBatcher(ds, cfg, device)
        objective = Stamped(inner, device)
        model = build_model(inner.n_in, inner.n_code, inner.n_out, mcfg, cfg.alpha, seed=0)
        train(model, objective, cfg, params, seed=0)
    else:
        inner = PopulationPathBatcher(ds, [cfg] * k, device)
        objective = Stamped(inner, device)
        model = PopulationRNN.build(inner.n_in, inner.n_code, inner.n_out, mcfg, [cfg.alpha] * k,
                                    list(range(k)))
        train_population(model, objective, [cfg] * k, params, seeds=list(range(k)))
    return statistics.median(objective.intervals_ms(args.warmup))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["replay", "stm"], default=None)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (train rule: 1)")
    ap.add_argument("--device", default=None, help="cpu | cuda (default: noisyrnn.core.device)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--iters", type=int, default=6, help="timed replay iterations")
    ap.add_argument("--epochs", type=int, default=8, help="timed stm epochs (2 from K = 512 on)")
    ap.add_argument("--task", default="box", help="replay task of the replay setting")
    ap.add_argument("--place-cells", type=int, default=256)
    ap.add_argument("--replay-hidden", type=int, default=128)
    ap.add_argument("--replay-batch", type=int, default=64)
    ap.add_argument("--replay-steps", type=int, default=100)
    ap.add_argument("--replay-ks", type=int, nargs="+", default=[1, 3, 8, 16])
    ap.add_argument("--ks", type=int, nargs="+", default=[1, 8, 64, 512, 4096], help="stm K")
    ap.add_argument("--steps", type=int, nargs="+", default=[16, 56, 96], help="stm trial lengths")
    ap.add_argument("--trials", type=int, nargs="+", default=[8, 128], help="stm trials per batch")
    ap.add_argument("--memory-mb", type=float, default=8000, help="skip populations above this")
    args = ap.parse_args(argv)
    set_threads(args.threads)
    device = pick_device(args.device)
    print(machine_line(device))

    if args.only in (None, "replay"):
        print(f"\nreplay scale: task {args.task}, N={args.replay_hidden} batch={args.replay_batch} "
              f"T={args.replay_steps}, Adam; median ms/iteration over {args.iters}")
        t1 = time_replay(1, args, device, single=True)
        print(f"  single network (train):        {t1:8.1f} ms/it  {1e3 / t1:8.1f} net-it/s")
        for k in args.replay_ks:
            tk = time_replay(k, args, device)
            print(f"  population K={k:<3d} (train_pop.): {tk:8.1f} ms/it  {1e3 * k / tk:8.1f} net-it/s"
                  f"  speed-up vs {k} single runs {k * t1 / tk:5.2f}x")

    if args.only in (None, "stm"):
        print("\nstm shapes: N=100 tanh+bias, SGD(0.9, wd 1e-7), noise 1e-3; network-epochs/s "
              "(speed-up vs K single runs)")
        for trials in args.trials:
            for steps in args.steps:
                t1 = time_stm(1, trials, steps, args, device, single=True)
                row = [f"  trials={trials:<4d} T={steps:<3d} single {1e3 / t1:8.1f}"]
                for k in args.ks:
                    mb = stm_memory_mb(k, trials, steps, 100)
                    if mb > args.memory_mb:
                        row.append(f"K={k}: skipped ({mb / 1e3:.0f} GB est.)")
                        continue
                    tk = time_stm(k, trials, steps, args, device)
                    row.append(f"K={k}: {1e3 * k / tk:9.1f} ({k * t1 / tk:5.2f}x)")
                print(" | ".join(row), flush=True)
        t8 = time_stm(8, 8, 56, args, device)
        t1 = time_stm(1, 8, 56, args, device, single=True)
        with bptt.use_fused(False):
            t1_autograd = time_stm(1, 8, 56, args, device, single=True)
        print(f"headline shape (8 trials, 56 steps), measured again together: single "
              f"{t1:.2f} ms/epoch with the fused backward, {t1_autograd:.2f} with autograd through "
              f"the loop; population K=8 {t8:.2f} ms/epoch -> {8 * t1_autograd / t8:.2f}x against 8 "
              f"autograd single runs")
        print(f"population speed-up K=8: {8 * t1 / t8:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
