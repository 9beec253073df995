"""hmm training cost: seconds per Adam step of one training job (every seed of one model as one
population), as the train rule runs it, at a few batch sizes; and the per-seed analysis cost.

Each setting trains a few steps after one warm-up step and extrapolates to the config's epochs.
Prints the machine, the threads and the setting with every number.

    python benchmarks/bench_hmm.py                                    # default config, chain2
    python benchmarks/bench_hmm.py --config config/config.yaml config/paper.yaml --hmm cyclic
    python benchmarks/bench_hmm.py --device cuda --batches 256 4096 --analysis
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from noisyrnn.core import device as core_device
from noisyrnn.core import settings
from noisyrnn.studies.hmm import analysis, grid, hmms, mechanism, training
from noisyrnn.studies.hmm.study import analyse_settings


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", nargs="+", default=["config/config.yaml"])
    p.add_argument("--hmm", default="chain2")
    p.add_argument("--batches", type=int, nargs="+", default=None, help="batch sizes (default: the config's)")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default=None)
    p.add_argument("--analysis", action="store_true", help="also time one seed's analysis")
    args = p.parse_args()
    core_device.set_threads(args.threads)
    cfg = settings.load_config(args.config)["hmm"]
    fam, tr, md = grid.family_config(cfg, args.hmm), cfg["training"], cfg["model"]
    hidden, dim = grid.parse_model(grid.reference_model(cfg, args.hmm))
    dev = core_device.pick_device(args.device)
    seeds = grid.seeds(cfg)
    h = hmms.build(args.hmm, cfg["hmm_params"])
    print(f"machine: {platform.machine()} {platform.processor() or ''}, device {dev}, "
          f"threads {torch.get_num_threads()}; config {' + '.join(args.config)}; {args.hmm}, "
          f"|h| {hidden}, d {dim}, T {fam['seq_len']}, {len(seeds)} seeds per population")
    for batch in args.batches or [tr["batch_size"]]:
        _, sym = hmms.sample(h, 2 * batch * (args.steps + 1), fam["seq_len"], np.random.default_rng(0))
        oh = hmms.one_hot(sym)
        n_train = batch * (args.steps + 1)
        kw = dict(train=oh[:n_train], val=oh[n_train:n_train + 2], seeds=seeds, n_hidden=hidden,
                  input_dim=dim, init=md["init"], first_symbol=md["first_symbol"], tau=md["gumbel_tau"],
                  lr=tr["lr"], betas=tr["betas"], grad_clip=fam["grad_clip"], batch_size=batch,
                  batch_order=tr["batch_order"], val_every=10 ** 6, checkpoint_every=0,
                  blur=tr["sinkhorn_blur"], scaling=tr["sinkhorn_scaling"], device=dev, label="bench")
        training.train_seeds(**{**kw, "train": oh[:batch]}, epochs=1)   # warm-up: one step
        t0 = time.perf_counter()
        training.train_seeds(**kw, epochs=1)                           # steps + 1 steps
        if dev.type == "cuda":
            torch.cuda.synchronize()
        per_step = (time.perf_counter() - t0) / (args.steps + 1)
        n_seq = int(cfg["n_sequences"]) // 3
        steps = int(np.ceil(n_seq / batch)) * int(fam["epochs"])
        print(f"  batch {batch:5d}: {per_step:.3f} s per population step ({per_step / len(seeds):.3f} s "
              f"per network-step); the config's {fam['epochs']} epochs of {n_seq} sequences = {steps} "
              f"steps: about {per_step * steps / 60:.1f} min of training, validation not counted")
    if args.analysis:
        settings_ = analyse_settings(cfg, {"hmm": args.hmm})
        w = training.HMMRNNPopulation(hidden, dim, [0]).weights(0)
        t0 = time.perf_counter()
        analysis.analyse(mechanism.Net.of(**{k: v.numpy() for k, v in w.items()}), h,
                         eval_length=settings_["eval_length"], first_symbol=md["first_symbol"],
                         tau=md["gumbel_tau"], seed=0, cfg=settings_)
        print(f"  analysis of one seed (an untrained network): {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
