"""Workflow tests: dry-runs of every config with job counts derived from the YAML alone,
lint and format, the schema against the config dataclasses and bad configs, the params rerun
trigger, and (slow) the whole smoke DAG end to end."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import torch
import yaml

from rnnreplay import config as cfgmod

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text())
_SMK_BIN = Path(sys.executable).parent / "snakemake"
SNAKEMAKE = [str(_SMK_BIN)] if _SMK_BIN.exists() else [sys.executable, "-m", "snakemake"]
SNAKEFMT = Path(sys.executable).parent / "snakefmt"

TASKS = ("box", "tmaze", "triangle")
TRACKS = ("tmaze", "triangle")
FIGURES = ("fig1_tasks", "fig2_leakage", "fig3_adaptation", "fig4_momentum",
           "fig5_placecells", "fig6_langevin")
TEST_OVERLAYS = sorted((ROOT / "config" / "test").glob("*.yaml"))
CONFIG_SETS = [
    ("config/config.yaml",),
    ("config/smoke.yaml",),
    ("config/paper.yaml",),
    *[("config/smoke.yaml", str(p.relative_to(ROOT))) for p in TEST_OVERLAYS],
]


# --------------------------------------------------------------------------- helpers
def snakemake(*args: str, workdir: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    cmd = [*SNAKEMAKE, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir), *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def configfile_args(files) -> list[str]:
    return ["--configfile", *[str(ROOT / f) for f in files]]


def merge(base: dict, update: dict) -> dict:
    """Snakemake's --configfile semantics: nested dicts merge key by key, the rest replaces."""
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_config(files) -> dict:
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    for f in files:
        cfg = merge(cfg, yaml.safe_load((ROOT / f).read_text()) or {})
    return cfg


def schema_default(*path: str):
    node = SCHEMA
    for key in path:
        node = node["properties"][key]
    return node["default"]


def net_ids(cfg: dict, task: str) -> tuple[set[str], set[str]]:
    """(trained, replayed) network ids of ``task``, by the rule in docs/design.md."""
    tr = cfg.get("training", {})
    alphas = tr.get("alphas", schema_default("training", "alphas"))
    ks = tr.get("mask_k", schema_default("training", "mask_k"))
    regimes = tr.get("modifiers_in_training", schema_default("training", "modifiers_in_training"))
    replay_alphas = tr.get("replay_alphas", schema_default("training", "replay_alphas"))
    name = lambda a, k, m: f"a{float(a):g}_k{int(k)}_m{int(bool(m))}"  # noqa: E731
    replayed = {name(a, 1, m) for a in replay_alphas for m in regimes}
    trained = set(replayed)
    if task in TRACKS:
        trained |= {name(a, k, False) for a in alphas for k in ks}
    return trained, replayed


def expected_counts(cfg: dict, tasks=None, figures=FIGURES, claims=True) -> dict[str, int]:
    seeds = len(cfg.get("seeds", schema_default("seeds")))
    tasks = tasks if tasks is not None else cfg.get("tasks", schema_default("tasks"))
    counts = {"dataset": len(tasks), "train": 0, "replay": 0, "stats": len(tasks)}
    for task in tasks:
        trained, replayed = net_ids(cfg, task)
        counts["train"] += len(trained) * seeds
        counts["replay"] += len(replayed) * seeds
    if figures:
        counts["figure"] = len(figures)
    if claims:
        counts["claims"] = 1
    if claims or any("fig2" in f for f in figures):
        counts["gauss_markov"] = 1
    return counts


def job_stats(output: str) -> dict[str, int]:
    """The first "Job stats" table of a dry-run."""
    block = output.split("Job stats:", 1)[1]
    counts = {}
    for line in block.splitlines()[3:]:
        m = re.match(r"^(\w+)\s+(\d+)\s*$", line)
        if not m:
            break
        counts[m.group(1)] = int(m.group(2))
    counts.pop("total", None)
    return counts


# --------------------------------------------------------------------------- dry-runs
@pytest.mark.parametrize("files", CONFIG_SETS, ids=lambda f: "+".join(Path(x).stem for x in f))
def test_dry_run_job_counts(files, tmp_path):
    res = snakemake("-n", *configfile_args(files), workdir=tmp_path)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    cfg = load_config(files)
    expected = {**expected_counts(cfg), "all": 1}
    assert job_stats(res.stdout + res.stderr) == expected


