"""The stm study's claims A1–A10 (STM.md §6), on the shared claims engine.

Published exponents are compared with ours by interval inclusion (:func:`engine.within`): a
row is *supported* (reproduced) when our interval lies inside published ± ``beta_margin``,
*contradicted* when it lies wholly outside, *inconclusive* when it straddles a bound, or when
no β could be fitted (fewer than ``scaling.min_lrs`` learning rates with a critical delay: a
stated rule, never a verdict from too few points). Our interval for the no-solution exponents
(A1, A2) is the whole-seed bootstrap; for A3 (SP boundary) and A4 (control) the fit's 95 %
t interval (β ± t·SE). A5 checks the same intervals against the theory ranges.

A6 and A7 are tested over seeds with the engine's Student-t rule (seeds are paired across the
grid, so a seed's fraction over learning rates is one replicate):
- A6: per seed, the SP fraction over lrs at the shortest delay minus at the longest (claimed
  > 0), and the not-learned fraction at the longest delay minus at the shortest (claimed > 0);
  ALL.
- A7: per seed, the SP fraction over the whole grid without post minus with post (claimed > 0).

Not evaluated here: A8 (rank-2 networks, not built), A9 (the long-τ family, paper scale) and
A10 (bimodality of the index: its histogram is in ``stm_fig_index``; no bimodality test is
applied). The table says so in its notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats as sps

from ...core import claims as engine
from ...core import io
from ...core.config import Section

STUDY = "stm"

#: published values (STM.md §6): (β, SE, R²)
PUBLISHED = {
    "A1": (2.72, 0.07, 0.98),
    "A2": (2.65, 0.23, 0.93),
    "A3": (4.05, 0.10, 0.99),
    "A4": (0.38, 0.02, 0.97),
}
THEORY_RANGES = {"LC": (2.0, 3.0), "SP": (4.0, 5.0)}

CLAIM_TEXT = {
    "A1": "no-post no-solution boundary: lr ∝ T0^(−β), published β = 2.72 ± 0.07 (R² 0.98)",
    "A2": "the same with a post-reaction period, published β = 2.65 ± 0.23 (R² 0.93)",
    "A3": "the SP boundary is steeper, published β = 4.05 ± 0.10 (R² 0.99)",
    "A4": "the no-memory control nearly loses the delay dependence, published β = 0.38 ± 0.02",
    "A5": "measured exponents fall in the theory ranges: β_LC ∈ [2, 3], β_SP ∈ [4, 5]",
    "A6": "three phases: the SP fraction falls with delay, and beyond the boundary none learn",
    "A7": "a post-reaction period suppresses SP solutions",
}
NOT_EVALUATED = (
    "A8 (rank-2: post raises the LC fraction) is not evaluated: the rank-2 networks are not "
    "built. A9 (τ = 20 ms scaling) needs the long-τ family (paper scale). A10 (the index is "
    "bimodal) is shown in stm_fig_index, not tested.")


@dataclass(frozen=True)
class ClaimsConfig(Section):
    alpha: float = 0.05
    min_seeds: int = 3
    beta_margin: float = 0.5


def rule_of(cfg: ClaimsConfig) -> engine.Rule:
    return engine.Rule(alpha=cfg.alpha, min_seeds=cfg.min_seeds)


def _scalar(ds: xr.Dataset, name: str) -> float:
    if name not in ds:
        raise io.ArtefactError(f"statistics of family {ds.attrs.get('family')}: no variable {name}")
    return float(np.asarray(ds[name].values).ravel()[0])


def _t_interval(beta: float, se: float, n: int, level: float = 0.95) -> tuple[float, float]:
    if not (np.isfinite(beta) and np.isfinite(se)) or n < 3:
        return np.nan, np.nan
    t = sps.t.ppf(0.5 + level / 2, n - 2)
    return beta - t * se, beta + t * se


def beta_part(claim: str, ds: xr.Dataset, prefix: str, bootstrap: bool, margin: float,
              bounds: tuple[float, float] | None = None) -> engine.Part:
    """Our β (and its interval) against published ± margin, or against ``bounds``."""
    beta, se, n = (_scalar(ds, f"{prefix}_{k}") for k in ("beta", "se", "n"))
    n = int(n) if np.isfinite(n) else 0
    uncalibrated = ""
    if bootstrap:
        lo, hi = _scalar(ds, "beta_boot_lo"), _scalar(ds, "beta_boot_hi")
        how = "bootstrap over seeds"
        seeds, need = int(ds.attrs.get("n_seeds", 0)), int(ds.attrs.get("bootstrap_min_seeds", 10))
        if seeds < need and np.isfinite(lo):
            # reported, but not used for a verdict: at few seeds it covers far less than 95 %
            uncalibrated = (f"bootstrap interval [{lo:.3g}, {hi:.3g}] from {seeds} seeds is not "
                            f"used for a verdict (needs {need}: its coverage was measured 0.755 "
                            "at 4 seeds); no verdict")
            lo = hi = np.nan
    else:
        lo, hi = _t_interval(beta, se, n)
        how = "fit's 95 % t interval"
    pub = PUBLISHED.get(claim)
    if bounds is None:
        bounds = (pub[0] - margin, pub[0] + margin)
        comparison = f"β ({how}) within published {pub[0]} ± {margin:g}"
    else:
        comparison = f"β ({how}) within the theory range"
    notes = []
    if not np.isfinite(beta):
        notes.append(f"no β: {n} learning rates with a critical delay (at least "
                     f"{ds.attrs.get('min_lrs', 4)} needed); no verdict")
    else:
        notes.append(f"ours β = {beta:.3g} ± {se:.2g} (fit SE), R² = {_scalar(ds, f'{prefix}_r2'):.2f}, "
                     f"{n} lrs; interval: {how}")
    if uncalibrated:
        notes.append(uncalibrated)
    if pub is not None:
        notes.append(f"published β = {pub[0]} ± {pub[1]} (R² {pub[2]})")
    metric = "beta (SP boundary)" if prefix == "beta_sp" else "beta (no-solution boundary)"
    return engine.within(metric, comparison, beta, lo, hi, n, bounds, notes=notes)


def _seed_fraction(ds: xr.Dataset, name: str) -> xr.DataArray:
    if name not in ds:
        raise io.ArtefactError(f"statistics of family {ds.attrs.get('family')}: no variable {name}")
    return ds[name]


def claims_table(stats: Mapping[str, xr.Dataset], cfg: ClaimsConfig | None = None,
                 min_lrs: int = 4) -> pd.DataFrame:
    cfg = cfg or ClaimsConfig()
    rule = rule_of(cfg)
    rows = []
    m = cfg.beta_margin
    nopost, post, control = stats.get("nopost"), stats.get("post"), stats.get("control")
    for ds in (nopost, post, control):
        if ds is not None:
            ds.attrs.setdefault("min_lrs", min_lrs)
    if nopost is not None:
        rows.append(engine.row("A1", STUDY, "no post", [beta_part("A1", nopost, "beta", True, m)], rule))
    if post is not None:
        rows.append(engine.row("A2", STUDY, "post", [beta_part("A2", post, "beta", True, m)], rule))
    if nopost is not None:
        rows.append(engine.row("A3", STUDY, "no post, SP boundary",
                               [beta_part("A3", nopost, "beta_sp", False, m)], rule))
    if control is not None:
        rows.append(engine.row("A4", STUDY, "no-memory control",
                               [beta_part("A4", control, "beta", False, m)], rule))
    if nopost is not None:
        parts = [beta_part("A5", nopost, "beta", True, m, THEORY_RANGES["LC"]),
                 beta_part("A5", nopost, "beta_sp", False, m, THEORY_RANGES["SP"])]
        parts[0].metric, parts[1].metric = "beta_LC (A1)", "beta_SP (A3)"
        rows.append(engine.row("A5", STUDY, "no post", parts, rule, combine="all"))
        sp = _seed_fraction(nopost, "seed_frac_sp")              # (seed, delay)
        nl = _seed_fraction(nopost, "seed_frac_not_learned")     # (seed, delay)
        parts = [
            engine.paired("sp_fraction", "SP fraction over lrs: shortest − longest delay", +1,
                          sp.isel(delay_ms=0).values, sp.isel(delay_ms=-1).values, rule),
            engine.paired("not_learned_fraction", "not-learned fraction: longest − shortest delay",
                          +1, nl.isel(delay_ms=-1).values, nl.isel(delay_ms=0).values, rule),
        ]
        rows.append(engine.row("A6", STUDY, "no post", parts, rule, combine="all"))
    if nopost is not None and post is not None:
        a = _seed_fraction(nopost, "seed_frac_sp_grid")
        b = _seed_fraction(post, "seed_frac_sp_grid")
        common = np.intersect1d(a["seed"].values, b["seed"].values)
        rows.append(engine.row("A7", STUDY, "no post vs post", [engine.paired(
            "sp_fraction", "SP fraction over the grid: no post − post (paired by seed)", +1,
            a.sel(seed=common).values, b.sel(seed=common).values, rule)], rule))
    return engine.table(rows)


def write_claims(settings: dict, stats_ncs: dict[str, str], out_csv: str, out_md: str,
                 prov: dict | None = None) -> pd.DataFrame:
    cfg = ClaimsConfig.from_dict((settings or {}).get("claims"))
    min_lrs = int(((settings or {}).get("scaling") or {}).get("min_lrs", 4))
    stats = {k: io.read_netcdf(p) for k, p in stats_ncs.items() if k != "theory"}
    df = claims_table(stats, cfg, min_lrs)
    md = engine.render_markdown(
        df, "Claims table: stm study", CLAIM_TEXT, rule_of(cfg), prov,
        notes=[f"**Exponents.** Interval inclusion against published ± {cfg.beta_margin:g} "
               "(A1–A4) or the theory ranges (A5); A1/A2 use the whole-seed bootstrap interval, "
               "A3/A4 the fit's t interval. A β from fewer than the configured minimum of "
               "learning rates is not estimated and gets no verdict.",
               f"**Not evaluated.** {NOT_EVALUATED}"])
    engine.write(df, out_csv, out_md, md, prov)
    return df
