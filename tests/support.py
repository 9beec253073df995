"""Helpers shared by the workflow and end-to-end tests: running Snakemake on the checkout,
config files as the workflow merges them, and what a config should plan."""

from __future__ import annotations

import contextlib
import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_DIR = ROOT / "config" / "schema"
_SMK_BIN = Path(sys.executable).parent / "snakemake"
SNAKEMAKE = [str(_SMK_BIN)] if _SMK_BIN.exists() else [sys.executable, "-m", "snakemake"]
SNAKEFMT = Path(sys.executable).parent / "snakefmt"

# Every config the workflow ships: the three scales and each test overlay on smoke.
CONFIG_SETS = [
    ("config/config.yaml",),
    ("config/smoke.yaml",),
    ("config/paper.yaml",),
    *[("config/smoke.yaml", str(p.relative_to(ROOT)))
      for p in sorted((ROOT / "config" / "test").glob("*.yaml"))],
]

REPLAY_TASKS = ("box", "tmaze", "triangle")
REPLAY_TRACKS = ("tmaze", "triangle")
REPLAY_FIGURES = ("fig1_tasks", "fig2_leakage", "fig3_adaptation", "fig4_momentum",
                  "fig5_placecells", "fig6_langevin")


def snakemake(*args: str, workdir: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the checkout's workflow in ``workdir``."""
    cmd = [*SNAKEMAKE, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir), *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def output(res: subprocess.CompletedProcess) -> str:
    return res.stdout + res.stderr


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


def load_yaml_config(files) -> dict:
    """config/config.yaml with ``files`` merged on top, as plain YAML (no defaults)."""
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    for f in files:
        cfg = merge(cfg, yaml.safe_load((ROOT / f).read_text()) or {})
    return cfg


def job_stats(text: str) -> dict[str, int]:
    """The first "Job stats" table of a Snakemake run or dry-run."""
    block = text.split("Job stats:", 1)[1]
    counts = {}
    for line in block.splitlines()[3:]:
        m = re.match(r"^(\w+)\s+(\d+)\s*$", line)
        if not m:
            break
        counts[m.group(1)] = int(m.group(2))
    counts.pop("total", None)
    return counts


@contextlib.contextmanager
def chdir(path: Path):
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


# --------------------------------------------------------------------------- replay study
def replay_schema() -> dict:
    return yaml.safe_load((SCHEMA_DIR / "replay.yaml").read_text())


def replay_default(*path: str):
    node = replay_schema()
    for key in path:
        node = node["properties"][key]
    return node["default"]


def replay_net_ids(section: dict, task: str) -> tuple[set[str], set[str]]:
    """(trained, replayed) network ids of ``task``, by the rule in docs/design.md, written
    out here independently of the package."""
    tr = section.get("training", {})
    alphas = tr.get("alphas", replay_default("training", "alphas"))
    ks = tr.get("mask_k", replay_default("training", "mask_k"))
    regimes = tr.get("modifiers_in_training", replay_default("training", "modifiers_in_training"))
    replay_alphas = tr.get("replay_alphas", replay_default("training", "replay_alphas"))

    def name(a, k, m):
        return f"a{float(a):g}_k{int(k)}_m{int(bool(m))}"

    replayed = {name(a, 1, m) for a in replay_alphas for m in regimes}
    trained = set(replayed)
    if task in REPLAY_TRACKS:
        trained |= {name(a, k, False) for a in alphas for k in ks}
    return trained, replayed


def replay_expected_counts(section: dict, tasks=None, figures=REPLAY_FIGURES,
                           claims=True) -> dict[str, int]:
    """Jobs a config plans for the replay study, by rule name."""
    seeds = len(section.get("seeds", replay_default("seeds")))
    tasks = tasks if tasks is not None else section.get("tasks", replay_default("tasks"))
    counts = {"replay_dataset": len(tasks), "replay_train": 0, "replay_replay": 0,
              "replay_stats": len(tasks)}
    for task in tasks:
        trained, replayed = replay_net_ids(section, task)
        counts["replay_train"] += len(trained)  # one job trains every seed of a network
        counts["replay_replay"] += len(replayed) * seeds
    if figures:
        counts["replay_figure"] = len(figures)
    if claims:
        counts["replay_claims"] = 1
    if claims or any("fig2" in f for f in figures):
        counts["replay_gauss_markov"] = 1
    return counts


def assert_replay_outputs(workdir: Path) -> None:
    """Every figure (PDF, PNG, provenance sidecar), the claims table and the netCDF files of
    a finished replay run exist and are not empty; every model has its sidecar."""
    results = workdir / "results" / "replay"
    for fig in REPLAY_FIGURES:
        for ext in ("pdf", "png", "prov.json"):
            path = results / "figures" / f"{fig}.{ext}"
            assert path.is_file() and path.stat().st_size > 0, path
    for name in ("claims.csv", "claims.md"):
        assert (results / name).stat().st_size > 0, name
    assert len(list(results.rglob("*.nc"))) >= 3 + 2 * 3
    models = list((results / "models").rglob("*.pt"))
    assert models and all(m.with_name(m.name + ".prov.json").is_file() for m in models)
