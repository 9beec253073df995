"""Step replay: zero-input replay of one trained network, every (b_a, λ_v) variant in one batch."""

from __future__ import annotations

from ....core import io
from ....core.device import pick_device
from ....core.seeds import derive_seed
from .. import replay as replay_mod
from .. import tasks
from ..artefacts import load_dataset, load_network
from ..replay import ReplayConfig
from ..tasks import DecodeConfig


def run_replay(settings: dict, task: str, net: str, seed: int, dataset_nc: str, model_pt: str,
               out_nc: str, prov: dict) -> None:
    ds = load_dataset(dataset_nc)
    info = tasks.task_info(ds)
    device = pick_device()
    model, _ = load_network(model_pt, device)
    rcfg = ReplayConfig.from_dict(settings["replay"])
    starts = replay_mod.start_positions(info, ds, rcfg.n_traj, derive_seed(seed, task, net, "starts"))
    out = replay_mod.replay(model, info, starts, rcfg, sigma_train=model.cfg.sigma_train,
                            decode=DecodeConfig.from_dict(settings["decode"]),
                            seed=derive_seed(seed, task, net, "replay"), device=device)
    out = out.assign_attrs(net=net, seed=seed)
    io.write_netcdf(out, out_nc, prov, title=f"replay {task}/{net} seed {seed}",
                    source="noisyrnn.studies.replay.replay.replay")
