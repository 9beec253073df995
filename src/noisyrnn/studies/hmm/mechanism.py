"""Mechanism analyses of one trained network (HMM.md §4): pure functions of its weights.

A network is ``Net(W_ih (n, d), W_hh (n, n), A (3, n))``; every random draw comes from the
``torch.Generator`` passed in. "Pre-activation" of a state h means its zero-input drive W_hh h
(the next step's deterministic part), and its Jacobian is J = diag(1[W_hh h > 0]) W_hh, as the
brief defines the Jacobian at zero input; the training-dynamics statistic uses the noisy step's
own mask instead ("noisy-step Jacobian").

Region codes: 0 transition (RT < rt_transition), 1 kick-zone, 2 cluster (RT > rt_cluster and
max softmax > cluster_softmax), -1 none of these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

TRANSITION, KICK, CLUSTER, NONE = 0, 1, 2, -1
REGIONS = {TRANSITION: "transition", KICK: "kick-zone", CLUSTER: "cluster"}


@dataclass(frozen=True)
class Net:
    W_ih: torch.Tensor
    W_hh: torch.Tensor
    A: torch.Tensor

    @classmethod
    def of(cls, W_ih, W_hh, A) -> "Net":
        t = lambda w: torch.as_tensor(np.asarray(w), dtype=torch.float32)  # noqa: E731
        return cls(t(W_ih), t(W_hh), t(A))

    @property
    def n(self) -> int:
        return self.W_hh.shape[0]

    @property
    def d(self) -> int:
        return self.W_ih.shape[1]


def noise(gen: torch.Generator, *shape) -> torch.Tensor:
    return torch.randn(*shape, generator=gen)


@torch.no_grad()
def run(net: Net, x: torch.Tensor, h0: torch.Tensor | None = None, *, recurrent_gain=None,
        noise_gain=None) -> torch.Tensor:
    """(S, B, n) states h_1..h_S from h0 (B, n) (zeros if None) driven by x (S, B, d).
    ``recurrent_gain`` / ``noise_gain``: (n,) per-neuron gains on W_hh h and W_ih x (ablation)."""
    s, b, _ = x.shape
    h = torch.zeros(b, net.n) if h0 is None else h0.clone()
    drive = x @ net.W_ih.T
    if noise_gain is not None:
        drive = drive * noise_gain
    w = net.W_hh.T if recurrent_gain is None else (net.W_hh * recurrent_gain[:, None]).T
    out = torch.empty(s, b, net.n)
    for t in range(s):
        h = torch.relu(drive[t] + h @ w)
        out[t] = h
    return out


def logits(net: Net, h: torch.Tensor) -> torch.Tensor:
    return h @ net.A.T


@torch.no_grad()
def noise_driven(net: Net, steps: int, gen: torch.Generator, *, sigma: float = 1.0,
                 warmup: int = 20, batch: int = 1) -> torch.Tensor:
    """(steps, batch, n) states of a noise-driven run after ``warmup`` steps from h = 0."""
    h = run(net, sigma * noise(gen, warmup + steps, batch, net.d))
    return h[warmup:]


def finite_prefix(states: torch.Tensor, bound: float) -> int:
    """Length of the leading run of states (S, n) whose norm is finite and at most ``bound``:
    a network trained on short sequences can blow up over a long noise-driven run, and its
    analyses use the steps before it did."""
    bad = ~torch.isfinite(states).all(-1) | (states.norm(dim=-1) > bound)
    return int(bad.float().argmax()) if bool(bad.any()) else int(states.shape[0])


# ----------------------------------------------------------------------------- fixed point
@torch.no_grad()
def fixed_point(net: Net, starts: torch.Tensor, steps: int = 500, tol: float = 1e-4) -> dict:
    """Relax ``starts`` (m, n) under h ← ReLU(W_hh h) for ``steps`` steps; h* = mean end state.
    ``single``: every end state lies within ``tol`` · max(1, ‖h*‖) of h* (HMM.md: fp_tol,
    relative)."""
    h = starts.clone()
    for _ in range(steps):
        h = torch.relu(h @ net.W_hh.T)
    star = h.mean(0)
    scale = max(1.0, float(star.norm()))
    spread = float((h - star).norm(dim=1).max()) / scale
    residual = float((torch.relu(net.W_hh @ star) - star).norm())
    mask = (net.W_hh @ star > 0).float()
    radius = float(torch.linalg.eigvals(mask[:, None] * net.W_hh).abs().max())
    return {"h_star": star.numpy(), "spread": spread, "residual": residual,
            "spectral_radius": radius, "single": spread <= tol, "norm": float(star.norm())}


# ----------------------------------------------------------------------------- orbits
def pca(states: np.ndarray, k: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean (n,), components (k, n), explained variance ratio (k,)) of states (S, n)."""
    x = np.asarray(states, float)
    mean = x.mean(0)
    _, sv, vt = np.linalg.svd(x - mean, full_matrices=False)
    var = sv ** 2
    return mean, vt[:k], var[:k] / max(var.sum(), 1e-300)


