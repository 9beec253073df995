"""Dry-runs of every config with the expected job counts, target rules, the params rerun
trigger, lint and formatting."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from support import (
    CONFIG_SETS,
    REPLAY_FIGURES,
    REPLAY_TASKS,
    REPLAY_TRACKS,
    ROOT,
    SNAKEFMT,
    configfile_args,
    job_stats,
    load_yaml_config,
    output,
    replay_expected_counts,
    snakemake,
)

STM_FIGURES = 8  # STM.md §5 less the rank-2 and long-τ figures (not built)


def stm_expected_counts(section: dict) -> dict:
    """The stm DAG counted from the config by hand: per family one task, one stats file and
    ceil(#lrs / lrs_per_job) training and analysis jobs; the theory, 8 figures, the claims."""
    families = section["families"]
    per_job = section["training"].get("lrs_per_job", 0)
    jobs = sum(1 if per_job == 0 else -(-section["family"][f]["lr_logspace"][2] // per_job)
               for f in families)
    return {"stm_task": len(families), "stm_train": jobs, "stm_analyse": jobs,
            "stm_stats": len(families), "stm_theory": 1, "stm_figure": STM_FIGURES,
            "stm_claims": 1}


HMM_FIGURES = 8  # HMM.md §5


def hmm_expected_counts(section: dict) -> dict:
    """The hmm DAG counted from the config by hand: per HMM one data file and one stats file,
    one training and one analysis job per (hidden size, input dimension); 8 figures, the
    claims."""
    names = section["hmms"]
    models = sum(len(section["family"][n].get("hidden", [150]))
                 * len(section["family"][n].get("input_dim", [100])) for n in names)
    return {"hmm_data": len(names), "hmm_train": models, "hmm_analyse": models,
            "hmm_stats": len(names), "hmm_figure": HMM_FIGURES, "hmm_claims": 1}


@pytest.mark.parametrize("files", CONFIG_SETS, ids=lambda f: "+".join(Path(x).stem for x in f))
def test_dry_run_job_counts(files, tmp_path):
    res = snakemake("-n", *configfile_args(files), workdir=tmp_path)
    assert res.returncode == 0, output(res)[-6000:]
    cfg = load_yaml_config(files)
    expected = {"all": 1}
    if "replay" in cfg["studies"]:
        expected.update(replay_expected_counts(cfg["replay"]))
    if "stm" in cfg["studies"]:
        expected.update(stm_expected_counts(cfg["stm"]))
    if "hmm" in cfg["studies"]:
        expected.update(hmm_expected_counts(cfg["hmm"]))
    assert job_stats(output(res)) == expected


@pytest.mark.parametrize("target", [*REPLAY_FIGURES, "results/replay/claims.csv"])
def test_dry_run_target_rules(target, tmp_path):
    """A figure target builds what that figure needs, and nothing else."""
    files = ("config/smoke.yaml",)
    res = snakemake("-n", target, *configfile_args(files), workdir=tmp_path)
    assert res.returncode == 0, output(res)[-6000:]
    section = load_yaml_config(files)["replay"]
    claims = target.endswith("claims.csv")
    needs = {
        "fig1_tasks": REPLAY_TASKS, "fig2_leakage": REPLAY_TRACKS, "fig3_adaptation": REPLAY_TASKS,
        "fig4_momentum": REPLAY_TASKS, "fig5_placecells": ("box",), "fig6_langevin": REPLAY_TASKS,
    }.get(target, REPLAY_TASKS)
    expected = replay_expected_counts(
        section, tasks=[t for t in section["tasks"] if t in needs],
        figures=[] if claims else [target], claims=claims,
    )
    if not claims:
        expected[target] = 1  # the target rule itself
    assert job_stats(output(res)) == expected


def test_unknown_target_is_refused(tmp_path):
    res = snakemake("-n", "fig9_nothing", *configfile_args(["config/smoke.yaml"]), workdir=tmp_path)
    assert res.returncode != 0


def test_lint_clean(tmp_path):
    res = snakemake("--lint", *configfile_args(["config/smoke.yaml"]), workdir=tmp_path)
    out = output(res)
    assert res.returncode == 0 and "Lints for" not in out, out[-4000:]


@pytest.mark.skipif(not SNAKEFMT.exists(), reason="snakefmt not installed (dev extra)")
def test_snakefmt_check():
    res = subprocess.run([str(SNAKEFMT), "--check", "Snakefile", "rules/"], cwd=ROOT,
                         capture_output=True, text=True)
    assert res.returncode == 0, output(res)


def test_params_change_reruns_only_affected_job(tmp_path):
    target = "results/replay/stats/gauss_markov.nc"
    files = configfile_args(["config/smoke.yaml"])
    first = snakemake("--cores", "1", target, *files, workdir=tmp_path)
    assert first.returncode == 0, output(first)[-3000:]
    again = snakemake("-n", target, *files, workdir=tmp_path)
    assert "Nothing to be done" in output(again)
    overlay = tmp_path / "gm.yaml"
    overlay.write_text("replay: {stats: {gm_steps: 31}}\n")
    changed = snakemake("-n", target, *files, str(overlay), workdir=tmp_path)
    out = output(changed)
    assert "Params have changed" in out and job_stats(out) == {"replay_gauss_markov": 1}, out[-3000:]
    os.utime(ROOT / "config" / "schema" / "replay.yaml")  # touching unrelated files changes nothing
    assert "Nothing to be done" in output(snakemake("-n", target, *files, workdir=tmp_path))
    import netCDF4

    with netCDF4.Dataset(tmp_path / target) as ds:
        prov = json.loads(ds.getncattr("provenance"))
    assert prov["rule"] == "replay_gauss_markov"
    stats = prov["params"]["settings"]["stats"]
    assert stats["gm_steps"] == 30 and stats["reference_steps"] == 40  # smoke values
    assert stats["kde_bandwidth"] == 0.05  # schema default, filled in
    code = prov["params"]["code"]
    assert code["sha256"] and code["modules"] == ["studies.replay.steps.gauss_markov"]
