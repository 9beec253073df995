"""Training the hmm networks (HMM.md §3): the seeds of one (HMM, |h|, d) as one population.

Loss: geomloss's debiased Sinkhorn divergence (p = 2, blur 0.2, scaling 0.5) between a batch of
generated sequences and a batch of HMM sequences, each flattened to a point in R^(3T); geomloss
takes the K networks as its batch axis, so each network's loss is its own. Adam with betas
(0.9, 0.9) and per-network gradient clipping through the core trainer
(:func:`noisyrnn.core.training.train_population`).

An epoch is one pass over the training split in batches of ``batch_size``: shuffled per epoch
and per network (its ``index`` stream) with the last partial batch kept (``batch_order:
shuffle_keep_last``), or in file order (``fixed``). Every ``val_every`` epochs the whole
validation split is scored against as many generated sequences with fresh noise (a stream of
its own, so validation never moves training); each network keeps the weights of its best
validation loss (model selection) and, every ``checkpoint_every`` epochs, a checkpoint of its
weights for the training-dynamics analysis (epoch 0, the initial weights, included).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import xarray as xr

from ...core.cell import StepParams
from ...core.seeds import derive_seed
from ...core.training import generators, train_population
from .model import WEIGHTS, HMMRNNPopulation, steps_for

log = logging.getLogger(__name__)

BATCH_ORDERS = ("shuffle_keep_last", "fixed")
METRICS = {
    "train_loss": ("Sinkhorn divergence of the epoch's training batches (mean)", "1"),
    "val_loss": ("Sinkhorn divergence on the validation split, fresh noise", "1"),
}


@dataclass(frozen=True)
class LoopCfg:
    lr: float
    iterations: int
    betas: tuple = (0.9, 0.9)
    optimizer: str = "adam"
    weight_decay: float = 0.0
    log_every: int = 1
    grad_clip: float = 0.0
    checkpoint_every: int = 0


def sinkhorn_loss(blur: float, scaling: float, length: int):
    """geomloss's debiased Sinkhorn divergence, p = 2; called on (K, B, 3T) batches.

    geomloss starts its ε-annealing at the diameter of *all* points of the call, which would
    let one network's samples change another's loss; one-hot sequences lie in [0, 1]^(3T),
    whose diagonal √(3T) is the diameter geomloss finds for any batch that uses every
    symbol at every step, so it is fixed to that and each network's loss is its own."""
    from geomloss import SamplesLoss

    return SamplesLoss("sinkhorn", p=2, blur=float(blur), scaling=float(scaling), debias=True,
                       diameter=float(np.sqrt(3 * length)), backend="tensorized")


def draw(gen: torch.Generator, shape, kind: str, device) -> torch.Tensor:
    if kind == "normal":
        return torch.randn(shape, generator=gen, device=device)
    return torch.rand(shape, generator=gen, device=device)


class SinkhornObjective:
    """The :class:`~noisyrnn.core.training.PopulationObjective` of one HMM's sequences.

    ``train`` and ``val``: (N, T, 3) one-hot float32 sequences. Network k draws its shuffle
    from ``generators[k]["index"]``, its noise x from ``["noise"]`` and its Gumbel uniforms
    from ``["mask"]``.
    """

    metrics = METRICS

    def __init__(self, train: np.ndarray, val: np.ndarray, *, seeds: Sequence[int], batch_size: int,
                 batch_order: str, val_every: int, checkpoint_every: int, blur: float,
                 scaling: float, device, noise_scale: float = 1.0):
        if batch_order not in BATCH_ORDERS:
            raise ValueError(f"hmm batch_order={batch_order!r} is not one of {BATCH_ORDERS}")
        self.device = torch.device(device)
        self.train = torch.as_tensor(train, dtype=torch.float32, device=self.device)
        self.val = torch.as_tensor(val, dtype=torch.float32, device=self.device)
        self.length = int(train.shape[1])
        self.seeds = [int(s) for s in seeds]
        self.batch_size = min(int(batch_size), len(train))
        self.steps_per_epoch = math.ceil(len(train) / self.batch_size)
        self.batch_order, self.val_every = batch_order, int(val_every)
        self.checkpoint_every = int(checkpoint_every)
        self.loss_fn = sinkhorn_loss(blur, scaling, self.length)
        self.noise_scale = float(noise_scale)
        self.it = 0
        self.perms: list[torch.Tensor] = []
        self.best = [math.inf] * len(self.seeds)
        self.best_epoch = [0] * len(self.seeds)
        self.best_weights: list[dict] = [{} for _ in self.seeds]
        self.checkpoints: dict[int, list[dict]] = {}

    # -- generation
    def generate(self, model: HMMRNNPopulation, n: int, gens: Sequence[torch.Generator],
                 ugens: Sequence[torch.Generator]) -> torch.Tensor:
        """(K, n, T·3) emissions with network k's noise from ``gens[k]``."""
        s = steps_for(self.length, model.first_symbol)
        x = torch.stack([draw(g, (n, s, model.d), "normal", self.device) for g in gens])
        u = torch.stack([draw(g, (n, self.length, 3), "uniform", self.device) for g in ugens])
        return model.emit(self.noise_scale * x, u).reshape(model.k, n, -1)

    def loss(self, model, params: StepParams, generators) -> torch.Tensor:
        step = self.it % self.steps_per_epoch
        if step == 0:
            n = len(self.train)
            self.perms = [torch.randperm(n, generator=g["index"], device=self.device)
                          if self.batch_order == "shuffle_keep_last"
                          else torch.arange(n, device=self.device) for g in generators]
        self.it += 1
        lo = step * self.batch_size
        idx = [p[lo:lo + self.batch_size] for p in self.perms]
        target = torch.stack([self.train[i].reshape(len(i), -1) for i in idx])
        e = self.generate(model, target.shape[1], [g["noise"] for g in generators],
                          [g["mask"] for g in generators])
        return self.loss_fn(e, target)

    @torch.no_grad()
    def evaluate(self, model, params: StepParams, seeds) -> dict:
        epoch = self.it // self.steps_per_epoch
        k = model.k
        out = torch.full((k,), float("nan"))
        if self.val_every and (epoch % self.val_every == 0 or epoch == 1):
            gens = [torch.Generator(device=self.device).manual_seed(
                derive_seed(s, "val", str(epoch))) for s in self.seeds]
            e = self.generate(model, len(self.val), gens, gens)
            target = self.val.reshape(1, len(self.val), -1).expand(k, -1, -1).contiguous()
            out = self.loss_fn(e, target).detach().cpu()
            for j in range(k):
                v = float(out[j])
                if math.isfinite(v) and v < self.best[j]:
                    self.best[j], self.best_epoch[j] = v, epoch
                    self.best_weights[j] = model.weights(j)
        if self.checkpoint_every and epoch % self.checkpoint_every == 0:
            self.checkpoints[epoch] = [model.weights(j) for j in range(k)]
        return {"val_loss": out}


