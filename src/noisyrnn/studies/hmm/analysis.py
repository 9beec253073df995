"""One trained network, analysed whole (HMM.md §4): its emission metrics against the HMM and
the HMM–HMM baseline, the plateau diagnostic, and the mechanism analyses.

:func:`analyse` returns flat per-network values (scalars and small arrays) that the step
stacks over seeds. Mechanism analyses run on every network, plateau or not; the claims use
them only for networks that left the plateau (``left_plateau``), and say so.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from . import mechanism as mech
from . import metrics
from .hmms import HMM, sample

REGION_CODES = (mech.TRANSITION, mech.KICK, mech.CLUSTER)


@torch.no_grad()
def emit(net: mech.Net, n: int, length: int, gen: torch.Generator, first_symbol: str,
         tau: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(symbols (n, T) from Gumbel samples, argmax symbols (n, T)) of ``n`` noise-driven
    sequences; with ``first_symbol == "h0"`` the first symbol is read from h_0 = 0."""
    steps = length - 1 if first_symbol == "h0" else length
    h = mech.run(net, mech.noise(gen, steps, n, net.d))               # (S, n, units)
    y = mech.logits(net, h).transpose(0, 1)                            # (n, S, 3)
    if first_symbol == "h0":
        y = torch.cat([torch.zeros(n, 1, 3), y], 1)
    u = torch.rand(y.shape, generator=gen).clamp(1e-10, 1 - 1e-7)
    g = -torch.log(-torch.log(u))
    return (y / tau + g).argmax(-1).numpy(), y.argmax(-1).numpy()


def emission_metrics(rnn: np.ndarray, hmm_a: np.ndarray, hmm_b: np.ndarray, ev: Mapping,
                     plateau_ratio: float) -> dict:
    """Metrics of RNN sequences against HMM sequences ``hmm_a``; ``hmm_b`` is an independent
    HMM sample (the baseline)."""
    kw = dict(eps=ev["sinkhorn_eps"], max_iter=ev["sinkhorn_max_iter"], tol=ev["sinkhorn_tol"])
    t_hmm, t_rnn, t_base = (metrics.transition_matrix(s) for s in (hmm_a, rnn, hmm_b))
    m_rnn, m_hmm = metrics.marginals(rnn), metrics.marginals(hmm_a)
    v_rnn, v_hmm, v_base = (metrics.volatility(s) for s in (rnn, hmm_a, hmm_b))
    p = m_rnn.mean(0)
    length = rnn.shape[1]
    return {
        "distance": metrics.aligned_distance(rnn, hmm_a, **kw),
        "distance_baseline": metrics.aligned_distance(hmm_b, hmm_a, **kw),
        "transition_rnn": t_rnn, "transition_hmm": t_hmm,
        "transition_sq_error": (t_hmm - t_rnn) ** 2,
        "transition_sq_error_baseline": (t_hmm - t_base) ** 2,
        "marginal_mean": m_rnn.mean(0), "marginal_sd": m_rnn.std(0, ddof=1),
        "marginal_mean_hmm": m_hmm.mean(0), "marginal_sd_hmm": m_hmm.std(0, ddof=1),
        "volatility_mean": float(v_rnn.mean()), "volatility_sd": float(v_rnn.std(ddof=1)),
        "volatility_mean_hmm": float(v_hmm.mean()), "volatility_sd_hmm": float(v_hmm.std(ddof=1)),
        "volatility_baseline": float(v_base.mean()),
        "volatility_iid": metrics.iid_volatility(length, p),
        "left_plateau": metrics.left_plateau(float(v_rnn.mean()), length, p, plateau_ratio),
    }


def _mix(nominal: torch.Tensor, gen: torch.Generator, gamma: float) -> torch.Tensor:
    """(1 − γ)·nominal + γ·fresh noise (HMM.md noise sensitivity and ablation)."""
    return (1 - gamma) * nominal + gamma * torch.randn(nominal.shape, generator=gen)


@torch.no_grad()
def sensitivity(net: mech.Net, starts: torch.Tensor, gen: torch.Generator, *, trajectories: int,
                steps: int, gammas) -> np.ndarray:
    """(γ, step) mean over ``starts`` of the covariance trace across ``trajectories`` noisy
    continuations, the noise being (1 − γ) nominal + γ fresh (one nominal draw per start)."""
    out = np.zeros((len(gammas), steps))
    if len(starts) == 0:
        return np.full((len(gammas), steps), np.nan)
    for s in starts:
        nominal = torch.randn(steps, 1, net.d, generator=gen).expand(steps, trajectories, net.d)
        for i, g in enumerate(gammas):
            h = mech.run(net, _mix(nominal, gen, g), s.expand(trajectories, -1).clone())
            out[i] += h.var(dim=1, unbiased=True).sum(-1).numpy()
    return out / len(starts)


