"""The claims engine every study's claims table uses: one verdict rule, one set of columns.

A *claim row* is made of one or more *parts*. A part is one comparison over seeds with the
direction the paper claims: a paired difference (the same network under two variants, or two
networks trained with the same seed), a one-sample mean, a two-sample (Welch) difference, or an
analytic value against a threshold. The statistics are :mod:`noisyrnn.core.inference`:

- each part gets a Student-t interval over seeds and the two-sided p-value of its null (0, or
  ``-margin`` in the claimed direction for an "at least as" part: a non-inferiority test);
- the parts of a multi-part claim are Holm-adjusted within the claim, given their verdicts at
  the adjusted p, and combined with ALL or ANY (:func:`inference.combine_all` / ``combine_any``);
- a row whose part has fewer than ``min_seeds`` seeds with values gets no verdict, and says so;
- the table gets a Benjamini–Hochberg q-value column across its rows (each row's smallest
  adjusted p), so a reader sees how many verdicts chance alone could produce.

The calibration of this rule is tested by simulation (``tests/unit/core/test_verdict_calibration.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import io
from .inference import (
    CONTRADICTED,
    INCONCLUSIVE,
    SUPPORTED,
    Estimate,
    bh,
    combine_all,
    combine_any,
    mean_interval,
    multipart,
    paired_interval,
    two_sample_interval,
)

COLUMNS = ["claim", "study", "condition", "metric", "comparison", "effect", "ci_lo", "ci_hi",
           "n", "p", "q", "verdict", "margin", "rule", "parts", "note"]

__all__ = ["COLUMNS", "Part", "Rule", "SUPPORTED", "CONTRADICTED", "INCONCLUSIVE", "analytic",
           "one_sample", "paired", "two_sample", "row", "table", "render_markdown", "write"]


@dataclass(frozen=True)
class Rule:
    """The verdict rule's settings: level, interval, minimum seeds."""

    alpha: float = 0.05
    min_seeds: int = 3

    @property
    def ci(self) -> float:
        return 1.0 - self.alpha

    def text(self) -> str:
        return (f"two-sided Student-t test over seeds at alpha = {self.alpha:g} ({self.ci:.0%} "
                f"t interval); supported / contradicted when the null is rejected on the claimed / "
                f"opposite side; inconclusive otherwise or with fewer than {self.min_seeds} seeds")


@dataclass
class Part:
    """One comparison of a claim. ``direction``: +1 claimed above the null, -1 below."""

    metric: str
    comparison: str
    direction: int
    estimate: Estimate | None
    margin: float = 0.0
    threshold: float | None = None  # analytic parts: the value must exceed it
    notes: list[str] = field(default_factory=list)
    verdict: str = INCONCLUSIVE
    p_adjusted: float = np.nan

    @property
    def analytic(self) -> bool:
        return self.threshold is not None

    @property
    def claimed(self) -> str:
        """What the paper claims, e.g. "claimed > 0" or "claimed > -0.05" (non-inferiority)."""
        side = ">" if self.direction > 0 else "<"
        if self.analytic:
            return f"claimed > {self.threshold:g}"
        return f"claimed {side} {-self.direction * self.margin if self.margin else 0:g}"

    def summary(self) -> str:
        e = self.estimate
        if e is None:
            return f"{self.metric} [{self.claimed}]: missing"
        return (f"{self.metric} [{self.claimed}]: {e.estimate:.4g} [{e.lo:.4g}, {e.hi:.4g}] "
                f"n={e.n} p_holm={self.p_adjusted:.3g} {self.verdict}")


def _values(x) -> np.ndarray | None:
    return None if x is None else np.asarray(x, dtype=float).reshape(-1)


def _missing_note(metric: str, total: int, n: int) -> list[str]:
    return [f"{metric}: {total - n} of {total} seeds NaN/missing"] if n < total else []