def project(states, mean, comps) -> np.ndarray:
    return (np.asarray(states, float) - mean) @ comps.T


def orbit_radius(points: np.ndarray, how: str = "centroid_distance") -> float:
    """Size of an orbit in PC1–PC2: the mean distance to the centroid (HMM.md, reconstructed)."""
    if how != "centroid_distance":
        raise ValueError(f"hmm orbit_radius={how!r}: only centroid_distance is built")
    p = np.asarray(points, float)[:, :2]
    return float(np.linalg.norm(p - p.mean(0), axis=1).mean())


def readout_alignment(A, comps) -> np.ndarray:
    """(3,) norm of each normalised readout row's projection onto PC1–PC2."""
    a = np.asarray(A, float)
    a = a / np.linalg.norm(a, axis=1, keepdims=True).clip(1e-12)
    return np.linalg.norm(a @ np.asarray(comps, float)[:2].T, axis=1)


def linear_fit(x, y) -> tuple[float, float, float]:
    """(slope, intercept, R²) of the least-squares line."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3 or np.ptp(x[ok]) == 0:
        return np.nan, np.nan, np.nan
    slope, icpt = np.polyfit(x[ok], y[ok], 1)
    res = y[ok] - (slope * x[ok] + icpt)
    tot = ((y[ok] - y[ok].mean()) ** 2).sum()
    return float(slope), float(icpt), float(1 - (res ** 2).sum() / tot) if tot > 0 else np.nan


# ----------------------------------------------------------------------------- regions
@torch.no_grad()
def residency_times(net: Net, states: torch.Tensor, gen: torch.Generator, *, rollouts: int = 20,
                    max_steps: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Per state (S, n): RT = mean over ``rollouts`` noise-driven rollouts of the steps until
    the argmax output changes (``max_steps`` if it never does: censored at the horizon), and
    the mean number of sign changes of the step-to-step change of the current maximum logit
    before the output changes."""
    s = states.shape[0]
    h0 = states.repeat_interleave(rollouts, 0)
    first = logits(net, h0).argmax(-1)
    h = run(net, noise(gen, max_steps, len(h0), net.d), h0)
    y = logits(net, h)                                               # (T, B, 3)
    changed = y.argmax(-1) != first                                  # (T, B)
    any_change = changed.any(0)
    t_change = torch.where(any_change, changed.float().argmax(0) + 1,
                           torch.full_like(first, max_steps)).float()
    ymax = torch.cat([logits(net, h0)[None], y], 0).gather(
        2, first.view(1, -1, 1).expand(max_steps + 1, -1, 1)).squeeze(-1)
    dy = torch.sign(torch.diff(ymax, dim=0))                         # (T, B)
    flips = (dy[1:] * dy[:-1] < 0).float()
    steps = torch.arange(1, max_steps).view(-1, 1)
    flips = (flips * (steps < t_change.view(1, -1))).sum(0)
    rt = t_change.view(s, rollouts).mean(1).numpy()
    return rt, flips.view(s, rollouts).mean(1).numpy()


