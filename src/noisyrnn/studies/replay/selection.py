"""Reading statistics files: networks and replay variants selected by coordinate value, and
the Gauss–Markov score-rate gap.

Shared by the claims table and the figures, so both pick the same networks and variants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from ...core.config import Section


@dataclass(frozen=True)
class ClaimsConfig(Section):
    """Verdict rule: effect CI excludes 0 in the claimed direction -> supported; in the
    opposite direction -> contradicted; otherwise inconclusive."""

    adapt_b_a: float = 0.3  # b_a taken as "adaptation on"
    momentum_lambda_v: float = 0.5  # lambda_v taken as "momentum on"
    leaky_alpha: float = 0.2
    masked_k: int = 4  # k used for claim C1's masked comparison
    tv_gap_threshold: float = 0.1  # C6: min max-over-t relative score-rate gap of the toy


#: regime id -> (modifiers_in_training, description)
REGIMES: dict[str, tuple[bool, str]] = {
    "m0": (False, "modifiers at replay only"),
    "m1": (True, "modifiers in training"),
}

_NET_RE = re.compile(r"a(?P<alpha>[-+0-9.eE]+)_k(?P<k>\d+)_m(?P<m>[01])")


def _as_bool(v) -> bool:
    if isinstance(v, (bytes, str)):
        return str(v if isinstance(v, str) else v.decode()).strip().lower() in ("1", "true", "yes")
    return bool(v)


def net_table(ds: xr.Dataset) -> pd.DataFrame:
    """One row per ``net`` position: ``net`` id, ``alpha``, ``mask_k``, ``modifiers_in_training``.

    Uses the coordinates on ``net`` when present, otherwise parses ids ``a{alpha}_k{k}_m{0|1}``.
    """
    if "net" not in ds.dims:
        return pd.DataFrame(columns=["net", "alpha", "mask_k", "modifiers_in_training"])
    ids = [str(x) for x in (ds["net"].values if "net" in ds.coords else range(ds.sizes["net"]))]
    rows = []
    for i, nid in enumerate(ids):
        m = _NET_RE.search(nid)
        row = {"net": nid}
        for key, conv, grp in (
            ("alpha", float, "alpha"),
            ("mask_k", int, "k"),
            ("modifiers_in_training", _as_bool, "m"),
        ):
            if key in ds.coords and ds.coords[key].dims == ("net",):
                row[key] = conv(ds.coords[key].values[i])
            elif m is not None:
                row[key] = conv(m.group(grp)) if key != "modifiers_in_training" else m.group(grp) == "1"
            else:
                row[key] = np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def select_net(
    ds: xr.Dataset,
    alpha: float | None = None,
    mask_k: int | None = 1,
    modifiers_in_training: bool | None = False,
) -> int | None:
    """Position on ``net`` of the network with exactly ``mask_k`` and ``modifiers_in_training``
    (None: any) and the ``alpha`` nearest the requested one (None: first). None if no match."""
    tab = net_table(ds)
    if tab.empty:
        return None
    ok = np.ones(len(tab), bool)
    if mask_k is not None:
        ok &= tab["mask_k"].to_numpy() == int(mask_k)
    if modifiers_in_training is not None:
        ok &= tab["modifiers_in_training"].map(lambda x: bool(x) == bool(modifiers_in_training)).to_numpy()
    cand = np.flatnonzero(ok)
    if cand.size == 0:
        return None
    if alpha is None:
        return int(cand[0])
    d = np.abs(tab["alpha"].to_numpy(float)[cand] - float(alpha))
    return int(cand[int(np.nanargmin(d))]) if np.any(np.isfinite(d)) else int(cand[0])


def variant_index(ds: xr.Dataset, b_a: float, lambda_v: float) -> int:
    """Position on ``variant`` nearest (L1 distance in (b_a, λ_v)) to the requested pair."""
    b = np.asarray(ds.coords["b_a"].values, float)
    lv = np.asarray(ds.coords["lambda_v"].values, float)
    return int(np.argmin(np.abs(b - float(b_a)) + np.abs(lv - float(lambda_v))))


def select_variant(ds: xr.Dataset, b_a: float, lambda_v: float) -> xr.Dataset:
    """``ds`` at the replay variant nearest to (``b_a``, ``lambda_v``)."""
    return ds.isel(variant=variant_index(ds, b_a, lambda_v))


def load_stats(stats_ncs: dict[str, str]) -> dict[str, xr.Dataset]:
    """Open (and load into memory) each statistics file; keys are kept."""
    out = {}
    for key, path in (stats_ncs or {}).items():
        if path is None:
            continue
        with xr.open_dataset(path) as ds:
            out[key] = ds.load()
    return out


_POOLED_NAMES = (
    "pooled_rate",
    "score_rate_pooled",
    "pooled_score_rate",
    "stationary_rate",
    "rate_pooled",
    "pooled",
)


def gauss_markov_gap(gm: xr.Dataset) -> tuple[float, str]:
    """Maximum over time of the relative score-rate gap, and a note on how it was obtained.

    Uses the file's ``score_rate_gap`` (``|1/P_t − pooled| / (1/P_t)``, written by
    ``pipeline.gauss_markov``) when present. Otherwise ``max_t |score_rate_t − pooled| / pooled``
    from ``score_rate`` (or 1/``P_t``) and the pooled rate: a scalar variable named like
    ``pooled_score_rate`` (any scalar variable or attribute containing "pooled"), else the
    moment-matched pooled Gaussian rate ``1 / (mean_t P_t + var_t m_t)``.
    """
    if "score_rate_gap" in gm.data_vars:
        g = np.asarray(gm["score_rate_gap"].values, float).ravel()
        g = g[np.isfinite(g)]
        if g.size:
            return float(g.max()), "max_t score_rate_gap = |1/P_t − pooled| / (1/P_t)"
    note = []
    if "score_rate" in gm.data_vars:
        rate = np.asarray(gm["score_rate"].values, float).ravel()
    elif "P_t" in gm.data_vars:
        rate = 1.0 / np.asarray(gm["P_t"].values, float).ravel()
        note.append("score_rate = 1/P_t")
    else:
        return np.nan, "score_rate / P_t missing"
    pooled = pooled_rate(gm)
    if pooled is not None:
        note.append("pooled rate from file")
    elif "P_t" in gm.data_vars:
        P = np.asarray(gm["P_t"].values, float).ravel()
        mv = np.var(np.asarray(gm["m_t"].values, float).ravel()) if "m_t" in gm.data_vars else 0.0
        pooled = 1.0 / (np.nanmean(P) + mv)
        note.append("pooled rate = 1/(mean P_t + var m_t) (computed here)")
    if pooled is None or not np.isfinite(pooled) or pooled == 0:
        return np.nan, "; ".join(note + ["pooled rate missing"])
    rate = rate[np.isfinite(rate)]
    if rate.size == 0:
        return np.nan, "; ".join(note + ["score_rate all NaN"])
    note.append("gap = max_t |score_rate_t − pooled| / pooled")
    return float(np.max(np.abs(rate - pooled)) / abs(pooled)), "; ".join(note)


def pooled_rate(gm: xr.Dataset) -> float | None:
    """Pooled (stationary) score rate stored in a Gauss–Markov dataset, or None."""
    names = list(_POOLED_NAMES) + [k for k in gm.data_vars if "pooled" in str(k)]
    for k in names:
        if k in gm.data_vars and gm[k].size == 1:
            return float(gm[k].values.ravel()[0])
    for k, val in gm.attrs.items():
        if "pooled" in k and np.ndim(val) == 0:
            try:
                return float(val)
            except (TypeError, ValueError):
                pass
    return None
