"""The smoke DAG on a real (single-node) SLURM cluster, through profiles/slurm.

tests/slurm/cluster.sh brings up munged, slurmctld and slurmd from Debian's slurm-wlm with
two fake GPUs (gres.conf, File=/dev/null), the workflow runs with ``--profile profiles/slurm
--configfile config/smoke.yaml`` in a scratch directory, and the tests check that every output
exists, that every job ran as a SLURM job of this cluster (``slurm_job_id`` in the provenance
record of every netCDF file, model and figure) and that a rerun has nothing to do. The daemons
are stopped by PID afterwards, also on failure.

Needs root and apt (the fixture installs slurm-wlm and munge where they are missing); skipped,
with the reason, where they cannot be installed. Run it alone with
``python -m pytest -m slurm tests/test_slurm.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from noisyrnn.core.provenance import read_provenance

from support import ROOT, SNAKEMAKE, assert_replay_outputs

CLUSTER = ROOT / "tests" / "slurm" / "cluster.sh"
PACKAGES = ("slurm-wlm", "munge")
COMMANDS = ("slurmctld", "slurmd", "munged", "munge", "sbatch", "squeue", "scontrol")
# What the local test node cannot give the real profile's requests: it has 2 CPUs (the profile
# asks for 4-8 threads per step), and polling starts after 2 s instead of 20 s.
# Everything else (executor, squeue status command, gres gpu:1 on replay_train/replay_replay, runtimes,
# retries, mem_mb from the rules) comes from profiles/slurm unchanged.
OVERRIDES = (
    "--set-threads", "replay_train=1", "replay_replay=1", "replay_stats=1", "stm_train=1", "hmm_train=1",
    "hmm_analyse=1",
    "--slurm-init-seconds-before-status-checks", "2",
    "--latency-wait", "5",
)
RUN_ARGS = ("--profile", str(ROOT / "profiles" / "slurm"),
            "--configfile", str(ROOT / "config" / "smoke.yaml"), *OVERRIDES)

pytestmark = [pytest.mark.slurm, pytest.mark.slow]


# --------------------------------------------------------------------------- cluster
def _missing() -> list[str]:
    return [c for c in COMMANDS if shutil.which(c) is None]


def _apt(*args: str, timeout: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(["apt-get", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def ensure_slurm_packages() -> None:
    """Install slurm-wlm and munge with apt where missing; pytest.skip saying why not."""
    if not _missing():
        return
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip(f"SLURM commands {_missing()} missing and not root: cannot apt-get install "
                    f"{' '.join(PACKAGES)}")
    if shutil.which("apt-get") is None:
        pytest.skip(f"SLURM commands {_missing()} missing and no apt-get to install them")
    install = ("install", "-y", "-q", "--no-install-recommends", *PACKAGES)
    res = _apt(*install, timeout=900)
    if res.returncode != 0:  # stale or empty package lists (fresh CI images)
        update = _apt("update", "-q", timeout=600)
        res = _apt(*install, timeout=900) if update.returncode == 0 else update
    if res.returncode != 0:
        pytest.skip(f"apt-get could not install {' '.join(PACKAGES)}: "
                    f"{(res.stderr or res.stdout).strip()[-1500:]}")
    if _missing():
        pytest.skip(f"{_missing()} still missing after installing {' '.join(PACKAGES)}")


def cluster(cmd: str, state: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(CLUSTER), cmd, str(state)], capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    """A running single-node cluster; yields its state directory (logs, PIDs)."""
    ensure_slurm_packages()
    state = tmp_path_factory.mktemp("slurm-cluster")
    try:
        up = cluster("up", state)
        if up.returncode == 3:  # a slurm.conf this script did not write: not ours to replace
            pytest.skip(up.stderr.strip())
        assert up.returncode == 0, f"cluster.sh up failed:\n{up.stdout}{up.stderr}"
        yield state
    finally:
        down = cluster("down", state)
        if down.returncode != 0:
            print(f"cluster.sh down failed:\n{down.stdout}{down.stderr}", file=sys.stderr)


# --------------------------------------------------------------------------- workflow
def job_env() -> dict[str, str]:
    """The test's environment without SLURM job variables (sbatch --export=ALL passes it
    on), so every slurm_job_id recorded comes from the job SLURM started."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("SLURM_", "SBATCH_", "SRUN_", "SALLOC_"))}


def snakemake(*args: str, workdir: Path, timeout: int) -> subprocess.CompletedProcess:
    cmd = [*SNAKEMAKE, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
           *args]
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout,
                          env=job_env())


