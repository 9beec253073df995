"""The whole DAG at smoke scale: outputs, provenance, audit, reruns, bad input, interruption
and resumption (the smoke run itself is the session fixture in tests/conftest.py)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from support import (
    REPLAY_FIGURES,
    ROOT,
    SNAKEMAKE,
    assert_replay_outputs,
    chdir,
    configfile_args,
    job_stats,
    load_yaml_config,
    output,
    replay_net_ids,
    snakemake,
)

pytestmark = pytest.mark.slow


def _default_sigint() -> None:
    """Ctrl-C must reach Snakemake as it would in a terminal: a runner started in the
    background (``cmd &`` in a script) hands its children SIGINT ignored, and Python then
    never installs its KeyboardInterrupt handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)

# --------------------------------------------------------------------------- smoke, end to end
REQUIRED = {  # path pattern -> (dims, variables)
    r"results/replay/datasets/\w+\.nc": (("trial", "time", "space"), ("position", "velocity")),
    r"results/replay/models/.+\.history\.nc": (("iteration",), ("train_loss", "test_loss", "position_error")),
    r"results/replay/replay/.+\.nc": (("variant", "trial", "time", "space"), ("position", "diverged")),
    r"results/replay/stats/(box|tmaze|triangle)\.nc": (("seed", "net", "variant"),
                                                ("step_length", "final_position_error")),
    r"results/replay/stats/gauss_markov\.nc": (("time",), ("score_rate",)),
    r"results/stm/tasks/\w+\.nc": (("delay_ms", "trial", "time", "channel"), ("input", "target", "weight")),
    r"results/stm/train/\w+/job\d+\.nc": (("net", "epoch"), ("loss", "accuracy", "reliability", "W")),
    r"results/stm/analysis/\w+/job\d+\.nc": (("net",), ("outcome", "mechanism_code", "psd_ratio")),
    r"results/stm/stats/(nopost|post|control)\.nc": (("lr", "delay_ms", "seed"),
                                                    ("frac_not_learned", "critical_delay", "beta_beta")),
    r"results/stm/stats/theory\.nc": (("t_delay_steps", "r"), ("eta_sp", "eta_lc")),
    r"results/hmm/data/\w+\.nc": (("state", "sequence", "time", "symbol"), ("transition", "emission", "sequence", "split")),
    r"results/hmm/train/\w+/h\d+_d\d+\.nc": (("seed", "epoch", "neuron"), ("W_ih", "W_hh", "A", "val_loss", "best_epoch")),
    r"results/hmm/analysis/\w+/h\d+_d\d+\.nc": (("seed", "rt_state", "gain"), ("distance", "left_plateau", "region", "kick_mask")),
    r"results/hmm/stats/\w+\.nc": (("seed", "model"), ("grid_distance", "hmm_transition", "example", "fp_spread")),
}


def test_smoke_outputs_exist(smoke_run):
    assert_replay_outputs(smoke_run)


def test_smoke_netcdf_provenance(smoke_run):
    import netCDF4

    ncs = sorted((smoke_run / "results").rglob("*.nc"))
    assert len(ncs) >= 3 + 2 * 3
    for nc in ncs:
        rel = nc.relative_to(smoke_run).as_posix()
        with netCDF4.Dataset(nc) as ds:
            attrs = {k: ds.getncattr(k) for k in ds.ncattrs()}
            dims, variables = set(ds.dimensions), set(ds.variables)
        for key in ("title", "source", "history", "Conventions", "provenance"):
            assert key in attrs, f"{rel}: no {key} attribute"
        prov = json.loads(attrs["provenance"])
        assert re.fullmatch(r"[0-9a-f]{40}", prov["git"]["commit"]), rel
        assert re.fullmatch(r"[0-9a-f]{64}", prov["package_hash"]), rel
        assert prov["params"]["code"]["sha256"], rel
        assert rel in prov["outputs"], rel
        for inp, digest in prov["inputs"].items():
            assert re.fullmatch(r"[0-9a-f]{64}", digest), (rel, inp)
        if prov["rule"] in ("replay_dataset", "replay_train", "replay_replay"):
            assert isinstance(prov["params"]["seed"], int), rel
            assert prov["inputs"] or prov["rule"] == "replay_dataset", rel
        if prov["rule"] == "replay_stats":
            assert prov["params"]["settings"]["seeds"] == [0, 1], rel
        if prov["rule"] == "replay_train" and "/box/" in rel:  # the box's override, merged
            assert prov["params"]["settings"]["training"]["iterations"] == 30
        assert "created" not in prov, rel
        spec = next((v for k, v in REQUIRED.items() if re.fullmatch(k, rel)), None)
        assert spec is not None, f"unexpected netCDF {rel}"
        assert set(spec[0]) <= dims, (rel, dims)
        assert set(spec[1]) <= variables, (rel, variables)


