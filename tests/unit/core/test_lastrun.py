"""The run record `make report` reads, the end-of-run summary, and the console progress line."""

from __future__ import annotations

import io as _stdio

import pandas as pd
import pytest

from noisyrnn.core import console, lastrun


def test_report_uses_the_recorded_config_files_or_refuses(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    for name in ("config.yaml", "smoke.yaml"):
        (tmp_path / "config" / name).write_text("studies: [replay]\n")
    with pytest.raises(lastrun.NoRunError, match="no run recorded.*make report CONFIG="):
        lastrun.recorded()
    assert lastrun.main(["configfiles"]) == 2
    lastrun.record(["config/config.yaml", "config/smoke.yaml"], ["fig1_tasks"])
    assert lastrun.recorded()["configfiles"] == ["config/config.yaml", "config/smoke.yaml"]
    assert lastrun.main(["configfiles"]) == 0
    # a config file the run read and that has gone since: refuse rather than guess
    (tmp_path / "config" / "smoke.yaml").unlink()
    with pytest.raises(lastrun.NoRunError, match="config/smoke.yaml, which no longer exists"):
        lastrun.recorded()
    lastrun.RECORD.write_text("{not json")
    with pytest.raises(lastrun.NoRunError, match="unreadable run record"):
        lastrun.recorded()


def test_summary_lists_what_exists_and_counts_verdicts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    figs = tmp_path / "results" / "replay" / "figures"
    figs.mkdir(parents=True)
    for name in ("fig1_tasks.png", "fig1_tasks.pdf"):
        (figs / name).write_bytes(b"x")
    pd.DataFrame({"verdict": ["supported", "supported", "contradicted", "inconclusive"],
                  "q": [0.01, 0.2, 0.03, float("nan")]}).to_csv(
        tmp_path / "results" / "replay" / "claims.csv", index=False)
    text = lastrun.summary(
        {"replay": ["results/replay/figures/fig1_tasks.pdf", "results/replay/figures/fig1_tasks.png",
                    "results/replay/figures/fig2_leakage.png"]},
        {"replay": ["results/replay/claims.csv", "results/replay/claims.md"]},
        ["config/config.yaml", "config/smoke.yaml"])
    assert "results/replay/figures/fig1_tasks.png" in text
    assert "fig2_leakage" not in text          # not made: not listed
    assert "claims.md" not in text              # not made: not listed
    assert "4 rows: 2 supported, 1 contradicted, 1 inconclusive" in text
    assert "2 of 3 tested rows have q < 0.05" in text
    assert "make report" in text and "--configfile config/config.yaml config/smoke.yaml" in text


def test_progress_prints_at_each_quarter_and_at_the_end():
    out = _stdio.StringIO()
    bar = console.Progress("tmaze/a1_k1_m0", 10, stream=out)
    printed = [bar.update(done, f"loss {done}") for done in range(1, 11)]
    # 10 steps: quarters crossed at 3 (0.3 >= 0.25), 5, 8 (0.8 >= 0.75), and the end
    assert printed == [False, False, True, False, True, False, False, True, False, True]
    lines = out.getvalue().splitlines()
    assert len(lines) == 4 and all(line.startswith("  [tmaze/a1_k1_m0] ") for line in lines)
    assert "(5/10) loss 5" in lines[1] and "left" in lines[1]
    assert " 100% (10/10)" in lines[-1] and "done in" in lines[-1]
