"""Step train: one network (task, training variant, seed) on the path-integration objective."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from ....core import io
from ....core.cell import ModelConfig, build_model, save_blob
from ....core.device import pick_device
from ....core.seeds import derive_seed
from ....core.training import train
from ..artefacts import load_dataset
from ..nets import parse_net
from ..tasks import DecodeConfig
from ..training import PathBatcher, TrainConfig, training_params

log = logging.getLogger(__name__)


def train_config(settings: dict, net: str) -> TrainConfig:
    alpha, k, mods = parse_net(net)
    return TrainConfig.from_dict({**settings["training"], "alpha": alpha, "mask_k": k,
                                  "modifiers_in_training": mods})


def train_network(settings: dict, task: str, net: str, seed: int, dataset_nc: str, out_pt: str,
                  out_history_nc: str, prov: dict, checkpoint: str | None = None) -> None:
    ds = load_dataset(dataset_nc)
    mcfg, tcfg = ModelConfig.from_dict(settings["model"]), train_config(settings, net)
    device = pick_device()
    torch.manual_seed(derive_seed(seed, task, net, "torch"))
    batcher = PathBatcher(ds, tcfg, device, DecodeConfig.from_dict(settings["decode"]))
    model = build_model(batcher.n_in, batcher.n_code, batcher.n_out, mcfg, tcfg.alpha,
                        seed=derive_seed(seed, task, net, "init"))
    log.info("training %s/%s seed %d on %s: %s", task, net, seed, device, tcfg)
    hist = train(model, batcher, tcfg, training_params(tcfg, mcfg.sigma_train),
                 seed=derive_seed(seed, task, net), checkpoint=checkpoint)
    hist = hist.assign_coords(seed=seed).assign_attrs(task=task, net=net, seed=seed,
                                                      alpha=tcfg.alpha, mask_k=tcfg.mask_k,
                                                      modifiers_in_training=int(tcfg.modifiers_in_training))
    io.save_model(save_blob(model, task=task, net=net, seed=seed, train_config=tcfg.to_dict()),
                  out_pt, prov)
    io.write_netcdf(hist, out_history_nc, prov, title=f"training history {task}/{net} seed {seed}",
                    source="noisyrnn.core.training.train")
    if checkpoint and Path(checkpoint).exists():
        Path(checkpoint).unlink()