def region_labels(rt, max_softmax, *, rt_transition: float = 2, rt_cluster: float = 8,
                  cluster_softmax: float = 0.8) -> np.ndarray:
    rt, ms = np.asarray(rt, float), np.asarray(max_softmax, float)
    out = np.full(rt.shape, NONE, np.int64)
    out[rt < rt_transition] = TRANSITION
    out[(rt >= rt_transition) & (rt <= rt_cluster)] = KICK
    out[(rt > rt_cluster) & (ms > cluster_softmax)] = CLUSTER
    return out


def mobius(eig: torch.Tensor) -> torch.Tensor:
    return (eig - 1) / (eig + 1)


@torch.no_grad()
def jacobian_eigs(net: Net, pre: torch.Tensor, row_gain=None) -> torch.Tensor:
    """(S, n) complex eigenvalues of diag(1[pre > 0]) G W_hh for pre-activations (S, n)."""
    w = net.W_hh if row_gain is None else net.W_hh * row_gain[:, None]
    j = (pre > 0).float()[:, :, None] * w[None]
    return torch.linalg.eigvals(j.double())


def unstable_counts(eigs: torch.Tensor) -> np.ndarray:
    """Eigenvalues with Möbius Re > 0, i.e. |λ| > 1, per state."""
    return (mobius(eigs).real > 0).sum(-1).numpy()


def critical_pairs(eigs: torch.Tensor, re_max: float = 0.1, im_min: float = 0.06) -> np.ndarray:
    """Complex pairs near the unit circle per state: Möbius |Re| < re_max and Im > im_min
    (counted once per conjugate pair)."""
    w = mobius(eigs)
    return ((w.real.abs() < re_max) & (w.imag > im_min)).sum(-1).numpy()


# ----------------------------------------------------------------------------- kick neurons
def kick_neurons(pre: np.ndarray, labels: np.ndarray, leaving: np.ndarray, *, p_cluster_max=0.1,
                 p_transition_min=0.5, kick_median_max=0.5, k: int = 3) -> dict:
    """Rule ``preact`` (HMM.md §4): for neuron j, p_c and p_t are the fractions of cluster and
    transition states where its pre-activation is positive, m_k its median kick-zone
    pre-activation over its sd (over all states). Candidates: p_c ≤ p_cluster_max,
    p_t ≥ p_transition_min in some direction, |m_k| ≤ kick_median_max; a candidate goes to
    the direction (the symbol its transition states leave) where it fires most often, ranked
    by p_t − p_c; the top ``k`` of each direction are kept.

    Returns {"groups": {direction: [neurons]}, "candidates": [neurons], "p_c", "p_t"
    ({direction: (n,)}), "m_k"}."""
    pre, labels, leaving = np.asarray(pre, float), np.asarray(labels), np.asarray(leaving)
    pos = pre > 0
    sd = pre.std(axis=0).clip(1e-12)
    cl, kz, tr = labels == CLUSTER, labels == KICK, labels == TRANSITION
    n = pre.shape[1]
    p_c = pos[cl].mean(0) if cl.any() else np.full(n, np.nan)
    m_k = np.median(pre[kz], axis=0) / sd if kz.any() else np.full(n, np.nan)
    dirs = sorted(int(v) for v in np.unique(leaving[tr])) if tr.any() else []
    p_t = {d: pos[tr & (leaving == d)].mean(0) for d in dirs}
    groups: dict[int, list[int]] = {d: [] for d in dirs}
    if not dirs:
        return {"groups": groups, "candidates": [], "p_c": p_c, "p_t": p_t, "m_k": m_k}
    pt = np.stack([p_t[d] for d in dirs])                          # (directions, n)
    best = pt.argmax(0)
    ok = (p_c <= p_cluster_max) & (pt.max(0) >= p_transition_min) & (np.abs(m_k) <= kick_median_max)
    cands = [int(j) for j in np.flatnonzero(ok)]
    for i, d in enumerate(dirs):
        mine = [j for j in cands if best[j] == i]
        mine.sort(key=lambda j: -(pt[i, j] - p_c[j]))
        groups[d] = mine[:k]
    return {"groups": groups, "candidates": cands, "p_c": p_c, "p_t": p_t, "m_k": m_k}


