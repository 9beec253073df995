"""The study-neutral training loop: Adam on a loss that the study passes in.

A study plugs in an *objective* (:class:`Objective`): it draws training batches, runs the model
and returns the loss, and evaluates held-out metrics on the logging schedule. The replay study's
path-integration objective lives in ``studies/replay/training.py``. Checkpoints store model,
optimiser and every random generator, so a resumed run ends with the same weights as an
uninterrupted one.
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

log = logging.getLogger(__name__)

# Random streams of a run, each seeded from the run's seed: separate streams so that e.g.
# changing the evaluation schedule does not change training.
STREAMS = {"index": 1, "mask": 2, "noise": 3}


class TrainingDiverged(RuntimeError):
    """Raised when the loss becomes NaN or infinite."""


class LoopSettings(Protocol):
    """What the loop reads of a study's training config."""

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
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
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
