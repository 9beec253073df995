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

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
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
           "within", "one_sample", "paired", "two_sample", "row", "table", "render_markdown", "write",
           "write_sidecars", "check_sidecar_outputs", "parse_parts", "config_files", "config_scale", "ANALYTIC_NOTE"]

#: the note every analytic row carries: why it has no seeds, no interval, p or q
ANALYTIC_NOTE = ("analytic: an exact value computed in closed form, not a mean over seeds, so it "
                 "needs no seeds (n = 0 is not a sample size) and has no interval, p or q; the "
                 "verdict is the threshold comparison")


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
    # interval parts: the estimate's interval must lie within [lo, hi] (a published value ±
    # a margin, or a theory range)
    bounds: tuple[float, float] | None = None
    notes: list[str] = field(default_factory=list)
    verdict: str = INCONCLUSIVE
    p_adjusted: float = np.nan

    @property
    def analytic(self) -> bool:
        return self.threshold is not None

    @property
    def interval(self) -> bool:
        return self.bounds is not None

    @property
    def claimed(self) -> str:
        """What the paper claims, e.g. "claimed > 0" or "claimed > -0.05" (non-inferiority)."""
        side = ">" if self.direction > 0 else "<"
        if self.interval:
            return f"claimed between {self.bounds[0]:g} and {self.bounds[1]:g}"
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


def within(metric: str, comparison: str, estimate: float, lo: float, hi: float, n: int,
           bounds: tuple[float, float], *, notes: Sequence[str] = ()) -> Part:
    """An estimate with its own interval [lo, hi] (a fit's bootstrap interval, say) against a
    claimed range ``bounds`` (a published value ± a margin, or a theory range): supported if
    the interval lies inside the range, contradicted if it lies wholly outside, inconclusive
    if it straddles a bound or there is no estimate. No p-value: an interval-inclusion rule,
    stated in the row."""
    est = Estimate(float(estimate), float(lo), float(hi), int(n), np.nan, np.nan, np.nan)
    return Part(metric, comparison, +1, est, bounds=(float(bounds[0]), float(bounds[1])),
                notes=list(notes))


def _interval_verdict(part: Part) -> str:
    e, (a, b) = part.estimate, part.bounds
    if e is None or not (np.isfinite(e.lo) and np.isfinite(e.hi)):
        return INCONCLUSIVE
    if a <= e.lo and e.hi <= b:
        return SUPPORTED
    if e.hi < a or e.lo > b:
        return CONTRADICTED
    return INCONCLUSIVE


def _part_verdicts(parts: Sequence[Part], rule: Rule) -> None:
    """Each part's verdict at its Holm-adjusted p within the claim (inference.multipart)."""
    for p in parts:
        if p.interval:
            p.verdict = _interval_verdict(p)
    tested = [p for p in parts if not p.analytic and not p.interval and p.estimate is not None]
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
    elif all(p.interval for p in parts):
        text = ("interval inclusion: supported if the estimate's interval lies inside the claimed "
                "range, contradicted if wholly outside, inconclusive if it straddles a bound or "
                "there is no estimate")
        if len(parts) > 1:
            text += f"; parts combined with {combine.upper()}"
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
        "note": "; ".join(dict.fromkeys(
            ([ANALYTIC_NOTE] if any(p.analytic for p in parts) else [])
            + [n for p in parts for n in p.notes] + list(notes))),
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


#: config file stems that name a scale; ``config/config.yaml`` alone is the default scale
SCALES = ("smoke", "paper")


def config_files(prov: dict | None) -> list[str]:
    """The config files the run read, in order (``prov["config"]["files"]``); [] if unknown."""
    source = (prov or {}).get("config") or {}
    files = source.get("files") if isinstance(source, dict) else None
    return [str(f) for f in files] if isinstance(files, (list, tuple)) else []


def config_scale(files: Sequence[str]) -> str:
    """The scale a list of config files runs at: the last of ``smoke.yaml`` / ``paper.yaml``
    among them, else "default" (``config/config.yaml`` alone); "unknown" without files. Other
    files (test overlays) are named after it: "smoke + box-only"."""
    if not files:
        return "unknown"
    stems = [Path(f).stem for f in files]
    named = [s for s in stems if s in SCALES]
    scale = named[-1] if named else "default"
    extra = [s for s in stems if s not in SCALES and s != "config"]
    return " + ".join([scale, *dict.fromkeys(extra)])


