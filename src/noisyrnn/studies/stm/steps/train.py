"""Step train: every network of one (family, job) trained as one batched population.

The job's networks (lr, delay, seed, epochs) come from the study's grid
(:func:`..grid.job_networks`, in the settings). The task file is checked against the task the
settings describe, so a job never trains on a stale or edited task.
"""

from __future__ import annotations

import numpy as np

from ....core import device, io
from .. import training
from ..conditions import alpha_for, task_kw
from .task import task_arrays


def check_task_file(task_nc: str, task: dict, fam: dict) -> None:
    ds = io.read_netcdf(task_nc, required_vars=["input", "target", "weight", "window"])
    want = task_arrays(task, fam)
    for name, value in (("input", want.u), ("target", want.targets), ("weight", want.weights),
                        ("window", want.window)):
        if ds[name].shape != value.shape or not np.array_equal(ds[name].values, value):
            raise io.ArtefactError(f"{task_nc}: variable {name} is not the task these settings "
                                   "describe; rerun the rule that makes it")


def train_job(settings: dict, family: str, job: int, task_nc: str, out_nc: str, prov: dict):
    task, fam, model, tr = (settings[k] for k in ("task", "family", "model", "training"))
    check_task_file(task_nc, task, fam)
    alpha = alpha_for(task, fam)
    specs = [{**net, "alpha": alpha} for net in settings["networks"]]
    ds = training.train_grid(
        specs,
        model_kw={"n_hidden": model["n_hidden"], "bias_init": model["bias_init"],
                  "r0_std": model["r0_std"], "linear_readout": bool(fam.get("control"))},
        task_kw=task_kw(task, fam), copies_per_class=int(task["copies_per_class"]),
        sigma=float(model["sigma"]), device=device.pick_device(), log_every=int(tr["log_every"]),
        label=f"stm train {family} job{job}", momentum=float(tr["momentum"]),
        weight_decay=float(tr["weight_decay"]), grad_clip=float(tr["grad_clip"]))
    ds = ds.assign_coords(lr_index=("net", np.array([n["lr_index"] for n in specs], np.int64)),
                          delay_index=("net", np.array([n["delay_index"] for n in specs], np.int64)))
    ds.attrs.update(family=family, job=int(job), alpha=alpha)
    io.write_netcdf(ds, out_nc, prov, title=f"stm training, family {family}, job {job}",
                    source="noisyrnn.studies.stm.training.train_grid")
    return ds
