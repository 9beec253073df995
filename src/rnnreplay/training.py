"""Training loop: Adam on the MSE between readout and target code (SCIENCE.md §3).

Study-neutral apart from the ``Batcher`` it is given: the replay study's batcher draws
path-integration batches from a dataset (``PathBatcher``). Checkpoints store model, optimiser and
every random generator, so a resumed run ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from . import tasks
from .config import DecodeConfig, TrainConfig
from .model import NoisyRNN, StepParams

log = logging.getLogger(__name__)


class TrainingDiverged(RuntimeError):
    """Raised when the loss becomes NaN or infinite."""


@dataclass
class Batch:
    u: torch.Tensor  # (B, T, n_in) masked inputs
    code0: torch.Tensor  # (B, n_code)
    target: torch.Tensor  # (B, T, n_out)
    position: torch.Tensor  # (B, T, 2) true positions x_1..x_T


class PathBatcher:
    """Path-integration batches drawn from a task dataset's split, held on ``device``.

    The place code is computed from the stored positions when a batch is drawn, never stored.
    """

    def __init__(self, ds: xr.Dataset, cfg: TrainConfig, device: torch.device):
        self.info = tasks.task_info(ds)
        self.cfg = cfg
        self.device = device
        pos, vel = tasks.split_arrays(ds, "train")
        self.position = torch.as_tensor(pos, device=device)
        self.velocity = torch.as_tensor(vel, device=device)
        tpos, tvel = tasks.split_arrays(ds, "test")
        n_eval = min(cfg.n_eval, tpos.shape[0])
        self.test_position = torch.as_tensor(tpos[:n_eval], device=device)
        self.test_velocity = torch.as_tensor(tvel[:n_eval], device=device)
        if self.position.shape[0] == 0 or n_eval == 0:
            raise ValueError("dataset has an empty train or test split")
        self.n_in = self.velocity.shape[-1]
        self.n_code = tasks.code_dim(self.info)
        self.n_out = self.n_code

    def _make(self, pos, vel, mask_gen) -> Batch:
        b, t = vel.shape[:2]
        mask = tasks.input_mask(b, t, self.cfg.mask_mode, self.cfg.mask_k, mask_gen)
        mask = torch.as_tensor(mask, device=vel.device, dtype=vel.dtype)
        return Batch(
            u=vel * mask[..., None],
            code0=tasks.encode(self.info, pos[:, 0]),
            target=tasks.encode(self.info, pos[:, 1:]),
            position=pos[:, 1:],
        )

    def train_batch(self, index_gen: torch.Generator, mask_gen: torch.Generator) -> Batch:
        idx = torch.randint(self.position.shape[0], (self.cfg.batch_size,), generator=index_gen)
        idx = idx.to(self.device)
        return self._make(self.position[idx], self.velocity[idx], mask_gen)

    def test_batch(self, mask_gen: torch.Generator) -> Batch:
        return self._make(self.test_position, self.test_velocity, mask_gen)


def _generators(seed: int, device: torch.device) -> dict[str, torch.Generator]:
    # Separate streams so that e.g. changing the eval schedule does not change training.
    return {
        "index": torch.Generator().manual_seed(seed * 1000 + 1),
        "mask": torch.Generator().manual_seed(seed * 1000 + 2),
        "noise": torch.Generator(device=device).manual_seed(seed * 1000 + 3),
    }


def _eval(model, batcher: PathBatcher, params: StepParams, decode: DecodeConfig, seed: int):
    device = batcher.device
    mask_gen = torch.Generator().manual_seed(seed * 1000 + 7)
    noise_gen = torch.Generator(device=device).manual_seed(seed * 1000 + 8)
    batch = batcher.test_batch(mask_gen)
    with torch.no_grad():
        y = model(batch.u, batch.code0, params, generator=noise_gen)
        loss = torch.mean((y - batch.target) ** 2).item()
        xhat = tasks.decode(batcher.info, y, method=decode.method, k=decode.k,
                            temperature=decode.temperature)
        err = torch.linalg.vector_norm(xhat - batch.position, dim=-1).mean().item()
    return loss, err


def _fmt_eta(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600:d}h{seconds % 3600 // 60:02d}m{seconds % 60:02d}s"


def _save_checkpoint(path: Path, state: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def train(
    model: NoisyRNN,
    batcher: PathBatcher,
    cfg: TrainConfig,
    *,
    sigma: float,
    seed: int,
    decode: DecodeConfig = DecodeConfig(),
    checkpoint: str | Path | None = None,
    stop_after: int | None = None,
) -> xr.Dataset:
    """Train ``model`` in place and return the history as a Dataset over ``iteration``.

    With ``checkpoint`` set and ``cfg.checkpoint_every > 0``, state is saved on that schedule and
    a run finding an existing checkpoint resumes from it. ``stop_after`` ends the run early
    after that many iterations (used to test resumption) without writing a final history.
    """
    device = batcher.device
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gens = _generators(seed, device)
    params = StepParams.from_modifiers(cfg.modifiers(), noise_std=sigma)
    history: dict[str, list] = {"iteration": [], "train_loss": [], "test_loss": [], "position_error": []}
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
        batch = batcher.train_batch(gens["index"], gens["mask"])
        y = model(batch.u, batch.code0, params, generator=gens["noise"])
        loss = torch.mean((y - batch.target) ** 2)
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
            test_loss, err = _eval(model, batcher, params, decode, seed)
            history["iteration"].append(done)
            history["train_loss"].append(running / n_running)
            history["test_loss"].append(test_loss)
            history["position_error"].append(err)
            running, n_running = 0.0, 0
            rate = (time.perf_counter() - t0) / (done - start)
            log.info(
                "iter %d/%d  train %.5g  test %.5g  pos.err %.4f m  %.1f ms/it  ETA %s",
                done, cfg.iterations, history["train_loss"][-1], test_loss, err, 1e3 * rate,
                _fmt_eta(rate * (cfg.iterations - done)),
            )
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
    return history_dataset(history)


def history_dataset(history: dict[str, list]) -> xr.Dataset:
    it = np.asarray(history["iteration"], dtype=np.int64)
    attrs = {
        "train_loss": ("MSE on the training batches since the previous log", "1"),
        "test_loss": ("MSE on the test split", "1"),
        "position_error": ("mean decoded-position error on the test split", "m"),
    }
    data = {
        name: xr.Variable(("iteration",), np.asarray(history[name], dtype=np.float64),
                          {"long_name": ln, "units": units})
        for name, (ln, units) in attrs.items()
    }
    return xr.Dataset(data, coords={"iteration": ("iteration", it, {"long_name": "training iteration"})})
