"""The claims table as a page and as a result: hand-built parts rendered to Markdown (every
part's numbers and verdict, the rule column, the config and scale header, analytic rows) and
written with provenance sidecars. Expected numbers come from scipy, not from the engine."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from noisyrnn.core import claims as engine
from noisyrnn.core import provenance

RULE = engine.Rule(alpha=0.05, min_seeds=3)
# per-seed paired differences, built in: a clear positive effect and pure noise
CLEAR = np.array([0.070, 0.068, 0.069, 0.0685, 0.0695])
NOISE = np.array([0.5, -0.4, 0.3, -0.6, 0.1])


def _t(x):
    """Mean, 95 % Student-t interval and two-sided p of a one-sample t-test on ``x``."""
    m, se, df = x.mean(), x.std(ddof=1) / np.sqrt(x.size), x.size - 1
    h = sps.t.ppf(0.975, df) * se
    return m, m - h, m + h, sps.ttest_1samp(x, 0.0).pvalue


def _holm2(p1, p2):
    """Holm adjustment of two p-values (returned in their input order)."""
    lo, hi = sorted([p1, p2])
    a_lo = min(1.0, 2 * lo)
    a_hi = max(a_lo, min(1.0, hi))
    return (a_lo, a_hi) if p1 <= p2 else (a_hi, a_lo)


def _fmt(x):
    return f"{x:.4g}"


def _mixed_row():
    """C4-like ALL row: part 1 clear (supported), part 2 noise (inconclusive)."""
    zeros = np.zeros(5)
    parts = [engine.paired("compression_ratio", "cr(on) − cr(off)", +1, CLEAR, zeros, RULE),
             engine.paired("reach_rmst", "reach(on) − reach(off)", -1, NOISE, zeros, RULE)]
    return engine.row("C4", "toy", "m0 tmaze", parts, RULE, combine="all")


def _gm_row(value, threshold=0.1):
    part = engine.analytic("score_rate_gap", "max_t gap", value, threshold)
    return engine.row("C6", "toy", "analytic gauss_markov", [part], RULE)


def _table():
    one = engine.row("C1", "toy", "m0 tmaze",
                     [engine.paired("err", "err(a) − err(b)", +1, CLEAR, np.zeros(5), RULE)], RULE)
    return engine.table([one, _mixed_row(), _gm_row(0.5)])


def _md(df, prov=None):
    return engine.render_markdown(df, "Claims: toy", {"C4": "momentum speeds replay"}, RULE, prov)


def _table_lines(md):
    """The table's header line, then its data lines (the |---| separator left out)."""
    return [line for line in md.splitlines() if line.startswith("| ")]


def _cells(line):
    return [c.strip() for c in line.strip().strip("|").split(" | ")]


# --------------------------------------------------------------------------------------------


def test_every_part_of_a_multi_part_row_has_its_own_line_with_ci_p_and_verdict():
    df = _table()
    r = df[df["claim"] == "C4"].iloc[0]
    assert r["verdict"] == engine.INCONCLUSIVE  # ALL of supported + inconclusive
    m1, lo1, hi1, p1 = _t(CLEAR)
    m2, lo2, hi2, p2 = _t(NOISE)
    a1, a2 = _holm2(p1, p2)
    lines = _table_lines(_md(df))
    header = _cells(lines[0])
    rows = [dict(zip(header, _cells(line))) for line in lines[1:]]
    i = next(k for k, x in enumerate(rows) if x["claim"] == "C4")
    row, part1, part2 = rows[i], rows[i + 1], rows[i + 2]
    # the row line: combined verdict, no first-part interval beside it
    assert row["verdict"] == "**inconclusive**"
    assert row["ci_lo"] == row["ci_hi"] == "" and "per part" in row["effect"]
    assert "2 parts" in row["parts"] and "ALL" in row["parts"]
    # one line per part, each with its own effect, interval, n, Holm-adjusted p and verdict
    assert part1["condition"].startswith("↳") and part2["condition"].startswith("↳")
    assert part1["claim"] == part2["claim"] == ""
    assert (part1["metric"], part2["metric"]) == ("compression_ratio", "reach_rmst")
    for line, (m, lo, hi), adj, verdict in ((part1, (m1, lo1, hi1), a1, "supported"),
                                            (part2, (m2, lo2, hi2), a2, "inconclusive")):
        assert float(line["effect"]) == pytest.approx(m, rel=1e-3)
        assert float(line["ci_lo"]) == pytest.approx(lo, rel=1e-3)
        assert float(line["ci_hi"]) == pytest.approx(hi, rel=1e-3)
        assert float(line["p"]) == pytest.approx(adj, rel=5e-3)
        assert line["n"] == "5" and line["verdict"] == f"*{verdict}*"
    assert "reach(on) − reach(off) [claimed < 0]" in part2["comparison"]
    # the row's p is the smaller adjusted p; its CSV effect / CI stay the first part's
    assert r["p"] == pytest.approx(min(a1, a2), rel=1e-6)
    assert r["effect"] == pytest.approx(m1) and r["ci_lo"] == pytest.approx(lo1)


