"""Jobs stop when the workflow process that started them is killed (core.lifeline)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from noisyrnn.core import lifeline

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="process semantics of Linux")

# A stand-in for Snakemake: marks itself, starts a "job" that watches it, prints the job's pid,
# then waits forever. The job writes through an atomic writer and would finish after 60 s.
WORKFLOW = textwrap.dedent("""
    import subprocess, sys, time
    from noisyrnn.core import lifeline
    lifeline.mark_workflow()
    job = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]])
    print(job.pid, flush=True)
    time.sleep(600)
""")
JOB = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from noisyrnn.core import io, lifeline
    lifeline.watch(interval=0.2, grace=5)
    out = Path(sys.argv[1])
    with io.atomic_path(out) as tmp:
        tmp.write_text("partial")
        time.sleep(60)
    out.with_suffix(".finished").write_text("ran to the end")
""")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_job_stops_when_the_workflow_is_sigkilled(tmp_path):
    out = tmp_path / "model.pt"
    env = {k: v for k, v in os.environ.items() if k != lifeline.ENV}
    wf = subprocess.Popen([sys.executable, "-c", WORKFLOW, JOB, str(out)], stdout=subprocess.PIPE,
                          text=True, env=env, start_new_session=True)
    try:
        job = int(wf.stdout.readline())
        deadline = time.monotonic() + 30
        while not list(tmp_path.glob(".model.pt.*")) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert list(tmp_path.glob(".model.pt.*")), "the job never started writing"
        assert _alive(job)
        wf.send_signal(signal.SIGKILL)  # as `kill -9` of Snakemake: no chance to stop its jobs
        wf.wait()
        deadline = time.monotonic() + 20
        while _alive(job) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(job), "the job outlived its workflow"
    finally:
        if wf.poll() is None:
            wf.kill()
    # it stopped through the interrupt: the temporary file is gone and nothing was published
    assert not out.exists() and not out.with_suffix(".finished").exists()
    assert not list(tmp_path.glob(".model.pt.*"))


def test_a_job_keeps_the_mark_of_its_workflow_ancestor(monkeypatch):
    # Snakemake re-reads the Snakefile in the processes it spawns for jobs: they must not
    # re-mark themselves, or a job would watch its own spawner instead of the workflow
    monkeypatch.delenv(lifeline.ENV, raising=False)
    lifeline.mark_workflow()
    mine = json.loads(os.environ[lifeline.ENV])
    assert mine["pid"] == os.getpid() and mine["host"] == socket.gethostname()
    child = subprocess.run(
        [sys.executable, "-c", "import os; from noisyrnn.core import lifeline; "
         "lifeline.mark_workflow(); print(os.environ[lifeline.ENV])"],
        capture_output=True, text=True, check=True)
    assert json.loads(child.stdout)["pid"] == os.getpid()
    # a stale mark (a pid that is no ancestor) is replaced
    monkeypatch.setenv(lifeline.ENV, json.dumps({"pid": 1 << 22, "host": socket.gethostname()}))
    lifeline.mark_workflow()
    assert json.loads(os.environ[lifeline.ENV])["pid"] == os.getpid()


def test_nothing_is_watched_on_another_host(monkeypatch):
    # on a cluster node the workflow's pid means nothing
    monkeypatch.setenv(lifeline.ENV, json.dumps({"pid": os.getpid(), "host": "login-node-0"}))
    assert lifeline.watch() is None
    monkeypatch.delenv(lifeline.ENV)
    assert lifeline.watch() is None
