"""Claims table C1–C6 with a stated, data-driven verdict rule (SCIENCE.md §6).

Verdict rule (single comparison)
--------------------------------
Each comparison is an *effect*: the mean over seeds of a per-seed paired difference (the same
network replayed with two variants, or two networks trained with the same seed), with a
percentile-bootstrap CI over seeds (``ci``, default 95 %, ``n_boot`` resamples). Each claim states
the side of 0 it predicts ("claimed > 0" or "claimed < 0"):

* **supported**     if the CI lies entirely on the claimed side of 0;
* **contradicted**  if the CI lies entirely on the opposite side of 0;
* **inconclusive**  otherwise: the CI contains 0, fewer than 2 seeds have finite values in both
  arms, or the data are missing / NaN (e.g. diverged replays).

"At least as" comparisons (C5) use the same rule with a zero margin, so equality is inconclusive.

Multi-part claims
-----------------
* **ALL** (C4: compression up AND reach time down; C5: speed ≥ unmodified AND exploration ≥
  adaptation alone): supported if every part is supported; contradicted if any part is
  contradicted; inconclusive otherwise.
* **ANY** (C2: coverage up OR entropy up; C3: step length down OR reach time up): supported if at
  least one part is supported and no part is contradicted; contradicted if every part is
  contradicted; inconclusive otherwise (including mixed evidence).

For a multi-part row, ``metric``/``comparison`` list every part, while ``effect``/``ci_lo``/
``ci_hi``/``n_seeds`` describe the first (primary) part; every part with its own effect, CI, n and
verdict is spelled out in the ``parts`` column (empty for single-part rows). The verdict is always computed, never hard-coded.

Claims and comparisons
----------------------
Regimes: ``m0`` = modifiers at replay only (network trained with b_a = 0, λ_v = 1), ``m1`` =
modifiers in training too. C2–C5 and C6 (cosine) are evaluated on the replayed network of each
regime (α = ``leaky_alpha``, k = 1) of every task present (tracks and box).

* C1 (m0 nets, k = ``masked_k``), per track task: ``final_position_error(α=1) −
  final_position_error(α=leaky_alpha)`` (m), claimed > 0. Comparison row "tmaze vs triangle": the
  relative gain ``g = (err(α=1) − err(α_leaky)) / err(α=1)`` per seed, effect ``mean g(tmaze) −
  mean g(triangle)``, two-sample (unpaired: different networks) bootstrap, claimed > 0.
* C2: ``coverage``, ``entropy`` at (b_a = ``adapt_b_a``, λ_v = 1) minus (b_a = 0, λ_v = 1),
  claimed > 0; ANY.
* C3: ``step_length`` (claimed < 0) and ``reach_median`` (claimed > 0), same variants; ANY.
* C4: ``compression_ratio`` (claimed > 0) and ``reach_median`` (claimed < 0) at
  (0, ``momentum_lambda_v``) minus (0, 1); ALL.
* C5: ``compression_ratio`` at (adapt, momentum) minus (0, 1), claimed > 0; ``coverage`` at
  (adapt, momentum) minus (adapt, 1), claimed > 0; ALL.
* C6 per task/regime: ``drift_score_cosine`` of the unmodified variant (0, 1), one-sample, claimed
  > 0. C6 Gauss–Markov: ``max_t |score_rate_t − pooled| / pooled`` from ``gauss_markov.nc``
  (analytic, no sampling): supported if above ``ClaimsConfig.tv_gap_threshold``, contradicted
  otherwise.

Variants and networks are matched to the requested coordinates by nearest value
(:func:`select_variant`, :func:`select_net`); the values actually used appear in ``comparison``.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ...core import io
from .selection import (
    REGIMES,
    ClaimsConfig,
    gauss_markov_gap,
    load_stats,
    net_table,
    pooled_rate,
    select_net,
    select_variant,
    variant_index,
)
from .stats import StatsConfig
from .stats import bootstrap_ci as _pkg_bootstrap_ci
from .stats import bootstrap_diff_ci as _pkg_bootstrap_diff_ci

__all__ = [
    "COLUMNS",
    "REGIMES",
    "RULE",
    "RULE_ALL",
    "RULE_ANY",
    "SUPPORTED",
    "CONTRADICTED",
    "INCONCLUSIVE",
    "net_table",
    "select_net",
    "variant_index",
    "select_variant",
    "verdict_from_ci",
    "combine_all",
    "combine_any",
    "claims_table",
    "render_markdown",
    "write_claims",
]


SUPPORTED = "supported"
CONTRADICTED = "contradicted"
INCONCLUSIVE = "inconclusive"

#: tasks on which C2–C6 are evaluated (those present in the stats), C1 tasks
REPLAY_TASKS: tuple[str, ...] = ("tmaze", "triangle", "box")
C1_TASKS: tuple[str, ...] = ("tmaze", "triangle")

COLUMNS: list[str] = [
    "claim",
    "regime",
    "task",
    "metric",
    "comparison",
    "effect",
    "ci_lo",
    "ci_hi",
    "n_seeds",
    "verdict",
    "rule",
    "parts",
    "note",
]

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


def _rule_single(ci: float) -> str:
    return (
        f"supported if the {ci:.0%} bootstrap CI over seeds of the effect lies entirely on the "
        "claimed side of 0; contradicted if entirely on the opposite side; inconclusive otherwise "
        "(CI contains 0, < 2 seeds, or NaN)"
    )


RULE = _rule_single(0.95)
RULE_ALL = "parts combined with ALL: supported if every part supported; contradicted if any part contradicted; else inconclusive"
RULE_ANY = (
    "parts combined with ANY: supported if at least one part supported and none contradicted; "
    "contradicted if every part contradicted; else inconclusive"
)
RULE_ANALYTIC = (
    "analytic (no sampling): supported if the gap exceeds the threshold {thr:g}; contradicted otherwise"
)


# --------------------------------------------------------------------------------------------
# selection helpers (shared with figures)
# --------------------------------------------------------------------------------------------

def _variant_coords(ds: xr.Dataset, i: int) -> tuple[float, float]:
    return float(ds.coords["b_a"].values[i]), float(ds.coords["lambda_v"].values[i])


def _fmt(x: float) -> str:
    return f"{x:g}"


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
    v = np.asarray(da.values, float).reshape(-1)
    return np.where(np.isfinite(v), v, np.nan)


# --------------------------------------------------------------------------------------------
# bootstrap and verdicts
# --------------------------------------------------------------------------------------------


def _boot_one(v: np.ndarray, n_boot: int, ci: float, seed: int):
    """(mean, lo, hi) of the finite values of ``v`` (seeds)."""
    est, lo, hi = _pkg_bootstrap_ci(v, n_boot=n_boot, ci=ci, seed=seed)
    return float(est), float(lo), float(hi)


def _boot_paired(a: np.ndarray, b: np.ndarray, n_boot: int, ci: float, seed: int):
    """(mean, lo, hi) of the per-seed difference a − b; seeds with a NaN in either arm dropped."""
    est, lo, hi = _pkg_bootstrap_diff_ci(a, b, n_boot=n_boot, ci=ci, seed=seed)
    return float(est), float(lo), float(hi)


def _boot_two_sample(a: np.ndarray, b: np.ndarray, n_boot: int, ci: float, seed: int):
    """(mean(a) − mean(b), lo, hi), resampling the finite values of each group independently."""
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    a = a[np.isfinite(a)]
    b = b[np.isfinite(b)]
    if a.size == 0 or b.size == 0:
        return np.nan, np.nan, np.nan
    est = float(a.mean() - b.mean())
    if a.size < 2 or b.size < 2:
        return est, np.nan, np.nan
    rng = np.random.default_rng(seed)
    ba = a[rng.integers(0, a.size, size=(int(n_boot), a.size))].mean(axis=1)
    bb = b[rng.integers(0, b.size, size=(int(n_boot), b.size))].mean(axis=1)
    q = (1.0 - ci) / 2.0
    lo, hi = np.quantile(ba - bb, [q, 1.0 - q])
    return est, float(lo), float(hi)


def verdict_from_ci(lo: float, hi: float, direction: int, n: int) -> str:
    """The single-comparison rule (module docstring). ``direction`` +1: claimed > 0; −1: < 0."""
    if n < 2 or not (np.isfinite(lo) and np.isfinite(hi)):
        return INCONCLUSIVE
    if direction > 0:
        return SUPPORTED if lo > 0 else CONTRADICTED if hi < 0 else INCONCLUSIVE
    return SUPPORTED if hi < 0 else CONTRADICTED if lo > 0 else INCONCLUSIVE


def combine_all(verdicts: Sequence[str]) -> str:
    """ALL: supported if every part supported; contradicted if any contradicted; else inconclusive."""
    if verdicts and all(v == SUPPORTED for v in verdicts):
        return SUPPORTED
    if any(v == CONTRADICTED for v in verdicts):
        return CONTRADICTED
    return INCONCLUSIVE


def combine_any(verdicts: Sequence[str]) -> str:
    """ANY: supported if ≥ 1 part supported and none contradicted; contradicted if every part
    contradicted; else inconclusive."""
    if any(v == SUPPORTED for v in verdicts) and not any(v == CONTRADICTED for v in verdicts):
        return SUPPORTED
    if verdicts and all(v == CONTRADICTED for v in verdicts):
        return CONTRADICTED
    return INCONCLUSIVE


@dataclass
class _Part:
    metric: str
    comparison: str
    direction: int  # +1 claimed > 0, -1 claimed < 0
    a: np.ndarray | None  # per-seed values (or the one-sample values when b is None)
    b: np.ndarray | None = None
    mode: str = "paired"  # paired | one_sample | two_sample
    notes: list[str] = field(default_factory=list)
    effect: float = np.nan
    ci_lo: float = np.nan
    ci_hi: float = np.nan
    n: int = 0
    verdict: str = INCONCLUSIVE

    def evaluate(self, n_boot: int, ci: float, seed: int) -> "_Part":
        if self.a is None or (self.mode != "one_sample" and self.b is None):
            self.notes.append(f"{self.metric} missing")
            return self
        a = np.asarray(self.a, float)
        if self.mode == "one_sample":
            self.n = int(np.isfinite(a).sum())
            total = a.size
            self.effect, self.ci_lo, self.ci_hi = _boot_one(a, n_boot, ci, seed)
        elif self.mode == "paired":
            b = np.asarray(self.b, float)
            ok = np.isfinite(a) & np.isfinite(b)
            self.n = int(ok.sum())
            total = a.size
            if self.n:
                self.effect, self.ci_lo, self.ci_hi = _boot_paired(a[ok], b[ok], n_boot, ci, seed)
        else:
            b = np.asarray(self.b, float)
            self.n = int(min(np.isfinite(a).sum(), np.isfinite(b).sum()))
            total = min(a.size, b.size)
            self.effect, self.ci_lo, self.ci_hi = _boot_two_sample(a, b, n_boot, ci, seed)
        if self.n < total:
            self.notes.append(f"{self.metric}: {total - self.n} of {total} seeds NaN/missing")
        if self.n < 2:
            self.notes.append(f"{self.metric}: < 2 seeds")
        self.verdict = verdict_from_ci(self.ci_lo, self.ci_hi, self.direction, self.n)
        return self

    def summary(self) -> str:
        side = ">" if self.direction > 0 else "<"
        return (
            f"{self.metric} [claimed {side} 0]: {self.effect:.4g} "
            f"[{self.ci_lo:.4g}, {self.ci_hi:.4g}] n={self.n} {self.verdict}"
        )


def _row(
    claim,
    regime,
    task,
    parts: list[_Part],
    combine: str | None,
    rule_single: str,
    extra_notes: Sequence[str] = (),
) -> dict[str, Any]:
    first = parts[0]
    if combine == "all":
        verdict, rule = combine_all([p.verdict for p in parts]), f"{rule_single}; {RULE_ALL}"
    elif combine == "any":
        verdict, rule = combine_any([p.verdict for p in parts]), f"{rule_single}; {RULE_ANY}"
    else:
        verdict, rule = first.verdict, rule_single
    notes = [n for p in parts for n in p.notes] + list(extra_notes)
    return {
        "claim": claim,
        "regime": regime,
        "task": task,
        "metric": " | ".join(p.metric for p in parts),
        "comparison": " ; ".join(
            f"{p.comparison} [claimed {'>' if p.direction > 0 else '<'} 0]" for p in parts
        ),
        "effect": first.effect,
        "ci_lo": first.ci_lo,
        "ci_hi": first.ci_hi,
        "n_seeds": first.n,
        "verdict": verdict,
        "rule": rule,
        "parts": " ; ".join(p.summary() for p in parts) if len(parts) > 1 else "",
        "note": "; ".join(dict.fromkeys(notes)),
    }


# --------------------------------------------------------------------------------------------
# claim builders
# --------------------------------------------------------------------------------------------


def _diverged_note(ds: xr.Dataset, net: int, variants: Sequence[int]) -> list[str]:
    if "frac_diverged" not in ds.data_vars:
        return []
    out = []
    for vi in dict.fromkeys(variants):
        v = _seed_values(ds, "frac_diverged", net, vi)
        if v is not None and np.nanmax(np.append(v, 0.0)) > 0:
            b, lv = _variant_coords(ds, vi)
            out.append(f"diverged at b_a={_fmt(b)}, λ_v={_fmt(lv)}: {np.nanmean(v):.0%} of replays")
    return out


def _variant_diff_part(ds, net, metric, var_on, var_off, direction, label_on, label_off) -> _Part:
    return _Part(
        metric=metric,
        comparison=f"{metric}({label_on}) − {metric}({label_off})",
        direction=direction,
        a=_seed_values(ds, metric, net, var_on),
        b=_seed_values(ds, metric, net, var_off),
    )


def _label(ds, vi) -> str:
    b, lv = _variant_coords(ds, vi)
    return f"b_a={_fmt(b)}, λ_v={_fmt(lv)}"


def _replay_claims(task: str, ds: xr.Dataset, cfg: ClaimsConfig, rule_single: str, boot) -> list[dict]:
    rows = []
    for regime, (m, _desc) in REGIMES.items():
        net = select_net(ds, alpha=cfg.leaky_alpha, mask_k=1, modifiers_in_training=m)
        if net is None or "variant" not in ds.dims:
            continue
        nid = str(net_table(ds)["net"].iloc[net])
        v0 = variant_index(ds, 0.0, 1.0)
        va = variant_index(ds, cfg.adapt_b_a, 1.0)
        vm = variant_index(ds, 0.0, cfg.momentum_lambda_v)
        vb = variant_index(ds, cfg.adapt_b_a, cfg.momentum_lambda_v)
        on = f"on net {nid}"
        L = lambda vi: _label(ds, vi)  # noqa: E731

        def degenerate(x, y, what):
            return [f"{what}: 'on' variant equals the baseline (nearest match)"] if x == y else []

        # C2: adaptation increases exploration
        parts = [
            boot(_variant_diff_part(ds, net, k, va, v0, +1, L(va), L(v0))) for k in ("coverage", "entropy")
        ]
        for p in parts:
            p.comparison += f" {on}"
        rows.append(
            _row(
                "C2",
                regime,
                task,
                parts,
                "any",
                rule_single,
                degenerate(va, v0, "adaptation") + _diverged_note(ds, net, [va, v0]),
            )
        )
        # C3: adaptation slows replay
        parts = [
            boot(_variant_diff_part(ds, net, "step_length", va, v0, -1, L(va), L(v0))),
            boot(_variant_diff_part(ds, net, "reach_median", va, v0, +1, L(va), L(v0))),
        ]
        for p in parts:
            p.comparison += f" {on}"
        rows.append(
            _row(
                "C3",
                regime,
                task,
                parts,
                "any",
                rule_single,
                degenerate(va, v0, "adaptation") + _diverged_note(ds, net, [va, v0]),
            )
        )
        # C4: momentum speeds replay
        parts = [
            boot(_variant_diff_part(ds, net, "compression_ratio", vm, v0, +1, L(vm), L(v0))),
            boot(_variant_diff_part(ds, net, "reach_median", vm, v0, -1, L(vm), L(v0))),
        ]
        for p in parts:
            p.comparison += f" {on}"
        rows.append(
            _row(
                "C4",
                regime,
                task,
                parts,
                "all",
                rule_single,
                degenerate(vm, v0, "momentum") + _diverged_note(ds, net, [vm, v0]),
            )
        )
        # C5: momentum + adaptation as fast as unmodified, as exploratory as adaptation alone
        parts = [
            boot(_variant_diff_part(ds, net, "compression_ratio", vb, v0, +1, L(vb), L(v0))),
            boot(_variant_diff_part(ds, net, "coverage", vb, va, +1, L(vb), L(va))),
        ]
        for p in parts:
            p.comparison += f" {on}"
        rows.append(
            _row(
                "C5",
                regime,
                task,
                parts,
                "all",
                rule_single,
                degenerate(vb, v0, "momentum+adaptation") + _diverged_note(ds, net, [vb, va, v0]),
            )
        )
    return rows


def _c6_cosine(task: str, ds: xr.Dataset, cfg: ClaimsConfig, rule_single: str, boot) -> list[dict]:
    rows = []
    for regime, (m, _desc) in REGIMES.items():
        net = select_net(ds, alpha=cfg.leaky_alpha, mask_k=1, modifiers_in_training=m)
        if net is None or "variant" not in ds.dims:
            continue
        nid = str(net_table(ds)["net"].iloc[net])
        v0 = variant_index(ds, 0.0, 1.0)
        p = boot(
            _Part(
                metric="drift_score_cosine",
                comparison=f"mean drift–score cosine ({_label(ds, v0)}) on net {nid}",
                direction=+1,
                a=_seed_values(ds, "drift_score_cosine", net, v0),
                mode="one_sample",
            )
        )
        rows.append(_row("C6", regime, task, [p], None, rule_single))
    return rows


def _c6_gauss_markov(gm: xr.Dataset, threshold: float) -> dict:
    gap, note = gauss_markov_gap(gm)
    if not np.isfinite(gap):
        verdict = INCONCLUSIVE
    else:
        verdict = SUPPORTED if gap > threshold else CONTRADICTED
    return {
        "claim": "C6",
        "regime": "analytic",
        "task": "gauss_markov",
        "metric": "score_rate",
        "comparison": f"max over t of the relative gap between the exact score rate 1/P_t and the pooled "
        f"(stationary) rate [claimed > {threshold:g}]",
        "effect": gap,
        "ci_lo": gap,
        "ci_hi": gap,
        "n_seeds": 0,
        "verdict": verdict,
        "rule": RULE_ANALYTIC.format(thr=threshold),
        "parts": "",
        "note": note,
    }


def _c1(stats: dict[str, xr.Dataset], cfg: ClaimsConfig, rule_single: str, boot) -> list[dict]:
    rows, gains = [], {}
    for task in C1_TASKS:
        ds = stats.get(task)
        if ds is None:
            continue
        i_leak = select_net(ds, alpha=cfg.leaky_alpha, mask_k=cfg.masked_k, modifiers_in_training=False)
        i_one = select_net(ds, alpha=1.0, mask_k=cfg.masked_k, modifiers_in_training=False)
        tab = net_table(ds)
        notes = []
        if i_leak is None or i_one is None:
            a = b = None
            notes.append(f"no m0 networks with k={cfg.masked_k}")
            ids = ("?", "?")
        else:
            ids = (tab["net"].iloc[i_one], tab["net"].iloc[i_leak])
            if i_leak == i_one:
                notes.append("leaky and α=1 nets coincide (nearest match)")
            a = _seed_values(ds, "final_position_error", i_one)
            b = _seed_values(ds, "final_position_error", i_leak)
        p = boot(
            _Part(
                metric="final_position_error",
                comparison=f"final_position_error({ids[0]}) − final_position_error({ids[1]}) (m)",
                direction=+1,
                a=a,
                b=b,
            )
        )
        rows.append(_row("C1", "m0", task, [p], None, rule_single, notes))
        if a is not None and b is not None:
            with np.errstate(invalid="ignore", divide="ignore"):
                gains[task] = (a - b) / a
    if all(t in stats for t in C1_TASKS):
        p = boot(
            _Part(
                metric="relative_error_gain",
                comparison="mean_seeds[(err(α=1) − err(α_leaky)) / err(α=1)] on tmaze − same on triangle "
                f"(k={cfg.masked_k}; two-sample bootstrap)",
                direction=+1,
                a=gains.get("tmaze"),
                b=gains.get("triangle"),
                mode="two_sample",
            )
        )
        rows.append(_row("C1", "m0", "tmaze vs triangle", [p], None, rule_single))
    return rows


def claims_table(
    stats: dict[str, xr.Dataset],
    cfg: ClaimsConfig | None = None,
    n_boot: int = 2000,
    ci: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Evaluate C1–C6 on the statistics datasets (keys: task names and ``"gauss_markov"``).

    One row per (claim, regime, task) where the data allow it; see the module docstring for the
    comparisons and the verdict rule (also in each row's ``rule`` column). Absent tasks give no rows.
    """
    cfg = cfg or ClaimsConfig()
    rule_single = _rule_single(ci)

    def boot(part: _Part) -> _Part:
        return part.evaluate(n_boot=n_boot, ci=ci, seed=seed)

    rows = _c1(stats, cfg, rule_single, boot)
    replay_rows: list[dict] = []
    for task in REPLAY_TASKS:
        if stats.get(task) is not None:
            replay_rows += _replay_claims(task, stats[task], cfg, rule_single, boot)
    order = {"m0": 0, "m1": 1}
    replay_rows.sort(key=lambda r: (r["claim"], order.get(r["regime"], 9), REPLAY_TASKS.index(r["task"])))
    rows += replay_rows
    c6 = []
    for task in REPLAY_TASKS:
        if stats.get(task) is not None:
            c6 += _c6_cosine(task, stats[task], cfg, rule_single, boot)
    c6.sort(key=lambda r: (order.get(r["regime"], 9), REPLAY_TASKS.index(r["task"])))
    rows += c6
    if stats.get("gauss_markov") is not None:
        thr = float(cfg.tv_gap_threshold)
        rows.append(_c6_gauss_markov(stats["gauss_markov"], thr))
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["n_seeds"] = df["n_seeds"].astype(int)
    return df


