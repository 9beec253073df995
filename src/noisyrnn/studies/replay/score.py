"""Langevin score comparison (SCIENCE.md §5, "Langevin score comparison").

Four parts, all numpy, seeded and deterministic:

1. **Density of waking hidden states** (:func:`fit_density`, :class:`Density`): PCA to the top
   ``n_pca`` components, then a Gaussian or a Gaussian mixture in that subspace. The score
   ``∇ log p̂(r)`` in the full space is the subspace score pulled back through the projection.
2. **Drift–score alignment** (:func:`drift_score_alignment`): cosine similarity of the RNN's
   zero-input drift ``f(r)`` with the score, and the fitted step ``ε`` (slope of drift on score).
3. **Reference samplers** (:func:`overdamped_langevin`, :func:`underdamped_langevin`) on any
   score function, plus helpers that match their step, friction and temperature to an RNN.
4. **Time-varying score**: the Gauss–Markov toy (:func:`gauss_markov_marginals` and friends)
   and the time-binned score gap of trained networks (:func:`time_binned_score_gap`).

Conventions: points are rows, ``r`` has shape ``(m, N)`` (full space) and ``z`` shape
``(m, k)`` (PCA subspace, ``k = n_pca``). The projection matrix ``P`` has orthonormal rows
``(k, N)`` and ``z = P (r − μ)``, ``r = μ + Pᵀ z``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import logsumexp

ScoreFn = Callable[[np.ndarray], np.ndarray]

_LOG_2PI = float(np.log(2.0 * np.pi))


# ---------------------------------------------------------------------------------------------
# 1. Density of waking hidden states
# ---------------------------------------------------------------------------------------------


def _as_2d(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"expected an array of shape (m, d), got shape {x.shape}")
    return x


def _finite_rows(x: np.ndarray) -> np.ndarray:
    return x[np.all(np.isfinite(x), axis=1)]


def fit_pca(states: np.ndarray, n_pca: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PCA by eigendecomposition of the (maximum-likelihood) covariance.

    Returns ``(mu (N,), components (k, N) orthonormal rows, variances (k,))`` with
    ``k = min(n_pca, N)``, components sorted by decreasing variance. Rows with a non-finite
    entry are dropped. Each component's sign is fixed so that its largest-magnitude entry is
    positive, which makes the basis deterministic.
    """
    x = _finite_rows(_as_2d(states))
    if x.shape[0] < 2:
        raise ValueError("fit_pca needs at least two finite states")
    n_dim = x.shape[1]
    k = int(min(max(int(n_pca), 1), n_dim))
    mu = x.mean(axis=0)
    xc = x - mu
    cov = xc.T @ xc / x.shape[0]
    evals, evecs = np.linalg.eigh(cov)  # ascending
    order = np.argsort(evals)[::-1][:k]
    comps = evecs[:, order].T.copy()  # (k, N)
    idx = np.argmax(np.abs(comps), axis=1)
    signs = np.sign(comps[np.arange(k), idx])
    signs[signs == 0] = 1.0
    comps *= signs[:, None]
    return mu, comps, np.clip(evals[order], 0.0, None)


