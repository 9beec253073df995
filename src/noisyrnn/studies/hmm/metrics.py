"""Emission metrics (HMM.md §4): pure functions of symbol sequences (n, T) of ints in {0, 1, 2}.

- :func:`aligned_distance`: a log-domain Sinkhorn plan (POT, ε, Euclidean cost) between two
  sets of flattened one-hot sequences; each sequence of the first set is matched to the one of
  the second with the largest plan weight, and the mean L2 of the matched pairs is returned.
  For one-hot sequences the L2 is √(2 · mismatches).
- :func:`transition_matrix`: the pooled, row-normalised 3×3 matrix of consecutive symbols.
- :func:`marginals`, :func:`volatility`: per-sequence symbol fractions and symbol changes.
- :func:`iid_volatility`: the volatility of i.i.d. symbols with the same marginals,
  (T − 1)(1 − Σ p_k²), the plateau diagnostic's yardstick.
"""

from __future__ import annotations

import numpy as np

N_SYMBOLS = 3


def _check(symbols, name="symbols") -> np.ndarray:
    s = np.asarray(symbols)
    if s.ndim != 2 or s.size == 0:
        raise ValueError(f"{name}: need a non-empty (n, T) array, got shape {s.shape}")
    return s.astype(np.int64)


def distances(a, b) -> np.ndarray:
    """(n_a, n_b) Euclidean distances between the one-hot sequences of ``a`` and ``b``."""
    a, b = _check(a, "a"), _check(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"sequences of length {a.shape[1]} and {b.shape[1]}")
    oa = np.eye(N_SYMBOLS, dtype=np.float32)[a].reshape(len(a), -1)
    ob = np.eye(N_SYMBOLS, dtype=np.float32)[b].reshape(len(b), -1)
    mismatches = a.shape[1] - oa @ ob.T
    return np.sqrt(2.0 * np.clip(mismatches, 0, None)).astype(np.float64)


def aligned_distance(a, b, *, eps: float = 0.1, max_iter: int = 1000, tol: float = 0.1) -> float:
    """Mean L2 between each sequence of ``a`` and its Sinkhorn-matched sequence of ``b``."""
    import ot

    cost = distances(a, b)
    wa = np.full(cost.shape[0], 1.0 / cost.shape[0])
    wb = np.full(cost.shape[1], 1.0 / cost.shape[1])
    plan = ot.sinkhorn(wa, wb, cost, reg=float(eps), method="sinkhorn_log",
                       numItermax=int(max_iter), stopThr=float(tol))
    match = np.argmax(plan, axis=1)
    return float(cost[np.arange(len(cost)), match].mean())


def transition_matrix(symbols) -> np.ndarray:
    """Row-normalised counts of (s_t, s_{t+1}) pooled over sequences; NaN rows for a symbol
    that never occurs before the last step."""
    s = _check(symbols)
    counts = np.zeros((N_SYMBOLS, N_SYMBOLS))
    np.add.at(counts, (s[:, :-1].ravel(), s[:, 1:].ravel()), 1)
    rows = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rows > 0, counts / np.where(rows > 0, rows, 1), np.nan)


def marginals(symbols) -> np.ndarray:
    """(n, 3) per-sequence symbol fractions."""
    s = _check(symbols)
    return np.stack([(s == k).mean(axis=1) for k in range(N_SYMBOLS)], axis=1)


def volatility(symbols) -> np.ndarray:
    """(n,) symbol changes per sequence."""
    s = _check(symbols)
    return (s[:, 1:] != s[:, :-1]).sum(axis=1).astype(float)


def iid_volatility(length: int, p) -> float:
    """Expected changes per sequence of ``length`` i.i.d. symbols with probabilities ``p``."""
    p = np.asarray(p, float)
    return float((length - 1) * (1.0 - np.sum(p ** 2)))


def left_plateau(vol: float, length: int, p, ratio: float) -> bool:
    """HMM.md §4 (reconstructed): a network that matches the marginals but emits i.i.d. symbols
    has volatility v_iid; it has left the plateau if its volatility ≤ ``ratio`` × v_iid."""
    return bool(np.isfinite(vol) and vol <= ratio * iid_volatility(length, p))