@pytest.mark.parametrize("target", [*FIGURES, "claims"])
def test_dry_run_target_rules(target, tmp_path):
    files = ("config/smoke.yaml",)
    res = snakemake("-n", target, *configfile_args(files), workdir=tmp_path)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    cfg = load_config(files)
    needs = {
        "fig1_tasks": TASKS, "fig2_leakage": TRACKS, "fig3_adaptation": TASKS,
        "fig4_momentum": TASKS, "fig5_placecells": ("box",), "fig6_langevin": TASKS,
        "claims": TASKS,
    }[target]
    expected = expected_counts(
        cfg, tasks=[t for t in cfg["tasks"] if t in needs],
        figures=[target] if target != "claims" else [], claims=target == "claims",
    )
    if target != "claims":
        expected[target] = 1  # the target rule itself
    assert job_stats(res.stdout + res.stderr) == expected


def test_lint_clean(tmp_path):
    res = snakemake("--lint", "--configfile", str(ROOT / "config/smoke.yaml"), workdir=tmp_path)
    out = res.stdout + res.stderr
    assert res.returncode == 0 and "Lints for" not in out, out[-4000:]


@pytest.mark.skipif(not SNAKEFMT.exists(), reason="snakefmt not installed (dev extra)")
def test_snakefmt_check():
    res = subprocess.run([str(SNAKEFMT), "--check", "Snakefile", "rules/"], cwd=ROOT,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


# --------------------------------------------------------------------------- configs & schema
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def test_schema_is_valid():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("files", CONFIG_SETS, ids=lambda f: "+".join(Path(x).stem for x in f))
def test_configs_validate(files):
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(load_config(files))]
    assert not errors


def leaf_paths(d: dict, prefix=()):
    for key, value in d.items():
        if isinstance(value, dict) and value:
            yield from leaf_paths(value, (*prefix, key))
        else:
            yield (*prefix, key)


@pytest.mark.parametrize("name", ["smoke.yaml", "paper.yaml"])
def test_scale_configs_set_every_default_key(name):
    """smoke/paper are merged over config.yaml: a key only config.yaml sets would leak."""
    base = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    other = yaml.safe_load((ROOT / "config" / name).read_text())
    missing = [".".join(p) for p in leaf_paths(base) if p not in set(leaf_paths(other))]
    assert not missing, f"config/{name} must set {missing} (else config.yaml's values leak in)"


SECTIONS = {  # dataclass -> (schema node, fields not in that node, extra schema keys)
    cfgmod.TaskConfig: (SCHEMA["$defs"]["task"], {"name"}, set()),
    cfgmod.ModelConfig: (SCHEMA["properties"]["model"], set(), set()),
    cfgmod.TrainConfig: (SCHEMA["properties"]["training"], {"alpha", "mask_k", "modifiers_in_training"},
                         {"alphas", "mask_k", "modifiers_in_training", "replay_alphas"}),
    cfgmod.ReplayConfig: (SCHEMA["properties"]["replay"], set(), set()),
    cfgmod.DecodeConfig: (SCHEMA["properties"]["decode"], set(), set()),
    cfgmod.StatsConfig: (SCHEMA["properties"]["stats"], set(), set()),
    cfgmod.ClaimsConfig: (SCHEMA["properties"]["claims"], set(), set()),
}


def plain(value):
    return [plain(v) for v in value] if isinstance(value, (list, tuple)) else value


@pytest.mark.parametrize("cls", list(SECTIONS), ids=lambda c: c.__name__)
def test_schema_matches_config_dataclasses(cls):
    node, skipped, extra = SECTIONS[cls]
    props = node["properties"]
    assert node.get("additionalProperties") is False
    fields = {f.name: f for f in dataclasses.fields(cls)}
    missing = sorted(set(fields) - skipped - set(props))
    unknown = sorted(set(props) - set(fields) - extra)
    assert not missing, f"{cls.__name__} fields missing from config/schema.yaml: {missing}"
    assert not unknown, f"config/schema.yaml keys that {cls.__name__} does not have: {unknown}"
    for name, f in fields.items():
        if name in skipped:
            continue
        spec = props[name]
        assert "type" in spec or "enum" in spec, f"{cls.__name__}.{name}: no type/enum in schema"
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        assert "default" in spec, f"{cls.__name__}.{name}: no default in schema"
        got, want = plain(spec["default"]), plain(default)
        assert got == want, f"{cls.__name__}.{name}: schema default {got!r} != {want!r}"
        assert jsonschema.Draft202012Validator(spec).is_valid(want), (name, want)