@torch.no_grad()
def ablation(net: mech.Net, starts: torch.Tensor, kick: list[int], partners: set[int],
             control: list[int], gen: torch.Generator, ab: Mapping) -> dict:
    """Gain μ on (a) the recurrent input to the kick neurons, (b) the noise input to their
    partners, (c) the noise input to control neurons: transition rate (per step, mean over
    trajectories from transition states) and critical complex pairs near output changes."""
    gains = np.asarray(ab["gains"], float)
    conds = {"kick_recurrent": kick, "partner_noise": sorted(partners), "control_noise": control}
    rate = np.full((len(conds), len(gains)), np.nan)
    pairs = np.full((len(conds), len(gains)), np.nan)
    if len(starts) == 0 or not kick:
        return {"rate": rate, "pairs": pairs, "conditions": list(conds)}
    n_traj, steps = int(ab["trajectories"]), int(ab["steps"])
    h0 = starts[torch.randint(len(starts), (n_traj,), generator=gen)]
    nominal = torch.randn(steps, 1, net.d, generator=gen).expand(steps, n_traj, net.d)
    x = _mix(nominal, gen, float(ab["gamma"]))
    n_eig = min(int(ab["eig_trajectories"]), n_traj)
    for c, (name, idx) in enumerate(conds.items()):
        for i, mu in enumerate(gains):
            g = torch.ones(net.n)
            g[list(idx)] = float(mu)
            kw = {"recurrent_gain": g} if name == "kick_recurrent" else {"noise_gain": g}
            h = mech.run(net, x, h0, **kw)
            sym = mech.logits(net, h).argmax(-1).numpy()               # (steps, traj)
            rate[c, i] = float((sym[1:] != sym[:-1]).mean())
            if n_eig:
                wg = g if name == "kick_recurrent" else None
                w = net.W_hh if wg is None else net.W_hh * wg[:, None]
                pre = h[:, :n_eig] @ w.T                               # zero-input drive
                eig = mech.jacobian_eigs(net, pre.reshape(-1, net.n), wg)
                cp = mech.critical_pairs(eig, ab["critical_re"], ab["critical_im"]).reshape(steps, n_eig)
                near = _near_changes(sym[:, :n_eig], int(ab["window"]))
                pairs[c, i] = float(cp[near].mean()) if near.any() else 0.0
    return {"rate": rate, "pairs": pairs, "conditions": list(conds)}


def _near_changes(sym: np.ndarray, window: int) -> np.ndarray:
    """(steps, traj) mask of steps within ±window of an output change."""
    ch = np.zeros(sym.shape, bool)
    ch[1:] = sym[1:] != sym[:-1]
    out = np.zeros_like(ch)
    for j in range(sym.shape[1]):
        for t in np.flatnonzero(ch[:, j]):
            out[max(0, t - window):t + window + 1, j] = True
    return out


