"""Workflow tests: dry-runs of every config with job counts derived from the YAML alone,
lint and format, the schema against the config dataclasses and bad configs, the params rerun
trigger, and (slow) the whole smoke DAG end to end."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
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