BAD_CONFIGS = [
    ({"frobnicate": 1}, "frobnicate"),
    ({"task": {"tmaze": {"n_trian": 5}}}, "n_trian"),
    ({"task": {"maze": {}}}, "maze"),
    ({"model": {"n_hidden": 0}}, "model.n_hidden"),
    ({"model": {"activation": "sigmoid"}}, "model.activation"),
    ({"training": {"mask_mode": "random"}}, "training.mask_mode"),
    ({"training": {"alphas": [1.5]}}, "training.alphas.0"),
    ({"replay": {"lambda_v": [1.0, 0.0]}}, "replay.lambda_v.1"),
    ({"stats": {"ci": 1.5}}, "stats.ci"),
    ({"stats": {"wasserstein": "fast"}}, "stats.wasserstein"),
    ({"tasks": ["tmaze", "maze"]}, "tasks.1"),
    ({"seeds": []}, "seeds"),
    ({"seeds": [0, 0]}, "seeds"),
    ({"overrides": {"box": {"model": {"n_hiden": 3}}}}, "n_hiden"),
    ({"overrides": {"box": {"training": {"alphas": [1.0]}}}}, "overrides.box.training"),
    ({"decode": {"method": "argmax"}}, "decode.method"),
]


@pytest.mark.parametrize("patch,key", BAD_CONFIGS, ids=[k for _, k in BAD_CONFIGS])
def test_schema_rejects_bad_config(patch, key):
    cfg = merge(load_config(["config/smoke.yaml"]), patch)
    errors = list(VALIDATOR.iter_errors(cfg))
    assert errors, f"schema accepted {patch}"
    text = " ".join(".".join(map(str, e.absolute_path)) + " " + e.message for e in errors)
    assert key in text, text


@pytest.mark.parametrize("patch,key", [BAD_CONFIGS[1], BAD_CONFIGS[3], BAD_CONFIGS[4]],
                         ids=["unknown-key", "out-of-range", "bad-enum"])
def test_workflow_stops_on_bad_config_naming_the_key(patch, key, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(patch))
    res = snakemake("-n", "--configfile", str(ROOT / "config/smoke.yaml"), str(bad),
                    workdir=tmp_path)
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "invalid config" in out and key in out, out[-3000:]
    assert "Job stats" not in out


