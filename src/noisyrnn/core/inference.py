"""The one inference module behind every study's claims table and figures.

Seeds are the unit of replication: every interval is a Student-t interval over per-seed values
(one-sample, paired differences, or Welch for unpaired arms), and a claim's verdict is the
two-sided t-test of its null at level ``alpha``. With 3-10 seeds the t reference distribution is
what keeps the false-verdict rate at ``alpha``; a percentile bootstrap over so few seeds is far
too narrow (about 25 % false verdicts at 3 seeds, see tests/unit/core/test_verdict_calibration.py).
Multi-part claims are Holm-adjusted within the claim, an "at least as" claim is the same test
against a null shifted to ``-margin`` on the claimed side (non-inferiority), and censored times (steps to reach a target) are summarised by
Kaplan-Meier so runs that never reach the target are not silently dropped.

Pure functions of arrays: no I/O and nothing else from the package.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

# The ufunc t CDF / quantile rather than scipy.stats.t: the same distribution at ~1/50 of the
# per-call cost, which matters when claims, figures and calibration call them thousands of times.
from scipy.special import stdtr, stdtrit

SUPPORTED = "supported"
CONTRADICTED = "contradicted"
INCONCLUSIVE = "inconclusive"
VERDICTS = (SUPPORTED, CONTRADICTED, INCONCLUSIVE)

@dataclass(frozen=True)
class Estimate:
    """A mean (or mean difference) over seeds with its t interval and two-sided test of ``null``."""

    estimate: float
    lo: float
    hi: float
    n: int
    se: float
    df: float
    p: float
    null: float = 0.0


def _finite(x) -> np.ndarray:
    x = np.asarray(x, dtype=float).ravel()
    return x[np.isfinite(x)]


def _mean_var(x: np.ndarray) -> tuple[float, float]:
    # Constant samples get an exact mean and zero variance: floating-point summation would
    # otherwise leave a ~1e-17 spread and turn "identical to the null" into a huge t statistic.
    if np.all(x == x[0]):
        return float(x[0]), 0.0
    return float(x.mean()), float(x.var(ddof=1))


def _t_estimate(est: float, se: float, df: float, n: int, ci: float, null: float) -> Estimate:
    if not 0.0 < ci < 1.0:
        raise ValueError(f"ci must be in (0, 1), got {ci}")
    if se == 0.0:
        p = 0.0 if est != null else 1.0
        return Estimate(est, est, est, n, 0.0, float(df), p, null)
    half = float(stdtrit(df, 0.5 + ci / 2.0)) * se
    p = 2.0 * float(stdtr(df, -abs(est - null) / se))
    return Estimate(est, est - half, est + half, n, se, float(df), p, null)


def _undefined(est: float, n: int, null: float) -> Estimate:
    return Estimate(est, np.nan, np.nan, n, np.nan, np.nan, np.nan, null)


def mean_interval(x, ci: float = 0.95, null: float = 0.0) -> Estimate:
    """Student-t interval for the mean of the finite values of ``x`` and the two-sided p-value
    of H0: mean == ``null``. Bounds, se, df and p are NaN below two values; a zero-variance
    sample collapses the interval to the point (p = 0 unless the point equals the null)."""
    x = _finite(x)
    n = x.size
    if n < 2:
        return _undefined(float(x[0]) if n else np.nan, n, null)
    mean, var = _mean_var(x)
    return _t_estimate(mean, np.sqrt(var / n), n - 1, n, ci, null)


def paired_interval(a, b, ci: float = 0.95, null: float = 0.0) -> Estimate:
    """t interval of the per-seed differences ``a - b``; a pair with a non-finite value in either
    arm is dropped, so ``n`` counts complete pairs."""
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired arms differ in length: {a.size} vs {b.size}")
    keep = np.isfinite(a) & np.isfinite(b)
    return mean_interval(a[keep] - b[keep], ci=ci, null=null)


def two_sample_interval(a, b, ci: float = 0.95, null: float = 0.0) -> Estimate:
    """Welch interval for ``mean(a) - mean(b)`` with Welch-Satterthwaite df, for arms whose seeds
    are not paired. Non-finite values are dropped per arm; ``n`` is the total used; the interval
    needs at least two values in each arm."""
    a, b = _finite(a), _finite(b)
    na, nb = a.size, b.size
    if na < 2 or nb < 2:
        est = float(a.mean() - b.mean()) if na and nb else np.nan
        return _undefined(est, na + nb, null)
    (ma, va), (mb, vb) = _mean_var(a), _mean_var(b)
    wa, wb = va / na, vb / nb
    se = np.sqrt(wa + wb)
    # With both arms constant the Satterthwaite ratio is 0/0; the interval collapses to the point
    # anyway, so the pooled df is reported only to keep df finite.
    df = (wa + wb) ** 2 / (wa**2 / (na - 1) + wb**2 / (nb - 1)) if se > 0 else na + nb - 2
    return _t_estimate(ma - mb, float(se), df, na + nb, ci, null)


def _check_direction(direction: int) -> None:
    if direction not in (1, -1):
        raise ValueError(f"direction must be +1 or -1, got {direction!r}")


def _gate(est: Estimate, min_n: int) -> str:
    """Why no verdict can be given for ``est`` ("" when one can)."""
    if est.n == 0:
        return "no data: no verdict"
    if est.n < min_n:
        return f"n={est.n} < {min_n} seeds: no verdict"
    if not (np.isfinite(est.estimate) and np.isfinite(est.se)):
        return f"estimate or interval missing (n={est.n}): no verdict"
    return ""


def verdict(
    est: Estimate, direction: int, *, alpha: float = 0.05, min_n: int = 3, p: float | None = None
) -> tuple[str, str]:
    """Verdict on the claim "effect is on side ``direction`` (+1 above, -1 below) of est.null".

    Supported / contradicted when the test rejects the null (``p`` if given, e.g. Holm-adjusted,
    else ``est.p``) at ``alpha`` with the estimate on the claimed / opposite side; otherwise
    inconclusive. With ``p=None`` this is exactly "the (1 - alpha) t-interval excludes the null on
    the claimed / opposite side". Returns ``(verdict, note)``; the note says why no verdict was
    possible and is "" otherwise.
    """
    _check_direction(direction)
    reason = _gate(est, min_n)
    if reason:
        return INCONCLUSIVE, reason
    p = est.p if p is None else float(p)
    if not np.isfinite(p):
        return INCONCLUSIVE, "p-value missing: no verdict"
    if p >= alpha:
        return INCONCLUSIVE, ""
    side = np.sign(est.estimate - est.null)
    if side == direction:
        return SUPPORTED, ""
    if side == -direction:
        return CONTRADICTED, ""
    return INCONCLUSIVE, ""


def _adjust(pvalues, step) -> np.ndarray:
    """Apply ``step`` (ascending sorted p -> adjusted p) to the non-NaN entries of ``pvalues``."""
    p = np.asarray(pvalues, dtype=float)
    flat = p.ravel()
    ok = ~np.isnan(flat)
    v = flat[ok]
    if np.any((v < 0) | (v > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    order = np.argsort(v, kind="stable")
    adj = np.empty_like(v)
    adj[order] = np.minimum(step(v[order], v.size), 1.0)
    out = np.full(flat.shape, np.nan)
    out[ok] = adj
    return out.reshape(p.shape)


def holm(pvalues) -> np.ndarray:
    """Holm step-down adjusted p-values (family-wise error control under any dependence).
    NaN entries stay NaN and do not count towards the family size m."""
    return _adjust(pvalues, lambda s, m: np.maximum.accumulate((m - np.arange(m)) * s))


def bh(pvalues) -> np.ndarray:
    """Benjamini-Hochberg q-values (false-discovery-rate control), monotone step-up.
    NaN entries stay NaN and do not count towards m."""
    return _adjust(
        pvalues, lambda s, m: np.minimum.accumulate((s * m / np.arange(1, m + 1))[::-1])[::-1]
    )


def _parts(verdicts) -> list[str]:
    v = list(verdicts)
    if not v or any(x not in VERDICTS for x in v):
        raise ValueError(f"need one or more verdicts from {VERDICTS}, got {v}")
    return v


def combine_all(verdicts) -> str:
    """Claim "every part holds": supported if all parts are, contradicted if any part is."""
    v = _parts(verdicts)
    if CONTRADICTED in v:
        return CONTRADICTED
    return SUPPORTED if all(x == SUPPORTED for x in v) else INCONCLUSIVE


def combine_any(verdicts) -> str:
    """Claim "some part holds": supported if a part is and none is contradicted, contradicted
    only if every part is."""
    v = _parts(verdicts)
    if all(x == CONTRADICTED for x in v):
        return CONTRADICTED
    return SUPPORTED if SUPPORTED in v and CONTRADICTED not in v else INCONCLUSIVE


def multipart(
    parts, rule: str, *, alpha: float = 0.05, min_n: int = 3
) -> tuple[str, list[tuple[str, str]], np.ndarray]:
    """Verdict on a claim made of several ``(Estimate, direction)`` parts combined by ``rule``
    ("all" or "any"). Part p-values are Holm-adjusted within the claim, so the chance that a null
    claim gets any non-inconclusive verdict stays <= alpha. Returns
    ``(claim verdict, [(part verdict, note), ...], adjusted p-values)``.
    """
    combine = {"all": combine_all, "any": combine_any}.get(rule)
    if combine is None:
        raise ValueError(f"rule must be 'all' or 'any', got {rule!r}")
    parts = list(parts)
    if not parts:
        raise ValueError("a claim needs at least one part")
    adj = holm([est.p for est, _ in parts])
    per = [verdict(est, d, alpha=alpha, min_n=min_n, p=q) for (est, d), q in zip(parts, adj)]
    return combine([v for v, _ in per]), per, adj


def km_summary(times, observed, horizon: float) -> dict:
    """Kaplan-Meier summary of censored times-to-event, e.g. steps to reach a target.

    ``observed`` False means the event did not happen by the recorded time (typically the run
    never reached the target, time = ``horizon``); non-finite times and times beyond ``horizon``
    are censored at ``horizon``. Returns ``median`` (the first time the KM curve is <= 0.5, or
    ``inf`` when it never gets there: more than half the runs are horizon-censored), ``rmst``
    (area under the KM curve up to ``horizon``), ``fraction`` (share of runs observed) and ``n``.
    """
    t = np.asarray(times, dtype=float).ravel()
    e = np.asarray(observed, dtype=bool).ravel()
    if t.shape != e.shape:
        raise ValueError(f"times and observed differ in length: {t.size} vs {e.size}")
    if not (np.isfinite(horizon) and horizon > 0):
        raise ValueError(f"horizon must be finite and > 0, got {horizon}")
    if t.size == 0:
        return {"median": np.nan, "rmst": np.nan, "fraction": np.nan, "n": 0}
    if np.any(e & (np.isnan(t) | (t < 0))):
        raise ValueError("observed times must be numbers >= 0")
    e = e & (t <= horizon)
    t = np.where(np.isfinite(t), np.minimum(t, horizon), horizon)
    # lifelines (and the pandas stack under it) is imported only by the survival summaries.
    from lifelines import KaplanMeierFitter
    from lifelines.utils import restricted_mean_survival_time

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        km = KaplanMeierFitter().fit(t, e)
        median = float(km.median_survival_time_)
        rmst = float(restricted_mean_survival_time(km, t=horizon))
    return {"median": median, "rmst": rmst, "fraction": float(e.mean()), "n": int(t.size)}


def mean_ci_over_axis0(values, ci: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-column ``(mean, lo, hi)`` over the first axis (seeds) of an array of any shape, using
    the finite values of each column and the same t interval as :func:`mean_interval`."""
    if not 0.0 < ci < 1.0:
        raise ValueError(f"ci must be in (0, 1), got {ci}")
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    n = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, v, 0.0).sum(axis=0) / n
        ss = (np.where(ok, v - mean, 0.0) ** 2).sum(axis=0)
        se = np.sqrt(ss / (n - 1) / n)  # NaN below two values, as in mean_interval
    half = stdtrit(n - 1, 0.5 + ci / 2.0) * se
    return mean, mean - half, mean + half
