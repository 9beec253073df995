"""Step task: one family's trial tensors and loss weights, every delay of its grid padded to
the longest trial (weights zero past each trial's end), with the task's lengths as attributes.
The task is deterministic: nothing is sampled."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ....core import io
from .. import grid, tasks
from ..conditions import layout_for


def task_arrays(task: dict, fam: dict) -> tasks.Padded:
    """The padded tensors of every delay of ``fam`` (what the training job trains on)."""
    layouts = [layout_for(task, fam, d) for d in grid.delays_ms(fam)]
    return tasks.padded(layouts, int(task["copies_per_class"]))


def make_task(settings: dict, family: str, out_nc: str, prov: dict) -> xr.Dataset:
    task, fam = settings["task"], settings["family"]
    arr = task_arrays(task, fam)
    delays = grid.delays_ms(fam)
    dims = ("delay_ms", "trial", "time", "channel")
    ds = xr.Dataset(
        {
            "input": (dims, np.asarray(arr.u, dtype=np.float32), {"long_name": "input", "units": "1"}),
            "target": (dims, np.asarray(arr.targets, dtype=np.float32), {"long_name": "target", "units": "1"}),
            "weight": (("delay_ms", "time"), np.asarray(arr.weights, dtype=np.float32),
                       {"long_name": "loss weight per step (0 past the trial)", "units": "1"}),
            "window": (("delay_ms", "time"), np.asarray(arr.window, dtype=bool),
                       {"long_name": "reaction window (accuracy and reliability)"}),
            "length": (("delay_ms",), np.asarray(arr.lengths, dtype=np.int64),
                       {"long_name": "trial length", "units": "steps"}),
            "label": (("trial",), np.asarray(arr.labels, dtype=np.int64),
                      {"long_name": "cue class (0: cue 1, 1: cue 2)"}),
        },
        coords={"delay_ms": ("delay_ms", np.asarray(delays, dtype=np.int64),
                             {"long_name": "delay (control: reaction window)", "units": "ms"})},
        attrs={**{k: task[k] for k in ("dt_ms", "t_in_ms", "t_resp_ms", "copies_per_class")},
               "t_post_ms": task["t_post_ms"] if fam.get("post") else 0,
               "control": int(bool(fam.get("control"))), "family": family},
    )
    io.write_netcdf(ds, out_nc, prov, title=f"stm task, family {family}",
                    source="noisyrnn.studies.stm.tasks")
    return ds
