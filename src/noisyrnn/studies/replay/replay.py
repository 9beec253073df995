"""Zero-input replay of every (b_a, λ_v) variant as one batch (SCIENCE.md §4).

Divergence is a result, not a crash: a trajectory whose hidden state leaves
``divergence_threshold`` (or turns non-finite) is marked with the step it happened, its state is
reset to zero so it cannot poison the batch, and its positions from then on are NaN. Positions
outside the environment are recorded (``out_of_bounds``), never clipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import xarray as xr

from ...core.cell import Modifiers, NoisyRNN, StepParams
from ...core.config import Section
from . import tasks
from .tasks import DecodeConfig


@dataclass(frozen=True)
class ReplayConfig(Section):
    """Zero-input sampling (SCIENCE.md §4). Every (b_a, lambda_v) pair is one variant."""

    steps: int = 500
    n_traj: int = 200  # trajectories per variant
    noise_scale: float = math.sqrt(2.0)  # x sigma_train (predecessor's "scaled" choice)
    b_a: tuple[float, ...] = (0.0, 0.1, 0.3, 0.5, 1.0)
    lambda_v: tuple[float, ...] = (1.0, 0.9, 0.7, 0.5, 0.3)
    tau_a: float = 8.0
    hidden_every: int = 5  # keep hidden states every n steps
    hidden_trials: int = 20  # ... for this many trajectories per variant
    divergence_threshold: float = 1e3  # |r| above this marks a trajectory diverged
    bounds_tolerance: float = 0.1  # m; decoded positions farther outside are "out of bounds"

    def __post_init__(self):
        object.__setattr__(self, "b_a", tuple(float(x) for x in self.b_a))
        object.__setattr__(self, "lambda_v", tuple(float(x) for x in self.lambda_v))

    def variants(self) -> list[Modifiers]:
        return [
            Modifiers(b_a=b, tau_a=self.tau_a, lambda_v=lv) for b in self.b_a for lv in self.lambda_v
        ]


def start_positions(info: "tasks.TaskInfo", ds: xr.Dataset, n: int, seed: int) -> np.ndarray:
    """Replay starts: stem base (tmaze), a random vertex (triangle), waking test starts (box)."""
    rng = np.random.default_rng(seed)
    test_pos, _ = tasks.split_arrays(ds, "test")
    if info.task == "box":
        idx = rng.integers(0, test_pos.shape[0], size=n)
        return test_pos[idx, 0].astype(np.float32)
    if info.task == "tmaze":
        # Every T-maze trial starts at the stem base, which the generator puts at the origin.
        return np.repeat(test_pos[:1, 0], n, axis=0).astype(np.float32)
    vertices = tasks.triangle_vertices(info.side)
    return vertices[rng.integers(0, len(vertices), size=n)].astype(np.float32)


@torch.no_grad()
def replay(
    model: NoisyRNN,
    info: "tasks.TaskInfo",
    starts: np.ndarray,
    cfg: ReplayConfig,
    *,
    sigma_train: float,
    decode: DecodeConfig,
    seed: int,
    device: torch.device | None = None,
) -> xr.Dataset:
    """Sample replay for every variant of ``cfg`` from ``starts`` (n_traj, 2)."""
    device = device or next(model.parameters()).device
    model = model.to(device).eval()
    variants = cfg.variants()
    n_var, n_traj = len(variants), starts.shape[0]
    batch = n_var * n_traj
    col = lambda name: torch.tensor(  # noqa: E731 - tiny local helper
        [getattr(m, name) for m in variants for _ in range(n_traj)], dtype=torch.float32, device=device
    )
    params = StepParams(b_a=col("b_a"), tau_a=col("tau_a"), lambda_v=col("lambda_v"),
                        noise_std=cfg.noise_scale * sigma_train)
    start_t = torch.as_tensor(np.tile(starts, (n_var, 1)), device=device, dtype=torch.float32)
    code0 = tasks.encode(info, start_t)
    steps = cfg.steps
    is_box = info.task == "box"
    positions = torch.full((steps + 1, batch, 2), float("nan"), device=device)
    smooth = torch.full_like(positions, float("nan")) if is_box else None
    hid_rows = torch.cat([torch.arange(v * n_traj, v * n_traj + min(cfg.hidden_trials, n_traj))
                          for v in range(n_var)]).to(device)
    hid_times = list(range(0, steps + 1, cfg.hidden_every))
    hidden = torch.full((len(hid_times), hid_rows.numel(), model.n_hidden), float("nan"), device=device)
    diverge_step = torch.full((batch,), -1, dtype=torch.long, device=device)
    alive = torch.ones(batch, dtype=torch.bool, device=device)

    def record(t: int, r: torch.Tensor) -> None:
        y = model.readout(r)
        xhat = tasks.decode(info, y, method=decode.method, k=decode.k, temperature=decode.temperature)
        positions[t] = torch.where(alive[:, None], xhat, torch.nan)
        if is_box:
            xs = tasks.decode(info, y, method="centroid", k=decode.k, temperature=decode.temperature)
            smooth[t] = torch.where(alive[:, None], xs, torch.nan)
        if t % cfg.hidden_every == 0:
            hidden[t // cfg.hidden_every] = torch.where(alive[hid_rows, None], r[hid_rows], torch.nan)

    def on_step(t, r, v, a):
        # amax propagates NaN and keeps inf, so a row's max |r| is non-finite exactly when the
        # row is: the same test as isfinite(r).all(dim=1), without a second pass over (B, N).
        peak = r.abs().amax(dim=1)
        bad = ~torch.isfinite(peak) | (peak > cfg.divergence_threshold)
        newly = bad & alive
        if newly.any():
            diverge_step[newly] = t + 1
            alive[newly] = False
            # Zero the dead rows (NaN * 0 is NaN, so use where) so they cannot spread.
            r, v, a = (torch.where(alive[:, None], x, torch.zeros_like(x)) for x in (r, v, a))
        record(t + 1, r)
        return r, v, a

    r0, v0, a0 = model.init_state(code0)
    record(0, r0)
    gen = torch.Generator(device=device).manual_seed(seed)
    model.run(None, code0, params, steps=steps, generator=gen, state=(r0, v0, a0),
              keep_hidden=False, on_step=on_step)
    return _to_dataset(info, variants, n_traj, positions, smooth, hidden, hid_times, hid_rows,
                       diverge_step, cfg, sigma_train, decode)


def _to_dataset(info, variants, n_traj, positions, smooth, hidden, hid_times, hid_rows,
                diverge_step, cfg: ReplayConfig, sigma_train, decode: DecodeConfig) -> xr.Dataset:
    n_var = len(variants)
    steps = positions.shape[0] - 1

    def shape_pos(p):  # (time, batch, 2) -> (variant, trial, time, space)
        return p.permute(1, 0, 2).reshape(n_var, n_traj, steps + 1, 2).cpu().numpy().astype(np.float32)

    pos = shape_pos(positions)
    n_keep = hidden.shape[1] // n_var
    hid = hidden.permute(1, 0, 2).reshape(n_var, n_keep, len(hid_times), -1).cpu().numpy()
    dstep = diverge_step.reshape(n_var, n_traj).cpu().numpy()
    valid = np.isfinite(pos).all(axis=-1)
    inside = tasks.in_bounds(info, np.nan_to_num(pos), cfg.bounds_tolerance)
    n_valid = valid.sum(axis=-1)
    oob = np.where(n_valid > 0, ((~inside) & valid).sum(axis=-1) / np.maximum(n_valid, 1), np.nan)
    decoded_by = decode.method if info.task == "box" else "identity (2-d readout)"
    data = {
        "position": (("variant", "trial", "time", "space"), pos,
                     {"long_name": "decoded replay position", "units": "m", "decoder": decoded_by}),
        "hidden": (("variant", "hidden_trial", "hidden_time", "unit"), hid.astype(np.float32),
                   {"long_name": "hidden state r (subsampled)", "units": "1"}),
        "diverged": (("variant", "trial"), (dstep >= 0).astype(np.int8),
                     {"long_name": "trajectory diverged (1) or not (0)", "units": "1"}),
        "diverge_step": (("variant", "trial"), dstep.astype(np.int32),
                         {"long_name": "first step whose hidden state diverged, -1 if never",
                          "units": "steps"}),
        "out_of_bounds": (("variant", "trial"), oob.astype(np.float32),
                          {"long_name": "fraction of valid steps outside the environment",
                           "units": "1", "tolerance_m": cfg.bounds_tolerance}),
    }
    if smooth is not None:
        data["position_smooth"] = (("variant", "trial", "time", "space"), shape_pos(smooth),
                                   {"long_name": "decoded replay position (softmax centroid)",
                                    "units": "m", "decoder": "centroid"})
    coords = {
        "variant": np.arange(n_var),
        "b_a": ("variant", np.array([m.b_a for m in variants]), {"long_name": "adaptation strength"}),
        "lambda_v": ("variant", np.array([m.lambda_v for m in variants]),
                     {"long_name": "momentum friction (1 = none)"}),
        "tau_a": ("variant", np.array([m.tau_a for m in variants]),
                  {"long_name": "adaptation time constant", "units": "steps"}),
        "time": ("time", np.arange(steps + 1), {"long_name": "replay step", "units": "steps"}),
        "hidden_time": ("hidden_time", np.asarray(hid_times), {"units": "steps"}),
        "space": ["x", "y"],
    }
    attrs = {
        "task": info.task,
        "noise_std": float(cfg.noise_scale * sigma_train),
        "noise_scale": float(cfg.noise_scale),
        "steps": int(steps),
        "n_traj": int(n_traj),
        "divergence_threshold": float(cfg.divergence_threshold),
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)
