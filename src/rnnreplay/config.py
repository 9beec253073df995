"""Typed configuration objects.

The YAML config (``config/*.yaml``, validated by ``config/schema.yaml``) maps onto these
dataclasses one section at a time. Every choice that SCIENCE.md marks *(reconstructed)* is a
field here with its documented default, so a user can change it in config alone.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

TaskName = Literal["box", "tmaze", "triangle"]
TASKS: tuple[str, ...] = ("box", "tmaze", "triangle")
TRACK_TASKS: tuple[str, ...] = ("tmaze", "triangle")


def _from_mapping(cls, mapping: dict[str, Any] | None):
    """Build dataclass ``cls`` from a mapping, rejecting unknown keys by name."""
    mapping = dict(mapping or {})
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(mapping) - names)
    if unknown:
        raise ValueError(
            f"{cls.__name__}: unknown key(s) {unknown}; allowed keys are {sorted(names)}"
        )
    return cls(**mapping)


class _Config:
    @classmethod
    def from_dict(cls, mapping: dict[str, Any] | None):
        return _from_mapping(cls, mapping)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TaskConfig(_Config):
    """Generator parameters of one task (SCIENCE.md §2)."""

    name: str = "tmaze"
    n_train: int = 1000  # sequences in the training split
    n_test: int = 200  # sequences in the test split
    seq_len: int = 100  # steps per sequence
    dt: float = 0.02  # seconds per step
    # --- box (predecessor motion model, exact) ---
    box_size: float = 2.2  # m
    rayleigh_b: float = 0.26 * math.pi  # m/s, Rayleigh scale of forward speed
    turn_std: float = 11.52  # rad/s, heading noise
    wall_margin: float = 0.03  # m
    wall_slow: float = 0.25  # speed factor when turning away from a wall
    n_place_cells: int = 512
    place_cell_width: float = 0.2  # m, sigma of the place-cell softmax
    # --- tracks (reconstructed) ---
    stem_length: float = 1.0  # tmaze: stem (0,0)->(0,stem_length)
    arm_length: float = 0.5  # tmaze: arms to (+-arm_length, stem_length)
    side: float = 1.0  # triangle side
    laps: float = 1.0  # triangle: laps per sequence (mean)
    speed_ou_tau: float = 0.2  # s, OU time constant of speed
    speed_ou_cv: float = 0.3  # stationary std of speed / mean speed
    lateral_jitter: float = 0.01  # m, std of lateral jitter around the track
    lateral_jitter_tau: float = 0.2  # s, time constant of the smooth (AR(1)) lateral jitter
    jitter_corner_blend: float = 0.05  # m, path distance over which jitter turns at corners
    box_clip: bool = True  # clip box positions into the box (predecessor lets ~1% leave it)

    def __post_init__(self):
        if self.name not in TASKS:
            raise ValueError(f"task name {self.name!r} is not one of {TASKS}")


@dataclass(frozen=True)
class ModelConfig(_Config):
    """The noisy RNN cell (SCIENCE.md §1)."""

    cell: str = "rnn"  # rnn | gru (continuous-time GRU baseline)
    n_hidden: int = 128
    activation: str = "relu"  # relu | tanh
    sigma_train: float = 0.01  # noise std in training (sigma^2 = 1e-4)
    noise: str = "gaussian"  # gaussian | uniform (predecessor quirk, fidelity option)
    adaptation_site: str = "inside"  # inside | outside phi (reconstructed)
    bias: bool = False  # recurrent bias b (predecessor: off)
    encoder_bias: bool = True  # so a start at the origin is not r0 = 0 (reconstructed)

    def __post_init__(self):
        checks = {
            "cell": ("rnn", "gru"),
            "activation": ("relu", "tanh"),
            "noise": ("gaussian", "uniform"),
            "adaptation_site": ("inside", "outside"),
        }
        for key, allowed in checks.items():
            if getattr(self, key) not in allowed:
                raise ValueError(f"model.{key}={getattr(self, key)!r} is not one of {allowed}")


@dataclass(frozen=True)
class Modifiers(_Config):
    """Adaptation and momentum parameters; the defaults switch both off."""

    b_a: float = 0.0  # adaptation strength (0: none)
    tau_a: float = 8.0  # adaptation time constant, steps
    lambda_v: float = 1.0  # momentum friction (1: none)


@dataclass(frozen=True)
class TrainConfig(_Config):
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

    def __post_init__(self):
        if self.mask_mode not in ("every_k", "bernoulli"):
            raise ValueError(f"training.mask_mode={self.mask_mode!r} is not one of every_k, bernoulli")
        if self.mask_k < 1:
            raise ValueError(f"training.mask_k={self.mask_k} must be >= 1")

    def modifiers(self) -> Modifiers:
        if not self.modifiers_in_training:
            return Modifiers(tau_a=self.tau_a)
        return Modifiers(b_a=self.train_b_a, tau_a=self.tau_a, lambda_v=self.train_lambda_v)


@dataclass(frozen=True)
class DecodeConfig(_Config):
    """How place codes are decoded to positions (box task)."""

    method: str = "topk"  # topk | centroid
    k: int = 3  # top-k cells (predecessor)
    temperature: float = 0.005  # softmax temperature of the centroid decoder (reconstructed)


@dataclass(frozen=True)
class ReplayConfig(_Config):
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


@dataclass(frozen=True)
class StatsConfig(_Config):
    """Statistics settings (SCIENCE.md §5)."""

    reach_radius: float = 0.15  # m, radius rho around track targets (reconstructed)
    box_reach_distance: float = 0.5  # m, distance d from the start in the box (reconstructed)
    msd_max_lag: int = 20
    autocorr_max_lag: int = 10
    track_bins: int = 40  # arc-length bins on tracks
    box_bins: int = 20  # per side, box grid
    wasserstein: str = "sliced"  # exact | sliced
    wasserstein_samples: int = 2000  # subsample size per side
    wasserstein_projections: int = 200
    kde_kl: bool = True
    kde_bandwidth: float = 0.05  # m
    n_bootstrap: int = 2000
    ci: float = 0.95
    score_pca: int = 10  # PCA components for the waking density
    score_density: str = "gaussian"  # gaussian | gmm
    score_gmm_components: int = 4
    reference_steps: int = 500
    score_subspace: bool = True  # measure drift-score cosine in the PCA subspace (else full space)
    drift_velocity: str = "terminal"  # drift of a momentum variant: terminal (Δ/λ_v) | first_step (Δ)
    time_bins: int = 10  # trial-time bins for the time-varying score
    # Gauss–Markov toy x_{t+1} = rho x_t + eta, eta ~ N(0, q), x_0 ~ N(m0, p0)
    gm_rho: float = 0.95
    gm_q: float = 0.01
    gm_m0: float = 1.0
    gm_p0: float = 0.01
    gm_steps: int = 100


@dataclass(frozen=True)
class ClaimsConfig(_Config):
    """Verdict rule: effect CI excludes 0 in the claimed direction -> supported; in the
    opposite direction -> contradicted; otherwise inconclusive."""

    adapt_b_a: float = 0.3  # b_a taken as "adaptation on"
    momentum_lambda_v: float = 0.5  # lambda_v taken as "momentum on"
    leaky_alpha: float = 0.2
    masked_k: int = 4  # k used for claim C1's masked comparison
    tv_gap_threshold: float = 0.1  # C6: min max-over-t relative score-rate gap of the toy


@dataclass(frozen=True)
class StudyConfig:
    """The whole experiment, as read from a YAML config."""

    seeds: tuple[int, ...] = (0, 1, 2)
    tasks: tuple[str, ...] = TASKS
    task: dict[str, TaskConfig] = field(default_factory=dict)
    model: ModelConfig = ModelConfig()
    training: dict[str, Any] = field(default_factory=dict)
    replay: ReplayConfig = ReplayConfig()
    decode: DecodeConfig = DecodeConfig()
    stats: StatsConfig = StatsConfig()
    claims: ClaimsConfig = ClaimsConfig()

    @classmethod
    def from_dict(cls, cfg: dict[str, Any]) -> "StudyConfig":
        task_section = cfg.get("task", {}) or {}
        tasks = {
            name: TaskConfig.from_dict({**(task_section.get(name) or {}), "name": name})
            for name in TASKS
        }
        return cls(
            seeds=tuple(cfg.get("seeds", (0, 1, 2))),
            tasks=tuple(cfg.get("tasks", TASKS)),
            task=tasks,
            model=ModelConfig.from_dict(cfg.get("model")),
            training=dict(cfg.get("training") or {}),
            replay=ReplayConfig.from_dict(cfg.get("replay")),
            decode=DecodeConfig.from_dict(cfg.get("decode")),
            stats=StatsConfig.from_dict(cfg.get("stats")),
            claims=ClaimsConfig.from_dict(cfg.get("claims")),
        )