def _config_line(prov: dict | None) -> str:
    files = config_files(prov)
    if not files:
        return "Config: unknown (not recorded: run outside the workflow); scale: unknown."
    return (f"Config: {', '.join(f'`{f}`' for f in files)} (in the order read); "
            f"scale: **{config_scale(files)}**.")


_PART = re.compile(
    r"^(?P<metric>.*?) \[(?P<claimed>[^\]]*)\]: (?:missing|(?P<effect>\S+) \[(?P<lo>\S+), "
    r"(?P<hi>\S+)\] n=(?P<n>\d+) p_holm=(?P<p>\S+) (?P<verdict>\S+))$")


def parse_parts(text: Any) -> list[dict[str, Any]]:
    """The parts of a row from its ``parts`` cell (the inverse of :meth:`Part.summary`):
    ``[{"metric", "claimed", "effect", "ci_lo", "ci_hi", "n", "p_adjusted", "verdict"}]``
    (numbers at the cell's 4 significant digits); [] for a one-part row. A part that does not
    parse keeps its text under "text"."""
    if not isinstance(text, str) or not text.strip():
        return []
    out = []
    for piece in text.split(" ; "):
        m = _PART.match(piece.strip())
        if m is None:
            out.append({"text": piece.strip()})
            continue
        num = (lambda k: float(m[k]) if m[k] is not None else np.nan)
        out.append({"metric": m["metric"], "claimed": m["claimed"], "effect": num("effect"),
                    "ci_lo": num("lo"), "ci_hi": num("hi"),
                    "n": int(m["n"]) if m["n"] is not None else 0,
                    "p_adjusted": num("p"), "verdict": m["verdict"] or "missing"})
    return out


def verdict_counts(df: pd.DataFrame) -> str:
    """One line: how many rows of each verdict, and how many discoveries BH allows at 5 %."""
    counts = df["verdict"].value_counts()
    parts = [f"{counts.get(v, 0)} {v}" for v in (SUPPORTED, CONTRADICTED, INCONCLUSIVE)]
    tested = int(np.isfinite(df["q"]).sum())
    fdr = int((df["q"] < 0.05).sum())
    return (f"{len(df)} rows: " + ", ".join(parts)
            + f"; {fdr} of {tested} tested rows have q < 0.05 (Benjamini–Hochberg across rows)")


#: markdown columns: every CSV column but ``study`` (one study per table, named in the title)
MD_COLUMNS = [c for c in COLUMNS if c != "study"]


def _combine_of(rule_text: Any) -> str:
    m = re.search(r"combined with (ALL|ANY)", str(rule_text))
    return m[1] if m else "?"


def _n_range(ns: Sequence[int]) -> str:
    lo, hi = min(ns), max(ns)
    return str(lo) if lo == hi else f"{lo}–{hi}"


def _md_lines(r: pd.Series) -> list[list[str]]:
    """The table lines of one claims row: the row itself, then one ↳ line per part of a
    multi-part row (its effect, interval, seeds, Holm-adjusted p and verdict)."""
    cells = {c: _md_cell(r[c]) for c in MD_COLUMNS}
    cells["verdict"] = f"**{cells['verdict']}**"
    parts = parse_parts(r["parts"])
    analytic = str(r["rule"]).startswith("analytic")
    if analytic:  # an exact value: no interval, and n is not a sample size
        cells["ci_lo"] = cells["ci_hi"] = ""
        cells["n"] = "n/a (analytic)"
    if not parts:
        return [[cells[c] for c in MD_COLUMNS]]
    # the row line: the combined verdict; effect and CI are per part, on the lines below
    cells["comparison"] = cells["effect"] = "(per part ↓)"
    cells["ci_lo"] = cells["ci_hi"] = ""
    ns = [p["n"] for p in parts if "n" in p]
    if ns:
        cells["n"] = _n_range(ns)
    cells["parts"] = f"{len(parts)} parts, combined with {_combine_of(r['rule'])} (↳ lines below)"
    lines = [[cells[c] for c in MD_COLUMNS]]
    comparisons = str(r["comparison"]).split(" ; ")
    metrics = str(r["metric"]).split(" | ")
    for i, p in enumerate(parts):
        line = dict.fromkeys(MD_COLUMNS, "")
        line["condition"] = f"↳ part {i + 1} of {len(parts)}"
        if "text" in p:
            line["parts"] = _md_cell(p["text"])
        else:
            line["metric"] = _md_cell(metrics[i] if len(metrics) == len(parts) else p["metric"])
            line["comparison"] = _md_cell(comparisons[i] if len(comparisons) == len(parts)
                                          else f"[{p['claimed']}]")
            for c in ("effect", "ci_lo", "ci_hi"):
                line[c] = _md_cell(p[c])
            line["n"] = str(p["n"])
            line["p"] = _md_cell(p["p_adjusted"])
            line["verdict"] = f"*{p['verdict']}*"
        lines.append([line[c] for c in MD_COLUMNS])
    return lines