def populations(W_hh, group1: Sequence[int], group2: Sequence[int], size: int) -> dict:
    """The two integrating populations: g_i[j] = mean W_hh[group_i, j]; the ``size`` neurons
    (kick neurons excluded) with the most negative g1·g2, split by the sign of g1. Block means
    of W_hh (row: postsynaptic) within and between."""
    w = np.asarray(W_hh, float)
    g1, g2 = w[list(group1)].mean(0), w[list(group2)].mean(0)
    score = g1 * g2
    score[list(group1) + list(group2)] = np.inf
    order = np.argsort(score)[:size]
    order = order[np.isfinite(score[order]) & (score[order] < 0)]
    pop1 = [int(j) for j in order if g1[j] > 0]
    pop2 = [int(j) for j in order if g1[j] <= 0]

    def block(post, pre):
        return float(w[np.ix_(post, pre)].mean()) if post and pre else np.nan

    return {"pop1": pop1, "pop2": pop2, "within1": block(pop1, pop1), "within2": block(pop2, pop2),
            "between12": block(pop2, pop1), "between21": block(pop1, pop2)}


def top_partners(W_hh, neurons: Sequence[int], k: int, how: str = "abs_weight") -> set[int]:
    """The union over ``neurons`` of each one's top-``k`` presynaptic partners by |W_hh|."""
    if how != "abs_weight":
        raise ValueError(f"hmm partner_rank={how!r}: only abs_weight is built")
    w = np.abs(np.asarray(W_hh, float))
    out: set[int] = set()
    for j in neurons:
        out.update(int(i) for i in np.argsort(-w[j])[:k])
    return out


# ----------------------------------------------------------------------------- dynamics
def transition_rate(symbols) -> float:
    """Mean of 1/(interval between consecutive output changes) of one symbol sequence; 0 if
    it changes at most once."""
    s = np.asarray(symbols)
    t = np.flatnonzero(s[1:] != s[:-1])
    return float(np.mean(1.0 / np.diff(t))) if len(t) > 1 else 0.0


def bifurcation_epoch(epochs, stat, jump: float = 0.02) -> float:
    """The first checkpoint epoch where ``stat`` rises by more than ``jump`` over the previous
    checkpoint; NaN if none."""
    e, s = np.asarray(epochs, float), np.asarray(stat, float)
    rises = np.flatnonzero(np.diff(s) > jump)
    return float(e[rises[0] + 1]) if len(rises) else np.nan


@torch.no_grad()
def e2_drift(net: Net, starts: torch.Tensor, gen: torch.Generator, *, steps: int = 10,
             trials: int = 20) -> np.ndarray:
    """E[δh⁽²⁾] per neuron (HMM.md §4, ``e2_method: mc_mean``): first-order noise terms have
    zero mean, so the second-order effect of noise is the mean of h_noisy − h_noise-free over
    ``steps``-step windows from ``starts`` and ``trials`` noise draws."""
    h0 = starts.repeat_interleave(trials, 0)
    noisy = run(net, noise(gen, steps, len(h0), net.d), h0)
    free = run(net, torch.zeros(steps, len(h0), net.d), h0)
    return (noisy - free).mean((0, 1)).numpy()