def test_single_part_rows_have_no_part_lines_and_the_rule_column_is_shown():
    df = _table()
    md = _md(df)
    lines = _table_lines(md)
    header = _cells(lines[0])
    assert "rule" in header and "study" not in header
    rows = [dict(zip(header, _cells(line))) for line in lines[1:]]
    assert len(rows) == len(df) + 2  # one extra line per part of the one 2-part row
    c1 = rows[0]
    m, lo, hi, _ = _t(CLEAR)
    assert c1["claim"] == "C1" and rows[1]["claim"] == "C4"  # no ↳ line under C1
    assert (c1["effect"], c1["ci_lo"], c1["ci_hi"]) == (_fmt(m), _fmt(lo), _fmt(hi))
    assert c1["rule"] == engine._md_cell(df["rule"].iloc[0]) and "Student-t" in c1["rule"]


def test_analytic_rows_say_they_are_analytic_and_take_the_threshold_verdict():
    above, below = _gm_row(0.5), _gm_row(0.05)
    assert above["verdict"] == engine.SUPPORTED and below["verdict"] == engine.CONTRADICTED
    for r in (above, below):
        assert engine.ANALYTIC_NOTE in r["note"]
        assert "closed form" in r["note"] and "n = 0 is not a sample size" in r["note"]
        assert r["n"] == 0 and np.isnan(r["p"])
    seeded = _mixed_row()
    assert "analytic" not in seeded["note"]
    md = _md(engine.table([above]))
    row = dict(zip(_cells(_table_lines(md)[0]), _cells(_table_lines(md)[1])))
    assert row["n"] == "n/a (analytic)" and row["ci_lo"] == row["ci_hi"] == ""
    assert row["effect"] == "0.5" and row["verdict"] == "**supported**"
    assert "closed form" in row["note"]


@pytest.mark.parametrize("files, scale", [
    (["config/config.yaml"], "default"),
    (["config/config.yaml", "config/smoke.yaml"], "smoke"),
    (["config/config.yaml", "config/paper.yaml"], "paper"),
    (["config/config.yaml", "config/smoke.yaml", "config/test/box-only.yaml"], "smoke + box-only"),
    ([], "unknown"),
])
def test_header_names_the_config_files_and_the_scale(files, scale):
    assert engine.config_scale(files) == scale
    prov = {"git": {"commit": "abc1234", "dirty": False}, "package_hash": "f00",
            "config": {"files": files, "schema": "config/schema"} if files else None}
    md = _md(_table(), prov)
    header = md.split("## Claims")[0]
    for f in files:
        assert f"`{f}`" in header
    assert f"scale: **{scale}**" in header or (not files and "scale: unknown" in header)
    assert "abc1234" in header


def test_parse_parts_inverts_the_summary():
    r = _mixed_row()
    parsed = engine.parse_parts(r["parts"])
    m1, lo1, hi1, _ = _t(CLEAR)
    assert [p["metric"] for p in parsed] == ["compression_ratio", "reach_rmst"]
    assert [p["verdict"] for p in parsed] == ["supported", "inconclusive"]
    assert [p["claimed"] for p in parsed] == ["claimed > 0", "claimed < 0"]
    assert parsed[0]["ci_lo"] == pytest.approx(lo1, rel=1e-3)
    assert parsed[0]["ci_hi"] == pytest.approx(hi1, rel=1e-3) and parsed[0]["n"] == 5
    assert engine.parse_parts("") == [] and engine.parse_parts(np.nan) == []
    missing = engine.Part("coverage", "c", +1, None)
    assert engine.parse_parts(missing.summary())[0]["verdict"] == "missing"


def test_markdown_from_the_csv_equals_markdown_from_the_table(tmp_path):
    df = _table()
    engine.write(df, str(tmp_path / "c.csv"), str(tmp_path / "c.md"), "x")
    back = pd.read_csv(tmp_path / "c.csv", keep_default_na=True)
    back[["metric", "comparison", "parts", "note"]] = (
        back[["metric", "comparison", "parts", "note"]].fillna(""))
    assert _md(back) == _md(df)


def test_write_with_prov_writes_sidecars_holding_the_lineage(tmp_path):
    df = _table()
    lineage = [{"rule": "replay_stats", "outputs": ["results/replay/stats/tmaze.nc"]},
               {"rule": "replay_gauss_markov", "outputs": ["results/replay/stats/gauss_markov.nc"]}]
    prov = {"rule": "replay_claims", "git": {"commit": "abc", "dirty": False},
            "config": {"files": ["config/config.yaml"]}, "lineage": lineage}
    csv, md = tmp_path / "out" / "claims.csv", tmp_path / "out" / "claims.md"
    engine.write(df, str(csv), str(md), _md(df, prov), prov)
    for path in (csv, md):
        side = path.with_name(path.name + ".prov.json")
        rec = json.loads(side.read_text())
        assert rec["lineage"] == lineage and rec["rule"] == "replay_claims"
        assert "created" in rec
        assert provenance.read_provenance(path)["lineage"] == lineage  # where the audit looks
    assert pd.read_csv(csv)["verdict"].tolist() == df["verdict"].tolist()
    assert not list(csv.parent.glob(".tmp_*"))
    # without a record: the two files only (the old four-argument call)
    plain = tmp_path / "plain"
    engine.write(df, str(plain / "c.csv"), str(plain / "c.md"), "md")
    assert sorted(p.name for p in plain.iterdir()) == ["c.csv", "c.md"]


def test_verdict_counts_is_unchanged():
    df = pd.DataFrame({"verdict": ["supported", "inconclusive", "supported", "contradicted"],
                       "q": [0.01, np.nan, 0.2, 0.04]})
    assert engine.verdict_counts(df) == (
        "4 rows: 2 supported, 1 contradicted, 1 inconclusive; 2 of 3 tested rows have q < 0.05 "
        "(Benjamini–Hochberg across rows)")