def test_smoke_lineage_reaches_datasets(smoke_run):
    from noisyrnn.core import audit

    with chdir(smoke_run):
        for fig in REPLAY_FIGURES:
            side = json.loads((smoke_run / "results/replay/figures" / f"{fig}.prov.json").read_text())
            rules = {n["rule"] for n in side["lineage"]}
            assert {"replay_dataset", "replay_train", "replay_stats"} <= rules, (fig, rules)
            assert "created" in side
            outs = [tuple(n["outputs"]) for n in side["lineage"]]
            assert len(outs) == len(set(outs)), f"{fig}: duplicate lineage nodes"
            assert audit.audit(f"results/replay/figures/{fig}.png").problems == []


def test_smoke_second_run_nothing_to_do(smoke_run):
    res = snakemake("-n", *configfile_args(["config/smoke.yaml"]), workdir=smoke_run)
    out = res.stdout + res.stderr
    assert res.returncode == 0 and "Nothing to be done" in out, out[-3000:]


def test_smoke_changes_rerun_only_what_they_affect(smoke_run, tmp_path):
    cfg = load_yaml_config(["config/smoke.yaml"])["replay"]
    cases = {  # overlay -> expected jobs of the dry-run
        # a train job trains every seed of its network, so a new seed retrains the others too
        # (to the same bytes) and their replays run again
        "replay: {seeds: [0, 1, 5]}\n": {
            "replay_train": sum(len(replay_net_ids(cfg, t)[0]) for t in cfg["tasks"]),
            "replay_replay": sum(len(replay_net_ids(cfg, t)[1]) for t in cfg["tasks"]) * 3,
            "replay_stats": len(cfg["tasks"]), "replay_figure": len(REPLAY_FIGURES),
            "replay_claims": 1, "all": 1,
        },
        # how seeds are packed into populations changes no result: nothing to do
        "replay: {training: {group_size: 1, group_memory_mb: 10}}\n": {},
        # (a claims key among the sweeps' values: the cross-key check refuses any other)
        "replay: {claims: {alpha: 0.01}}\n": {"replay_figure": len(REPLAY_FIGURES), "replay_claims": 1, "all": 1},
        "replay: {replay: {n_traj: 9}}\n": {
            "replay_replay": sum(len(replay_net_ids(cfg, t)[1]) for t in cfg["tasks"]) * len(cfg["seeds"]),
            "replay_stats": len(cfg["tasks"]), "replay_figure": len(REPLAY_FIGURES),
            "replay_claims": 1, "all": 1,
        },
    }
    for text, expected in cases.items():
        overlay = tmp_path / "overlay.yaml"
        overlay.write_text(text)
        res = snakemake("-n", *configfile_args(["config/smoke.yaml"]), str(overlay),
                        workdir=smoke_run)
        assert res.returncode == 0, res.stderr[-3000:]
        out = res.stdout + res.stderr
        if not expected:
            assert "Nothing to be done" in out, (text, out[-3000:])
            continue
        assert job_stats(out) == expected, text


