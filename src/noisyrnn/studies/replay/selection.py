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

from ...core import io
from ...core.config import Section


@dataclass(frozen=True)
class ClaimsConfig(Section):
    """Which variants and networks the claims compare, and the verdict rule's settings
    (noisyrnn.core.claims). The figures read the same selection and the same interval."""

    adapt_b_a: float = 0.3  # b_a taken as "adaptation on"
    momentum_lambda_v: float = 0.5  # lambda_v taken as "momentum on"
    leaky_alpha: float = 0.2
    masked_k: int = 4  # k used for claim C1's masked comparison
    tv_gap_threshold: float = 0.1  # C6: min of max_t |1/P_t - pooled| / pooled for the toy
    alpha: float = 0.05  # level of every test (two-sided); intervals are (1 - alpha)
    min_seeds: int = 3  # fewer seeds with values: no verdict
    c5_compression_margin: float = 0.05  # C5 non-inferiority margin, compression-ratio units
    c5_coverage_margin: float = 0.01  # C5 non-inferiority margin, fraction of bins


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
    """Load each statistics file into memory; keys are kept. Through the checked reader, so a
    file edited after it was written (its data digest) stops the figure or table that reads it."""
    return {key: io.read_netcdf(path) for key, path in (stats_ncs or {}).items()
            if path is not None}


def gauss_markov_gap(gm: xr.Dataset) -> float:
    """C6's analytic statistic: ``max_t |1/P_t − pooled| / pooled`` (``score_rate_gap`` of the
    Gauss–Markov file, written by ``steps.gauss_markov``); NaN if the file lacks it."""
    if "score_rate_gap" not in gm.data_vars:
        return float("nan")
    g = np.asarray(gm["score_rate_gap"].values, float).ravel()
    g = g[np.isfinite(g)]
    return float(g.max()) if g.size else float("nan")


def pooled_rate(gm: xr.Dataset) -> float | None:
    """The pooled (stationary) score rate of the Gauss–Markov file, or None without one."""
    if "pooled_score_rate" not in gm.data_vars:
        return None
    return float(np.asarray(gm["pooled_score_rate"].values).ravel()[0])