# --------------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------------


def _prov_summary(prov: dict | None) -> dict[str, str]:
    """commit (+ dirty flag) and package hash of a provenance record (``provenance.record``:
    ``git.commit``, ``git.dirty``, ``package_hash``); tolerant to flat key names."""
    prov = dict(prov or {})
    git = prov.get("git") if isinstance(prov.get("git"), dict) else {}
    commit = git.get("commit", prov.get("commit", prov.get("git_commit")))
    dirty = git.get("dirty", prov.get("dirty"))
    pkg = prov.get("package_hash", prov.get("package_sha256"))
    out = {"commit": "unknown" if commit in (None, "") else str(commit)}
    if dirty is True or (isinstance(dirty, str) and dirty.lower() == "true"):
        out["commit"] += " (dirty)"
    out["package_hash"] = "unknown" if pkg in (None, "") else str(pkg)
    return out


def _md_cell(x: Any) -> str:
    if isinstance(x, float):
        return "" if np.isnan(x) else f"{x:.4g}"
    return str(x).replace("|", "\\|").replace("\n", " ")


def render_markdown(
    df: pd.DataFrame, prov: dict | None = None, ci: float = 0.95, n_boot: int | None = None
) -> str:
    """Markdown page: header with the verdict rule and provenance, then the claims table."""
    ps = _prov_summary(prov)
    lines = [
        "# Claims table",
        "",
        f"Provenance: commit `{ps['commit']}`, package hash `{ps['package_hash']}`.",
        "",
        f"**Verdict rule.** Effect = mean over seeds of the paired per-seed difference; CI = {ci:.0%} "
        f"percentile bootstrap over seeds{'' if n_boot is None else f' ({n_boot} resamples)'}. "
        + _rule_single(ci)[0].upper()
        + _rule_single(ci)[1:]
        + ".",
        f"Multi-part claims: {RULE_ALL} (C4, C5); {RULE_ANY} (C2, C3). Effect and CI columns show "
        "the first part; all parts are listed under *parts*.",
        "Regimes: m0 = modifiers at replay only; m1 = modifiers in training too.",
        "",
        "## Claims",
        "",
    ]
    lines += [f"- **{k}**: {v}" for k, v in CLAIM_TEXT.items()]
    lines += ["", "## Results", ""]
    cols = [
        "claim",
        "regime",
        "task",
        "metric",
        "comparison",
        "effect",
        "ci_lo",
        "ci_hi",
        "n_seeds",
        "verdict",
        "parts",
        "note",
    ]
    lines.append("| " + " | ".join(cols) + " |")
    lines.append("|" + "---|" * len(cols))
    for _, r in df.iterrows():
        cells = [_md_cell(r[c]) for c in cols]
        cells[cols.index("verdict")] = f"**{cells[cols.index('verdict')]}**"
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    return "\n".join(lines)


def write_claims(
    config: dict, stats_ncs: dict[str, str], out_csv: str, out_md: str, prov: dict | None = None
) -> pd.DataFrame:
    """Compute the claims table from the statistics files and write ``out_csv`` and ``out_md``.

    ``config`` is the plain workflow config dict (sections ``claims`` and ``stats`` are used:
    ``stats.n_bootstrap``, ``stats.ci``). Both files are written atomically (temp + os.replace).
    """
    config = config or {}
    ccfg = ClaimsConfig.from_dict(config.get("claims"))
    scfg = StatsConfig.from_dict(config.get("stats"))
    stats = load_stats(stats_ncs)
    df = claims_table(stats, ccfg, n_boot=scfg.n_bootstrap, ci=scfg.ci, seed=0)
    io.write_text_atomic(out_csv, df.to_csv(index=False))
    io.write_text_atomic(out_md, render_markdown(df, prov, ci=scfg.ci, n_boot=scfg.n_bootstrap))
    return df
