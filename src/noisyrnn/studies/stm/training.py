"""Training the stm networks (STM.md §3): a grid of (lr, delay, seed) networks as one population.

Every network of a job trains in one batched :class:`~.model.LeakyTanhPopulation` with the core
trainer (:func:`noisyrnn.core.training.train_population`): SGD with momentum 0.9 and weight decay
1e-7, full batch (one step per epoch), each network at its own learning rate and for its own
number of epochs (max(min_epochs, c / lr)), then frozen. Networks of different delays share the
run, padded to the longest trial (:func:`.tasks.padded`); each network's loss is its weighted MSE
over its own trial only, so padding changes nothing (the cell is causal).

The metrics of an epoch come from that epoch's training forward pass (no extra pass): on the
accuracy window, accuracy = 1 − mean |argmax(o / Σo) − argmax(target)| and reliability = the mean
normalised output of the correct channel. They describe the weights *before* the epoch's step,
as the loss does.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr

from ...core.cell import StepParams
from ...core.training import train_population
from . import model as stm_model
from . import tasks
from .grid import epochs_for  # noqa: F401  (re-exported: the one home is grid)

__all__ = ["DelayObjective", "LoopCfg", "epochs_for", "free_run", "train_grid"]

log = logging.getLogger(__name__)

METRICS = {
    "train_loss": ("training loss (weighted MSE, before the epoch's step)", "1"),
    "accuracy": ("accuracy on the accuracy window (1 − mean |argmax o − argmax target|)", "1"),
    "reliability": ("mean normalised output o/Σo of the correct channel on the accuracy window", "1"),
}


@dataclass(frozen=True)
class LoopCfg:
    """One network's loop settings, as the core trainer reads them (optimiser, momentum,
    log_every, grad_clip and checkpoint_every are shared by the population)."""

    lr: float
    iterations: int
    weight_decay: float = 1e-7
    momentum: float = 0.9
    optimizer: str = "sgd"
    log_every: int = 1
    grad_clip: float = 0.0
    checkpoint_every: int = 0


class DelayObjective:
    """The :class:`~noisyrnn.core.training.PopulationObjective` of the delayed cue task.

    ``trials``: the padded conditions; ``condition[k]``: network k's row of them. The batch is
    fixed (the task is deterministic); the noise stream of each network (its generators'
    ``"noise"``) draws r_0 and the ε of its own trial length, so padding leaves the stream as
    it is alone. The noise std is ``params.noise_std``.
    """

    metrics = METRICS

    def __init__(self, trials: tasks.Padded, condition: Sequence[int], device, dtype=torch.float32):
        self.device = torch.device(device)
        idx = torch.as_tensor(np.asarray(condition, np.int64))
        as_t = lambda a, dt=dtype: torch.as_tensor(a)[idx].to(device=self.device, dtype=dt)  # noqa: E731
        self.u = as_t(trials.u)                                    # (K, B, T, 2)
        self.targets = as_t(trials.targets)                        # (K, B, T, 2)
        self.weights = as_t(trials.weights)                        # (K, T), 0 past a trial's end
        self.window = as_t(trials.window)                          # (K, T), 0/1
        batch = trials.u.shape[1]
        self.lengths = [int(t) for t in np.asarray(trials.lengths)[idx.numpy()]]
        lengths = torch.as_tensor(trials.lengths)[idx].to(torch.float64)
        # each network's MSE is a mean over its own B · T_k · 2 terms
        self.norm = (lengths * (batch * 2)).to(device=self.device, dtype=dtype)
        self.n_window = (self.window.sum(1) * batch).clamp(min=1)
        self.correct = self.targets.argmax(-1)                    # (K, B, T)
        self._last: dict[str, torch.Tensor] = {}

    def loss(self, model, params: StepParams, generators) -> torch.Tensor:
        outputs, _ = model(self.u, [g["noise"] for g in generators], float(params.noise_std),
                           lengths=self.lengths)
        per_step = (outputs - self.targets).square().sum(dim=(1, 3))   # (K, T)
        losses = (per_step * self.weights).sum(1) / self.norm
        with torch.no_grad():
            self._last = self.scores(outputs.detach())
        return losses

    def scores(self, outputs: torch.Tensor) -> dict[str, torch.Tensor]:
        """Accuracy and reliability (K,) of ``outputs`` (K, B, T, 2) on the accuracy window."""
        p = outputs / outputs.sum(-1, keepdim=True)
        miss = (p.argmax(-1) - self.correct).abs().to(p.dtype)        # (K, B, T)
        correct_p = p.gather(-1, self.correct.unsqueeze(-1)).squeeze(-1)
        m = self.window.unsqueeze(1)
        return {"accuracy": 1.0 - (miss * m).sum((1, 2)) / self.n_window,
                "reliability": (correct_p * m).sum((1, 2)) / self.n_window}

    def evaluate(self, model, params: StepParams, seeds) -> dict[str, Any]:
        """The metrics of the last training forward pass (no extra pass)."""
        if not self._last:
            raise RuntimeError("evaluate before any training step")
        return {name: v.cpu() for name, v in self._last.items()}


def _model_kw(model_kw: Mapping[str, Any]) -> dict[str, Any]:
    kw = dict(model_kw)
    n = kw.pop("n_hidden", kw.pop("n", None))
    if n is None:
        raise KeyError("model_kw needs n_hidden (the number of units)")
    known = {"bias_init", "linear_readout", "r0_std", "dtype"}
    unknown = sorted(set(kw) - known)
    if unknown:
        raise TypeError(f"model_kw: unknown keys {unknown} (known: n_hidden, {', '.join(sorted(known))})")
    return {"n": int(n), **kw}


def _attr(v):
    """netCDF attributes take numbers and strings only."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (list, tuple)):
        return [_attr(x) for x in v]
    return v


