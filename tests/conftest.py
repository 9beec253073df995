"""Fixtures shared by every test folder: unit/ (the package), workflow/ (dry-runs, lint,
schema) and e2e/ (the smoke run, SLURM). Helpers live in tests/support.py."""

from __future__ import annotations

import os
import shutil

import pytest

from support import ROOT, configfile_args, output, snakemake


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """The whole DAG at smoke scale, run once per session in its own working directory."""
    workdir = tmp_path_factory.mktemp("smoke")
    cores = os.environ.get("SMOKE_CORES", "2")
    res = snakemake("--profile", str(ROOT / "profiles/local"), "--cores", cores,
                    *configfile_args(["config/smoke.yaml"]), workdir=workdir, timeout=1800)
    assert res.returncode == 0, output(res)[-8000:]
    # what the user saw on the terminal, for the tests of the run's messages
    (workdir / "smoke-run.log").write_text(output(res))
    return workdir


@pytest.fixture
def smoke_copy(smoke_run, tmp_path):
    """A copy of the smoke run that a test may damage."""
    dest = tmp_path / "copy"
    shutil.copytree(smoke_run, dest, symlinks=True)
    return dest
