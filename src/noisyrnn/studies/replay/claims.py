"""The replay study's claims C1–C6 (SCIENCE.md §6), on the shared claims engine.

Every row uses the rule of :mod:`noisyrnn.core.claims`: a Student-t test over seeds of a per-seed
effect, Holm within multi-part claims, no verdict below ``claims.min_seeds`` seeds, and a
Benjamini–Hochberg q across the table. The comparisons:

Regimes: ``m0`` = modifiers at replay only (network trained with b_a = 0, λ_v = 1), ``m1`` =
modifiers in training too. C2–C5 and C6 (cosine) are evaluated on the replayed network of each
regime (α = ``leaky_alpha``, k = 1) of every task present (tracks and box).

* C1 (m0 nets, k = ``masked_k``), per track task: ``final_position_error(α=1) −
  final_position_error(α=leaky_alpha)`` (m), paired by seed, claimed > 0. Row "tmaze vs
  triangle": the relative gain ``g = (err(α=1) − err(α_leaky)) / err(α=1)`` per seed, effect
  ``mean g(tmaze) − mean g(triangle)``, Welch (different networks), claimed > 0.
* C2: ``coverage``, ``entropy`` at (b_a = ``adapt_b_a``, λ_v = 1) minus (b_a = 0, λ_v = 1),
  claimed > 0; ANY.
* C3: ``step_length`` (claimed < 0) and ``reach_rmst`` (claimed > 0), same variants; ANY.
* C4: ``compression_ratio`` (claimed > 0) and ``reach_rmst`` (claimed < 0) at
  (0, ``momentum_lambda_v``) minus (0, 1); ALL.
* C5 ("at least as", non-inferiority): ``compression_ratio`` at (adapt, momentum) minus (0, 1),
  claimed > −``c5_compression_margin``; ``coverage`` at (adapt, momentum) minus (adapt, 1),
  claimed > −``c5_coverage_margin``; ALL.
* C6 per task/regime: ``drift_score_cosine`` of the unmodified variant (0, 1), one-sample,
  claimed > 0. C6 Gauss–Markov: ``max_t |1/P_t − pooled| / pooled``, the largest relative
  distance of the exact score rate from the pooled (stationary) one, read from
  ``gauss_markov.nc`` (analytic, no sampling): supported if it exceeds ``tv_gap_threshold``.

Reach times are censored (a trajectory may never reach the target within the replay), so the
reach parts use the restricted mean reach time up to the replay length from the Kaplan–Meier
curve (``reach_rmst``), which counts a trajectory that never reaches as taking the whole replay.

Variants and networks are matched to the requested coordinates by nearest value
(:mod:`.selection`); the values actually used appear in ``comparison``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ...core import claims as engine
from .nets import TASKS, TRACK_TASKS
from .selection import (
    REGIMES,
    ClaimsConfig,
    gauss_markov_gap,
    load_stats,
    net_table,
    select_net,
    variant_index,
)

STUDY = "replay"
#: tasks on which C2–C6 are evaluated (those present in the stats), C1 tasks
REPLAY_TASKS: tuple[str, ...] = TASKS
C1_TASKS: tuple[str, ...] = TRACK_TASKS

CLAIM_TEXT: dict[str, str] = {
    "C1": "With masking, leaky (α < 1) networks reach lower masked-training error than α = 1, "
    "more so on tmaze than triangle",
    "C2": "Adaptation increases exploration (coverage / entropy)",
    "C3": "Adaptation slows replay (step length down or reach time up)",
    "C4": "Momentum speeds replay (compression ratio up, reach time down)",
    "C5": "Momentum plus adaptation is at least as fast as the unmodified network and at least "
    "as exploratory as adaptation alone",
    "C6": "Zero-input drift aligns with the score of the waking density (cosine > 0), and the "
    "exact score of the Gauss–Markov toy is time-varying",
}


#: why the Gauss–Markov row has no seeds
GM_NOTE = ("computed from the closed-form Gauss–Markov toy model (its exact marginal variances "
           "P_t in gauss_markov.nc): deterministic, nothing is trained or sampled, so seeds would "
           f"all give the same value; {engine.SUPPORTED} if the gap exceeds tv_gap_threshold, "
           f"{engine.CONTRADICTED} otherwise")


def rule_of(cfg: ClaimsConfig) -> engine.Rule:
    return engine.Rule(alpha=cfg.alpha, min_seeds=cfg.min_seeds)


def _seed_values(ds: xr.Dataset, var: str, net: int, variant: int | None = None) -> np.ndarray | None:
    """Values of ``var`` over ``seed`` at one net (and variant); None if the variable is absent."""
    if var not in ds.data_vars:
        return None
    da = ds[var].isel(net=net)
    if variant is not None and "variant" in da.dims:
        da = da.isel(variant=variant)
    extra = [d for d in da.dims if d != "seed"]
    if extra:
        raise ValueError(f"{var}: unexpected dims {extra} after selecting net/variant")
    return np.asarray(da.values, float).reshape(-1)


def _label(ds: xr.Dataset, vi: int) -> str:
    return f"b_a={float(ds['b_a'].values[vi]):g}, λ_v={float(ds['lambda_v'].values[vi]):g}"


def _diverged_note(ds: xr.Dataset, net: int, variants: Sequence[int]) -> list[str]:
    out = []
    for vi in dict.fromkeys(variants):
        v = _seed_values(ds, "frac_diverged", net, vi)
        if v is not None and np.nanmax(np.append(v, 0.0)) > 0:
            out.append(f"diverged at {_label(ds, vi)}: {np.nanmean(v):.0%} of replays")
    return out


def _condition(regime: str, task: str) -> str:
    return f"{regime} {task}"


def _replayed_nets(ds: xr.Dataset, cfg: ClaimsConfig):
    """(regime, net index) of the replayed network of each regime present in ``ds``."""
    if "variant" not in ds.dims:
        return
    for regime, (m, _desc) in REGIMES.items():
        net = select_net(ds, alpha=cfg.leaky_alpha, mask_k=1, modifiers_in_training=m)
        if net is not None:
            yield regime, net


def _replay_claims(task: str, ds: xr.Dataset, cfg: ClaimsConfig, rule: engine.Rule) -> list[dict]:
    rows = []
    for regime, net in _replayed_nets(ds, cfg):
        on = f"on net {net_table(ds)['net'].iloc[net]}"
        v0 = variant_index(ds, 0.0, 1.0)
        va = variant_index(ds, cfg.adapt_b_a, 1.0)
        vm = variant_index(ds, 0.0, cfg.momentum_lambda_v)
        vb = variant_index(ds, cfg.adapt_b_a, cfg.momentum_lambda_v)

        def diff(metric, v_on, v_off, direction, margin=0.0):
            return engine.paired(
                metric, f"{metric}({_label(ds, v_on)}) − {metric}({_label(ds, v_off)}) {on}",
                direction, _seed_values(ds, metric, net, v_on), _seed_values(ds, metric, net, v_off),
                rule, margin=margin)

        def notes(v_on, v_off, what, *variants):
            same = [f"{what}: 'on' variant equals the baseline (nearest match)"] if v_on == v_off else []
            return same + _diverged_note(ds, net, variants)

        cond = _condition(regime, task)
        rows.append(engine.row(
            "C2", STUDY, cond, [diff("coverage", va, v0, +1), diff("entropy", va, v0, +1)], rule,
            combine="any", notes=notes(va, v0, "adaptation", va, v0)))
        rows.append(engine.row(
            "C3", STUDY, cond, [diff("step_length", va, v0, -1), diff("reach_rmst", va, v0, +1)],
            rule, combine="any", notes=notes(va, v0, "adaptation", va, v0)))
        rows.append(engine.row(
            "C4", STUDY, cond,
            [diff("compression_ratio", vm, v0, +1), diff("reach_rmst", vm, v0, -1)], rule,
            combine="all", notes=notes(vm, v0, "momentum", vm, v0)))
        rows.append(engine.row(
            "C5", STUDY, cond,
            [diff("compression_ratio", vb, v0, +1, cfg.c5_compression_margin),
             diff("coverage", vb, va, +1, cfg.c5_coverage_margin)], rule,
            combine="all", notes=notes(vb, v0, "momentum+adaptation", vb, va, v0)))
    return rows


def _c6_cosine(task: str, ds: xr.Dataset, cfg: ClaimsConfig, rule: engine.Rule) -> list[dict]:
    rows = []
    for regime, net in _replayed_nets(ds, cfg):
        v0 = variant_index(ds, 0.0, 1.0)
        part = engine.one_sample(
            "drift_score_cosine",
            f"mean drift–score cosine ({_label(ds, v0)}) on net {net_table(ds)['net'].iloc[net]}",
            +1, _seed_values(ds, "drift_score_cosine", net, v0), rule)
        rows.append(engine.row("C6", STUDY, _condition(regime, task), [part], rule))
    return rows


def _c6_gauss_markov(gm: xr.Dataset, cfg: ClaimsConfig, rule: engine.Rule) -> dict:
    part = engine.analytic(
        "score_rate_gap",
        "max over t of |1/P_t − pooled rate| / pooled rate (exact Gauss–Markov marginals)",
        gauss_markov_gap(gm), cfg.tv_gap_threshold)
    return engine.row("C6", STUDY, "analytic gauss_markov", [part], rule, notes=[GM_NOTE])


def _c1(stats: dict[str, xr.Dataset], cfg: ClaimsConfig, rule: engine.Rule) -> list[dict]:
    rows, gains = [], {}
    for task in C1_TASKS:
        ds = stats.get(task)
        if ds is None:
            continue
        i_leak = select_net(ds, alpha=cfg.leaky_alpha, mask_k=cfg.masked_k, modifiers_in_training=False)
        i_one = select_net(ds, alpha=1.0, mask_k=cfg.masked_k, modifiers_in_training=False)
        notes = []
        if i_leak is None or i_one is None:
            a = b = None
            notes.append(f"no m0 networks with k={cfg.masked_k}")
            ids = ("?", "?")
        else:
            tab = net_table(ds)
            ids = (tab["net"].iloc[i_one], tab["net"].iloc[i_leak])
            if i_leak == i_one:
                notes.append("leaky and α=1 nets coincide (nearest match)")
            a = _seed_values(ds, "final_position_error", i_one)
            b = _seed_values(ds, "final_position_error", i_leak)
        part = engine.paired(
            "final_position_error",
            f"final_position_error({ids[0]}) − final_position_error({ids[1]}) (m)", +1, a, b, rule)
        rows.append(engine.row("C1", STUDY, _condition("m0", task), [part], rule, notes=notes))
        if a is not None and b is not None:
            with np.errstate(invalid="ignore", divide="ignore"):
                gains[task] = (a - b) / a
    if all(t in stats for t in C1_TASKS):
        part = engine.two_sample(
            "relative_error_gain",
            "mean_seeds[(err(α=1) − err(α_leaky)) / err(α=1)] on tmaze − same on triangle "
            f"(k={cfg.masked_k}; Welch)", +1, gains.get("tmaze"), gains.get("triangle"), rule)
        rows.append(engine.row("C1", STUDY, "m0 tmaze vs triangle", [part], rule))
    return rows


def claims_table(stats: dict[str, xr.Dataset], cfg: ClaimsConfig | None = None) -> pd.DataFrame:
    """Evaluate C1–C6 on the statistics datasets (keys: task names and ``"gauss_markov"``).

    One row per (claim, regime, task) where the data allow it; absent tasks give no rows.
    """
    cfg = cfg or ClaimsConfig()
    rule = rule_of(cfg)
    rows = _c1(stats, cfg, rule)
    present = [t for t in REPLAY_TASKS if stats.get(t) is not None]
    per_task = [r for t in present for r in _replay_claims(t, stats[t], cfg, rule)]
    order = {f"{m} {t}": (i, j) for i, m in enumerate(REGIMES) for j, t in enumerate(REPLAY_TASKS)}
    rows += sorted(per_task, key=lambda r: (r["claim"], order[r["condition"]]))
    c6 = [r for t in present for r in _c6_cosine(t, stats[t], cfg, rule)]
    rows += sorted(c6, key=lambda r: order[r["condition"]])
    if stats.get("gauss_markov") is not None:
        rows.append(_c6_gauss_markov(stats["gauss_markov"], cfg, rule))
    return engine.table(rows)


def write_claims(settings: dict, stats_ncs: dict[str, str], out_csv: str, out_md: str,
                 prov: dict | None = None) -> pd.DataFrame:
    """Compute the claims table from the statistics files and write ``out_csv`` and ``out_md``
    (with ``prov``: their sidecars ``{path}.prov.json`` too, holding the full record with the
    lineage of every statistics file read).

    ``settings`` is the rule's settings param (its ``claims`` section is read).
    """
    cfg = ClaimsConfig.from_dict((settings or {}).get("claims"))
    df = claims_table(load_stats(stats_ncs), cfg)
    md = engine.render_markdown(
        df, "Claims table: replay study", CLAIM_TEXT, rule_of(cfg), prov,
        notes=["Conditions: regime (m0 = modifiers at replay only; m1 = modifiers in training "
               "too) and task. Reach times use the restricted mean of the Kaplan–Meier curve up "
               "to the replay length, so censored trajectories count."])
    engine.write(df, out_csv, out_md, md, prov)
    return df

