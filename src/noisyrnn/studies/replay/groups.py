"""Which seeds of one (task, variant) train together as one population (torch-free: the DAG
sizes train jobs and their memory requests with it).

One train job trains every seed of a (task, variant); ``training.group_size`` networks at a
time (0: as many as fit in ``training.group_memory_mb``, from the scale of the config).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...core import packing
from .nets import PACKING_DEFAULTS
from .sections import section


def network_memory_mb(config: Mapping[str, Any], task: str) -> float:
    """Training memory one network of ``task`` adds to a population (MB, estimate)."""
    model = section(config, task, "model")
    training = section(config, task, "training")
    cfg = (config.get("task") or {}).get(task) or {}
    steps = cfg.get("seq_len", 100)
    n_out = cfg.get("n_place_cells", 512) if task == "box" else 2
    return packing.training_memory_mb(model.get("n_hidden", 128), training.get("batch_size", 64),
                                      steps, 2, n_out)


def seed_groups(config: Mapping[str, Any], task: str) -> list[list[int]]:
    """The seeds of one (task, variant), in the populations they train in."""
    seeds = [int(s) for s in config["seeds"]]
    training = section(config, task, "training")
    knobs = {key: training.get(key, default) for key, default in PACKING_DEFAULTS.items()}
    size = packing.group_size(network_memory_mb(config, task), knobs["group_memory_mb"],
                              len(seeds), int(knobs["group_size"]))
    return packing.chunks(seeds, size)