# --------------------------------------------------------------------------- rerun trigger
def test_params_change_reruns_only_affected_job(tmp_path):
    files = configfile_args(["config/smoke.yaml"])
    first = snakemake("--cores", "1", "results/stats/gauss_markov.nc", *files, workdir=tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    again = snakemake("-n", "results/stats/gauss_markov.nc", *files, workdir=tmp_path)
    assert "Nothing to be done" in again.stdout + again.stderr
    overlay = tmp_path / "gm.yaml"
    overlay.write_text("stats: {gm_steps: 31}\n")
    changed = snakemake("-n", "results/stats/gauss_markov.nc", *files, str(overlay),
                        workdir=tmp_path)
    out = changed.stdout + changed.stderr
    assert "Params have changed" in out and job_stats(out) == {"gauss_markov": 1}, out[-3000:]
    os.utime(ROOT / "config" / "schema.yaml")  # touching unrelated files changes nothing
    assert "Nothing to be done" in (lambda r: r.stdout + r.stderr)(
        snakemake("-n", "results/stats/gauss_markov.nc", *files, workdir=tmp_path))
    nc = tmp_path / "results/stats/gauss_markov.nc"
    import netCDF4

    with netCDF4.Dataset(nc) as ds:
        prov = json.loads(ds.getncattr("provenance"))
    assert prov["rule"] == "gauss_markov"
    assert prov["params"]["settings"]["stats"]["gm_steps"] == 30  # defaults + smoke, filled
    assert prov["params"]["settings"]["stats"]["n_bootstrap"] == 200
    assert prov["params"]["settings"]["stats"]["kde_bandwidth"] == 0.05  # schema default
    assert prov["params"]["code"]["sha256"] and "score" in prov["params"]["code"]["modules"]


# --------------------------------------------------------------------------- smoke, end to end
REQUIRED = {  # path pattern -> (dims, variables)
    r"results/datasets/\w+\.nc": (("trial", "time", "space"), ("position", "velocity")),
    r"results/models/.+\.history\.nc": (("iteration",), ("train_loss", "test_loss", "position_error")),
    r"results/replay/.+\.nc": (("variant", "trial", "time", "space"), ("position", "diverged")),
    r"results/stats/(box|tmaze|triangle)\.nc": (("seed", "net", "variant"),
                                                ("step_length", "final_position_error")),
    r"results/stats/gauss_markov\.nc": (("time",), ("score_rate",)),
}


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("smoke")
    cores = os.environ.get("SMOKE_CORES", "2")
    res = snakemake("--profile", str(ROOT / "profiles/local"), "--cores", cores,
                    *configfile_args(["config/smoke.yaml"]), workdir=workdir, timeout=1800)
    assert res.returncode == 0, (res.stdout[-5000:] + res.stderr[-5000:])
    return workdir


@pytest.mark.slow
def test_smoke_outputs_exist(smoke_run):
    for fig in FIGURES:
        for ext in ("pdf", "png", "prov.json"):
            path = smoke_run / "results" / "figures" / f"{fig}.{ext}"
            assert path.is_file() and path.stat().st_size > 0, path
    for name in ("claims.csv", "claims.md"):
        assert (smoke_run / "results" / name).stat().st_size > 0


@pytest.mark.slow
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
        if prov["rule"] in ("dataset", "train", "replay"):
            assert isinstance(prov["params"]["seed"], int), rel
            assert prov["inputs"] or prov["rule"] == "dataset", rel
        if prov["rule"] == "stats":
            assert prov["params"]["settings"]["seeds"] == [0, 1], rel
        if prov["rule"] == "train" and "/box/" in rel:  # overrides stay partial
            assert prov["params"]["settings"]["overrides"] == {"training": {"iterations": 30}}
        assert "created" not in prov, rel
        spec = next((v for k, v in REQUIRED.items() if re.fullmatch(k, rel)), None)
        assert spec is not None, f"unexpected netCDF {rel}"
        assert set(spec[0]) <= dims, (rel, dims)
        assert set(spec[1]) <= variables, (rel, variables)


@pytest.mark.slow
def test_smoke_lineage_reaches_datasets(smoke_run):
    from rnnreplay import provenance

    os.chdir(smoke_run)
    try:
        for fig in FIGURES:
            side = json.loads((smoke_run / "results/figures" / f"{fig}.prov.json").read_text())
            rules = {n["rule"] for n in side["lineage"]}
            assert {"dataset", "train", "stats"} <= rules, (fig, rules)
            assert "created" in side
            outs = [tuple(n["outputs"]) for n in side["lineage"]]
            assert len(outs) == len(set(outs)), f"{fig}: duplicate lineage nodes"
            assert provenance.check(f"results/figures/{fig}.png") == []
    finally:
        os.chdir(ROOT)


@pytest.mark.slow
def test_smoke_second_run_nothing_to_do(smoke_run):
    res = snakemake("-n", *configfile_args(["config/smoke.yaml"]), workdir=smoke_run)
    out = res.stdout + res.stderr
    assert res.returncode == 0 and "Nothing to be done" in out, out[-3000:]


@pytest.mark.slow
def test_smoke_changes_rerun_only_what_they_affect(smoke_run, tmp_path):
    cfg = load_config(["config/smoke.yaml"])
    cases = {  # overlay -> expected jobs of the dry-run
        "seeds: [0, 1, 5]\n": {
            "train": sum(len(net_ids(cfg, t)[0]) for t in cfg["tasks"]),
            "replay": sum(len(net_ids(cfg, t)[1]) for t in cfg["tasks"]),
            "stats": len(cfg["tasks"]), "figure": len(FIGURES), "claims": 1, "all": 1,
        },
        "claims: {adapt_b_a: 0.5}\n": {"figure": len(FIGURES), "claims": 1, "all": 1},
        "replay: {n_traj: 9}\n": {
            "replay": sum(len(net_ids(cfg, t)[1]) for t in cfg["tasks"]) * len(cfg["seeds"]),
            "stats": len(cfg["tasks"]), "figure": len(FIGURES), "claims": 1, "all": 1,
        },
    }
    for text, expected in cases.items():
        overlay = tmp_path / "overlay.yaml"
        overlay.write_text(text)
        res = snakemake("-n", *configfile_args(["config/smoke.yaml"]), str(overlay),
                        workdir=smoke_run)
        assert res.returncode == 0, res.stderr[-3000:]
        assert job_stats(res.stdout + res.stderr) == expected, text


@pytest.mark.slow
def test_smoke_report(smoke_run):
    report = smoke_run / "report.html"
    res = snakemake("--report", str(report), *configfile_args(["config/smoke.yaml"]),
                    workdir=smoke_run)
    assert res.returncode == 0 and report.stat().st_size > 0, res.stderr[-3000:]


# --------------------------------------------------------------------------- audit (smoke)
def _artefacts(root: Path) -> list[Path]:
    """Every result a user could audit: netCDF files, models and figures."""
    res = root / "results"
    return sorted([*res.rglob("*.nc"), *res.rglob("*.pt"), *res.glob("figures/*.png"),
                   *res.glob("figures/*.pdf")])


@contextlib.contextmanager
def chdir(path: Path):
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


@pytest.fixture
def smoke_copy(smoke_run, tmp_path):
    """A copy of the smoke run that a test may damage."""
    dest = tmp_path / "copy"
    shutil.copytree(smoke_run, dest, symlinks=True)
    return dest


@pytest.mark.slow
def test_smoke_audit_every_output_clean(smoke_run, capsys):
    from rnnreplay import cli

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
    exe = Path(sys.executable).parent / "rnnreplay"
    res = subprocess.run([str(exe), "audit", "results/figures/fig2_leakage.png"],
                         cwd=smoke_run, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    for word in ("[figure fig=fig2_leakage] current", "[dataset task=tmaze] current",
                 "[train net=a1_k1_m0 seed=0 task=tmaze] current", "seed=0", "dirty=", "package ", "SLURM job",
                 "versions  ", "host "):
        assert word in res.stdout, word


@pytest.mark.slow
@pytest.mark.parametrize("victim", ["results/stats/tmaze.nc", "results/datasets/tmaze.nc"])
def test_smoke_audit_names_an_edited_file(smoke_copy, victim, capsys):
    import netCDF4

    from rnnreplay import cli

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
        assert cli.main(["audit", "results/figures/fig2_leakage.png"]) == 1
    out = capsys.readouterr().out
    assert "NOT CURRENT" in out and f"{victim}: changed since rule" in out, out[-3000:]


@pytest.mark.slow
def test_smoke_audit_config_change_marks_affected_nodes(smoke_run, tmp_path):
    from rnnreplay import audit

    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("replay: {n_traj: 9}\n")
    with chdir(smoke_run):
        same = audit.audit("results/figures/fig4_momentum.png")
        assert same.current, same.problems
        changed = audit.audit("results/figures/fig4_momentum.png",
                              [str(ROOT / "config/smoke.yaml"), str(overlay)])
    stale = {n.rule for n in changed.nodes if n.problems}
    assert stale == {"replay", "stats"}, changed.problems  # not the datasets nor training
    assert all("replay.n_traj" in p for n in changed.nodes for p in n.problems), changed.problems
    fresh = {n.rule for n in changed.nodes if not n.problems}
    assert {"dataset", "train", "figure"} <= fresh


# --------------------------------------------------------------------------- bad input (smoke)
@pytest.mark.slow
@pytest.mark.parametrize("damage,message", [
    ("truncate", "truncated or corrupt"),
    ("drop_dim", "missing"),
])
def test_bad_dataset_fails_the_job_naming_the_file(smoke_copy, damage, message):
    import xarray as xr

    data = smoke_copy / "results/datasets/triangle.nc"
    if damage == "truncate":
        data.write_bytes(data.read_bytes()[: data.stat().st_size // 3])
    else:
        with xr.open_dataset(data) as ds:
            bad = ds.isel(space=0, drop=True).load()
        bad.to_netcdf(data)
    models = sorted((smoke_copy / "results/models/triangle").rglob("*.pt"))
    target = str(models[0].relative_to(smoke_copy))
    res = snakemake(target, "--cores", "1", "--forcerun", target,
                    *configfile_args(["config/smoke.yaml"]), workdir=smoke_copy)
    out = res.stdout + res.stderr
    assert res.returncode != 0, out[-3000:]
    log = smoke_copy / "logs/train/triangle" / models[0].parent.name / f"{models[0].stem}.log"
    text = log.read_text()
    assert "results/datasets/triangle.nc" in text and message in text, text[-3000:]
    assert not models[0].exists()  # nothing that looks complete is left behind
    assert not list(models[0].parent.glob(".*.tmp"))
    assert all(m.exists() for m in models[1:])  # other jobs' results are kept


# --------------------------------------------------------------------------- interruption
@pytest.mark.slow
def test_interrupted_run_resumes_without_redoing_finished_jobs(smoke_run, tmp_path):
    """Interrupt the smoke run during training, rerun: finished jobs are kept as they are,
    the rest completes, and the results are byte-identical to an uninterrupted run."""
    workdir = tmp_path / "interrupted"
    workdir.mkdir()
    args = ["--profile", str(ROOT / "profiles/local"), "--cores", "2",
            *configfile_args(["config/smoke.yaml"])]
    cmd = [*SNAKEMAKE, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir), *args]
    with open(tmp_path / "first.log", "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline and proc.poll() is None:
                if len(list(workdir.glob("results/models/*/*/*.pt"))) >= 3:
                    break
                time.sleep(0.5)
            assert proc.poll() is None, "the run ended before it could be interrupted"
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C, or a scheduler's signal
            proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    before = {p: p.stat().st_mtime_ns for p in workdir.glob("results/models/*/*/*.pt")}
    assert before, "no model finished before the interrupt"
    for p in before:  # what is there is whole: atomic writes
        torch.load(p, map_location="cpu", weights_only=True)
    total_train = sum(1 for _ in smoke_run.glob("results/models/*/*/*.pt"))
    assert not (workdir / "results/figures").exists()

    res = snakemake(*args, workdir=workdir, timeout=1800)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-5000:]
    rerun = job_stats(out).get("train", 0)
    kept = [p for p, t in before.items() if p.stat().st_mtime_ns == t]
    assert rerun == total_train - len(kept) and kept, (rerun, total_train, len(kept))
    for fig in FIGURES:
        assert (workdir / "results/figures" / f"{fig}.png").is_file()
    # determinism: every netCDF is byte-identical to the uninterrupted smoke run's
    ncs = sorted(p.relative_to(smoke_run) for p in smoke_run.glob("results/**/*.nc"))
    assert ncs == sorted(p.relative_to(workdir) for p in workdir.glob("results/**/*.nc"))
    differ = [str(p) for p in ncs if (smoke_run / p).read_bytes() != (workdir / p).read_bytes()]
    assert not differ, differ


@pytest.mark.slow
def test_different_seeds_give_different_results(smoke_run):
    import xarray as xr

    for pattern in ("results/replay/tmaze/*/seed{}.nc", "results/models/tmaze/*/seed{}.history.nc"):
        a = sorted(smoke_run.glob(pattern.format(0)))[0]
        b = a.with_name(a.name.replace("seed0", "seed1"))
        with xr.open_dataset(a) as da, xr.open_dataset(b) as db:
            var = "position" if "position" in da else "train_loss"
            assert da[var].shape == db[var].shape
            assert not np.array_equal(da[var].values, db[var].values, equal_nan=True), a


@pytest.mark.slow
def test_killed_training_job_resumes_from_its_checkpoint(tmp_path):
    """A training job killed mid-run (as by a scheduler's time limit) resumes from its last
    checkpoint when rerun, and ends with the weights and history of an uninterrupted run."""
    overlay = tmp_path / "long.yaml"
    overlay.write_text("training: {iterations: 1500, checkpoint_every: 50, log_every: 50}\n")
    target = "results/models/tmaze/a0.2_k1_m0/seed0.pt"
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
            if list(killed.glob("results/models/tmaze/a0.2_k1_m0/seed0.*.ckpt")):
                break
            time.sleep(0.05)
        assert proc.poll() is None, "training ended before it could be killed"
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    (ckpt,) = killed.glob("results/models/tmaze/a0.2_k1_m0/seed0.*.ckpt")
    assert not (killed / target).exists()

    res = snakemake(*args, workdir=killed)
    assert res.returncode == 0, res.stderr[-3000:]
    log = (killed / "logs/train/tmaze/a0.2_k1_m0/seed0.log").read_text()
    m = re.search(r"resumed from \S+ at iteration (\d+)", log)
    assert m and 0 < int(m.group(1)) < 1500, log[-2000:]
    assert not ckpt.exists()  # a finished job removes its checkpoint
    hist = "results/models/tmaze/a0.2_k1_m0/seed0.history.nc"
    assert (whole / hist).read_bytes() == (killed / hist).read_bytes()
    a = torch.load(whole / target, map_location="cpu", weights_only=True)["state_dict"]
    b = torch.load(killed / target, map_location="cpu", weights_only=True)["state_dict"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