@torch.no_grad()
def dynamics(net: mech.Net, gen: torch.Generator, dy: Mapping, factor: float = 1e3) -> dict:
    """The training-dynamics statistics of one checkpoint: transition rate, the fraction of
    (sub-sampled) noisy steps with a near-critical pair and some |λ| > 1, and E[δh⁽²⁾], on
    the steps before the run blows up (:func:`blow_up_bound`; NaN if within 10 steps)."""
    steps = int(dy["steps"])
    x = mech.noise(gen, steps + 20, 1, net.d)
    h = mech.run(net, x)
    keep = 20 + mech.finite_prefix(h[20:, 0], blow_up_bound(net, factor))
    if keep < 30:
        nan = np.full(net.n, np.nan)
        return {"transition_rate": np.nan, "critical_fraction": np.nan, "e2": nan}
    h, x = h[:keep], x[:keep]
    steps = keep - 20
    pre = (h[:-1] @ net.W_hh.T + x[1:] @ net.W_ih.T)[19:, 0]          # noisy step's drive
    sym = mech.logits(net, h[20:, 0]).argmax(-1).numpy()
    pick = torch.linspace(0, len(pre) - 1, min(int(dy["eig_steps"]), len(pre))).long()
    eig = mech.jacobian_eigs(net, pre[pick])
    near = mech.critical_pairs(eig, dy["critical_re"], dy["critical_im"]) > 0
    unstable = mech.unstable_counts(eig) > 0
    e2 = mech.e2_drift(net, h[20::max(1, steps // 50), 0][:50], gen, steps=int(dy["e2_steps"]),
                       trials=int(dy["e2_trials"]))
    return {"transition_rate": mech.transition_rate(sym),
            "critical_fraction": float((near & unstable).mean()), "e2": e2}


#: fewest states an orbit radius is computed from
MIN_STATES = 10


def blow_up_bound(net: mech.Net, factor: float) -> float:
    """|h| above ``factor`` × the noise drive's rms norm ‖W_ih‖_F (E|W_ih x|² = ‖W_ih‖_F²) means
    a run has blown up: a bias-free ReLU network has no scale of its own but its input's."""
    return float(factor) * max(float(net.W_ih.norm()), 1e-12)


def analyse(net: mech.Net, hmm: HMM, *, eval_length: int, first_symbol: str, tau: float,
            seed: int, cfg: Mapping) -> dict:
    """Every per-network analysis of HMM.md §4 (settings ``cfg``: ``evaluation`` and
    ``analysis`` sections).

    A network whose noise-driven run blows up (|h| past :func:`blow_up_bound`) is analysed on
    the steps before; one that blows up within ``analysis.min_run_steps`` steps has no sustained
    activity to analyse, and its mechanism values are NaN (``run_diverged_at`` says when)."""
    ev, an = cfg["evaluation"], cfg["analysis"]
    gen = torch.Generator().manual_seed(int(seed))
    rng = np.random.default_rng(int(seed))
    n_eval = int(ev["n"])
    rnn, _ = emit(net, n_eval, eval_length, gen, first_symbol, tau)
    _, hmm_a = sample(hmm, n_eval, eval_length, rng)
    _, hmm_b = sample(hmm, n_eval, eval_length, rng)
    out = emission_metrics(rnn, hmm_a, hmm_b, ev, float(an["plateau_ratio"]))
    states = mech.noise_driven(net, int(an["orbit_steps"]), gen)[:, 0]       # (S, n)
    bound = blow_up_bound(net, an["divergence_factor"])
    keep_n = mech.finite_prefix(states, bound)
    out["run_diverged_at"] = float(keep_n) if keep_n < len(states) else np.nan
    if keep_n < max(int(an["min_run_steps"]), MIN_STATES):
        # the shapes of every mechanism value, from a network that cannot blow up
        quiet = mech.Net(net.W_ih, torch.zeros_like(net.W_hh), net.A)
        template = mechanism(quiet, mech.noise_driven(quiet, int(an["orbit_steps"]), gen)[:, 0],
                             an, gen, bound)
        out.update({k: np.full(np.shape(v), np.nan) for k, v in template.items()})
        return out
    out.update(mechanism(net, states[:keep_n], an, gen, bound))
    return out


def mechanism(net: mech.Net, states: torch.Tensor, an: Mapping, gen: torch.Generator,
              bound: float) -> dict:
    """The mechanism analyses of one network from its noise-driven states (S, n)."""
    out: dict = {}
    starts = states[torch.linspace(0, len(states) - 1, int(an["fp_starts"])).long()]
    fp = mech.fixed_point(net, starts, int(an["fp_steps"]), float(an["fp_tol"]))
    out.update({f"fp_{k}": v for k, v in fp.items() if k != "h_star"})
    # orbits: PCA of the noise-driven run; radius against noise level
    mean, comps, expl = mech.pca(states.numpy(), 3)
    proj = mech.project(states.numpy(), mean, comps)
    # a fixed number of points (repeats when a blown-up run left fewer): seeds stack
    keep = np.linspace(0, len(proj) - 1, int(an["orbit_points"])).astype(int)
    out.update(pca_explained=expl, orbit_pc=proj[keep],
               orbit_symbol=mech.logits(net, states[keep]).argmax(-1).numpy(),
               fp_pc=mech.project(fp["h_star"][None], mean, comps)[0],
               readout_alignment=mech.readout_alignment(net.A.numpy(), comps))
    levels = np.asarray(an["orbit_noise_levels"], float)
    # noise_param "std": the level multiplies the noise (the authors' code: applied as std,
    # labelled variance); "variance": the std is √level
    sigmas = levels if an["noise_param"] == "std" else np.sqrt(levels)
    radii, pts = [], []
    for s in sigmas:
        st = mech.noise_driven(net, int(an["orbit_noise_steps"]), gen, sigma=float(s))[:, 0]
        st = st[:max(mech.finite_prefix(st, bound), 1)].numpy()
        pr = mech.project(st, mean, comps)
        radii.append(mech.orbit_radius(pr, an["orbit_radius"]) if len(pr) >= MIN_STATES else np.nan)
        pts.append(pr[np.linspace(0, len(pr) - 1, int(an["orbit_points"])).astype(int), :2])
    radii = np.asarray(radii)
    fit_s = mech.linear_fit(sigmas, radii)
    fit_v = mech.linear_fit(sigmas ** 2, radii)
    out.update(orbit_radius=radii, orbit_noise_pc=np.stack(pts), radius_slope_sigma=fit_s[0],
               radius_r2_sigma=fit_s[2], radius_slope_var=fit_v[0], radius_r2_var=fit_v[2])

    # residency-time regions on states after warm-up
    rt_st = states[torch.linspace(0, len(states) - 1, int(an["rt_states"])).long()]
    rt, flips = mech.residency_times(net, rt_st, gen, rollouts=int(an["rt_rollouts"]),
                                     max_steps=int(an["rt_max_steps"]))
    y = mech.logits(net, rt_st)
    maxsoft = torch.softmax(y, -1).max(-1).values.numpy()
    labels = mech.region_labels(rt, maxsoft, rt_transition=an["rt_transition"],
                                rt_cluster=an["rt_cluster"], cluster_softmax=an["cluster_softmax"])
    pre = (rt_st @ net.W_hh.T).numpy()
    eig_idx = np.linspace(0, len(rt_st) - 1, min(int(an["eig_states"]), len(rt_st))).astype(int)
    eig = mech.jacobian_eigs(net, torch.as_tensor(pre[eig_idx]))
    unstable = np.full(len(rt_st), np.nan)
    unstable[eig_idx] = mech.unstable_counts(eig)
    out.update(rt=rt, sign_changes=flips, region=labels, unstable=unstable,
               rt_pc=mech.project(rt_st.numpy(), mean, comps))
    for code, name in mech.REGIONS.items():
        sel = labels == code
        key = name.replace("-", "_")
        out[f"frac_{key}"] = float(sel.mean())
        out[f"unstable_{key}"] = float(np.nanmean(unstable[sel])) if np.isfinite(unstable[sel]).any() else np.nan
        out[f"sign_changes_{key}"] = float(flips[sel].mean()) if sel.any() else np.nan

    # kick neurons by rule, on the region states: the symbol a transition state leaves
    leaving = y.argmax(-1).numpy()
    out["rt_symbol"] = leaving
    kick = mech.kick_neurons(pre, labels, leaving, p_cluster_max=an["kick_p_cluster"],
                             p_transition_min=an["kick_p_transition"],
                             kick_median_max=an["kick_median"], k=int(an["kick_k"]))
    groups = [g for g in kick["groups"].values() if g]
    out["n_candidates"] = len(kick["candidates"])
    out["n_kick_groups"] = sum(len(g) == int(an["kick_k"]) for g in kick["groups"].values())
    kick_all = sorted({j for g in groups for j in g})
    out["kick_mask"] = np.isin(np.arange(net.n), kick_all)
    # per neuron: the rule's statistics, and its group (the symbol its transitions leave)
    pt = np.stack(list(kick["p_t"].values())).max(0) if kick["p_t"] else np.full(net.n, np.nan)
    out.update(kick_p_cluster=kick["p_c"], kick_p_transition=pt, kick_median=kick["m_k"])
    group_of = np.full(net.n, -1, np.int64)
    block = np.full((3, 3), np.nan)
    w = net.W_hh.numpy()
    for d, g in kick["groups"].items():
        group_of[g] = d
    for a, ga in kick["groups"].items():
        for b, gb in kick["groups"].items():
            if ga and gb:
                block[a, b] = float(w[np.ix_(gb, ga)].mean())  # row: postsynaptic group b
    out.update(kick_group=group_of, kick_block=block)
    # capped at the neurons left besides the kick neurons (a 50-unit network of the grid)
    size = min(int(an["population_size"]), net.n - len(kick_all))
    pops = (mech.populations(net.W_hh.numpy(), groups[0], groups[1], size)
            if len(groups) >= 2 else None)
    for k in ("within1", "within2", "between12", "between21"):
        out[f"pop_{k}"] = pops[k] if pops else np.nan
    out["pop_sizes"] = np.array([len(pops["pop1"]), len(pops["pop2"])] if pops else [0, 0])

    # noise sensitivity from cluster and transition states
    se = an["sensitivity"]
    pick = lambda code: rt_st[torch.as_tensor(np.flatnonzero(labels == code)[:int(se["starts"])],  # noqa: E731
                                              dtype=torch.long)]
    for code, name in ((mech.CLUSTER, "cluster"), (mech.TRANSITION, "transition")):
        out[f"sensitivity_{name}"] = sensitivity(net, pick(code), gen, trajectories=int(se["trajectories"]),
                                                 steps=int(se["steps"]), gammas=se["gammas"])
    # gain ablation on the neurons the rule found
    ab = an["ablation"]
    partners = mech.top_partners(net.W_hh.numpy(), kick_all, int(ab["partners"]), an["partner_rank"])
    near = mech.top_partners(net.W_hh.numpy(), kick_all, int(ab["control_partners"]), an["partner_rank"])
    control = [j for j in range(net.n) if j not in near and j not in kick_all]
    abl = ablation(net, pick(mech.TRANSITION), kick_all, partners, control, gen, ab)
    out.update(ablation_rate=abl["rate"], ablation_pairs=abl["pairs"])
    return out
