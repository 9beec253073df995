"""Step train: every seed of one (task, training variant), as populations trained together.

Each group of seeds trains as one :class:`~noisyrnn.core.population.PopulationRNN` through
:func:`~noisyrnn.core.training.train_population`; each network still gets its own model file,
sidecar and history, the same bytes whatever the group it trained in (on the CPU).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from ....core import io
from ....core.cell import ModelConfig, save_blob
from ....core.device import pick_device
from ....core.population import PopulationRNN
from ....core.seeds import derive_seed
from ....core.training import train_population
from ..artefacts import load_dataset
from ..nets import parse_net
from ..tasks import DecodeConfig
from ..training import PopulationPathBatcher, TrainConfig, training_params

log = logging.getLogger(__name__)


def train_config(settings: dict, net: str) -> TrainConfig:
    alpha, k, mods = parse_net(net)
    return TrainConfig.from_dict({**settings["training"], "alpha": alpha, "mask_k": k,
                                  "modifiers_in_training": mods})


def group_checkpoint(checkpoint: str | None, group: Sequence[int]) -> str | None:
    """The checkpoint of one group (its seeds in the name: another grouping never resumes it)."""
    if not checkpoint:
        return None
    return f"{checkpoint}.seeds{'-'.join(str(s) for s in group)}"


def train_networks(settings: dict, task: str, net: str, groups: Sequence[Sequence[int]],
                   dataset_nc: str, outputs: Mapping[int, tuple[str, str]],
                   provs: Mapping[int, dict], checkpoint: str | None = None) -> None:
    """Train the seeds of ``groups`` (each group one population) and write, per seed s,
    ``outputs[s] = (model.pt, history.nc)`` with the provenance record ``provs[s]``.

    A group's outputs are written as soon as it finishes, so a later group's failure keeps
    them. A network that diverged is written at its last finite weights, flagged in its
    history (``diverged_at_iteration``) and in the log.
    """
    ds = load_dataset(dataset_nc)
    mcfg, tcfg = ModelConfig.from_dict(settings["model"]), train_config(settings, net)
    decode = DecodeConfig.from_dict(settings["decode"])
    device = pick_device()
    params = training_params(tcfg, mcfg.sigma_train)
    for group in groups:
        group = [int(s) for s in group]
        k = len(group)
        objective = PopulationPathBatcher(ds, [tcfg] * k, device, decode)
        model = PopulationRNN.build(objective.n_in, objective.n_code, objective.n_out, mcfg,
                                    [tcfg.alpha] * k,
                                    [derive_seed(s, task, net, "init") for s in group])
        log.info("training %s/%s seeds %s as one population of %d on %s: %s", task, net, group,
                 k, device, tcfg)
        ckpt = group_checkpoint(checkpoint, group)
        histories = train_population(model, objective, [tcfg] * k, params,
                                     seeds=[derive_seed(s, task, net) for s in group],
                                     checkpoint=ckpt, label=f"{task}/{net} seeds {group}")
        for j, seed in enumerate(group):
            out_pt, out_history = outputs[seed]
            hist = histories[j].assign_coords(seed=seed).assign_attrs(
                task=task, net=net, seed=seed, alpha=tcfg.alpha, mask_k=tcfg.mask_k,
                modifiers_in_training=int(tcfg.modifiers_in_training))
            if "diverged_at_iteration" in hist.attrs:
                log.warning("%s/%s seed %d diverged at iteration %d; its model holds the last "
                            "finite weights", task, net, seed, hist.attrs["diverged_at_iteration"])
            io.save_model(save_blob(model.network(j), task=task, net=net, seed=seed,
                                    train_config=tcfg.to_dict()), out_pt, provs[seed])
            io.write_netcdf(hist, out_history, provs[seed],
                            title=f"training history {task}/{net} seed {seed}",
                            source="noisyrnn.core.training.train_population")
        if ckpt and Path(ckpt).exists():
            Path(ckpt).unlink()