def generators_for(seed: int, device="cpu") -> dict[str, torch.Generator]:
    """Network ``seed``'s random streams, as the core trainer seeds them."""
    return generators(int(seed), torch.device(device))


def train_seeds(*, train: np.ndarray, val: np.ndarray, seeds: Sequence[int], n_hidden: int,
                input_dim: int, init: str, first_symbol: str, tau: float, lr: float,
                betas: Sequence[float], grad_clip: float, epochs: int, batch_size: int,
                batch_order: str, val_every: int, checkpoint_every: int, blur: float,
                scaling: float, device, label: str = "hmm train") -> xr.Dataset:
    """Train one network per seed (one population); the best-validation weights, the
    history per epoch and the checkpoints, as one Dataset over ``seed``."""
    seeds = [int(s) for s in seeds]
    model = HMMRNNPopulation(n_hidden, input_dim, seeds, init, first_symbol, tau)
    obj = SinkhornObjective(train, val, seeds=seeds, batch_size=batch_size, batch_order=batch_order,
                            val_every=val_every, checkpoint_every=checkpoint_every, blur=blur,
                            scaling=scaling, device=device)
    if checkpoint_every:
        obj.checkpoints[0] = [model.weights(j) for j in range(model.k)]
    spe = obj.steps_per_epoch
    cfgs = [LoopCfg(lr=float(lr), iterations=int(epochs) * spe, betas=tuple(map(float, betas)),
                    log_every=spe, grad_clip=float(grad_clip)) for _ in seeds]
    # the cell's modifiers do not apply (noise is the input, scaled by the objective)
    hist = train_population(model, obj, cfgs, StepParams(), seeds=seeds, label=label)
    return _dataset(model, obj, hist, seeds, epochs)


def _dataset(model, obj: SinkhornObjective, hist: list[xr.Dataset], seeds, epochs) -> xr.Dataset:
    n, d = model.n, model.d
    dims = {"W_ih": ("seed", "neuron", "input"), "W_hh": ("seed", "neuron", "presyn"),
            "A": ("seed", "symbol", "neuron")}
    names = {"W_ih": "input weights", "W_hh": "recurrent weights", "A": "readout weights"}
    data = {}
    for name in WEIGHTS:
        w = [obj.best_weights[j].get(name, model.weights(j)[name]) for j in range(model.k)]
        data[name] = (dims[name], torch.stack(w).cpu().numpy(),
                      {"long_name": f"{names[name]} at the best validation loss"})
    epoch = np.arange(1, epochs + 1)
    for metric in METRICS:
        vals = np.full((len(seeds), epochs), np.nan)
        for j, h in enumerate(hist):
            it = np.asarray(h["iteration"].values) // obj.steps_per_epoch
            vals[j, it - 1] = h[metric].values
        data[metric] = (("seed", "epoch"), vals, {"long_name": METRICS[metric][0], "units": "1"})
    data["best_epoch"] = (("seed",), np.asarray(obj.best_epoch, np.int64),
                          {"long_name": "epoch of the best validation loss (model selection)"})
    data["best_val_loss"] = (("seed",), np.asarray(obj.best, float),
                             {"long_name": "best validation Sinkhorn divergence", "units": "1"})
    coords = {"seed": ("seed", np.asarray(seeds, np.int64)), "epoch": ("epoch", epoch)}
    if obj.checkpoints:
        ck = sorted(obj.checkpoints)
        coords["checkpoint"] = ("checkpoint", np.asarray(ck, np.int64),
                                {"long_name": "epoch of the checkpoint (0: initial weights)"})
        for name in WEIGHTS:
            arr = np.stack([np.stack([obj.checkpoints[c][j][name].cpu().numpy()
                                      for c in ck]) for j in range(model.k)])
            data[f"{name}_ckpt"] = (("seed", "checkpoint", *dims[name][1:]), arr,
                                    {"long_name": f"{names[name]} at each checkpoint"})
    return xr.Dataset(data, coords=coords, attrs={"n_hidden": n, "input_dim": d,
                                                  "steps_per_epoch": obj.steps_per_epoch})