def paired(metric: str, comparison: str, direction: int, a, b, rule: Rule, *,
           margin: float = 0.0) -> Part:
    """Per-seed paired difference ``a - b``. With ``margin > 0`` the part is "at least as":
    its null is ``-margin`` on the claimed side (non-inferiority)."""
    a, b = _values(a), _values(b)
    if a is None or b is None:
        return Part(metric, comparison, direction, None, margin, notes=[f"{metric} missing"])
    est = paired_interval(a, b, ci=rule.ci, null=-direction * margin)
    return Part(metric, comparison, direction, est, margin,
                notes=_missing_note(metric, a.size, est.n))


def one_sample(metric: str, comparison: str, direction: int, a, rule: Rule) -> Part:
    a = _values(a)
    if a is None:
        return Part(metric, comparison, direction, None, notes=[f"{metric} missing"])
    est = mean_interval(a, ci=rule.ci)
    return Part(metric, comparison, direction, est, notes=_missing_note(metric, a.size, est.n))


def two_sample(metric: str, comparison: str, direction: int, a, b, rule: Rule) -> Part:
    """Welch difference of two groups of independent networks."""
    a, b = _values(a), _values(b)
    if a is None or b is None:
        return Part(metric, comparison, direction, None, notes=[f"{metric} missing"])
    est = two_sample_interval(a, b, ci=rule.ci)
    n_a, n_b = int(np.isfinite(a).sum()), int(np.isfinite(b).sum())
    notes = _missing_note(f"{metric} (first group)", a.size, n_a)
    notes += _missing_note(f"{metric} (second group)", b.size, n_b)
    # n is the smaller group: each group needs min_seeds seeds for a verdict
    est = Estimate(est.estimate, est.lo, est.hi, min(n_a, n_b), est.se, est.df, est.p)
    return Part(metric, comparison, direction, est, notes=notes)


def analytic(metric: str, comparison: str, value: float, threshold: float) -> Part:
    """An exact value (no sampling) claimed to exceed ``threshold``: supported if it does,
    contradicted otherwise. It has no p-value and no q."""
    est = Estimate(float(value), float(value), float(value), 0, 0.0, np.nan, np.nan)
    return Part(metric, comparison, +1, est, threshold=float(threshold))


def _part_verdicts(parts: Sequence[Part], rule: Rule) -> None:
    """Each part's verdict at its Holm-adjusted p within the claim (inference.multipart)."""
    tested = [p for p in parts if not p.analytic and p.estimate is not None]
    if tested:
        _, per, adjusted = multipart([(p.estimate, p.direction) for p in tested], "all",
                                     alpha=rule.alpha, min_n=rule.min_seeds)
        for p, (v, note), q in zip(tested, per, adjusted):
            p.verdict, p.p_adjusted = v, float(q)
            if note:
                p.notes.append(f"{p.metric}: {note}")
    for p in parts:
        if p.analytic:
            value = p.estimate.estimate
            p.verdict = (INCONCLUSIVE if not np.isfinite(value)
                         else SUPPORTED if value > p.threshold else CONTRADICTED)


def row(claim: str, study: str, condition: str, parts: Sequence[Part], rule: Rule, *,
        combine: str | None = None, notes: Sequence[str] = ()) -> dict[str, Any]:
    """One claims-table row. ``combine``: None (one part), "all" or "any"."""
    parts = list(parts)
    if combine is None and len(parts) != 1:
        raise ValueError(f"{claim}: {len(parts)} parts need combine='all' or 'any'")
    _part_verdicts(parts, rule)
    verdicts = [p.verdict for p in parts]
    final = {"all": combine_all, "any": combine_any}[combine](verdicts) if combine else verdicts[0]
    first = parts[0]
    e = first.estimate
    if first.analytic:
        text = f"analytic (no sampling): supported if the value exceeds {first.threshold:g}"
    else:
        text = rule.text()
        if len(parts) > 1:
            text += (f"; parts Holm-adjusted within the claim and combined with {combine.upper()}")
        if any(p.margin for p in parts):
            text += "; 'at least as' parts are non-inferiority tests against -margin"
    ps = [p.p_adjusted for p in parts if np.isfinite(p.p_adjusted)]
    return {
        "claim": claim,
        "study": study,
        "condition": condition,
        "metric": " | ".join(p.metric for p in parts),
        "comparison": " ; ".join(f"{p.comparison} [{p.claimed}]" for p in parts),
        "effect": np.nan if e is None else e.estimate,
        "ci_lo": np.nan if e is None else e.lo,
        "ci_hi": np.nan if e is None else e.hi,
        "n": 0 if e is None else int(e.n),
        "p": min(ps) if ps else np.nan,
        "q": np.nan,
        "verdict": final,
        "margin": max((p.margin for p in parts), default=0.0),
        "rule": text,
        "parts": " ; ".join(p.summary() for p in parts) if len(parts) > 1 else "",
        "note": "; ".join(dict.fromkeys([n for p in parts for n in p.notes] + list(notes))),
    }


