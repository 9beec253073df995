"""The audit: per-step settings, config loading, and staleness of a lineage by inputs, code
and config, on hand-made records (the smoke-run audit tests are in test_workflow.py)."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from noisyrnn.core import audit, cli, io, provenance, settings, study

from support import ROOT, SCHEMA_DIR as SCHEMA

REPLAY = study.load("replay")


def cfg(*files: str) -> dict:
    return settings.load_config([ROOT / "config" / f for f in files], SCHEMA)


def tiny(seed: int = 0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    return xr.Dataset({"position": (("trial", "time", "space"), rng.normal(size=(2, 3, 2)))})


# --------------------------------------------------------------------------- settings
def test_load_config_merges_like_snakemake_and_fills_defaults():
    base = cfg("config.yaml")["replay"]
    smoke = cfg("config.yaml", "smoke.yaml")["replay"]
    assert base["seeds"] == [0, 1, 2, 3, 4] and smoke["seeds"] == [0, 1]
    # nested sections merge key by key: a key smoke.yaml leaves out keeps config.yaml's value
    assert smoke["model"]["activation"] == base["model"]["activation"]
    assert smoke["stats"]["kde_bandwidth"] == 0.05  # absent from both files: schema default
    assert smoke["overrides"]["box"]["training"] == {"iterations": 30}  # overrides stay partial


def test_load_config_errors_name_the_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("replay: {replay: {n_traj: -3, colour: red}}\n")
    with pytest.raises(settings.ConfigError) as err:
        settings.load_config([ROOT / "config/config.yaml", bad], SCHEMA)
    text = str(err.value)
    assert "replay.replay.n_traj" in text and "colour" in text, text
    with pytest.raises(settings.ConfigError, match="missing.yaml does not exist"):
        settings.load_config([tmp_path / "missing.yaml"], SCHEMA)


@pytest.mark.parametrize("change,affected", [
    ({"replay": {"n_traj": 9}}, {"replay", "stats"}),
    ({"claims": {"adapt_b_a": 0.5}}, {"figure", "claims"}),
    # the reference samplers take each variant's own friction, so stats no longer read it
    ({"claims": {"momentum_lambda_v": 0.6}}, {"figure", "claims"}),
    ({"task": {"tmaze": {"n_train": 77}}}, {"dataset"}),
    ({"model": {"n_hidden": 64}}, {"train"}),
    ({"training": {"alphas": [1.0]}}, {"stats"}),  # a sweep: names networks, no retraining
    ({"stats": {"gm_steps": 31}}, {"stats", "gauss_markov"}),
    ({"claims": {"alpha": 0.01}}, {"figure", "claims"}),
])
def test_step_settings_follow_only_what_each_step_reads(change, affected):
    from snakemake.utils import update_config

    before = cfg("config.yaml")
    after = json.loads(json.dumps(before))
    update_config(after, {"replay": change})
    wildcards = {"task": "tmaze", "seed": "0", "net": "a1_k1_m0", "fig": "fig2_leakage"}
    changed = {step for step in REPLAY.steps
               if settings.step_settings("replay", step, before, wildcards)
               != settings.step_settings("replay", step, after, wildcards)}
    assert changed == affected


def test_step_settings_key_order_does_not_matter():
    a = cfg("config.yaml")
    sec = a["replay"]
    b = {"studies": a["studies"], "replay": {k: sec[k] for k in reversed(list(sec))}}
    b["replay"]["replay"] = {k: sec["replay"][k] for k in reversed(list(sec["replay"]))}
    assert provenance.to_json(settings.step_settings("replay", "replay", a, {"task": "box"})) == \
        provenance.to_json(settings.step_settings("replay", "replay", b, {"task": "box"}))
    with pytest.raises(KeyError, match="has no step 'nope'"):
        settings.step_settings("replay", "nope", a, {})
    with pytest.raises(KeyError, match="unknown study"):
        settings.step_settings("nope", "train", a, {})


def test_diff_names_dotted_keys():
    old = {"a": {"b": 1, "c": [1, 2]}, "d": 0}
    new = {"a": {"b": 2, "c": [1, 2]}, "e": 1}
    assert settings.diff(old, new) == ["a.b: 1 -> 2", "d: 0 -> (absent)", "e: (absent) -> 1"]
    assert settings.diff(old, old) == []
    assert settings.diff(old, new, prefix="s") == ["s.a.b: 1 -> 2", "s.d: 0 -> (absent)",
                                                   "s.e: (absent) -> 1"]
    assert settings.diff(old, new, rename=str.upper) == ["A.B: 1 -> 2", "D: 0 -> (absent)",
                                                         "E: (absent) -> 1"]
    assert settings.diff(1, 2) == ["(value): 1 -> 2"]


@pytest.mark.parametrize("step,wildcards,key,where", [
    ("dataset", {"task": "tmaze"}, "task.arm_length", "task.tmaze.arm_length"),
    ("train", {"task": "box", "net": "a1_k1_m0", "seed": "0"}, "training.iterations",
     "overrides.box.training.iterations"),  # smoke.yaml overrides it for the box
    ("train", {"task": "tmaze", "net": "a1_k1_m0", "seed": "0"}, "training.iterations",
     "training.iterations"),
    ("stats", {"task": "tmaze"}, "sweeps.alphas", "training.alphas"),
    ("claims", {}, "claims.alpha", "claims.alpha"),
])
def test_settings_keys_are_named_as_the_config_files_spell_them(step, wildcards, key, where):
    section = cfg("config.yaml", "smoke.yaml")["replay"]
    to_config = REPLAY.steps[step].config_key
    assert (to_config(key, section, wildcards) if to_config else key) == where


# --------------------------------------------------------------------------- audit
@pytest.fixture
def mini(tmp_path, monkeypatch):
    """dataset -> train -> figure, recorded as the workflow records them (config source in
    the environment), in a working directory with its own config file."""
    monkeypatch.chdir(tmp_path)
    conf = tmp_path / "my.yaml"
    conf.write_text((ROOT / "config" / "smoke.yaml").read_text())
    monkeypatch.setenv(provenance.CONFIGFILES_ENV,
                       json.dumps({"files": ["my.yaml"], "schema": str(SCHEMA)}))
    config = settings.load_config(["my.yaml"], SCHEMA)
    wc = {"task": "tmaze"}

    def params(step, wildcards):
        return {"seed": settings.step_seed("replay", step, config, wildcards),
                "settings": settings.step_settings("replay", step, config, wildcards)}

    d = provenance.record(rule="replay_dataset", wildcards=wc, params=params("dataset", wc),
                          outputs=["d.nc"])
    io.write_netcdf(tiny(), "d.nc", d, title="d", source="test")
    twc = {**wc, "net": "a1_k1_m0", "seed": "1"}
    t = provenance.record(rule="replay_train", wildcards=twc, params=params("train", twc),
                          inputs=["d.nc"], outputs=["m.nc"])
    io.write_netcdf(tiny(1), "m.nc", t, title="m", source="test")
    f = provenance.record(rule="replay_figure", wildcards={"fig": "fig2_leakage"},
                          params=params("figure", {}), inputs=["m.nc"], outputs=["f.png"])
    Path("f.prov.json").write_text(provenance.to_json(f))
    Path("f.png").write_bytes(b"png")
    return conf


def test_audit_of_a_fresh_lineage_is_current(mini, capsys):
    result = audit.audit("f.png")
    assert result.current, result.problems
    assert [n.rule for n in result.nodes] == ["replay_figure", "replay_train", "replay_dataset"]
    assert cli.main(["audit", "f.png"]) == 0
    out = capsys.readouterr().out
    for text in ("[replay_figure fig=fig2_leakage] current",
                 "[replay_train net=a1_k1_m0 seed=1 task=tmaze] current",
                 "[replay_dataset task=tmaze] current", "seed=1", "dirty=", "SLURM job None",
                 "host ", "versions  as above", "CURRENT: all 3 jobs"):
        assert text in out, (text, out)


def test_audit_config_change_marks_only_the_nodes_that_read_it(mini, capsys):
    mini.write_text(mini.read_text().replace("  n_hidden: 16", "  n_hidden: 33"))
    result = audit.audit("f.png")
    stale = {n.rule: n.problems for n in result.nodes if n.problems}
    assert list(stale) == ["replay_train"], result.problems
    assert "model.n_hidden" in stale["replay_train"][0] and "-> 33" in stale["replay_train"][0]
    assert cli.main(["audit", "f.png"]) == 1
    assert "NOT CURRENT: 1 of 3 jobs stale" in capsys.readouterr().out


def test_audit_seed_change_is_stale(mini):
    mini.write_text(mini.read_text().replace("dataset_seed: 1234", "dataset_seed: 99"))
    (node,) = [n for n in audit.audit("f.png").nodes if n.problems]
    assert node.rule == "replay_dataset" and "seed" in node.problems[0] and "99 now" in node.problems[0]


def test_audit_names_an_edited_or_missing_input(mini):
    ds = xr.load_dataset("d.nc")
    ds["position"][0, 0, 0] += 1
    ds.to_netcdf("d.nc")
    problems = audit.audit("f.png").problems
    assert any(p.startswith("d.nc: changed since rule replay_train") for p in problems), problems
    Path("m.nc").unlink()
    problems = audit.audit("f.png").problems
    assert any(p.startswith("m.nc: missing; rule replay_figure") for p in problems), problems


def test_audit_invalid_config_now_is_a_problem(mini, capsys):
    mini.write_text("studies: [replay]\nreplay: {replay: {n_traj: 0}}\n")
    result = audit.audit("f.png")
    assert not result.current and "replay.replay.n_traj" in result.problems[0]
    # an explicit --configfile wins over the recorded one
    assert cli.main(["audit", "f.png", "--configfile", str(ROOT / "config/smoke.yaml")]) == 0


def test_audit_without_record_or_config(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("x.png").write_bytes(b"png")
    assert cli.main(["audit", "x.png"]) == 2
    assert "x.png: no provenance record" in capsys.readouterr().err
    monkeypatch.delenv(provenance.CONFIGFILES_ENV, raising=False)
    rec = provenance.record(rule="replay_dataset", params={"seed": 1}, outputs=["d.nc"])
    io.write_netcdf(tiny(), "d.nc", rec, title="d", source="test")
    result = audit.audit("d.nc")
    assert result.current and "config not checked" in result.config_note


def test_audit_detects_changed_inputs_and_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("in.txt").write_text("1")
    code = {"modules": ["studies.replay.stats"], "exact": [], "sha256": provenance.package_hash(["studies.replay.stats"])}
    rec = provenance.record(rule="replay_stats", inputs=["in.txt"], outputs=["o.nc"],
                            params={"code": code})
    io.write_netcdf(tiny(), "o.nc", rec, title="o", source="test")
    assert audit.audit("o.nc").problems == []
    assert "current" in audit.report(audit.audit("o.nc"))
    Path("in.txt").write_text("2")
    assert any("in.txt: changed" in p for p in audit.audit("o.nc").problems)
    Path("in.txt").unlink()
    assert any("in.txt: missing" in p for p in audit.audit("o.nc").problems)
    rec2 = {**rec, "inputs": {}, "params": {"code": {**code, "sha256": "0" * 64}}}
    io.write_netcdf(tiny(), "p.nc", rec2, title="p", source="test")
    assert any("package code changed" in p for p in audit.audit("p.nc").problems)
    assert "NOT CURRENT" in audit.report(audit.audit("p.nc"))


def test_audit_names_a_changed_per_task_key_by_its_config_path(mini):
    text = mini.read_text()
    assert "    tmaze: {" in text  # smoke.yaml's per-task section of the T-maze
    mini.write_text(text.replace("    tmaze: {", "    tmaze: {arm_length: 0.77, ", 1))
    (node,) = [n for n in audit.audit("f.png").nodes if n.problems]
    assert node.rule == "replay_dataset"
    assert "replay.task.tmaze.arm_length:" in node.problems[0] and "-> 0.77" in node.problems[0]


# --------------------------------------------------------------------------- why no record
def test_audit_says_what_is_wrong_with_a_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(provenance.CONFIGFILES_ENV, raising=False)
    rec = provenance.record(rule="replay_dataset", params={"seed": 1}, outputs=["d.nc"])
    io.write_netcdf(tiny(), "d.nc", rec, title="d", source="test")
    Path("cut.nc").write_bytes(Path("d.nc").read_bytes()[:200])  # truncated netCDF
    Path("noise.png").write_bytes(np.random.default_rng(0).bytes(300))
    Path("fig.png").write_bytes(b"png")
    Path("fig.prov.json").write_text('{"rule": "replay_figure", ')  # cut-off sidecar
    xr.Dataset({"x": ("i", [1.0])}).to_netcdf("foreign.nc")
    expected = {
        "absent.png": "absent.png: not found",
        "cut.nc": "cut.nc: not a netCDF file, or truncated",
        "noise.png": "noise.png: no provenance record",
        "fig.png": "fig.png: sidecar fig.prov.json unreadable",
        "foreign.nc": "foreign.nc: a netCDF file without a `provenance` attribute",
        ".": ".: a directory",
    }
    for path, message in expected.items():
        assert cli.main(["audit", path]) == 2, path
        err = capsys.readouterr().err
        assert message in err, (path, err)
        assert "no provenance record" not in err or path == "noise.png", (path, err)


# --------------------------------------------------------------------------- gaps and repair
def test_audit_flags_a_missing_intermediate_and_prints_its_repair(mini, capsys):
    from snakemake.cli import get_argument_parser

    Path("d.nc").unlink()  # the dataset the model was trained on; the model is still there
    result = audit.audit("f.png")
    stale = {n.rule: n.problems for n in result.nodes if n.problems}
    assert set(stale) == {"replay_train", "replay_dataset"}, stale
    assert any(p.startswith("d.nc: missing; rule replay_dataset task=tmaze wrote it")
               for p in stale["replay_dataset"]), stale
    assert cli.main(["audit", "f.png", "--profile", "profiles/slurm"]) == 1
    out = capsys.readouterr().out
    line = out.splitlines()[out.splitlines().index(next(
        l for l in out.splitlines() if l.startswith("To remake"))) + 1]
    argv = shlex.split(line)
    assert argv[0] == "snakemake"
    args = get_argument_parser().parse_args(argv[1:])  # as Snakemake reads it
    assert args.targets == ["f.png"] and args.profile == ["profiles/slurm"]
    assert sorted(args.forcerun) == ["d.nc", "m.nc"]  # exactly the stale jobs' outputs
    assert [str(f) for f in args.configfile] == ["my.yaml"]


def test_audit_fix_runs_the_repair_command(mini, monkeypatch):
    calls = []
    monkeypatch.setattr(cli.subprocess, "call", lambda argv: calls.append(argv) or 0)
    assert cli.main(["audit", "f.png", "--fix"]) == 0 and calls == []  # current: nothing to run
    Path("m.nc").unlink()
    assert cli.main(["audit", "f.png", "--fix"]) == 0
    (argv,) = calls
    assert argv[:3] == [sys.executable, "-m", "snakemake"]
    assert argv[3:] == audit.repair_command(audit.audit("f.png"))[1:]
    assert "--forcerun" in argv and "m.nc" in argv


# --------------------------------------------------------------------------- tampering
def _edit(path: str, change) -> None:
    ds = xr.load_dataset(path)
    ds = change(ds)
    ds.to_netcdf(path + ".tmp")
    os.replace(path + ".tmp", path)


@pytest.mark.parametrize("change", [
    lambda ds: ds.assign(position=ds["position"] + 1e-9),
    lambda ds: ds.drop_vars("position").assign(other=("i", [1.0])),
    lambda ds: ds.assign(extra=("i", [0.0])),
], ids=["value", "dropped", "added"])
def test_audit_of_an_edited_netcdf_fails_on_that_file(mini, capsys, change):
    _edit("d.nc", change)
    with pytest.raises(io.ArtefactError, match=r"d\.nc: data changed after it was written"):
        io.read_netcdf("d.nc")
    assert cli.main(["audit", "d.nc"]) == 1
    out = capsys.readouterr().out
    assert "d.nc: data changed after it was written" in out
    # and from downstream: the figure's lineage holds the edited file's job
    problems = audit.audit("f.png").problems
    assert any(p.startswith("d.nc: data changed") for p in problems), problems