def train_grid(
    specs: Sequence[Mapping[str, Any]],
    *,
    model_kw: Mapping[str, Any],
    task_kw: Mapping[str, Any],
    copies_per_class: int,
    sigma: float,
    device,
    log_every: int = 1,
    checkpoint: str | Path | None = None,
    label: str = "stm",
    momentum: float = 0.9,
    weight_decay: float = 1e-7,
    grad_clip: float = 0.0,
    checkpoint_every: int | None = None,
) -> xr.Dataset:
    """Train the networks of ``specs`` as one population; their histories and final weights.

    ``specs``: one dict per network, ``{lr, delay_ms, seed, epochs, alpha}`` (for the no-memory
    control ``delay_ms`` is the reaction-window length, see :func:`.tasks.trial_layout`).
    ``model_kw``: ``n_hidden`` and optionally ``bias_init``, ``linear_readout``, ``r0_std``,
    ``dtype``; ``task_kw``: the keywords of :func:`.tasks.trial_layout` but the delay.

    Returns a Dataset over ``net`` (spec order) and ``epoch`` (the logged epochs): ``loss``,
    ``accuracy``, ``reliability`` (NaN past a network's epochs or its divergence), the final
    weights ``W`` (net, neuron, neuron_in), ``W_in``, ``b_rec``, ``b_in``, ``W_out``, ``b_out``,
    ``alpha``, ``n_steps`` and ``diverged_at_epoch`` (-1: never); coords ``lr``, ``delay_ms``,
    ``seed``, ``epochs`` per net. With ``log_every`` > 1 the loss is the mean over the epochs
    since the last log and the metrics those of the logged epoch.

    ``checkpoint``: a file the population's whole state is saved to every ``checkpoint_every``
    epochs (default 100 when a file is named) and resumed from when it exists (bitwise on the
    CPU); None: no checkpoints.
    """
    if not specs:
        raise ValueError("train_grid needs at least one network spec")
    for i, s in enumerate(specs):
        missing = {"lr", "delay_ms", "seed", "epochs", "alpha"} - set(s)
        if missing:
            raise KeyError(f"spec {i} lacks {sorted(missing)}")
        if int(s["epochs"]) < 1:
            raise ValueError(f"spec {i}: epochs={s['epochs']!r} must be >= 1")
    if checkpoint_every is None:
        checkpoint_every = 100 if checkpoint else 0
    mkw = _model_kw(model_kw)
    dtype = mkw.pop("dtype", torch.float32)
    task_kw = dict(task_kw)
    layouts = [tasks.trial_layout(float(s["delay_ms"]), **task_kw) for s in specs]
    keys = [tuple(sorted(lay.items())) for lay in layouts]
    unique = list(dict.fromkeys(keys))
    condition = [unique.index(key) for key in keys]
    padded = tasks.padded([layouts[keys.index(key)] for key in unique], copies_per_class)

    k = len(specs)
    seeds = [int(s["seed"]) for s in specs]
    alphas = [float(s["alpha"]) for s in specs]
    net = stm_model.build(k, mkw.pop("n"), seeds, alphas, dtype=dtype, **mkw)
    objective = DelayObjective(padded, condition, device, dtype)
    cfgs = [LoopCfg(lr=float(s["lr"]), iterations=int(s["epochs"]), weight_decay=float(weight_decay),
                    momentum=float(momentum), log_every=int(log_every), grad_clip=float(grad_clip),
                    checkpoint_every=int(checkpoint_every)) for s in specs]
    log.info("%s: %d networks, %d conditions (trials of %d-%d steps), %d copies per class", label, k,
             len(unique), int(padded.lengths.min()), int(padded.lengths.max()), copies_per_class)
    histories = train_population(net, objective, cfgs, StepParams(noise_std=float(sigma)), seeds=seeds,
                                 checkpoint=checkpoint, label=label)

    epochs = np.unique(np.concatenate([h["iteration"].values for h in histories])).astype(np.int64)
    data: dict[str, Any] = {}
    for var, metric in (("loss", "train_loss"), ("accuracy", "accuracy"), ("reliability", "reliability")):
        arr = np.full((k, epochs.size), np.nan)
        for j, h in enumerate(histories):
            arr[j, np.searchsorted(epochs, h["iteration"].values)] = h[metric].values
        long_name, units = METRICS[metric]
        data[var] = (("net", "epoch"), arr, {"long_name": long_name, "units": units})
    w = net.stacked_weights()
    weight_meta = {
        "W": (("net", "neuron", "neuron_in"), "recurrent weights W"),
        "W_in": (("net", "neuron", "input"), "input weights W_in"),
        "b_rec": (("net", "neuron"), "recurrent bias b_rec"),
        "b_in": (("net", "neuron"), "input bias b_in"),
        "W_out": (("net", "output", "neuron"), "readout weights W_out"),
        "b_out": (("net", "output"), "readout bias b_out"),
        "alpha": (("net",), "leak α = Δt/τ"),
    }
    for name, (dims, long_name) in weight_meta.items():
        data[name] = (dims, w[name], {"long_name": f"final {long_name}" if name != "alpha" else long_name,
                                      "units": "1"})
    data["n_steps"] = (("net",), padded.lengths[condition].astype(np.int64),
                       {"long_name": "trial length", "units": "steps"})
    diverged = np.array([int(h.attrs.get("diverged_at_iteration", -1)) for h in histories], np.int64)
    data["diverged_at_epoch"] = (("net",), diverged,
                                 {"long_name": "epoch whose loss was not finite (-1: never)", "units": "1"})
    coords = {
        "net": ("net", np.arange(k), {"long_name": "network (spec order)", "units": "1"}),
        "epoch": ("epoch", epochs, {"long_name": "training epoch (one full-batch step)", "units": "1"}),
        "lr": ("net", np.array([float(s["lr"]) for s in specs]), {"long_name": "learning rate", "units": "1"}),
        "delay_ms": ("net", np.array([float(s["delay_ms"]) for s in specs]),
                     {"long_name": "delay (control: reaction-window length)", "units": "ms"}),
        "seed": ("net", np.array(seeds, np.int64), {"long_name": "seed index (paired init)", "units": "1"}),
        "epochs": ("net", np.array([int(s["epochs"]) for s in specs], np.int64),
                   {"long_name": "training epochs of the network", "units": "1"}),
    }
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update(
        n_hidden=int(net.n), sigma=float(sigma), copies_per_class=int(copies_per_class),
        r0_std=float(net.r0_std), linear_readout=int(net.linear_readout),
        bias_init=str(mkw.get("bias_init", "torch_default")), momentum=float(momentum),
        weight_decay=float(weight_decay), grad_clip=float(grad_clip), optimizer="sgd",
        **{f"task_{key}": _attr(v) for key, v in task_kw.items() if v is not None},
    )
    return ds