def test_smoke_report(smoke_run):
    report = smoke_run / "report.html"
    res = snakemake("--report", str(report), *configfile_args(["config/smoke.yaml"]),
                    workdir=smoke_run)
    assert res.returncode == 0 and report.stat().st_size > 0, res.stderr[-3000:]


# --------------------------------------------------------------------------- audit (smoke)
def _artefacts(root: Path) -> list[Path]:
    """Every result a user could audit: netCDF files, models and figures."""
    res = root / "results"
    return sorted([*res.rglob("*.nc"), *res.rglob("*.pt"), *res.glob("*/figures/*.png"),
                   *res.glob("*/figures/*.pdf"), *res.glob("*/claims.csv"), *res.glob("*/claims.md")])


def test_smoke_audit_every_output_clean(smoke_run, capsys):
    from noisyrnn.core import cli

    paths = _artefacts(smoke_run)
    assert len(paths) > 40
    with chdir(smoke_run):
        for path in paths:
            rel = str(path.relative_to(smoke_run))
            assert cli.main(["audit", rel]) == 0, capsys.readouterr().out[-3000:]
            out = capsys.readouterr().out
            assert out.rstrip().splitlines()[-1].startswith("CURRENT"), (rel, out[-2000:])
            assert "config not checked" not in out, rel
    # the console script, as a user runs it: lineage down to the datasets, every field named
    exe = Path(sys.executable).parent / "noisyrnn"
    res = subprocess.run([str(exe), "audit", "results/replay/figures/fig2_leakage.png"],
                         cwd=smoke_run, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    for word in ("[replay_figure fig=fig2_leakage] current", "[replay_dataset task=tmaze] current",
                 "[replay_train net=a1_k1_m0 seed=0 task=tmaze] current", "seed=0", "dirty=", "package ", "SLURM job",
                 "versions  ", "host "):
        assert word in res.stdout, word


@pytest.mark.parametrize("victim", ["results/replay/stats/tmaze.nc", "results/replay/datasets/tmaze.nc"])
def test_smoke_audit_names_an_edited_file(smoke_copy, victim, capsys):
    import netCDF4

    from noisyrnn.core import cli

    with netCDF4.Dataset(smoke_copy / victim, "a") as nc:  # a quiet edit: one finite value
        for var in nc.variables.values():
            if var.dtype.kind != "f" or var.size == 0:
                continue
            values = np.ma.filled(var[:], np.nan).ravel()
            finite = np.flatnonzero(np.isfinite(values))
            if finite.size:
                values[finite[0]] += 1.0
                var[:] = values.reshape(var.shape)
                break
        else:
            pytest.fail(f"{victim}: no finite float value to edit")
    with chdir(smoke_copy):
        assert cli.main(["audit", "results/replay/figures/fig2_leakage.png"]) == 1
        out = capsys.readouterr().out
        assert "NOT CURRENT" in out and f"{victim}: changed since rule" in out, out[-3000:]
        # the edited file itself fails its own audit: its data no longer match its digest
        assert cli.main(["audit", victim]) == 1
        out = capsys.readouterr().out
        assert f"{victim}: data changed after it was written" in out, out[-3000:]


def test_smoke_claims_table_audits_through_its_sidecar(smoke_run, capsys):
    from noisyrnn.core import audit

    with chdir(smoke_run):
        for table in ("results/replay/claims.csv", "results/replay/claims.md"):
            result = audit.audit(table)
            assert result.current, result.problems
            stats = {o for n in result.nodes if n.rule == "replay_stats" for o in n.outputs}
            assert {f"results/replay/stats/{t}.nc" for t in ("tmaze", "triangle", "box")} <= stats


def test_dropped_variable_fails_the_figure_naming_the_file(smoke_copy):
    """The edit that used to pass silently: a stats variable dropped, the figure redrawn."""
    import xarray as xr

    stats = smoke_copy / "results/replay/stats/tmaze.nc"
    ds = xr.load_dataset(stats).drop_vars("compression_ratio")
    ds.to_netcdf(stats.with_suffix(".tmp"))
    os.replace(stats.with_suffix(".tmp"), stats)
    res = snakemake("--profile", str(ROOT / "profiles/local"), "--cores", "1", "fig4_momentum",
                    *configfile_args(["config/smoke.yaml"]), workdir=smoke_copy)
    assert res.returncode != 0, output(res)[-3000:]
    log = (smoke_copy / "logs/replay/figure/fig4_momentum.log").read_text()
    assert "results/replay/stats/tmaze.nc" in log and "data changed after it was written" in log, log[-3000:]


def test_missing_intermediate_is_flagged_and_fixed_in_one_step(smoke_copy, capsys):
    """A model deleted after the run (an interrupted cleanup, a quota): Snakemake does not
    remake a missing intermediate whose consumers are up to date; the audit does."""
    from noisyrnn.core import audit, cli

    models = sorted((smoke_copy / "results/replay/models/tmaze").rglob("*.pt"))
    victim = models[-1]
    victim.unlink()
    rel = str(victim.relative_to(smoke_copy))
    with chdir(smoke_copy):
        result = audit.audit("results/replay/claims.csv")
        assert any(p.startswith(f"{rel}: missing; rule replay_train") for p in result.problems), \
            result.problems
        cmd = audit.repair_command(result)
        assert rel in cmd[cmd.index("--forcerun") + 1:]
        assert cli.main(["audit", "results/replay/claims.csv", "--fix"]) == 0, \
            capsys.readouterr().out[-3000:]
        assert victim.is_file()
        after = audit.audit("results/replay/claims.csv")
        assert after.current, after.problems


def test_smoke_audit_config_change_marks_affected_nodes(smoke_run, tmp_path):
    from noisyrnn.core import audit

    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("replay: {replay: {n_traj: 9}}\n")
    with chdir(smoke_run):
        same = audit.audit("results/replay/figures/fig4_momentum.png")
        assert same.current, same.problems
        changed = audit.audit("results/replay/figures/fig4_momentum.png",
                              [str(ROOT / "config/smoke.yaml"), str(overlay)])
    stale = {n.rule for n in changed.nodes if n.problems}
    assert stale == {"replay_replay", "replay_stats"}, changed.problems  # not the datasets nor training
    assert all("replay.replay.n_traj" in p for n in changed.nodes for p in n.problems), changed.problems
    fresh = {n.rule for n in changed.nodes if not n.problems}
    assert {"replay_dataset", "replay_train", "replay_figure"} <= fresh


# --------------------------------------------------------------------------- bad input (smoke)
@pytest.mark.parametrize("damage,message", [
    ("truncate", "truncated or corrupt"),
    # the file's own digest catches the edit before the dimension check would
    ("drop_dim", "data changed after it was written"),
])
def test_bad_dataset_fails_the_job_naming_the_file(smoke_copy, damage, message):
    import xarray as xr

    data = smoke_copy / "results/replay/datasets/triangle.nc"
    if damage == "truncate":
        data.write_bytes(data.read_bytes()[: data.stat().st_size // 3])
    else:
        with xr.open_dataset(data) as ds:
            bad = ds.isel(space=0, drop=True).load()
        bad.to_netcdf(data)
    models = sorted((smoke_copy / "results/replay/models/triangle").rglob("*.pt"))
    target = str(models[0].relative_to(smoke_copy))
    res = snakemake(target, "--cores", "1", "--forcerun", target,
                    *configfile_args(["config/smoke.yaml"]), workdir=smoke_copy)
    out = res.stdout + res.stderr
    assert res.returncode != 0, out[-3000:]
    log = smoke_copy / "logs/replay/train/triangle" / f"{models[0].parent.name}.log"
    text = log.read_text()
    assert "results/replay/datasets/triangle.nc" in text and message in text, text[-3000:]
    assert not models[0].exists()  # nothing that looks complete is left behind
    assert not list(models[0].parent.glob(".*.tmp"))
    others = [m for m in models if m.parent != models[0].parent]
    assert others and all(m.exists() for m in others)  # other jobs' results are kept


# --------------------------------------------------------------------------- interruption
def test_interrupted_run_resumes_without_redoing_finished_jobs(smoke_run, tmp_path):
    """Interrupt the smoke run during training, rerun: finished jobs are kept as they are,
    the rest completes, and the results are byte-identical to an uninterrupted run."""
    workdir = tmp_path / "interrupted"
    workdir.mkdir()
    # the replay study's DAG alone: the one with many training jobs to interrupt
    args = ["--profile", str(ROOT / "profiles/local"), "--cores", "2",
            *configfile_args(["config/smoke.yaml", "config/test/replay-only.yaml"])]
    cmd = [*SNAKEMAKE, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir), *args]
    with open(tmp_path / "first.log", "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=_default_sigint)
        try:
            deadline = time.monotonic() + 600
            # interrupt once two train jobs are finished by Snakemake's own account (a job
            # writes its seeds' models one by one and only counts as done once it has exited)
            while time.monotonic() < deadline and proc.poll() is None:
                text = (tmp_path / "first.log").read_text(errors="replace")
                if len(re.findall(r"Finished jobid: \d+ \(Rule: replay_train\)", text)) >= 2:
                    break
                time.sleep(0.5)
            assert proc.poll() is None, "the run ended before it could be interrupted"
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C, or a scheduler's signal
            # Snakemake lets running jobs end first; on a loaded machine that takes minutes
            proc.wait(timeout=600)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    before = {p: p.stat().st_mtime_ns for p in workdir.glob("results/replay/models/*/*/*.pt")}
    assert before, "no model finished before the interrupt"
    for p in before:  # what is there is whole: atomic writes
        torch.load(p, map_location="cpu", weights_only=True)
    # one train job per network directory (task, variant), over every seed
    total_train = sum(1 for _ in smoke_run.glob("results/replay/models/*/*/"))
    assert not (workdir / "results/replay/figures").exists()

    res = snakemake(*args, workdir=workdir, timeout=1800)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-5000:]
    rerun = job_stats(out).get("replay_train", 0)
    kept = [p for p, t in before.items() if p.stat().st_mtime_ns == t]
    seeds = len(load_yaml_config(["config/smoke.yaml"])["replay"]["seeds"])
    kept_jobs = {p.parent for p in kept}
    # a job's seeds are kept together: every seed of a finished job, none of an unfinished one
    assert all(sum(q.parent == d for q in kept) == seeds for d in kept_jobs), kept
    assert rerun == total_train - len(kept_jobs) and kept, (rerun, total_train, len(kept_jobs))
    for fig in REPLAY_FIGURES:
        assert (workdir / "results/replay/figures" / f"{fig}.png").is_file()
    # determinism: every netCDF holds the same data and the same provenance as the
    # uninterrupted smoke run's, but for the list of config files read (this run adds the
    # replay-only overlay)
    import netCDF4

    def content(path: Path) -> tuple:
        with netCDF4.Dataset(path) as ds:
            attrs = {k: ds.getncattr(k) for k in ds.ncattrs()}
        prov = json.loads(attrs.pop("provenance"))
        for rec in (prov, *prov.get("lineage", [])):
            rec.pop("config", None)
            # an input's sha256 covers its provenance attribute (which names the config files);
            # its data are compared through its own data_sha256
            rec["inputs"] = sorted(rec.get("inputs") or {})
        return attrs, prov

    ncs = sorted(p.relative_to(smoke_run) for p in smoke_run.glob("results/replay/**/*.nc"))
    assert ncs == sorted(p.relative_to(workdir) for p in workdir.glob("results/**/*.nc"))
    differ = [str(p) for p in ncs if content(smoke_run / p) != content(workdir / p)]
    assert not differ, differ
    assert all(content(workdir / p)[0]["data_sha256"] for p in ncs)  # the data digest compared


def test_different_seeds_give_different_results(smoke_run):
    import xarray as xr

    for pattern in ("results/replay/replay/tmaze/*/seed{}.nc", "results/replay/models/tmaze/*/seed{}.history.nc"):
        a = sorted(smoke_run.glob(pattern.format(0)))[0]
        b = a.with_name(a.name.replace("seed0", "seed1"))
        with xr.open_dataset(a) as da, xr.open_dataset(b) as db:
            var = "position" if "position" in da else "train_loss"
            assert da[var].shape == db[var].shape
            assert not np.array_equal(da[var].values, db[var].values, equal_nan=True), a


def test_killed_training_job_resumes_from_its_checkpoint(tmp_path):
    """A training job killed mid-run (as by a scheduler's time limit) resumes from its last
    checkpoint when rerun, and ends with the weights and history of an uninterrupted run."""
    overlay = tmp_path / "long.yaml"
    overlay.write_text("replay: {training: {iterations: 1500, checkpoint_every: 50, log_every: 50}}\n")
    target = "results/replay/models/tmaze/a0.2_k1_m0/seed0.pt"
    args = [target, "--cores", "1", *configfile_args(["config/smoke.yaml"]), str(overlay)]
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    for d in (whole, killed):
        d.mkdir()
    res = snakemake(*args, workdir=whole)
    assert res.returncode == 0, res.stderr[-3000:]

    cmd = [*SNAKEMAKE, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(killed), *args]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if list(killed.glob("results/replay/models/tmaze/a0.2_k1_m0/train.*.ckpt.seeds*")):
                break
            time.sleep(0.05)
        assert proc.poll() is None, "training ended before it could be killed"
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    (ckpt,) = killed.glob("results/replay/models/tmaze/a0.2_k1_m0/train.*.ckpt.seeds*")
    assert not (killed / target).exists()

    res = snakemake(*args, workdir=killed)
    assert res.returncode == 0, res.stderr[-3000:]
    log = (killed / "logs/replay/train/tmaze/a0.2_k1_m0.log").read_text()
    m = re.search(r"resumed from \S+ at iteration (\d+)", log)
    assert m and 0 < int(m.group(1)) < 1500, log[-2000:]
    assert not ckpt.exists()  # a finished job removes its checkpoint
    for seed in (0, 1):  # the job's whole population resumed
        hist = f"results/replay/models/tmaze/a0.2_k1_m0/seed{seed}.history.nc"
        assert (whole / hist).read_bytes() == (killed / hist).read_bytes()
        model = f"results/replay/models/tmaze/a0.2_k1_m0/seed{seed}.pt"
        a = torch.load(whole / model, map_location="cpu", weights_only=True)["state_dict"]
        b = torch.load(killed / model, map_location="cpu", weights_only=True)["state_dict"]
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_smoke_crate_holds_every_output_and_a_figures_lineage(smoke_copy):
    """`noisyrnn crate results` on the smoke run: every result file is in the crate with its
    sha256, and the figure's lineage runs figure -> stats -> replay/train -> dataset."""
    from noisyrnn.core import cli, crate, provenance

    with chdir(smoke_copy):
        assert cli.main(["crate", "results"]) == 0
        meta = json.loads((smoke_copy / "results" / crate.METADATA).read_text())
        graph = {e["@id"]: e for e in meta["@graph"]}
        ncs = sorted(p.relative_to(smoke_copy / "results").as_posix()
                     for p in (smoke_copy / "results").rglob("*.nc"))
        for nc in ncs:
            assert graph[nc]["sha256"] == provenance.file_sha256(Path("results") / nc), nc
        chain = crate.lineage(meta, "replay/figures/fig2_leakage.png")
    rules = [graph[a["instrument"]["@id"]]["name"] for a in chain]
    assert rules[0] == "replay_figure"
    assert {"replay_stats", "replay_train", "replay_dataset", "replay_gauss_markov"} <= set(rules)
    assert "replay_replay" in rules  # the stats of the tracks read the replays


# --------------------------------------------------------------------------- what the user sees
def test_smoke_run_ends_with_where_its_results_are(smoke_run):
    out = (smoke_run / "smoke-run.log").read_text()
    tail = out[out.rindex("\nResults\n"):]
    for fig in REPLAY_FIGURES:
        assert f"results/replay/figures/{fig}.png" in tail
    assert "claims: results/replay/claims.csv" in tail
    counts = re.search(r"(\d+) rows: (\d+) supported, (\d+) contradicted, (\d+) inconclusive", tail)
    import pandas as pd

    verdicts = pd.read_csv(smoke_run / "results/replay/claims.csv")["verdict"].value_counts()
    assert counts and int(counts[1]) == int(verdicts.sum())
    assert [int(counts[i]) for i in (2, 3, 4)] == [
        int(verdicts.get(v, 0)) for v in ("supported", "contradicted", "inconclusive")]
    # the report line names the config files this run read, as the run recorded them
    files = json.loads((smoke_run / ".snakemake/noisyrnn/last-run.json").read_text())["configfiles"]
    # (the tests run in a working directory without config/config.yaml, so only smoke.yaml)
    assert Path(files[-1]).name == "smoke.yaml", files
    assert "make report" in tail and "--configfile " + " ".join(files) in tail
    # a quiet console: no shell lines for script rules, one short progress line per training quarter
    assert "Shell command: None" not in out
    assert re.search(r"^  \[tmaze/a1_k1_m0 seeds \[0, 1\]\] 100% \(\d+/\d+\) .*done in", out, re.M)


def test_params_change_reason_names_no_config_dict(smoke_copy):
    edit = smoke_copy / "more_steps.yaml"
    edit.write_text("replay:\n  replay:\n    steps: 31\n")
    res = snakemake("-n", "--profile", str(ROOT / "profiles/local"),
                    *configfile_args(["config/smoke.yaml"]), str(edit), workdir=smoke_copy)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    reasons = [ln for ln in out.splitlines() if "Params have changed" in ln]
    assert reasons, out[-3000:]
    # the settings param shows as its digest, not as the config it holds
    assert all("'steps'" not in ln and "<settings sha256:" in ln for ln in reasons), reasons[0]


def test_sigkilled_run_leaves_no_job_running(tmp_path):
    """kill -9 of Snakemake: its running jobs notice (core.lifeline) and stop, instead of
    training on and writing outputs nobody waits for."""
    workdir = tmp_path / "killed"
    workdir.mkdir()
    # training that would run for many minutes, so a job is surely running at the kill
    slow = tmp_path / "slow.yaml"
    slow.write_text("studies: [replay]\nreplay:\n  tasks: [tmaze]\n  training: {iterations: 100000}\n")
    cmd = [*SNAKEMAKE, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
           "--profile", str(ROOT / "profiles/local"), "--cores", "2",
           *configfile_args(["config/smoke.yaml"]), str(slow)]
    with open(tmp_path / "run.log", "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline and proc.poll() is None:
                if list(workdir.glob("logs/replay/train/*/*.log")):
                    break
                time.sleep(0.2)
            assert proc.poll() is None, "the run ended before a train job started"
            time.sleep(3)
            proc.send_signal(signal.SIGKILL)  # only Snakemake itself: its jobs are not signalled
            proc.wait()
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)

    def running() -> list[str]:
        found = []
        for stat in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                line = stat.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(workdir) in line:
                found.append(line)
        return found

    deadline = time.monotonic() + 60
    while running() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not running(), running()
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # nothing should be left in the group either
    except ProcessLookupError:
        pass


# --------------------------------------------------------------------------- stm (smoke)
STM_FIGURES = ("stm_fig_task", "stm_fig_losses", "stm_fig_fractions", "stm_fig_scaling",
               "stm_fig_phase", "stm_fig_theory", "stm_fig_index", "stm_fig_control")


def test_smoke_stm_outputs_and_claims(smoke_run):
    import pandas as pd
    import xarray as xr

    res = smoke_run / "results/stm"
    for fig in STM_FIGURES:
        assert (res / "figures" / f"{fig}.png").is_file() and (res / "figures" / f"{fig}.prov.json").is_file()
    cfg = load_yaml_config(["config/smoke.yaml"])["stm"]
    for family in cfg["families"]:
        with xr.open_dataset(res / "stats" / f"{family}.nc") as ds:
            assert ds.sizes["lr"] == cfg["family"][family]["lr_logspace"][2]
            assert {"frac_not_learned", "frac_lc", "frac_sp", "critical_delay", "beta_beta",
                    "beta_boot_lo", "seed_frac_sp"} <= set(ds.data_vars)
            total = ds["frac_not_learned"] + ds["frac_lc"] + ds["frac_sp"]
            np.testing.assert_allclose(total.values, 1.0)  # three phases, every network in one
            assert ds.attrs["provenance"] and ds.attrs["data_sha256"]
    table = pd.read_csv(res / "claims.csv")
    assert list(table["claim"]) == ["A1", "A2", "A3", "A4", "A5", "A6", "A7"]
    # two learning rates at smoke scale: no β, so no exponent claim gets a verdict
    a1 = table.set_index("claim").loc["A1"]
    assert a1["verdict"] == "inconclusive" and "learning rates with a critical delay" in a1["note"]


# --------------------------------------------------------------------------- hmm (smoke)
HMM_FIGURES = ("hmm_fig_hmms", "hmm_fig_metrics", "hmm_fig_orbits", "hmm_fig_noise",
               "hmm_fig_training", "hmm_fig_regions", "hmm_fig_kick", "hmm_fig_multi")


def test_smoke_hmm_outputs_claims_and_audit(smoke_run):
    import pandas as pd
    import xarray as xr

    from noisyrnn.core import audit

    res = smoke_run / "results/hmm"
    for fig in HMM_FIGURES:
        assert (res / "figures" / f"{fig}.png").is_file() and (res / "figures" / f"{fig}.prov.json").is_file()
    cfg = load_yaml_config(["config/smoke.yaml"])["hmm"]
    for name in cfg["hmms"]:
        with xr.open_dataset(res / "stats" / f"{name}.nc") as ds:
            assert ds.sizes["seed"] == cfg["training"]["seeds"]
            # the checkpoints of every epoch were analysed (checkpoint_every 1, every 1)
            assert list(ds["dyn_epoch"].values) == list(range(cfg["family"][name]["epochs"] + 1))
            np.testing.assert_allclose(ds["hmm_transition"].sum("hmm_next_state"), 1)
    table = pd.read_csv(res / "claims.csv")
    expected = [f"B{i}" for i in range(1, 12)]
    assert list(table["claim"]) == expected + expected + ["B12"]      # chain2, cyclic
    # three smoke epochs cannot leave the plateau: every mechanism row says so
    mech = table[table["claim"].isin([f"B{i}" for i in range(4, 13)])]
    assert (mech["verdict"] == "inconclusive").all()
    assert mech["note"].str.startswith("mechanism absent").all()
    # the audit works on every kind of output of the study
    with chdir(smoke_run):
        for rel in ["results/hmm/claims.csv", "results/hmm/figures/hmm_fig_kick.png",
                    *(p.relative_to(smoke_run).as_posix() for p in sorted(res.rglob("*.nc")))]:
            assert audit.audit(rel).problems == [], rel
