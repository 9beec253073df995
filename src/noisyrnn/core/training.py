"""The study-neutral training loops: one network (:func:`train`) or a population of K networks
trained as one batched model (:func:`train_population`, what the workflow runs).

A study plugs in an *objective*: it draws training batches, runs the model and returns the
loss, and evaluates held-out metrics on the logging schedule (:class:`Objective`, or
:class:`PopulationObjective` with one loss and one metric value per network). The replay
study's path-integration objectives live in ``studies/replay/training.py``. Checkpoints store
model, optimiser and every random generator, so a resumed run ends with the same weights as an
uninterrupted one.

:func:`train` is the reference: on the CPU, network k of a population ends with bitwise the
weights :func:`train` gives it alone (tests/unit/core/test_population.py).
"""

from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
import xarray as xr

from .cell import NoisyRNN, StepParams
from .console import Progress
from .optim import OPTIMISERS, clip_grad_norm_

log = logging.getLogger(__name__)

# Random streams of a run, each seeded from the run's seed: separate streams so that e.g.
# changing the evaluation schedule does not change training.
STREAMS = {"index": 1, "mask": 2, "noise": 3}


class TrainingDiverged(RuntimeError):
    """Raised when the loss becomes NaN or infinite."""


class LoopSettings(Protocol):
    """What the loop reads of a study's training config. Optional too: ``optimizer`` ("adam",
    default, or "sgd"), ``momentum`` (SGD) and ``weight_decay`` (L2, both)."""

    iterations: int
    lr: float
    log_every: int
    grad_clip: float
    checkpoint_every: int


class Objective(Protocol):
    """What a study plugs into :func:`train`.

    ``metrics``: ``{name: (long_name, units)}`` of the history, ``train_loss`` first, then
    the names :meth:`evaluate` returns, in order.
    """

    device: torch.device
    metrics: dict[str, tuple[str, str]]

    def loss(self, model: NoisyRNN, params: StepParams,
             generators: dict[str, torch.Generator]) -> torch.Tensor:
        """Draw a training batch (``generators["index"]``, ``["mask"]``), run the model
        (noise from ``generators["noise"]``) and return the scalar loss."""

    def evaluate(self, model: NoisyRNN, params: StepParams, seed: int) -> dict[str, float]:
        """Held-out metrics, from generators seeded by ``seed`` (same each call)."""


def generators(seed: int, device: torch.device) -> dict[str, torch.Generator]:
    """The run's random streams; the noise stream lives on ``device``."""
    return {
        name: torch.Generator(device=device if name == "noise" else "cpu").manual_seed(
            seed * 1000 + offset)
        for name, offset in STREAMS.items()
    }


def _fmt_eta(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600:d}h{seconds % 3600 // 60:02d}m{seconds % 60:02d}s"


def _save_checkpoint(path: Path, state: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _format_metrics(values: dict[str, float]) -> str:
    return "  ".join(f"{k} {v:.5g}" for k, v in values.items())


def _shared(cfgs, key: str, default=None):
    values = {getattr(c, key, default) for c in cfgs}
    if len(values) != 1:
        raise ValueError(f"training.{key} must be the same for every network of a population, "
                         f"got {sorted(values)}")
    return values.pop()


def _optimiser_choice(cfgs) -> tuple[str, float]:
    """The optimiser the loop settings name ("adam" by default) and SGD's momentum, the same
    for every network."""
    name = _shared(cfgs, "optimizer", "adam")
    if name not in OPTIMISERS:
        raise ValueError(f"training.optimizer={name!r} is not one of {', '.join(OPTIMISERS)}")
    return name, float(_shared(cfgs, "momentum", 0.0))


def _torch_optimiser(model: NoisyRNN, cfg) -> torch.optim.Optimizer:
    """torch's Adam or SGD, as the loop settings name them."""
    name, momentum = _optimiser_choice([cfg])
    wd = float(getattr(cfg, "weight_decay", 0.0))
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=cfg.lr, weight_decay=wd, momentum=momentum)
    return torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=wd)