def table(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The claims table, with the Benjamini–Hochberg q-value of each row's p across rows."""
    df = pd.DataFrame(list(rows), columns=COLUMNS)
    df["q"] = bh(df["p"].to_numpy(dtype=float)) if len(df) else []
    df["n"] = df["n"].astype(int)
    return df


def _md_cell(x: Any) -> str:
    if isinstance(x, float):
        return "" if np.isnan(x) else f"{x:.4g}"
    return str(x).replace("|", "\\|").replace("\n", " ")


def _prov_line(prov: dict | None) -> str:
    prov = prov or {}
    git = prov.get("git") or {}
    commit = str(git.get("commit", "unknown")) + (" (dirty)" if git.get("dirty") is True else "")
    return f"Provenance: commit `{commit}`, package hash `{prov.get('package_hash', 'unknown')}`."


def verdict_counts(df: pd.DataFrame) -> str:
    """One line: how many rows of each verdict, and how many discoveries BH allows at 5 %."""
    counts = df["verdict"].value_counts()
    parts = [f"{counts.get(v, 0)} {v}" for v in (SUPPORTED, CONTRADICTED, INCONCLUSIVE)]
    tested = int(np.isfinite(df["q"]).sum())
    fdr = int((df["q"] < 0.05).sum())
    return (f"{len(df)} rows: " + ", ".join(parts)
            + f"; {fdr} of {tested} tested rows have q < 0.05 (Benjamini–Hochberg across rows)")


def render_markdown(df: pd.DataFrame, title: str, claim_text: dict[str, str], rule: Rule,
                    prov: dict | None = None, notes: Sequence[str] = ()) -> str:
    """Markdown page: the rule, the provenance, the claims, the verdict counts and the table."""
    lines = [f"# {title}", "", _prov_line(prov), "",
             f"**Verdict rule.** Per row: {rule.text()}. Multi-part claims: the parts' p-values "
             "are Holm-adjusted within the claim; ALL is supported if every part is and "
             "contradicted if any part is; ANY is supported if at least one part is and none is "
             "contradicted, contradicted if every part is. 'At least as' parts test against "
             "-margin (non-inferiority; the margin is in the row). `p` is the row's smallest "
             "Holm-adjusted p, `q` its Benjamini–Hochberg q-value across the table.",
             *notes, "", "## Claims", ""]
    lines += [f"- **{k}**: {v}" for k, v in claim_text.items()]
    lines += ["", "## Results", "", verdict_counts(df), ""]
    cols = [c for c in COLUMNS if c not in ("study", "rule")]
    lines.append("| " + " | ".join(cols) + " |")
    lines.append("|" + "---|" * len(cols))
    for _, r in df.iterrows():
        cells = [_md_cell(r[c]) for c in cols]
        cells[cols.index("verdict")] = f"**{cells[cols.index('verdict')]}**"
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    return "\n".join(lines)


def write(df: pd.DataFrame, out_csv: str, out_md: str, markdown: str) -> None:
    """Both files, atomically."""
    io.write_text_atomic(out_csv, df.to_csv(index=False))
    io.write_text_atomic(out_md, markdown)
