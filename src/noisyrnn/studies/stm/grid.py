"""Which networks the stm study trains: the one home of its families, grids and job chunks.

A network is (family, lr index, delay index, seed). Seeds are paired (STM.md §7): seed i gives
the same initial weights at every lr and delay, so whole seeds are the unit of the bootstrap.
A family's networks train as one population per job; ``training.lrs_per_job`` splits a family's
learning rates over several jobs (the paper scale on SLURM), and a job's networks are listed in
one fixed order, so the same config always gives the same files.

The DAG imports this module (job lists, wildcard constraints): no torch here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

# The study's families (STM.md §3), in the order of tables and figures.
FAMILIES = ("nopost", "post", "control", "longtau")
FAMILY_TITLES = {
    "nopost": "no post-reaction",
    "post": "with post-reaction",
    "control": "no-memory control",
    "longtau": "long τ (20 ms)",
}


def family_config(config: Mapping[str, Any], family: str) -> dict:
    """A family's section; KeyError naming the key when it is not configured."""
    families = config.get("family") or {}
    if family not in families:
        raise KeyError(f"stm.family.{family}: not configured (families: {sorted(families)})")
    return dict(families[family])


def learning_rates(fam: Mapping[str, Any]) -> list[float]:
    """``lr_logspace: [start, stop, num]`` (decades, as numpy.logspace), then ``lr_take``
    (the first n; 0 keeps all), rounded to 6 significant digits so that ids are stable."""
    start, stop, num = fam["lr_logspace"]
    lrs = np.logspace(float(start), float(stop), int(num))
    take = int(fam.get("lr_take", 0) or 0)
    if take:
        lrs = lrs[:take]
    return [float(f"{lr:.6g}") for lr in lrs]


def delays_ms(fam: Mapping[str, Any]) -> list[int]:
    """Delays 0, step, 2·step, ... up to ``delay_max_ms`` (for the control: the reaction-window
    lengths (l + 1)·step, STM.md §1)."""
    step, top = int(fam["delay_step_ms"]), int(fam["delay_max_ms"])
    if fam.get("control"):
        return list(range(step, top + 1, step))
    return list(range(0, top + 1, step))


def seeds(fam: Mapping[str, Any]) -> list[int]:
    return list(range(int(fam["seeds"])))


def epochs_for(lr: float, c: float, min_epochs: int) -> int:
    """max(min_epochs, c / lr) epochs (STM.md §3: c = 30 without post, 100 with), c / lr rounded
    up (a hair of float slack so that 30 / 0.001 is 30000): low learning rates train longer, so
    each network gets a comparable total step length lr · epochs."""
    if lr <= 0:
        raise ValueError(f"lr={lr!r} must be > 0")
    return int(max(int(min_epochs), math.ceil(float(c) / float(lr) - 1e-9)))


def n_jobs(config: Mapping[str, Any], family: str) -> int:
    per = int((config.get("training") or {}).get("lrs_per_job", 0) or 0)
    n = len(learning_rates(family_config(config, family)))
    return 1 if per <= 0 else math.ceil(n / per)


def job_lr_indices(config: Mapping[str, Any], family: str, job: int) -> list[int]:
    """The lr indices one training job of ``family`` trains."""
    n = len(learning_rates(family_config(config, family)))
    per = int((config.get("training") or {}).get("lrs_per_job", 0) or 0) or n
    out = list(range(job * per, min(n, (job + 1) * per)))
    if not out:
        raise ValueError(f"stm family {family}: no job {job} ({n_jobs(config, family)} jobs)")
    return out


def job_networks(config: Mapping[str, Any], family: str, job: int) -> list[dict]:
    """Every network of one training job: lr-major, then delay, then seed."""
    fam = family_config(config, family)
    lrs, delays = learning_rates(fam), delays_ms(fam)
    min_epochs = int(fam.get("min_epochs") or (config.get("training") or {}).get("min_epochs", 1000))
    out = []
    for i in job_lr_indices(config, family, job):
        for j, delay in enumerate(delays):
            for s in seeds(fam):
                out.append({"lr_index": i, "lr": lrs[i], "delay_index": j, "delay_ms": delay,
                            "seed": s, "epochs": (int(fam["epochs"]) if fam.get("epochs")
                                                  else epochs_for(lrs[i], fam["epoch_c"], min_epochs))})
    return out


def families(config: Mapping[str, Any]) -> list[str]:
    """The configured families, in the study's order."""
    return [f for f in FAMILIES if f in (config.get("families") or [])]


def network_count(config: Mapping[str, Any]) -> int:
    return sum(len(job_networks(config, f, j)) for f in families(config)
               for j in range(n_jobs(config, f)))
