"""Step train: every seed of one (HMM, hidden size, input dimension) as one population."""

from __future__ import annotations

from ....core import device, io
from .. import grid, training
from .data import check_matrices, hmm_of, split


def train_model(settings: dict, name: str, model: str, data_nc: str, out_nc: str, prov: dict):
    hidden, dim = grid.parse_model(model)
    fam, tr, md = settings["family"], settings["training"], settings["model"]
    data = io.read_netcdf(data_nc, required_vars=["sequence", "split", "transition", "emission"])
    check_matrices(data, hmm_of(settings, name), data_nc)
    ds = training.train_seeds(
        train=split(data, "train"), val=split(data, "val"), seeds=settings["seeds"],
        n_hidden=hidden, input_dim=dim, init=md["init"], first_symbol=md["first_symbol"],
        tau=md["gumbel_tau"], lr=tr["lr"], betas=tr["betas"], grad_clip=fam["grad_clip"],
        epochs=fam["epochs"], batch_size=tr["batch_size"], batch_order=tr["batch_order"],
        val_every=tr["val_every"], checkpoint_every=tr["checkpoint_every"],
        blur=tr["sinkhorn_blur"], scaling=tr["sinkhorn_scaling"], device=device.pick_device(),
        label=f"hmm train {name} {model}")
    ds.attrs.update(hmm=name, model=model)
    io.write_netcdf(ds, out_nc, prov, title=f"hmm training, {name} {model}",
                    source="noisyrnn.studies.hmm.training.train_seeds")
    return ds