def train(
    model: NoisyRNN,
    objective: Objective,
    cfg: LoopSettings,
    params: StepParams,
    *,
    seed: int,
    checkpoint: str | Path | None = None,
    stop_after: int | None = None,
) -> xr.Dataset:
    """Train ``model`` in place and return the history as a Dataset over ``iteration``.

    ``params``: the cell's modifier parameters during training (noise std included). With
    ``checkpoint`` set and ``cfg.checkpoint_every > 0``, state is saved on that schedule and
    a run finding an existing checkpoint resumes from it. ``stop_after`` ends the run early
    after that many iterations (used to test resumption) without writing a final history.
    """
    device = objective.device
    model.to(device)
    opt = _torch_optimiser(model, cfg)
    gens = generators(seed, device)
    history: dict[str, list] = {"iteration": [], **{name: [] for name in objective.metrics}}
    start = 0
    running, n_running = 0.0, 0
    ckpt = Path(checkpoint) if checkpoint else None
    if ckpt is not None and ckpt.exists():
        state = torch.load(ckpt, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        for name, g in gens.items():
            g.set_state(state["generators"][name])
        history = state["history"]
        start = state["iteration"]
        running, n_running = state["running"]
        log.info("resumed from %s at iteration %d", ckpt, start)

    last_finite = math.nan
    t0 = time.perf_counter()
    for it in range(start, cfg.iterations):
        loss = objective.loss(model, params, gens)
        value = loss.item()
        if not math.isfinite(value):
            raise TrainingDiverged(
                f"training diverged at iteration {it + 1}: loss={value}; last finite loss "
                f"{last_finite:.6g}. Lower training.lr, set training.grad_clip, or check the data."
            )
        last_finite = value
        running += value
        n_running += 1
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        done = it + 1
        if done % cfg.log_every == 0 or done == cfg.iterations:
            metrics = objective.evaluate(model, params, seed)
            history["iteration"].append(done)
            history["train_loss"].append(running / n_running)
            for name, v in metrics.items():
                history[name].append(v)
            running, n_running = 0.0, 0
            rate = (time.perf_counter() - t0) / (done - start)
            log.info("iter %d/%d  train_loss %.5g  %s  %.1f ms/it  ETA %s", done, cfg.iterations,
                     history["train_loss"][-1], _format_metrics(metrics), 1e3 * rate,
                     _fmt_eta(rate * (cfg.iterations - done)))
        if ckpt is not None and cfg.checkpoint_every > 0 and done % cfg.checkpoint_every == 0:
            _save_checkpoint(ckpt, {
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "generators": {k: g.get_state() for k, g in gens.items()},
                "history": history,
                "iteration": done,
                "running": (running, n_running),
            })
        if stop_after is not None and done >= stop_after:
            break
    return history_dataset(history, objective.metrics)


def history_dataset(history: dict[str, list], metrics: dict[str, tuple[str, str]]) -> xr.Dataset:
    """The loss-history Dataset over ``iteration``: one variable per metric, with its metadata."""
    it = np.asarray(history["iteration"], dtype=np.int64)
    data: dict[str, Any] = {
        name: xr.Variable(("iteration",), np.asarray(history[name], dtype=np.float64),
                          {"long_name": ln, "units": units})
        for name, (ln, units) in metrics.items()
    }
    return xr.Dataset(data, coords={"iteration": ("iteration", it, {"long_name": "training iteration"})})


# ----------------------------------------------------------------------------- populations
class PopulationObjective(Protocol):
    """What a study plugs into :func:`train_population`: :class:`Objective` with one value
    per network. ``loss`` returns the (K,) losses, each the loss of that network alone;
    ``evaluate`` returns ``{name: (K,) values}``."""

    device: torch.device
    metrics: dict[str, tuple[str, str]]

    def loss(self, model, params: StepParams, generators: list[dict[str, torch.Generator]]) -> torch.Tensor:
        ...

    def evaluate(self, model, params: StepParams, seeds: list[int]) -> dict[str, Any]:
        ...


def _optimiser(model, cfgs):
    name, momentum = _optimiser_choice(cfgs)
    lr = [float(c.lr) for c in cfgs]
    wd = [float(getattr(c, "weight_decay", 0.0)) for c in cfgs]
    if name == "sgd":
        return OPTIMISERS[name](model.parameters(), lr, momentum=momentum, weight_decay=wd)
    # Adam's betas are shared (a study may set them, as hmm does: (0.9, 0.9))
    betas = tuple(_shared(cfgs, "betas", (0.9, 0.999)))
    return OPTIMISERS[name](model.parameters(), lr, betas=betas, weight_decay=wd)


def train_population(
    model,
    objective: PopulationObjective,
    cfgs: list[LoopSettings],
    params: StepParams,
    *,
    seeds: list[int],
    checkpoint: str | Path | None = None,
    stop_after: int | None = None,
    label: str = "population",
) -> list[xr.Dataset]:
    """Train the K networks of ``model`` (a PopulationRNN) together; one history per network.

    ``cfgs[k]`` and ``seeds[k]`` are network k's loop settings and seed (its random streams,
    as :func:`train` seeds them). Learning rate, weight decay and the number of iterations are
    per network; the optimiser, ``log_every``, ``grad_clip`` and ``checkpoint_every`` are shared.
    A network whose loss turns NaN or infinite is frozen at its last finite weights and
    recorded (history attributes ``diverged_at_iteration``, ``last_finite_loss``); the others
    go on. A network past its own iterations is frozen too. Checkpoints hold the whole
    population and resume bitwise on the CPU.
    """
    k = len(cfgs)
    if len(seeds) != k or getattr(model, "k", None) != k:
        raise ValueError(f"{k} loop settings, {len(seeds)} seeds and a population of "
                         f"{getattr(model, 'k', '?')} networks")
    device = objective.device
    model.to(device)
    log_every = _shared(cfgs, "log_every")
    grad_clip = float(_shared(cfgs, "grad_clip", 0.0))
    checkpoint_every = _shared(cfgs, "checkpoint_every", 0)
    iterations = [int(c.iterations) for c in cfgs]
    total = max(iterations)
    opt = _optimiser(model, cfgs)
    gens = [generators(s, device) for s in seeds]
    histories = [{"iteration": [], **{name: [] for name in objective.metrics}} for _ in range(k)]
    running = [0.0] * k
    n_running = [0] * k
    last_finite = [math.nan] * k
    diverged: dict[int, int] = {}  # network -> iteration at which its loss was not finite
    start = 0
    ckpt = Path(checkpoint) if checkpoint else None
    if ckpt is not None and ckpt.exists():
        state = torch.load(ckpt, map_location=device, weights_only=False)
        if len(state["generators"]) != k:
            raise ValueError(f"checkpoint {ckpt} holds {len(state['generators'])} networks, not {k}")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        for g, saved in zip(gens, state["generators"]):
            for name, gen in g.items():
                gen.set_state(saved[name])
        histories, running, n_running = state["history"], state["running"], state["n_running"]
        last_finite, diverged, start = state["last_finite"], state["diverged"], state["iteration"]
        log.info("resumed from %s at iteration %d", ckpt, start)

    t0 = time.perf_counter()
    progress = Progress(label or "train", total)
    for it in range(start, total):
        done = it + 1
        active = [j not in diverged and it < iterations[j] for j in range(k)]
        losses = objective.loss(model, params, gens)
        values = losses.detach().cpu().tolist()
        for j in range(k):
            if not active[j]:
                continue
            if math.isfinite(values[j]):
                last_finite[j] = values[j]
                running[j] += values[j]
                n_running[j] += 1
            else:
                diverged[j] = done
                active[j] = False
                log.warning("%s network %d (seed %d) diverged at iteration %d: loss=%s; last "
                            "finite loss %.6g. It is frozen at its last finite weights; the "
                            "others go on.", label, j, seeds[j], done, values[j], last_finite[j])
        opt.zero_grad()
        if all(active):
            losses.sum().backward()
        elif any(active):
            idx = torch.tensor([j for j in range(k) if active[j]], device=losses.device)
            losses.index_select(0, idx).sum().backward()
        if any(active):
            if grad_clip > 0:
                clip_grad_norm_(list(model.parameters()), grad_clip)
            opt.step(None if all(active) else torch.tensor(active))
        logging_now = [active[j] and (done % log_every == 0 or done == iterations[j]) for j in range(k)]
        if any(logging_now):
            metrics = {name: torch.as_tensor(v).detach().cpu().tolist()
                       for name, v in objective.evaluate(model, params, list(seeds)).items()}
            for j in (j for j in range(k) if logging_now[j]):
                h = histories[j]
                h["iteration"].append(done)
                h["train_loss"].append(running[j] / n_running[j])
                for name, v in metrics.items():
                    h[name].append(v[j])
                running[j], n_running[j] = 0.0, 0
            rate = (time.perf_counter() - t0) / (done - start)
            shown = [histories[j]["train_loss"][-1] for j in range(k) if logging_now[j]]
            log.info("%s iter %d/%d  train_loss median %.5g [%.5g, %.5g]  %d/%d training  "
                     "%.1f ms/it  ETA %s", label, done, total, float(np.median(shown)), min(shown),
                     max(shown), sum(active), k, 1e3 * rate, _fmt_eta(rate * (total - done)))
            progress.update(done, f"train_loss median {float(np.median(shown)):.3g}, "
                                  f"{sum(active)}/{k} training")
        if ckpt is not None and checkpoint_every > 0 and done % checkpoint_every == 0:
            _save_checkpoint(ckpt, {
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "generators": [{n: g.get_state() for n, g in gs.items()} for gs in gens],
                "history": histories, "running": running, "n_running": n_running,
                "last_finite": last_finite, "diverged": diverged, "iteration": done,
            })
        if stop_after is not None and done >= stop_after:
            break
        if not any(j not in diverged and done < iterations[j] for j in range(k)):
            break
    out = []
    for j in range(k):
        ds = history_dataset(histories[j], objective.metrics)
        if j in diverged:
            ds = ds.assign_attrs(diverged_at_iteration=diverged[j], last_finite_loss=last_finite[j])
        out.append(ds)
    return out
