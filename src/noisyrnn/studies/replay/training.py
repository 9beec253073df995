"""The replay study's training objective: path integration from a task dataset (SCIENCE.md §3).

The network gets the (masked) per-step input (the displacement, or the velocity: the task's
``input_units``) and a start code, and its readout is fitted by MSE to the code of the true
position. Held-out metrics: the test MSE and the decoded-position error.
The loops are the shared ones: :class:`PathBatcher` plugs one network into
:func:`noisyrnn.core.training.train`, :class:`PopulationPathBatcher` a population of networks
into :func:`noisyrnn.core.training.train_population` (what the train step runs).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
import xarray as xr

from ...core.cell import Modifiers, NoisyRNN, StepParams
from ...core.config import Section
from . import tasks
from .tasks import DecodeConfig

METRICS = {
    "train_loss": ("MSE on the training batches since the previous log", "1"),
    "test_loss": ("MSE on the test split", "1"),
    "position_error": ("mean decoded-position error on the test split", "m"),
}


DATA_MODES = ("stored", "online")


@dataclass(frozen=True)
class TrainConfig(Section):
    """One training run (SCIENCE.md §3)."""

    alpha: float = 0.2  # leak; 1 = plain discrete RNN
    iterations: int = 800
    batch_size: int = 64
    lr: float = 1e-3
    log_every: int = 50
    n_eval: int = 200  # test sequences used for logged test metrics
    mask_mode: str = "every_k"  # every_k | bernoulli (reconstructed)
    mask_k: int = 1  # 1 = no mask
    modifiers_in_training: bool = False
    # Modifier values used *during training* when modifiers_in_training (reconstructed).
    train_b_a: float = 0.3
    train_lambda_v: float = 1.0
    tau_a: float = 8.0
    grad_clip: float = 0.0  # 0 = off
    checkpoint_every: int = 0  # iterations; 0 = no checkpoints
    # stored: batches drawn from the dataset's training split; online: a fresh seeded batch from
    # the task's generator every iteration (the predecessor's choice).
    data: str = "stored"

    def __post_init__(self):
        if self.data not in DATA_MODES:
            raise ValueError(f"training.data={self.data!r} is not one of {DATA_MODES}")
        if self.mask_mode not in ("every_k", "bernoulli"):
            raise ValueError(f"training.mask_mode={self.mask_mode!r} is not one of every_k, bernoulli")
        if self.mask_k < 1:
            raise ValueError(f"training.mask_k={self.mask_k} must be >= 1")

    def modifiers(self) -> Modifiers:
        if not self.modifiers_in_training:
            return Modifiers(tau_a=self.tau_a)
        return Modifiers(b_a=self.train_b_a, tau_a=self.tau_a, lambda_v=self.train_lambda_v)


@dataclass
class Batch:
    u: torch.Tensor  # (B, T, n_in) masked inputs
    code0: torch.Tensor  # (B, n_code)
    target: torch.Tensor  # (B, T, n_out)
    position: torch.Tensor  # (B, T, 2) true positions x_1..x_T


class PathBatcher:
    """Path-integration batches drawn from a task dataset's split, held on ``device``; the
    objective of :func:`noisyrnn.core.training.train`.

    The place code is computed from the stored positions when a batch is drawn, never stored.
    """

    metrics = METRICS

    def __init__(self, ds: xr.Dataset, cfg: TrainConfig, device: torch.device,
                 decode: DecodeConfig = DecodeConfig()):
        self.info = tasks.task_info(ds)
        self.cfg = cfg
        self.decode = decode
        self.device = device
        self.task_cfg = tasks.task_config(ds)
        self.units = tasks.input_units(ds)
        pos, inp = tasks.split_arrays(ds, "train")  # inp: the network input (input_units)
        self.position = torch.as_tensor(pos, device=device)
        self.input = torch.as_tensor(inp, device=device)
        tpos, tinp = tasks.split_arrays(ds, "test")
        n_eval = min(cfg.n_eval, tpos.shape[0])
        self.test_position = torch.as_tensor(tpos[:n_eval], device=device)
        self.test_input = torch.as_tensor(tinp[:n_eval], device=device)
        if self.position.shape[0] == 0 or n_eval == 0:
            raise ValueError("dataset has an empty train or test split")
        self.n_in = self.input.shape[-1]
        self.n_code = tasks.code_dim(self.info)
        self.n_out = self.n_code

    def with_config(self, cfg: TrainConfig) -> "PathBatcher":
        """The same data (tensors shared, not copied) under another training config."""
        other = copy.copy(self)
        other.cfg = cfg
        return other

    def _make(self, pos, inp, mask_gen) -> Batch:
        b, t = inp.shape[:2]
        mask = tasks.input_mask(b, t, self.cfg.mask_mode, self.cfg.mask_k, mask_gen)
        mask = torch.as_tensor(mask, device=inp.device, dtype=inp.dtype)
        return Batch(
            u=inp * mask[..., None],
            code0=tasks.encode(self.info, pos[:, 0]),
            target=tasks.encode(self.info, pos[:, 1:]),
            position=pos[:, 1:],
        )

    def train_batch(self, index_gen: torch.Generator, mask_gen: torch.Generator) -> Batch:
        if self.cfg.data == "online":
            return self._make(*self._fresh_paths(index_gen), mask_gen)
        idx = torch.randint(self.position.shape[0], (self.cfg.batch_size,), generator=index_gen)
        idx = idx.to(self.device)
        return self._make(self.position[idx], self.input[idx], mask_gen)

    def _fresh_paths(self, index_gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        # The generator is numpy; seeding it from the network's own index stream keeps a run
        # reproducible and a network's batches the same alone or in a population.
        seed = int(torch.randint(2**62, (1,), generator=index_gen).item())
        pos, vel = tasks.sample_paths(self.task_cfg, self.cfg.batch_size, np.random.default_rng(seed))
        u = tasks.path_input(pos, vel, self.units)
        return torch.as_tensor(pos, device=self.device), torch.as_tensor(u, device=self.device)

    def test_batch(self, mask_gen: torch.Generator) -> Batch:
        return self._make(self.test_position, self.test_input, mask_gen)

    def loss(self, model: NoisyRNN, params: StepParams, generators: dict) -> torch.Tensor:
        batch = self.train_batch(generators["index"], generators["mask"])
        y = model(batch.u, batch.code0, params, generator=generators["noise"])
        return torch.mean((y - batch.target) ** 2)

    def eval_generators(self, seed: int):
        """Held-out metrics draw the same masks and noise at every evaluation."""
        return (torch.Generator().manual_seed(seed * 1000 + 7),
                torch.Generator(device=self.device).manual_seed(seed * 1000 + 8))

    def evaluate(self, model: NoisyRNN, params: StepParams, seed: int) -> dict[str, float]:
        mask_gen, noise_gen = self.eval_generators(seed)
        batch = self.test_batch(mask_gen)
        with torch.no_grad():
            y = model(batch.u, batch.code0, params, generator=noise_gen)
            loss = torch.mean((y - batch.target) ** 2).item()
            xhat = tasks.decode(self.info, y, method=self.decode.method, k=self.decode.k,
                                temperature=self.decode.temperature)
            err = torch.linalg.vector_norm(xhat - batch.position, dim=-1).mean().item()
        return {"test_loss": loss, "position_error": err}


def _stack(batches: list[Batch]) -> Batch:
    return Batch(*(torch.stack([getattr(b, f) for b in batches]) for f in ("u", "code0", "target", "position")))


class PopulationPathBatcher:
    """The path-integration objective for a population (:class:`PopulationRNN`): network k
    draws its batches, masks and noise from its own streams, exactly as :class:`PathBatcher`
    draws them for that network alone, and its loss is its own MSE.

    ``cfgs``: one TrainConfig per network (mask mode and k may differ; the batch size and
    evaluation size are shared, so the batches stack).
    """

    metrics = METRICS

    def __init__(self, ds: xr.Dataset, cfgs: list[TrainConfig], device: torch.device,
                 decode: DecodeConfig = DecodeConfig()):
        if not cfgs:
            raise ValueError("a population objective needs at least one training config")
        for key in ("batch_size", "n_eval"):
            if len({getattr(c, key) for c in cfgs}) != 1:
                raise ValueError(f"training.{key} must be the same for every network of a population")
        base = PathBatcher(ds, cfgs[0], device, decode)
        self.members = [base.with_config(c) for c in cfgs]
        self.info, self.decode, self.device = base.info, decode, device
        self.n_in, self.n_code, self.n_out = base.n_in, base.n_code, base.n_out

    def loss(self, model, params: StepParams, generators: list[dict]) -> torch.Tensor:
        batch = _stack([m.train_batch(g["index"], g["mask"]) for m, g in zip(self.members, generators)])
        y = model(batch.u, batch.code0, params, generator=[g["noise"] for g in generators])
        return torch.mean((y - batch.target) ** 2, dim=(1, 2, 3))

    def evaluate(self, model, params: StepParams, seeds: list[int]) -> dict[str, torch.Tensor]:
        gens = [m.eval_generators(s) for m, s in zip(self.members, seeds)]
        batch = _stack([m.test_batch(mask_gen) for m, (mask_gen, _) in zip(self.members, gens)])
        with torch.no_grad():
            y = model(batch.u, batch.code0, params, generator=[g for _, g in gens])
            loss = torch.mean((y - batch.target) ** 2, dim=(1, 2, 3))
            xhat = tasks.decode(self.info, y, method=self.decode.method, k=self.decode.k,
                                temperature=self.decode.temperature)
            err = torch.linalg.vector_norm(xhat - batch.position, dim=-1).mean(dim=(1, 2))
        return {"test_loss": loss, "position_error": err}


def training_params(cfg: TrainConfig, sigma: float) -> StepParams:
    """The cell's modifier parameters during training (off unless modifiers_in_training)."""
    return StepParams.from_modifiers(cfg.modifiers(), noise_std=sigma)