WEIGHT_VARS = (*stm_model.WEIGHT_NAMES, "alpha")


def free_run(weights_ds: xr.Dataset, net_index: int, layout: Mapping[str, Any], extra_factor: int = 9,
             *, sigma: float, seed: int) -> np.ndarray:
    """Network ``net_index`` of a :func:`train_grid` Dataset on the condition's first trial
    (cue 1), noise on, followed by ``extra_factor`` × the trial's length of zero input.

    Returns the rates r_0 … r_{T_total − 1} (the states the readout reads), (T_total, N) float64
    with T_total = (1 + extra_factor) · T; r_0 and the noise come from a CPU generator seeded
    with ``seed``. This is the free run the mechanism index reads (STM.md §4).
    """
    j = int(net_index)
    weights = {name: weights_ds[name].values[j] for name in WEIGHT_VARS}
    dtype = torch.float64 if weights["W"].dtype == np.float64 else torch.float32
    pop = stm_model.from_weights(weights, linear_readout=bool(int(weights_ds.attrs.get("linear_readout", 0))),
                                 r0_std=float(weights_ds.attrs.get("r0_std", 0.1)), dtype=dtype)
    trial = tasks.trials(dict(layout), 1)
    t = trial.u.shape[1]
    u = np.concatenate([trial.u[0], np.zeros((int(extra_factor) * t, 2), np.float32)])
    g = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        _, rates = pop(torch.from_numpy(u)[None, None], [g], float(sigma))
    return rates[0, 0, : u.shape[0]].double().numpy()
