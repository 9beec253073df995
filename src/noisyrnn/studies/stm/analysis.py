"""Per-network analyses of the short-term-memory study (STM.md §4).

Pure numpy functions: no file I/O, no torch, no global random state.

* :func:`outcome_class` turns a network's per-epoch accuracy and reliability curves into
  ``"learned"``, ``"unstable"`` or ``"no_learning"`` (the last two count as *not learned*).
* :func:`psd_ratio` / :func:`index_label` are the paper's mechanism index: a limit cycle (LC) gives
  a correlation matrix that alternates in sign, whose power lies away from zero frequency; a slow
  point (SP) gives a nearly constant matrix, whose power sits at zero frequency.
* :func:`second_label` is the project's independent check of the index (reconstructed): an LC keeps
  moving and winds around its late centroid in the free run; an SP stops.
* :func:`agreement` compares two labelings of the same networks.

Labels are the strings ``"LC"`` and ``"SP"``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "LEARNED",
    "UNSTABLE",
    "NO_LEARNING",
    "OUTCOMES",
    "LABELS",
    "outcome_class",
    "top_pcs",
    "psd_ratio",
    "index_label",
    "rotations",
    "second_label",
    "agreement",
]

LEARNED = "learned"
UNSTABLE = "unstable"
NO_LEARNING = "no_learning"
OUTCOMES = (LEARNED, UNSTABLE, NO_LEARNING)
LABELS = ("LC", "SP")


# ---------------------------------------------------------------------------------------------
# outcome class
# ---------------------------------------------------------------------------------------------


def outcome_class(
    accuracy: ArrayLike,
    reliability: ArrayLike,
    *,
    learn_thr: float = 0.8,
    fail_thr: float = 0.6,
    stability_max: float = 0.1,
    last_frac: float = 0.1,
) -> str:
    """Classify one network's training run by the rule of STM.md §4.

    *Learned* needs all three of: mean accuracy > ``learn_thr`` over the last ``last_frac`` of the
    epochs; mean reliability > ``learn_thr`` over the same epochs; and stability, i.e. from the first
    epoch where both exceed ``learn_thr`` to the end, ``(#acc < fail_thr + #rel < fail_thr) /
    (#acc > fail_thr + #rel > fail_thr) < stability_max``. A final average alone would call a
    network that keeps collapsing and recovering "learned"; the stability ratio rejects it.

    A network that never has both curves above ``learn_thr`` at the same epoch is
    ``"no_learning"``; any other failure is ``"unstable"``.

    Epochs where either value is NaN are ignored: populations are stored NaN-padded to the
    longest epoch count, and a network's own run ends at its last finite epoch. The last
    ``last_frac`` is taken of the network's own finite epochs (at least one epoch). A network with
    no finite epoch is ``"no_learning"``.
    """
    acc = np.asarray(accuracy, dtype=float).ravel()
    rel = np.asarray(reliability, dtype=float).ravel()
    if acc.shape != rel.shape:
        raise ValueError(f"accuracy {acc.shape} and reliability {rel.shape} differ in length")
    if not 0.0 < last_frac <= 1.0:
        raise ValueError(f"last_frac must lie in (0, 1], got {last_frac}")
    keep = np.isfinite(acc) & np.isfinite(rel)
    acc, rel = acc[keep], rel[keep]
    n = acc.size
    if n == 0:
        return NO_LEARNING

    both = (acc > learn_thr) & (rel > learn_thr)
    if not both.any():
        return NO_LEARNING
    start = int(np.argmax(both))  # first epoch where both exceed the threshold

    n_last = max(1, int(np.ceil(last_frac * n - 1e-9)))
    final_ok = acc[-n_last:].mean() > learn_thr and rel[-n_last:].mean() > learn_thr

    a, r = acc[start:], rel[start:]
    bad = np.count_nonzero(a < fail_thr) + np.count_nonzero(r < fail_thr)
    good = np.count_nonzero(a > fail_thr) + np.count_nonzero(r > fail_thr)
    stable = good > 0 and bad / good < stability_max

    return LEARNED if (final_ok and stable) else UNSTABLE


# ---------------------------------------------------------------------------------------------
# mechanism index (the paper's)
# ---------------------------------------------------------------------------------------------


def top_pcs(x: ArrayLike, k: int = 2) -> np.ndarray:
    """Project ``x`` (time, features) on its top-``k`` principal components: (time, k).

    The mean over time is removed first; the sign of each component is fixed so that its largest
    loading is positive, which makes the projection deterministic (SVD signs are arbitrary).
    Components beyond the rank of ``x`` are zero.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"expected (time, features), got shape {x.shape}")
    xc = x - x.mean(axis=0, keepdims=True)
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    v = vt[:k]
    # deterministic signs
    flip = np.sign(v[np.arange(v.shape[0]), np.argmax(np.abs(v), axis=1)])
    flip[flip == 0] = 1.0
    z = xc @ (v * flip[:, None]).T
    if z.shape[1] < k:
        z = np.concatenate([z, np.zeros((z.shape[0], k - z.shape[1]))], axis=1)
    return z


def psd_ratio(rates: ArrayLike, radius: float = 3) -> float:
    """Low-frequency share of the power of the latent's time × time correlation matrix.

    Steps (STM.md §4): project ``rates`` (time, neurons) on the top-2 PCs; form ``C[t, s]`` = the
    Pearson correlation of the 2-vectors ``latent[t]`` and ``latent[s]``; take the 2-D FFT of ``C``,
    centred (zero frequency in the middle); return ``Σ|F|²`` over frequencies within Euclidean
    distance ``radius`` (in frequency-index units, inclusive) of zero, divided by the total
    ``Σ|F|²``.

    A correlation of two 2-vectors is ±1 (the sign of ``(a1 − a2)(b1 − b2)``), so ``C`` records
    only whether two time points fall on the same side of the diagonal of the latent plane. A slow
    point keeps one side: ``C`` is nearly constant and its power sits at zero frequency (ratio near
    1). A limit cycle crosses the diagonal every half period: ``C`` is a checkerboard whose power
    lies at the rotation frequency, far from zero when the run holds several cycles (ratio near
    0). Time points whose two coordinates are equal have no defined correlation and count as 0.
    A matrix with no power at all returns NaN.
    """
    z = top_pcs(rates, 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.corrcoef(z)  # rows (time points) are the variables
    c = np.nan_to_num(np.atleast_2d(c), nan=0.0)
    f = np.fft.fftshift(np.fft.fft2(c))
    power = np.abs(f) ** 2
    total = power.sum()
    if not np.isfinite(total) or total <= 0:
        return float("nan")
    k0 = np.fft.fftshift(np.fft.fftfreq(c.shape[0], d=1.0 / c.shape[0]))
    k1 = np.fft.fftshift(np.fft.fftfreq(c.shape[1], d=1.0 / c.shape[1]))
    dist = np.hypot(k0[:, None], k1[None, :])
    return float(power[dist <= radius].sum() / total)


def index_label(ratio: float, threshold: float = 0.5) -> str:
    """``"LC"`` if the PSD ratio is below ``threshold``, else ``"SP"`` (STM.md §4 step 4).

    A NaN ratio gives ``"SP"``, as the comparison ``ratio < threshold`` is false.
    """
    return "LC" if ratio < threshold else "SP"


# ---------------------------------------------------------------------------------------------
# second label (reconstructed)
# ---------------------------------------------------------------------------------------------


def rotations(latent: ArrayLike, centre: ArrayLike | None = None) -> float:
    """Net number of turns of a 2-D path ``latent`` (time, 2) about ``centre``.

    ``|unwrapped angle[-1] − unwrapped angle[0]| / 2π``, with the angle measured from ``centre``
    (default: the path's own mean). Steps that pass through the centre have no defined angle
    and are skipped. Also used for the rank-2 κ trajectories.
    """
    z = np.asarray(latent, dtype=float)
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"expected (time, 2), got shape {z.shape}")
    c = z.mean(axis=0) if centre is None else np.asarray(centre, dtype=float)
    d = z - c
    keep = np.hypot(d[:, 0], d[:, 1]) > 0
    d = d[keep]
    if d.shape[0] < 2:
        return 0.0
    theta = np.unwrap(np.arctan2(d[:, 1], d[:, 0]))
    return float(abs(theta[-1] - theta[0]) / (2 * np.pi))


def second_label(
    rates: ArrayLike,
    *,
    tail_frac: float,
    sp_speed_tol: float = 1e-3,
    lc_min_rotations: float = 1,
) -> tuple[str, float, float]:
    """Label a free run by its late motion: returns ``(label, speed, rotations)``.

    ``rates`` (time, neurons) is the free run (the trial followed by zero input). Its last
    ``tail_frac`` of the steps (at least 2) is projected on *its own* top-2 PCs, since the question
    is about the late attractor, not the transient. ``speed`` is the mean ``|Δlatent|`` per step
    over that tail; ``rotations`` is the net number of turns about the tail's centroid
    (:func:`rotations`). The label is ``"LC"`` if ``speed > sp_speed_tol`` *and*
    ``rotations >= lc_min_rotations``, else ``"SP"``: a slow point stops (speed at the noise
    floor), and noise or slow drift alone does not wind consistently in one direction.

    Unlike :func:`psd_ratio` this does not depend on how many cycles the run holds relative to a
    fixed frequency radius, so the two labels can disagree (reported by :func:`agreement`).
    """
    x = np.asarray(rates, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"expected (time, neurons), got shape {x.shape}")
    if not 0.0 < tail_frac <= 1.0:
        raise ValueError(f"tail_frac must lie in (0, 1], got {tail_frac}")
    n_tail = max(2, int(np.ceil(tail_frac * x.shape[0] - 1e-9)))
    tail = x[-n_tail:]
    z = top_pcs(tail, 2)
    speed = float(np.mean(np.hypot(*np.diff(z, axis=0).T)))
    turns = rotations(z)
    label = "LC" if (speed > sp_speed_tol and turns >= lc_min_rotations) else "SP"
    return label, speed, turns


# ---------------------------------------------------------------------------------------------
# agreement
# ---------------------------------------------------------------------------------------------


def agreement(labels_a: ArrayLike, labels_b: ArrayLike) -> tuple[float, np.ndarray]:
    """Fraction of networks where two labelings agree, and their 2 × 2 contingency table.

    ``table[i, j]`` counts networks labelled ``LABELS[i]`` by ``a`` and ``LABELS[j]`` by ``b``
    (rows a, columns b, order ``("LC", "SP")``). The fraction is the trace over the total; NaN when
    there are no networks. Any label other than ``"LC"``/``"SP"`` is an error, so that a
    misspelt or missing label cannot silently count as disagreement.
    """
    a = np.asarray(labels_a, dtype=object).ravel()
    b = np.asarray(labels_b, dtype=object).ravel()
    if a.shape != b.shape:
        raise ValueError(f"label arrays differ in length: {a.size} vs {b.size}")
    index = {lab: i for i, lab in enumerate(LABELS)}
    table = np.zeros((2, 2), dtype=int)
    for x, y in zip(a, b):
        if x not in index or y not in index:
            raise ValueError(f"labels must be one of {LABELS}, got {x!r} / {y!r}")
        table[index[x], index[y]] += 1
    n = int(table.sum())
    frac = float(np.trace(table) / n) if n else float("nan")
    return frac, table
