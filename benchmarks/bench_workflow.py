"""Wall time of the whole Snakemake workflow, run end to end in a fresh copy of the working tree.

The working tree (the files git tracks plus untracked files it does not ignore, so no results/,
.snakemake/, logs/ or .venv/) is copied to a temporary directory, and there

    snakemake --profile profiles/local --configfile <configs> --cores <cores>

runs from scratch with this interpreter's Snakemake. Prints the machine line, the total wall
seconds, and per rule the sums of the Snakemake benchmark files (results/<study>/benchmarks/<step>/**/*.tsv,
columns ``s`` = job wall seconds and ``cpu_time``), the job count and the slowest job. Rules
without a ``benchmark:`` directive (statistics toy, figures, claims) have no files there; the
"other" line is the remainder of total wall x cores.

The smoke config takes a few minutes on 2 CPU cores; the default config (config/config.yaml)
about 40 minutes; paper scale is meant for a GPU or a cluster.

    python benchmarks/bench_workflow.py                                  # smoke, 2 cores
    python benchmarks/bench_workflow.py --config config/config.yaml      # default scale (long)
    python benchmarks/bench_workflow.py --cores 1 --keep                 # keep the run directory
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def tree_files(root: Path) -> list[Path]:
    """Files of the working tree as git sees it: tracked plus untracked-but-not-ignored."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root, capture_output=True, check=True,
        ).stdout
        return [Path(p) for p in out.decode().split("\0") if p and (root / p).is_file()]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", "results", ".snakemake", "logs", "__pycache__", ".pytest_cache"}
        return [p.relative_to(root) for p in root.rglob("*")
                if p.is_file() and not skip.intersection(p.relative_to(root).parts)]


def copy_tree(root: Path, dest: Path) -> int:
    files = tree_files(root)
    for rel in files:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, dest / rel)
    return len(files)


def benchmark_sums(results: Path) -> dict[str, dict[str, float]]:
    """Per rule (results/<study>/benchmarks/<step>/...: rule <study>_<step>): jobs, sum s,
    sum cpu_time, max s."""
    sums: dict[str, dict[str, float]] = defaultdict(lambda: {"jobs": 0, "s": 0.0, "cpu_time": 0.0,
                                                             "max_s": 0.0})
    for tsv in sorted(results.glob("*/benchmarks/**/*.tsv")):
        study, _, step = tsv.relative_to(results).parts[:3]
        rule = f"{study}_{step}"
        with tsv.open(newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                s = float(row.get("s") or 0.0)
                cpu = row.get("cpu_time")
                sums[rule]["jobs"] += 1
                sums[rule]["s"] += s
                sums[rule]["cpu_time"] += float(cpu) if cpu not in (None, "", "NA", "-") else 0.0
                sums[rule]["max_s"] = max(sums[rule]["max_s"], s)
    return dict(sums)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", nargs="+", default=["config/smoke.yaml"],
                    help="config file(s), relative to the repository root (default: smoke)")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--profile", default="profiles/local")
    ap.add_argument("--workdir", default=None,
                    help="copy the tree here (must not exist) instead of a temporary directory")
    ap.add_argument("--keep", action="store_true", help="keep the run directory afterwards")
    ap.add_argument("--snakemake", default=str(Path(sys.executable).parent / "snakemake"),
                    help="snakemake executable (default: the one next to this Python)")
    ap.add_argument("extra", nargs="*", help="further snakemake arguments (after --)")
    args = ap.parse_args(argv)

    try:
        import torch
        torch_info = f"torch {torch.__version__} (cuda: {torch.cuda.is_available()})"
    except ImportError:
        torch_info = "torch not importable"
    print(f"machine: {platform.platform()} | {platform.processor() or platform.machine()} | "
          f"cpu_count={os.cpu_count()} | python {platform.python_version()} | {torch_info}")

    if args.workdir:
        work = Path(args.workdir).resolve()
        work.mkdir(parents=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="noisyrnn-bench-"))
    n_files = copy_tree(ROOT, work)
    cmd = [args.snakemake, "--profile", args.profile, "--configfile", *args.config,
           "--cores", str(args.cores), *args.extra]
    print(f"copied {n_files} files to {work}")
    print("running: " + " ".join(cmd))
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    log_path = work / "bench_workflow.log"
    t0 = time.perf_counter()
    with log_path.open("w") as log:
        res = subprocess.run(cmd, cwd=work, stdout=log, stderr=subprocess.STDOUT, env=env)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        tail = log_path.read_text(errors="replace")[-4000:]
        print(f"snakemake failed (exit {res.returncode}) after {wall:.1f} s; log {log_path}:\n{tail}")
        return res.returncode

    sums = benchmark_sums(work / "results")
    print(f"config {' + '.join(args.config)} | cores {args.cores} | total wall {wall:.1f} s "
          f"({wall / 60:.1f} min)")
    print(f"  {'rule':<10} {'jobs':>5} {'sum s':>9} {'sum cpu_time':>13} {'max s':>8}")
    tot_s = 0.0
    for rule, v in sorted(sums.items(), key=lambda kv: -kv[1]["s"]):
        tot_s += v["s"]
        print(f"  {rule:<10} {int(v['jobs']):>5} {v['s']:>9.1f} {v['cpu_time']:>13.1f} {v['max_s']:>8.1f}")
    print(f"  {'other':<10} {'':>5} {max(wall * args.cores - tot_s, 0.0):>9.1f}   "
          f"(total wall x cores minus the benchmarked jobs: rules without benchmark files, "
          f"Snakemake overhead, idle cores)")
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