def render_markdown(df: pd.DataFrame, title: str, claim_text: dict[str, str], rule: Rule,
                    prov: dict | None = None, notes: Sequence[str] = ()) -> str:
    """Markdown page: the provenance and config, the rule, the claims, the verdict counts and
    the table (a multi-part row is followed by one ↳ line per part)."""
    lines = [f"# {title}", "", _prov_line(prov), "", _config_line(prov), "",
             f"**Verdict rule.** Per row: {rule.text()}. Multi-part claims: the parts' p-values "
             "are Holm-adjusted within the claim; ALL is supported if every part is and "
             "contradicted if any part is; ANY is supported if at least one part is and none is "
             "contradicted, contradicted if every part is. 'At least as' parts test against "
             "-margin (non-inferiority; the margin is in the row). `p` is the row's smallest "
             "Holm-adjusted p, `q` its Benjamini–Hochberg q-value across the table.",
             "",
             "**Layout.** `n` is the number of seeds with values, per row (per part on the ↳ "
             "lines). A multi-part row carries the combined verdict in bold; under it, one ↳ line "
             "per part gives that part's effect, interval, seeds, Holm-adjusted p (in the `p` "
             "column) and its own verdict in italics. (In the CSV, `effect`, `ci_lo`, `ci_hi` "
             "and `n` of a multi-part row are its first part's; `parts` lists every part.) "
             "Analytic rows are exact closed-form values: no seeds, no interval, p or q.",
             *notes, "", "## Claims", ""]
    lines += [f"- **{k}**: {v}" for k, v in claim_text.items()]
    lines += ["", "## Results", "", verdict_counts(df), ""]
    lines.append("| " + " | ".join(MD_COLUMNS) + " |")
    lines.append("|" + "---|" * len(MD_COLUMNS))
    for _, r in df.iterrows():
        lines += ["| " + " | ".join(cells) + " |" for cells in _md_lines(r)]
    lines.append("")
    return "\n".join(lines)


def write_sidecars(prov: Mapping[str, Any], *paths: str | os.PathLike) -> list[Path]:
    """The full provenance record (with its lineage and a ``created`` time) beside each of
    ``paths``, as ``{path}.prov.json`` (where :func:`provenance.read_provenance` and the
    audit look for it)."""
    out = []
    for path in paths:
        side = io.sidecar_path(path)
        io._write_sidecar(side, prov)
        out.append(side)
    return out


def check_sidecar_outputs(pairs: Sequence[tuple[str, str]]) -> None:
    """A claims rule declares each table's sidecar as an output; :func:`write` puts it at
    ``{table}.prov.json``. ValueError naming the output when a rule declares another path."""
    for table, side in pairs:
        if io.sidecar_path(table) != Path(side):
            raise ValueError(f"rule output {side}: the sidecar of {table} is {io.sidecar_path(table)}")


def write(df: pd.DataFrame, out_csv: str, out_md: str, markdown: str,
          prov: Mapping[str, Any] | None = None) -> None:
    """Both files, atomically; with ``prov``, each gets its sidecar ``{path}.prov.json``."""
    io.write_text_atomic(out_csv, df.to_csv(index=False))
    io.write_text_atomic(out_md, markdown)
    if prov is not None:
        write_sidecars(prov, out_csv, out_md)