def failure_report(res: subprocess.CompletedProcess, workdir: Path, state: Path) -> str:
    parts = [res.stdout[-4000:], res.stderr[-6000:]]
    for log in sorted((workdir / ".snakemake" / "slurm_logs").rglob("*.log"))[-3:]:
        parts.append(f"--- {log.relative_to(workdir)}\n{log.read_text()[-2000:]}")
    for name in ("slurmctld.log", "slurmd.log"):
        if (state / name).is_file():
            parts.append(f"--- {name}\n{(state / name).read_text()[-2000:]}")
    return "\n".join(parts)


@pytest.fixture(scope="module")
def slurm_run(slurm_cluster, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("slurm-smoke")
    res = snakemake(*RUN_ARGS, workdir=workdir, timeout=1800)
    assert res.returncode == 0, failure_report(res, workdir, slurm_cluster)
    return workdir


def records(workdir: Path) -> dict[str, dict]:
    """{path: provenance record} of every netCDF file, model and figure of the run."""
    results = workdir / "results"
    paths = [*results.rglob("*.nc"), *results.rglob("*.pt"), *results.glob("*/figures/*.png")]
    return {p.relative_to(workdir).as_posix(): read_provenance(p) for p in sorted(paths)}


def slurm_jobs() -> dict[str, str]:
    """{job id: state} of every job slurmctld still knows (MinJobAge keeps finished ones)."""
    out = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%i %T"], capture_output=True,
                         text=True, check=True).stdout
    return dict(line.split() for line in out.splitlines() if line.strip())


# --------------------------------------------------------------------------- tests
def test_slurm_outputs_exist(slurm_run):
    assert_replay_outputs(slurm_run)


def test_every_job_ran_under_slurm(slurm_run):
    recs = records(slurm_run)
    no_record = [p for p, r in recs.items() if r is None]
    assert not no_record, f"no provenance record: {no_record}"
    not_slurm = [p for p, r in recs.items() if not r.get("slurm_job_id")]
    assert not not_slurm, f"slurm_job_id is null in: {not_slurm}"

    # one SLURM job per Snakemake job: the files of a job share its id, other jobs differ
    # (a train job trains every seed of its network: its records differ only by seed)
    by_job: dict[tuple, set[str]] = defaultdict(set)
    for rec in recs.values():
        wildcards = dict(rec.get("wildcards") or {})
        if rec["rule"] == "replay_train":
            wildcards.pop("seed")
        key = (rec["rule"], tuple(sorted(wildcards.items())))
        by_job[key].add(str(rec["slurm_job_id"]))
    assert all(len(ids) == 1 for ids in by_job.values()), by_job
    ids = [next(iter(i)) for i in by_job.values()]
    assert len(set(ids)) == len(ids), "two Snakemake jobs recorded the same SLURM job"
    assert {rule for rule, _ in by_job} == {"replay_dataset", "replay_train", "replay_replay",
                                             "replay_stats", "replay_gauss_markov",
                                             "replay_figure", "stm_task", "stm_train",
                                             "stm_analyse", "stm_stats", "stm_theory",
                                             "stm_figure", "hmm_data", "hmm_train",
                                             "hmm_analyse", "hmm_stats", "hmm_figure"}

    # ... and they are jobs of this cluster, all completed
    known = slurm_jobs()
    states = {i: known.get(i) for i in ids}
    assert all(s == "COMPLETED" for s in states.values()), states


def test_gpu_steps_got_a_gpu(slurm_run):
    """train and replay ask for gres gpu:1 in profiles/slurm; SLURM allocated one."""
    recs = records(slurm_run)
    gpu_jobs = {str(r["slurm_job_id"]) for r in recs.values()
                if r["rule"] in ("replay_train", "replay_replay", "stm_train", "hmm_train")}
    cpu_jobs = {str(r["slurm_job_id"]) for r in recs.values() if r["rule"] == "replay_stats"}
    assert gpu_jobs and cpu_jobs

    def show(job_id: str) -> str:
        return subprocess.run(["scontrol", "-o", "show", "job", job_id], capture_output=True,
                              text=True, check=True).stdout

    for job_id in sorted(gpu_jobs)[:3]:
        assert "gres:gpu:1" in show(job_id), show(job_id)
    for job_id in sorted(cpu_jobs)[:1]:
        assert "gpu" not in show(job_id), show(job_id)


def test_slurm_rerun_nothing_to_do(slurm_run):
    res = snakemake("-n", *RUN_ARGS, workdir=slurm_run, timeout=600)
    out = res.stdout + res.stderr
    assert res.returncode == 0 and "Nothing to be done" in out, out[-3000:]
