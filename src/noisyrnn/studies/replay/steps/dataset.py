"""Step dataset: the waking paths of one task (train and test splits)."""

from __future__ import annotations

from ....core import io
from .. import tasks


def make_dataset(settings: dict, task: str, seed: int, out_nc: str, prov: dict) -> None:
    cfg = tasks.TaskConfig.from_dict({**(settings["task"] or {}), "name": task})
    ds = tasks.generate(cfg, seed)
    io.write_netcdf(ds, out_nc, prov, title=f"{task} waking paths (train and test splits)",
                    source="noisyrnn.studies.replay.tasks.generate")
