"""Critical delays, the learning-rate scaling law and the theory curves (STM.md §4).

Pure numpy/scipy functions: no file I/O, no torch, no global random state (every random draw
takes a ``numpy.random.Generator``; ``rng=None`` means ``default_rng(0)``, so results repeat).

Pipeline: per (lr, delay) fraction of *not learned* networks → :func:`critical_delays` (onset
``T0`` of a piecewise-exponential fit, in ms) → :func:`fit_power_law` (``log lr = B log T0 +
log A``, ``β = |B|``) → :func:`bootstrap_beta` (whole seeds resampled, the project's CI).
Logarithms are natural; β does not depend on the base, ``logA`` does.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats
from scipy.optimize import OptimizeWarning, curve_fit
from scipy.special import expit

__all__ = [
    "onset_curve",
    "fit_onset",
    "critical_delays",
    "fit_power_law",
    "bootstrap_beta",
    "sigmoid_curve",
    "fit_sigmoid",
    "eta_c_sp",
    "eta_c_lc",
    "lc_toy_loss_numeric",
    "lc_toy_loss_analytic",
]


# ---------------------------------------------------------------------------------------------
# onset fit and critical delay
# ---------------------------------------------------------------------------------------------


def onset_curve(T: ArrayLike, T0: float, a: float) -> np.ndarray:
    """Not-learned fraction model: 0 for ``T < T0``, ``1 − exp(−a (T − T0))`` for ``T ≥ T0``.

    ``T`` and ``T0`` in ms, ``a`` in 1/ms. ``T0`` is the onset of failure, the *critical delay*
    whose scaling with the learning rate gives β (STM.md §7: the onset, not a 50 % crossing).
    """
    T = np.asarray(T, dtype=float)
    return 1.0 - np.exp(-a * np.maximum(T - T0, 0.0))


def _finite_pairs(delays_ms: ArrayLike, frac: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """The (delay, fraction) points a curve fit uses: both finite; ValueError when the two
    arrays differ in length."""
    x = np.asarray(delays_ms, dtype=float).ravel()
    y = np.asarray(frac, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"delays {x.shape} and fractions {y.shape} differ in length")
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def _onset_jac(T: np.ndarray, T0: float, a: float) -> np.ndarray:
    """Jacobian of :func:`onset_curve` in ``(T0, a)``: zero below ``T0``."""
    dt = np.maximum(T - T0, 0.0)
    e = np.exp(-a * dt)
    on = T >= T0
    return np.stack([np.where(on, -a * e, 0.0), dt * e], axis=-1)


def fit_onset(
    delays_ms: ArrayLike,
    frac: ArrayLike,
    p0: tuple[float, float] = (0.1, 0.1),
    *,
    a_max: float | None = 1.0,
) -> tuple[float, float]:
    """Least-squares fit of :func:`onset_curve` to ``frac`` over ``delays_ms``: ``(T0, a)``.

    Starts from ``p0`` (the authors' ``[0.1, 0.1]``; ``[0.5, 0.1]`` for the post family), with
    scipy's default unbounded Levenberg–Marquardt, as the authors fit. Non-finite fractions are
    dropped.

    When the fraction jumps from ~0 to 1 between two neighbouring delays (common with few
    seeds), the least-squares optimum has ``a → ∞`` and LM stops without converging, although
    ``T0`` is well determined (just below the jump): every steep enough curve fits, with T0
    within one grid step. Only then, if ``a_max`` is set, ``T0`` alone is fitted with ``a`` held
    at ``a_max`` (returned as ``a``); the default 1/ms takes the fraction from 0 to 1 − e⁻⁵
    within 5 ms, one Δt, so it stands in for "a step".
    ``(nan, nan)`` when both fail, the result is non-finite, or there are fewer than 2 points.
    """
    x, y = _finite_pairs(delays_ms, frac)
    if x.size < 2:
        return float("nan"), float("nan")
    start = np.asarray(p0, dtype=float)
    popt = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            popt, _ = curve_fit(onset_curve, x, y, p0=start, jac=_onset_jac)
        except (RuntimeError, ValueError):
            popt = None
        if popt is None and a_max is not None and np.any(y > 0):
            # T0 alone, a held at a_max, from just below the first delay with failures (from
            # far below, the gradient in T0 of a steep curve vanishes)
            t_start = x[y > 0].min() - 1e-6
            try:
                t0, _ = curve_fit(lambda t, T0: onset_curve(t, T0, a_max), x, y, p0=[t_start],
                                  jac=lambda t, T0: _onset_jac(t, T0, a_max)[:, :1])
                popt = np.array([t0[0], a_max])
            except (RuntimeError, ValueError):
                popt = None
    if popt is None or not np.all(np.isfinite(popt)):
        return float("nan"), float("nan")
    return float(popt[0]), float(popt[1])


def critical_delays(
    frac_not_learned: ArrayLike,
    delays_ms: ArrayLike,
    *,
    min_frac: float = 0.1,
    p0: tuple[float, float] = (0.1, 0.1),
) -> np.ndarray:
    """Critical delay ``T0`` (ms) per learning rate from a (n_lr, n_delay) not-learned fraction.

    An lr whose not-learned fraction never reaches ``min_frac`` (0.1; 0.2 for post) has no
    failure onset in the delay range and gets NaN, as does one whose fit fails.
    """
    f = np.atleast_2d(np.asarray(frac_not_learned, dtype=float))
    d = np.asarray(delays_ms, dtype=float).ravel()
    if f.shape[1] != d.size:
        raise ValueError(f"fractions have {f.shape[1]} delays, delays_ms has {d.size}")
    out = np.full(f.shape[0], np.nan)
    for i, row in enumerate(f):
        finite = row[np.isfinite(row)]
        if finite.size == 0 or finite.max() < min_frac:
            continue
        out[i] = fit_onset(d, row, p0)[0]
    return out


# ---------------------------------------------------------------------------------------------
# power law
# ---------------------------------------------------------------------------------------------


def _nan_fit(n: int) -> dict[str, Any]:
    empty = np.array([], dtype=float)
    return dict(beta=np.nan, se=np.nan, B=np.nan, logA=np.nan, r2=np.nan, p=np.nan, n=n,
                band_T=empty, band_lo=empty, band_hi=empty)


def fit_power_law(
    lrs: ArrayLike,
    T0: ArrayLike,
    *,
    min_points: int = 4,
    n_band: int = 1000,
    n_grid: int = 100,
    rng: np.random.Generator | None = None,
) -> dict[str, Any]:
    """Fit ``log lr = B log T0 + log A`` by ordinary least squares (STM.md §4, Scaling).

    Only points with finite, positive ``lr`` and ``T0`` enter. Returns a dict:

    * ``beta = |B|`` and ``se``, the standard error of ``B`` from the OLS covariance
      (``np.polyfit(..., cov=True)``, residual variance on n − 2 degrees of freedom; equal to
      ``scipy.stats.linregress``'s ``stderr``); ``B`` and ``logA`` themselves;
    * ``r2`` and ``p`` (two-sided test of zero slope) from ``scipy.stats.linregress``;
    * ``n``, the number of points used;
    * ``band_T`` (``n_grid`` values log-spaced over the fitted T0 range) with ``band_lo`` /
      ``band_hi``: the 2.5 / 97.5 percentiles of ``lr = exp(B log T + log A)`` over ``n_band``
      draws of ``(B, log A)`` from the bivariate normal of the fit's estimate and covariance.
      ``n_band=0`` skips the band (empty arrays).

    With fewer than ``min_points`` usable points (the stated rule: a β from fewer than 4 learning
    rates gets no verdict) everything but ``n`` is NaN and the band is empty: no estimate.
    """
    if min_points < 3:
        raise ValueError("min_points must be at least 3 (a slope's SE needs n − 2 > 0)")
    x_lr = np.asarray(lrs, dtype=float).ravel()
    x_t0 = np.asarray(T0, dtype=float).ravel()
    if x_lr.shape != x_t0.shape:
        raise ValueError(f"lrs {x_lr.shape} and T0 {x_t0.shape} differ in length")
    keep = np.isfinite(x_lr) & np.isfinite(x_t0) & (x_lr > 0) & (x_t0 > 0)
    n = int(keep.sum())
    if n < min_points:
        return _nan_fit(n)
    x = np.log(x_t0[keep])
    y = np.log(x_lr[keep])
    if np.ptp(x) == 0:
        return _nan_fit(n)
    coef, cov = np.polyfit(x, y, 1, cov=True)
    B, logA = float(coef[0]), float(coef[1])
    reg = stats.linregress(x, y)
    out = dict(beta=abs(B), se=float(np.sqrt(cov[0, 0])), B=B, logA=logA,
               r2=float(reg.rvalue**2), p=float(reg.pvalue), n=n)
    if n_band > 0:
        rng = np.random.default_rng(0) if rng is None else rng
        band_T = np.exp(np.linspace(x.min(), x.max(), n_grid))
        draws = rng.multivariate_normal(coef, cov, size=n_band, method="svd")
        pred = draws[:, :1] * np.log(band_T)[None, :] + draws[:, 1:]
        lo, hi = np.percentile(pred, [2.5, 97.5], axis=0)
        out.update(band_T=band_T, band_lo=np.exp(lo), band_hi=np.exp(hi))
    else:
        empty = np.array([], dtype=float)
        out.update(band_T=empty, band_lo=empty, band_hi=empty)
    return out


def _beta(lrs: np.ndarray, T0: np.ndarray, min_points: int) -> float:
    """β of :func:`fit_power_law` alone (the same OLS slope, without SE, R², p or band)."""
    keep = np.isfinite(lrs) & np.isfinite(T0) & (lrs > 0) & (T0 > 0)
    if keep.sum() < min_points:
        return float("nan")
    x = np.log(T0[keep])
    if np.ptp(x) == 0:
        return float("nan")
    return float(abs(np.polyfit(x, np.log(lrs[keep]), 1)[0]))


def bootstrap_beta(
    not_learned: ArrayLike,
    delays_ms: ArrayLike,
    lrs: ArrayLike,
    *,
    n_boot: int = 1000,
    min_frac: float = 0.1,
    p0: tuple[float, float] = (0.1, 0.1),
    min_points: int = 4,
    level: float = 0.95,
    rng: np.random.Generator | None = None,
) -> dict[str, Any]:
    """Percentile bootstrap CI of β, resampling whole seeds.

    ``not_learned`` is (n_seed, n_lr, n_delay), 1/True where that network did not learn (NaN for
    a missing network, ignored in the fractions). Seed ``i`` has the same initial weights at every
    lr and delay (paired design), so its outcomes are correlated across the grid; resampling
    seeds as whole slices keeps that correlation, which per-cell resampling would destroy. Each
    draw recomputes the fractions, :func:`critical_delays` and :func:`fit_power_law`'s β.

    Returns ``lo``, ``hi`` (percentiles ``(1 ∓ level)/2`` of the valid draws), ``draws`` (all
    ``n_boot`` β values, NaN where a draw had fewer than ``min_points`` usable lrs) and
    ``n_valid``. ``lo``/``hi`` are NaN when no draw is valid.
    """
    x = np.asarray(not_learned, dtype=float)
    if x.ndim != 3:
        raise ValueError(f"expected (n_seed, n_lr, n_delay), got shape {x.shape}")
    lr = np.asarray(lrs, dtype=float).ravel()
    if lr.size != x.shape[1]:
        raise ValueError(f"{x.shape[1]} lrs in the array, {lr.size} in lrs")
    rng = np.random.default_rng(0) if rng is None else rng
    n_seed = x.shape[0]
    draws = np.full(n_boot, np.nan)
    for b in range(n_boot):
        idx = rng.integers(0, n_seed, size=n_seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells
            frac = np.nanmean(x[idx], axis=0)
        t0 = critical_delays(frac, delays_ms, min_frac=min_frac, p0=p0)
        draws[b] = _beta(lr, t0, min_points)
    valid = draws[np.isfinite(draws)]
    if valid.size == 0:
        lo = hi = float("nan")
    else:
        alpha = 1.0 - level
        lo, hi = (float(v) for v in np.percentile(valid, [100 * alpha / 2, 100 * (1 - alpha / 2)]))
    return dict(lo=lo, hi=hi, draws=draws, n_valid=int(valid.size))


# ---------------------------------------------------------------------------------------------
# SP boundary
# ---------------------------------------------------------------------------------------------


def sigmoid_curve(T: ArrayLike, T0: float, k: float) -> np.ndarray:
    """``1 / (1 + exp(−k (T − T0)))``; ``k < 0`` for a fraction that falls with delay."""
    return expit(k * (np.asarray(T, dtype=float) - T0))


def fit_sigmoid(
    delays_ms: ArrayLike, frac_sp: ArrayLike, p0: tuple[float, float] | None = None
) -> tuple[float, float]:
    """Least-squares fit of :func:`sigmoid_curve` to the SP fraction: ``(T0, k)``.

    The SP boundary of STM.md §4. Without ``p0`` the start is the first delay where the fraction
    crosses 0.5 (else the mid delay) with slope ``±4 / range``, its sign that of the data's trend,
    so a falling fraction starts with a falling curve. ``(nan, nan)`` on failure.
    """
    x, y = _finite_pairs(delays_ms, frac_sp)
    if x.size < 2 or np.ptp(x) == 0:
        return float("nan"), float("nan")
    if p0 is None:
        order = np.argsort(x)
        xs, ys = x[order], y[order]
        side = ys >= 0.5
        cross = np.flatnonzero(side[1:] != side[:-1])
        t_start = 0.5 * (xs[cross[0]] + xs[cross[0] + 1]) if cross.size else 0.5 * (xs[0] + xs[-1])
        trend = np.sign(np.corrcoef(xs, ys)[0, 1]) if np.ptp(ys) > 0 else -1.0
        p0 = (float(t_start), float((trend or -1.0) * 4.0 / np.ptp(xs)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            popt, _ = curve_fit(sigmoid_curve, x, y, p0=np.asarray(p0, dtype=float))
    except (RuntimeError, ValueError):
        return float("nan"), float("nan")
    if not np.all(np.isfinite(popt)):
        return float("nan"), float("nan")
    return float(popt[0]), float(popt[1])


# ---------------------------------------------------------------------------------------------
# theory (times in steps)
# ---------------------------------------------------------------------------------------------


def eta_c_sp(T_delay: ArrayLike, T_resp: ArrayLike) -> np.ndarray:
    """Critical lr of the SP toy (dx/dt = x² + r): ``(π⁴/4) · T_resp · T_delay^(−5)``, in steps.

    β = 5 at fixed ``T_resp``; 4 when ``T_resp ∝ T_delay``: the theory range [4, 5].
    """
    return (np.pi**4 / 4.0) * np.asarray(T_resp, dtype=float) * np.asarray(T_delay, dtype=float) ** -5.0


def eta_c_lc(T_delay: ArrayLike, T_resp: ArrayLike) -> np.ndarray:
    """Critical lr of the LC toy: ``T_resp · T_delay^(−3) / 4``, in steps.

    β = 3 at fixed ``T_resp``; 2 when ``T_resp ∝ T_delay``: the theory range [2, 3].
    """
    return np.asarray(T_resp, dtype=float) * np.asarray(T_delay, dtype=float) ** -3.0 / 4.0


# ---------------------------------------------------------------------------------------------
# LC toy loss
# ---------------------------------------------------------------------------------------------


def lc_toy_loss_numeric(
    r: ArrayLike, T_d: float, T_r: float, *, substeps: int = 1, polarity: int = 1
) -> np.ndarray:
    """LC toy loss by direct summation.

    The toy: a single learnable frequency ``r`` (cycles per step); output
    ``y(t) = H(polarity · sin(2π r t))`` with ``H(u) = 1`` for ``u > 0`` else 0 (so with the default
    ``polarity=1`` the output is 1 on the positive half-waves, 0 at ``t = 0``); target 0 during the
    delay ``t ∈ [0, T_d)`` and 1 during the response ``t ∈ [T_d, T_d + T_r)``; loss = mean of
    ``(y − target)²`` over the times ``t = k / substeps``, ``k = 0 … (T_d + T_r)·substeps − 1``.
    ``substeps=1`` is the mean over the integer steps; large ``substeps`` approaches the
    continuous-time mean that :func:`lc_toy_loss_analytic` gives in closed form.
    ``polarity=-1`` thresholds ``−sin`` (output 1 on the negative half-waves).
    """
    if polarity not in (1, -1):
        raise ValueError("polarity must be 1 or -1")
    if substeps < 1:
        raise ValueError("substeps must be >= 1")
    r_arr = np.asarray(r, dtype=float)
    n = int(round((T_d + T_r) * substeps))
    t = np.arange(n) / substeps
    target = (t >= T_d).astype(float)
    y = (polarity * np.sin(2 * np.pi * r_arr[..., None] * t) > 0).astype(float)
    return ((y - target) ** 2).mean(axis=-1)


def _positive_time(t: float, r: np.ndarray) -> np.ndarray:
    """Measure of ``{s ∈ [0, t): sin(2π r s) > 0}``: ``⌊rt⌋/(2r) + min(frac(rt), ½)/r``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        u = r * t
        g = (np.floor(u) / 2.0 + np.minimum(u - np.floor(u), 0.5)) / r
    return np.where(r > 0, g, t)


def lc_toy_loss_analytic(r: ArrayLike, T_d: float, T_r: float, *, polarity: int = 1) -> np.ndarray:
    """Closed form of the continuous-time LC toy loss (the ``substeps → ∞`` limit of
    :func:`lc_toy_loss_numeric`), for ``r ≥ 0``.

    With ``L = T_d + T_r``, half period ``h = 1/(2r)`` and ``T_r ≤ T_d / 2`` (so that the four
    breakpoints below are the only ones up to ``r = 1/T_d``), the loss ``ℓ₊`` for ``polarity=1``
    (output 1 on the positive half-waves) is, times ``L``:

    ==============================  ==================  =================================
    range of r                      L·ℓ₊                why
    ==============================  ==================  =================================
    0 < r ≤ 1/(2L)                  T_d                 output 1 all trial: delay all wrong
    1/(2L) ≤ r ≤ 1/(2T_d)           2T_d + T_r − h      output drops to 0 at h in the response
    1/(2T_d) ≤ r ≤ 1/L              h + T_r             1 on [0, h) in the delay, 0 after
    1/L ≤ r ≤ 1/T_d                 3h − T_d            second positive half-wave from 2h
    ==============================  ==================  =================================

    It is continuous, flat below ``1/(2L)`` (no gradient), and reaches its *maximum* 1 at
    ``r = 1/(2T_d)``, where the output is exactly inverted. Thresholding ``−sin`` instead
    (``polarity=-1``) gives ``ℓ₋ = 1 − ℓ₊`` (the two outputs are complementary almost
    everywhere), with pieces ``T_r``, ``h − T_d``, ``T_d − h``, ``2T_d + T_r − 3h`` (over L): that
    version is zero at ``r = 1/(2T_d)``, the minimum the brief quotes. Above ``1/T_d`` (or when
    ``T_r > T_d/2``) the table no longer applies and the value comes from the general closed form
    ``L·ℓ₊ = 2G(T_d) + T_r − G(L)``, with ``G(t)`` the positive time of ``sin(2πrs)`` on [0, t).
    At ``r = 0`` exactly, ``sin ≡ 0`` and the output is 0 for either polarity: the loss is
    ``T_r / L`` (a jump from the ``r → 0⁺`` limit ``T_d / L`` of ``polarity=1``).
    """
    if polarity not in (1, -1):
        raise ValueError("polarity must be 1 or -1")
    r_arr = np.asarray(r, dtype=float)
    if np.any(r_arr < 0):
        raise ValueError("r must be >= 0")
    L = float(T_d + T_r)
    with np.errstate(divide="ignore"):
        h = np.where(r_arr > 0, 0.5 / np.where(r_arr > 0, r_arr, 1.0), np.inf)
    general = 2 * _positive_time(T_d, r_arr) + T_r - _positive_time(L, r_arr)
    if T_r <= T_d / 2:
        err = np.select(
            [r_arr <= 1 / (2 * L), r_arr <= 1 / (2 * T_d), r_arr <= 1 / L, r_arr <= 1 / T_d],
            [np.full_like(h, T_d), 2 * T_d + T_r - h, h + T_r, 3 * h - T_d],
            default=general,
        )
    else:
        err = general
    loss = err / L
    if polarity == -1:
        loss = 1.0 - loss
    return np.where(r_arr == 0, T_r / L, loss)
