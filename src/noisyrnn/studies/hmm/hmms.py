"""The HMM families of HMM.md §1 and a vectorised numpy sampler.

Every family emits 3 symbols and starts uniformly. The matrices are built from config values
(the known ones default to the paper's): a linear chain of M states has step probability
q = end_target^(1/(M−1)); fully connected and cyclic HMMs take their stay probability and
emission rows from the config. ``sample`` draws one-hot sequences; it is tested against
hmmlearn's ``CategoricalHMM`` (tests/unit/hmm/test_hmms.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

N_SYMBOLS = 3
FAMILIES = ("chain2", "chain3", "chain4", "chain5", "fully", "cyclic")
CHAIN_RE = re.compile(r"^chain([2-9])$")


@dataclass(frozen=True)
class HMM:
    name: str
    transition: np.ndarray  # (M, M), rows sum to 1
    emission: np.ndarray    # (M, 3), rows sum to 1
    start: np.ndarray       # (M,)

    @property
    def n_states(self) -> int:
        return self.transition.shape[0]

    def stationary(self) -> np.ndarray:
        """The stationary state distribution (left eigenvector of eigenvalue 1)."""
        w, v = np.linalg.eig(self.transition.T)
        p = np.real(v[:, np.argmin(np.abs(w - 1))])
        return p / p.sum()


def chain(m: int, end_target: float = 0.05, rare: float = 0.01) -> HMM:
    """Linear chain of ``m`` states: ends stay with 1 − q and step inward with q; interior
    states stay with 1 − 2q and step ±1 with q each; state i emits
    [(1 − rare)(1 − i/(m−1)), rare, (1 − rare) i/(m−1)]."""
    if m < 2:
        raise ValueError(f"a linear chain needs at least 2 states, not {m}")
    q = end_target ** (1.0 / (m - 1))
    t = np.zeros((m, m))
    for i in range(m):
        if i in (0, m - 1):
            t[i, i] = 1 - q
            t[i, 1 if i == 0 else m - 2] += q
        else:
            t[i, i] = 1 - 2 * q
            t[i, i - 1] = t[i, i + 1] = q
    frac = np.arange(m) / (m - 1)
    e = np.stack([(1 - rare) * (1 - frac), np.full(m, rare), (1 - rare) * frac], axis=1)
    return HMM(f"chain{m}", t, e, np.full(m, 1.0 / m))


def fully(stay: float = 0.95, emit_diag: float = 0.98) -> HMM:
    """3 states, stay ``stay`` and the rest shared equally; emission ``emit_diag`` on the
    diagonal, the rest shared equally."""
    m = N_SYMBOLS
    t = np.full((m, m), (1 - stay) / (m - 1))
    np.fill_diagonal(t, stay)
    e = np.full((m, m), (1 - emit_diag) / (m - 1))
    np.fill_diagonal(e, emit_diag)
    return HMM("fully", t, e, np.full(m, 1.0 / m))


def cyclic(stay: float = 0.95, emission=None) -> HMM:
    """A ring of len(emission) states: stay ``stay``, the rest shared by the two neighbours."""
    e = np.asarray(emission if emission is not None else
                   [[.9, .1, 0], [.1, .9, 0], [0, .1, .9], [0, .9, .1]], dtype=float)
    m = e.shape[0]
    t = np.zeros((m, m))
    for i in range(m):
        t[i, i] = stay
        t[i, (i - 1) % m] += (1 - stay) / 2
        t[i, (i + 1) % m] += (1 - stay) / 2
    return HMM("cyclic", t, e, np.full(m, 1.0 / m))


def build(name: str, cfg: Mapping) -> HMM:
    """The HMM ``name`` from the study's ``hmm_params`` section."""
    m = CHAIN_RE.match(name)
    if m:
        c = cfg["chain"]
        return chain(int(m.group(1)), c["end_target"], c["rare"])
    if name == "fully":
        return fully(cfg["fully"]["stay"], cfg["fully"]["emit_diag"])
    if name == "cyclic":
        return cyclic(cfg["cyclic"]["stay"], cfg["cyclic"]["emission"])
    raise KeyError(f"unknown HMM {name!r}; families are {', '.join(FAMILIES)}")


def _draw(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index of the first cdf entry above u, row by row (inverse-cdf sampling)."""
    return np.minimum((u[:, None] > cdf).sum(axis=1), cdf.shape[1] - 1)


def sample(hmm: HMM, n: int, length: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` sequences of ``length`` steps: (states (n, T) int, symbols (n, T) int)."""
    tc, ec = np.cumsum(hmm.transition, 1), np.cumsum(hmm.emission, 1)
    states = np.empty((n, length), np.int64)
    symbols = np.empty((n, length), np.int64)
    s = _draw(np.broadcast_to(np.cumsum(hmm.start), (n, hmm.n_states)), rng.random(n))
    for t in range(length):
        if t:
            s = _draw(tc[s], rng.random(n))
        states[:, t] = s
        symbols[:, t] = _draw(ec[s], rng.random(n))
    return states, symbols


def one_hot(symbols: np.ndarray, k: int = N_SYMBOLS) -> np.ndarray:
    return np.eye(k, dtype=np.float32)[symbols]