@dataclass
class Density:
    """A Gaussian mixture (one component = Gaussian) in a PCA subspace of the hidden states.

    ``log_prob`` and ``score`` describe the density of the *projected* coordinates
    ``z = P (r − μ)``. The orthogonal complement of the top components is deliberately left
    out: it contributes no term to the log-density and nothing to the score. So the score in
    the full space is ``Pᵀ ∇_z log p(z)``, which lies in the span of the components, and
    ``log_prob`` is the gradient's exact potential (``∇_r log_prob(r) == score(r)``). This is
    the choice that keeps the density well posed when the waking states occupy a
    low-dimensional manifold (ReLU networks have many silent units).
    """

    kind: str
    mu: np.ndarray  # (N,) mean of the fitted states
    components: np.ndarray  # (k, N) orthonormal rows
    weights: np.ndarray  # (K,)
    means: np.ndarray  # (K, k) in subspace coordinates
    covariances: np.ndarray  # (K, k, k) in subspace coordinates, ridge included

    def __post_init__(self):
        self.precisions = np.linalg.inv(self.covariances)
        self._chol = np.linalg.cholesky(self.covariances)
        _, logdet = np.linalg.slogdet(self.covariances)
        k = self.means.shape[1]
        self._log_norm = np.log(self.weights) - 0.5 * (logdet + k * _LOG_2PI)

    # --- geometry ---
    @property
    def n_components(self) -> int:
        return int(self.weights.shape[0])

    @property
    def n_pca(self) -> int:
        return int(self.components.shape[0])

    @property
    def dim(self) -> int:
        return int(self.components.shape[1])

    def project(self, r: np.ndarray) -> np.ndarray:
        """Points to subspace coordinates: ``z = P (r − μ)``, (m, N) -> (m, k)."""
        return (_as_2d(r) - self.mu) @ self.components.T

    def lift(self, z: np.ndarray) -> np.ndarray:
        """Subspace coordinates to points: ``r = μ + Pᵀ z``, (m, k) -> (m, N)."""
        return self.mu + _as_2d(z) @ self.components

    def project_vectors(self, v: np.ndarray) -> np.ndarray:
        """Tangent vectors (drifts, scores) to subspace coordinates: ``P v`` (no centring)."""
        return _as_2d(v) @ self.components.T

    def lift_vectors(self, w: np.ndarray) -> np.ndarray:
        """Subspace tangent vectors to the full space: ``Pᵀ w`` (no mean added)."""
        return _as_2d(w) @ self.components

    # --- density in the subspace ---
    def _component_terms(self, z: np.ndarray):
        diff = z[:, None, :] - self.means[None, :, :]  # (m, K, k)
        prec_diff = np.einsum("kij,mkj->mki", self.precisions, diff)  # Σ_k⁻¹ (z − m_k)
        maha = np.einsum("mki,mki->mk", diff, prec_diff)
        log_joint = self._log_norm[None, :] - 0.5 * maha  # log w_k + log N_k(z)
        return log_joint, prec_diff

    def log_prob_z(self, z: np.ndarray) -> np.ndarray:
        """log p(z) of subspace coordinates, (m, k) -> (m,)."""
        log_joint, _ = self._component_terms(_as_2d(z))
        return logsumexp(log_joint, axis=1)

    def score_z(self, z: np.ndarray) -> np.ndarray:
        """∇_z log p(z), (m, k) -> (m, k); responsibility-weighted −Σ_k⁻¹ (z − m_k)."""
        log_joint, prec_diff = self._component_terms(_as_2d(z))
        resp = np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))  # (m, K)
        return -np.einsum("mk,mki->mi", resp, prec_diff)

    def responsibilities(self, z: np.ndarray) -> np.ndarray:
        log_joint, _ = self._component_terms(_as_2d(z))
        return np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))

    # --- density in the full space (pulled back) ---
    def log_prob(self, r: np.ndarray) -> np.ndarray:
        """log p̂ of the projected coordinates of ``r`` (m, N) -> (m,). See class docstring."""
        return self.log_prob_z(self.project(r))

    def score(self, r: np.ndarray) -> np.ndarray:
        """∇_r log p̂(r) = Pᵀ ∇_z log p(z), z = P (r − μ); (m, N) -> (m, N)."""
        return self.score_z(self.project(r)) @ self.components

    def sample_z(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws of subspace coordinates, (n, k)."""
        comp = rng.choice(self.n_components, size=int(n), p=self.weights)
        eps = rng.standard_normal((int(n), self.n_pca))
        return self.means[comp] + np.einsum("nij,nj->ni", self._chol[comp], eps)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws in the full space, ``μ + Pᵀ z`` (the complement is not sampled), (n, N)."""
        return self.lift(self.sample_z(n, rng))


def fit_density(
    states: np.ndarray,
    n_pca: int,
    kind: str = "gaussian",
    n_components: int = 4,
    seed: int = 0,
    ridge: float = 1e-6,
    max_states: int | None = None,
) -> Density:
    """Fit the waking-state density p̂: PCA to ``n_pca`` components, then a density in z.

    Parameters
    ----------
    states : (n, N) hidden states (rows with non-finite entries are dropped). Higher-rank
        arrays are flattened to (n, N) over their leading axes.
    n_pca : number of principal components kept (clipped to N).
    kind : ``"gaussian"`` (maximum-likelihood mean and covariance) or ``"gmm"``
        (``sklearn.mixture.GaussianMixture``, full covariances, k-means init, ``random_state=seed``).
    n_components : mixture components for ``"gmm"``.
    ridge : added to every covariance's diagonal, *relative* to the mean PCA variance (so it is
        scale free); for the GMM it is passed as ``reg_covar``.
    max_states : if given and exceeded, a seeded random subset of this many states is used.
    """
    x = np.asarray(states, dtype=np.float64)
    x = _finite_rows(x.reshape(-1, x.shape[-1]))
    if max_states is not None and x.shape[0] > max_states:
        keep = np.sort(np.random.default_rng(seed).choice(x.shape[0], int(max_states), replace=False))
        x = x[keep]
    mu, comps, var = fit_pca(x, n_pca)
    z = (x - mu) @ comps.T
    k = comps.shape[0]
    reg = float(ridge) * max(float(np.mean(var)), np.finfo(float).tiny)
    if kind == "gaussian":
        mean = z.mean(axis=0)
        zc = z - mean
        cov = zc.T @ zc / z.shape[0] + reg * np.eye(k)
        return Density("gaussian", mu, comps, np.ones(1), mean[None, :], cov[None, :, :])
    if kind == "gmm":
        from sklearn.mixture import GaussianMixture

        gm = GaussianMixture(
            n_components=int(n_components),
            covariance_type="full",
            reg_covar=reg,
            random_state=int(seed),
            n_init=1,
            max_iter=200,
        ).fit(z)
        return Density(
            "gmm",
            mu,
            comps,
            np.asarray(gm.weights_, dtype=np.float64),
            np.asarray(gm.means_, dtype=np.float64),
            np.asarray(gm.covariances_, dtype=np.float64),
        )
    raise ValueError(f"kind={kind!r} is not one of 'gaussian', 'gmm'")


# ---------------------------------------------------------------------------------------------
# 2. Drift–score alignment
# ---------------------------------------------------------------------------------------------


def drift_score_alignment(
    drift: np.ndarray, score: np.ndarray, subspace: Density | None = None
) -> dict[str, float]:
    """Alignment of the zero-input drift f(r) with the score s(r) at the same points.

    Parameters
    ----------
    drift, score : (m, N) arrays, row i evaluated at the same state r_i. Rows with a
        non-finite entry in either are dropped.
    subspace : ``None`` (default) compares the vectors in the full space. Passing the fitted
        :class:`Density` first projects both onto its PCA components (``P f``, ``P s``). The
        score of a :class:`Density` lies in that span already; the drift's component outside it
        is mostly the noise-free leak/decay of low-variance directions, which the subspace
        density does not model, so the subspace cosine is the sharper measure of alignment.
        The full-space default is the conservative one (it counts that decay as misalignment).

    Returns
    -------
    dict with ``cosine`` (mean of per-point cosine similarities, points where either vector is
    zero skipped), ``cosine_pooled`` (cosine of the stacked vectors), ``eps`` (least-squares
    slope of drift on score through the origin, ⟨f, s⟩ / ⟨s, s⟩, the fitted Langevin step) and
    ``n`` (points used).
    """
    f = _as_2d(drift)
    s = _as_2d(score)
    if f.shape != s.shape:
        raise ValueError(f"drift shape {f.shape} != score shape {s.shape}")
    if subspace is not None:
        f = subspace.project_vectors(f)
        s = subspace.project_vectors(s)
    ok = np.all(np.isfinite(f), axis=1) & np.all(np.isfinite(s), axis=1)
    f, s = f[ok], s[ok]
    nan = float("nan")
    if f.shape[0] == 0:
        return {"cosine": nan, "cosine_pooled": nan, "eps": nan, "n": 0}
    nf = np.linalg.norm(f, axis=1)
    ns = np.linalg.norm(s, axis=1)
    dots = np.einsum("ij,ij->i", f, s)
    good = (nf > 0) & (ns > 0)
    cosine = float(np.mean(dots[good] / (nf[good] * ns[good]))) if good.any() else nan
    ff, ss, fs = float(np.sum(nf**2)), float(np.sum(ns**2)), float(np.sum(dots))
    pooled = fs / np.sqrt(ff * ss) if ff > 0 and ss > 0 else nan
    eps = fs / ss if ss > 0 else nan
    return {"cosine": cosine, "cosine_pooled": float(pooled), "eps": float(eps), "n": int(f.shape[0])}


def fitted_step(alignment: dict[str, float] | float) -> float:
    """The Langevin step ε from an alignment result (or its ``eps``); NaN unless finite and > 0.

    A non-positive slope means the drift does not descend the density, so no Langevin step
    corresponds to it; NaN then propagates to the reference statistics as "missing".
    """
    eps = float(alignment["eps"] if isinstance(alignment, dict) else alignment)
    return eps if np.isfinite(eps) and eps > 0 else float("nan")


def friction_from_lambda_v(lambda_v: float) -> float:
    """Per-step friction γε of :func:`underdamped_langevin` matched to the momentum cell: γε = λ_v.

    The cell ``v' = (1 − λ_v) v + Δ`` decays velocity by the factor ``1 − γε``. λ_v = 1 (no
    momentum) is the overdamped limit. Valid for 0 < λ_v < 2.
    """
    lam = float(lambda_v)
    if not 0.0 < lam < 2.0:
        raise ValueError(f"lambda_v={lam} must be in (0, 2) for a stable damped sampler")
    return lam


def rnn_langevin_params(h: float, lambda_v: float = 1.0, sigma: float | None = None) -> dict[str, float]:
    """Sampler parameters equivalent to the RNN cell with drift ``f ≈ h ∇log p``.

    The momentum cell is ``v' = (1 − λ_v) v + h s(r) + σ ξ``, ``r' = r + v'`` (position update
    without a step factor). Writing ``v = ε u`` with ``ε = √h`` gives
    ``u' = (1 − λ_v) u + ε s(r) + (σ/ε) ξ``, ``r' = r + ε u'``: exactly
    :func:`underdamped_langevin` with step ``ε = √h``, ``γε = λ_v`` and
    ``noise_scale = σ / √(2 λ_v h)``. For λ_v = 1 this reduces to :func:`overdamped_langevin`
    with step ``h`` and ``noise_scale = σ / √(2h)``. ``noise_scale`` ≠ 1 means the RNN samples
    the tempered density ``p^(1/noise_scale²)``; at fixed σ, momentum raises that temperature
    by ``1/λ_v``.

    Returns dict ``overdamped_eps = h``, ``underdamped_eps = √h``, ``gamma_eps = λ_v`` and, when
    σ is given, ``noise_scale_overdamped`` and ``noise_scale_underdamped``.
    """
    h = float(h)
    lam = friction_from_lambda_v(lambda_v)
    out = {"overdamped_eps": h, "underdamped_eps": float(np.sqrt(h)) if h > 0 else float("nan"), "gamma_eps": lam}
    if sigma is not None:
        out["noise_scale_overdamped"] = float(sigma / np.sqrt(2.0 * h)) if h > 0 else float("nan")
        out["noise_scale_underdamped"] = float(sigma / np.sqrt(2.0 * lam * h)) if h > 0 else float("nan")
    return out


# ---------------------------------------------------------------------------------------------
# 3. Reference samplers
# ---------------------------------------------------------------------------------------------


def overdamped_langevin(
    score_fn: ScoreFn,
    x0: np.ndarray,
    eps: float,
    n_steps: int,
    rng: np.random.Generator,
    noise_scale: float = 1.0,
    record_every: int = 1,
) -> np.ndarray:
    """Unadjusted overdamped Langevin: ``x' = x + ε ∇log p(x) + noise_scale · √(2ε) ξ``.

    ``x0`` (B, d); returns trajectories (B, n_steps // record_every + 1, d) including x0 (with
    ``record_every = 1``: (B, n_steps + 1, d)). Stationary law is p up to O(ε) (for a Gaussian
    of variance σ²: σ² / (1 − ε/(2σ²))), tempered to ``p^(1/noise_scale²)``. Diverging chains
    become inf/NaN without raising.
    """
    x = _as_2d(x0).copy()
    eps = float(eps)
    every = max(int(record_every), 1)
    out = np.empty((x.shape[0], int(n_steps) // every + 1, x.shape[1]))
    out[:, 0] = x
    amp = float(noise_scale) * np.sqrt(2.0 * eps) if eps > 0 else float("nan")
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, int(n_steps) + 1):
            x = x + eps * score_fn(x) + amp * rng.standard_normal(x.shape)
            if t % every == 0:
                out[:, t // every] = x
    return out


def underdamped_langevin(
    score_fn: ScoreFn,
    x0: np.ndarray,
    eps: float,
    gamma_eps: float,
    n_steps: int,
    rng: np.random.Generator,
    v0: np.ndarray | None = None,
    noise_scale: float = 1.0,
    record_every: int = 1,
    return_velocity: bool = False,
):
    """Underdamped Langevin, SCIENCE.md form (kick, then drift with the new velocity)::

        v' = (1 − γε) v + ε ∇log p(x) + noise_scale · √(2 γε) ξ
        x' = x + ε v'

    This is the semi-implicit (symplectic) Euler step, of size ε, of ``dx = v dt``,
    ``dv = (−γ v + ∇log p) dt + √(2γ) dW``, whose stationary law is ``p(x) N(v; 0, I)``. The
    noise factor √(2γε) is the right one for the **x-marginal**, and it stays right even when
    γε is not small, which matters because the momentum cell has ``γε = λ_v`` (see
    :func:`friction_from_lambda_v`). Derivation: eliminate v with ``v = (x − x_prev)/ε``; for a
    Gaussian target ``∇log p = −x/σ²`` the scheme is the AR(2) process
    ``x_{t+1} = (2 − λ − δ) x_t − (1 − λ) x_{t−1} + ε √(2λ) ξ_t`` with ``λ = γε``,
    ``δ = ε²/σ²``, whose stationary variance is::

        Var x = σ² / (1 − δ / (2 (2 − λ)))

    i.e. ``p`` up to O(ε²/σ²), for every λ in (0, 2). The velocity ``v'`` itself (the
    post-kick velocity) has stationary variance ``1/(1 − λ/2)`` (+O(δ)), not 1: unit mass only in
    the γε → 0 limit. Rescaling the noise to ``√(γε(2 − γε))`` would give unit velocity variance
    but shrink ``Var x`` by the factor ``1 − γε/2``, so the SCIENCE.md noise is kept. At
    λ = 1 the scheme is overdamped Langevin with step ε² (``v'`` is a pure kick).

    ``x0`` (B, d); ``v0`` defaults to zeros (replay starts at rest). Returns positions
    (B, n_steps // record_every + 1, d) including x0, and the velocities of the same shape when
    ``return_velocity``. ``noise_scale`` tempers the target to ``p^(1/noise_scale²)``.
    """
    x = _as_2d(x0).copy()
    v = np.zeros_like(x) if v0 is None else _as_2d(v0).copy()
    if v.shape != x.shape:
        raise ValueError(f"v0 shape {v.shape} != x0 shape {x.shape}")
    eps = float(eps)
    lam = float(gamma_eps)
    every = max(int(record_every), 1)
    n_rec = int(n_steps) // every + 1
    xs = np.empty((x.shape[0], n_rec, x.shape[1]))
    xs[:, 0] = x
    vs = np.empty_like(xs) if return_velocity else None
    if vs is not None:
        vs[:, 0] = v
    amp = float(noise_scale) * np.sqrt(2.0 * lam) if lam >= 0 else float("nan")
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, int(n_steps) + 1):
            v = (1.0 - lam) * v + eps * score_fn(x) + amp * rng.standard_normal(x.shape)
            x = x + eps * v
            if t % every == 0:
                xs[:, t // every] = x
                if vs is not None:
                    vs[:, t // every] = v
    return (xs, vs) if return_velocity else xs


# ---------------------------------------------------------------------------------------------
# 4a. Gauss–Markov toy: analytic time-varying score
# ---------------------------------------------------------------------------------------------


def gauss_markov_marginals(rho, q, m0, P0, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Marginals of ``x_{t+1} = ρ x_t + η``, ``η ~ N(0, q)``, ``x_0 ~ N(m0, P0)``.

    Scalars or per-dimension arrays (broadcast together). Exact recursion
    ``m_{t+1} = ρ m_t``, ``P_{t+1} = ρ² P_t + q``. Returns ``(m, P)`` each of shape
    ``(n_steps + 1,) + broadcast shape``, index t = 0..n_steps.
    """
    rho, q, m0, P0 = (np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(rho, q, m0, P0))
    m = np.empty((int(n_steps) + 1,) + rho.shape)
    P = np.empty_like(m)
    m[0], P[0] = m0, P0
    for t in range(int(n_steps)):
        m[t + 1] = rho * m[t]
        P[t + 1] = rho**2 * P[t] + q
    return m, P


def gauss_markov_score(x, t, m: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Exact score of the time-t marginal: ``−(x − m_t) / P_t`` (``t`` int or int array, broadcast with x)."""
    t = np.asarray(t, dtype=int)
    return -(np.asarray(x, dtype=np.float64) - m[t]) / P[t]


def stationary_variance(rho, q) -> np.ndarray:
    """``q / (1 − ρ²)``; inf where |ρ| ≥ 1 (no stationary law)."""
    rho = np.asarray(rho, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(rho) < 1.0, q / (1.0 - rho**2), np.inf)


def pooled_gaussian(m: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Single-Gaussian approximation of the time-pooled density.

    The pooled density is the equal-weight mixture over t of ``N(m_t, P_t)``; it is replaced by
    the Gaussian with the mixture's mean and variance (law of total variance):
    ``m_pool = mean_t m_t``, ``P_pool = mean_t P_t + var_t m_t``. That is the density a
    time-blind (stationary) Gaussian fit to all states would find. Returns ``(m_pool, P_pool)``.
    """
    m = np.asarray(m, dtype=np.float64)
    P = np.asarray(P, dtype=np.float64)
    return m.mean(axis=0), P.mean(axis=0) + m.var(axis=0)


def pooled_score_rate(m: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Leak rate ``1 / P_pool`` of the pooled score ``−(x − m_pool) / P_pool`` (see :func:`pooled_gaussian`)."""
    return 1.0 / pooled_gaussian(m, P)[1]


def score_rate_gap(P_t: np.ndarray, pooled_rate) -> np.ndarray:
    """Relative distance of the exact score rate from the pooled one per t:
    ``|1/P_t − rate_pool| / rate_pool``.

    ``pooled_rate`` is ``1/P_pool`` as returned by :func:`pooled_score_rate`; dividing by it
    measures every t against the same yardstick, the rate a time-pooled sampler would use. Zero
    at every t exactly when the marginal variance is constant and equal to the pooled one.
    """
    rate_t = 1.0 / np.asarray(P_t, dtype=np.float64)
    pooled = np.asarray(pooled_rate, dtype=np.float64)
    return np.abs(rate_t - pooled) / pooled


# ---------------------------------------------------------------------------------------------
# 4b. Time-varying score of trained networks
# ---------------------------------------------------------------------------------------------


def _gauss_fit(z: np.ndarray, reg: float) -> tuple[np.ndarray, np.ndarray]:
    mean = z.mean(axis=0)
    zc = z - mean
    cov = zc.T @ zc / max(z.shape[0], 1) + reg * np.eye(z.shape[1])
    return mean, np.linalg.inv(cov)


def time_binned_score_gap(
    states: np.ndarray,
    n_bins: int,
    n_pca: int,
    seed: int = 0,
    ridge: float = 1e-6,
    max_states: int | None = 50_000,
) -> dict[str, np.ndarray | float]:
    """How far the per-time score is from the time-pooled (stationary) score.

    ``states`` (trial, time, N), NaN allowed (those states are skipped). The time axis is cut
    into ``n_bins`` contiguous bins (``np.array_split``). A common PCA basis (``n_pca``
    components) is fitted on all pooled states (a seeded subset of ``max_states`` when there are
    more). In it, a Gaussian p̂_b is fitted per bin (the states of all trials in that bin) and one
    pooled Gaussian p̂ over all times. At the bin's states, with ``s_b = ∇ log p̂_b`` and
    ``s_pool = ∇ log p̂``::

        gap_b = mean ‖s_b − s_pool‖ / mean ‖s_b‖

    Returns ``gap_per_bin`` (n_bins,) (NaN for a bin with < 2 states) and ``gap_mean`` (nanmean).
    Note the finite-sample floor: with n states per bin, estimation noise alone gives a gap of
    order √(n_pca / n).
    """
    x = np.asarray(states, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(f"states must be (trial, time, N), got shape {x.shape}")
    flat = x.reshape(-1, x.shape[-1])
    flat = _finite_rows(flat)
    if max_states is not None and flat.shape[0] > max_states:
        keep = np.sort(np.random.default_rng(seed).choice(flat.shape[0], int(max_states), replace=False))
        flat_fit = flat[keep]
    else:
        flat_fit = flat
    mu, comps, var = fit_pca(flat_fit, n_pca)
    reg = float(ridge) * max(float(np.mean(var)), np.finfo(float).tiny)
    m_pool, prec_pool = _gauss_fit((flat - mu) @ comps.T, reg)
    gaps = np.full(int(n_bins), np.nan)
    for b, idx in enumerate(np.array_split(np.arange(x.shape[1]), int(n_bins))):
        xb = _finite_rows(x[:, idx].reshape(-1, x.shape[-1]))
        if xb.shape[0] < 2:
            continue
        zb = (xb - mu) @ comps.T
        m_b, prec_b = _gauss_fit(zb, reg)
        s_b = -(zb - m_b) @ prec_b
        s_pool = -(zb - m_pool) @ prec_pool
        denom = np.mean(np.linalg.norm(s_b, axis=1))
        if denom > 0:
            gaps[b] = np.mean(np.linalg.norm(s_b - s_pool, axis=1)) / denom
    gap_mean = float(np.nanmean(gaps)) if np.isfinite(gaps).any() else float("nan")
    return {"gap_per_bin": gaps, "gap_mean": gap_mean}


__all__ = [
    "Density",
    "fit_pca",
    "fit_density",
    "drift_score_alignment",
    "fitted_step",
    "friction_from_lambda_v",
    "rnn_langevin_params",
    "overdamped_langevin",
    "underdamped_langevin",
    "gauss_markov_marginals",
    "gauss_markov_score",
    "stationary_variance",
    "pooled_gaussian",
    "pooled_score_rate",
    "score_rate_gap",
    "time_binned_score_gap",
]
