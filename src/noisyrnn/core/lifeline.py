"""Jobs that stop when the workflow that started them dies.

A SIGKILLed Snakemake cannot stop its jobs: they are reparented and go on training for hours,
then write outputs nobody waits for, racing the next run. The workflow's main process marks
itself in the environment (:func:`mark_workflow`, from ``rules/common.smk``); every job inherits
the mark and :func:`watch` polls that process from a daemon thread. When it is gone, the job's
main thread gets a KeyboardInterrupt (SIGINT) (so the atomic writers remove their temporary files and
nothing half-written is left under a final name), and the process exits if it has not stopped
within ``grace`` seconds.

On a cluster a job runs on another host, where the mark's pid means nothing: the mark names
its host and a job elsewhere does not watch it (the scheduler owns those jobs; ``scancel``).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time

ENV = "NOISYRNN_WORKFLOW_PROCESS"
log = logging.getLogger(__name__)


def _start_time(pid: int) -> float | None:
    """The process's start time (tells a reused pid from the original), None if not running."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        try:
            proc = psutil.Process(pid)
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
            return proc.create_time()
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return None
        except Exception:  # AccessDenied or a transient /proc read error: not proof of death
            return 0.0
    else:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return 0.0


def _ancestors(pid: int) -> set[int]:
    try:
        import psutil

        return {p.pid for p in psutil.Process(pid).parents()}
    except Exception:
        return set()


def _mark() -> dict | None:
    try:
        value = json.loads(os.environ.get(ENV) or "null")
        return value if isinstance(value, dict) and {"pid", "host"} <= set(value) else None
    except ValueError:
        return None


def mark_workflow() -> None:
    """Mark this process as the workflow jobs watch, unless an ancestor already holds the mark
    (Snakemake re-reads the Snakefile in the processes it spawns for jobs)."""
    mark = _mark()
    if (mark is not None and mark["host"] == socket.gethostname()
            and int(mark["pid"]) in _ancestors(os.getpid())):
        return
    os.environ[ENV] = json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                  "start": _start_time(os.getpid())})


def watch(interval: float = 2.0, grace: float = 30.0) -> threading.Thread | None:
    """Stop this job when the marked workflow process dies; None when there is nothing to
    watch (no mark, or a mark from another host)."""
    mark = _mark()
    if mark is None or mark["host"] != socket.gethostname():
        return None
    pid, start = int(mark["pid"]), mark.get("start")

    def alive() -> bool:
        now = _start_time(pid)
        return now is not None and (start is None or not now or abs(now - float(start)) < 1.0)

    def run() -> None:
        misses = 0
        # gone on three polls in a row: one failed look at /proc on a loaded machine is not a
        # dead workflow
        while misses < 3:
            misses = 0 if alive() else misses + 1
            time.sleep(interval if misses == 0 else min(interval, 0.5))
        log.error("the workflow process %d is gone (killed?): stopping this job; "
                  "outputs it had not finished are not written", pid)
        # a real SIGINT (not _thread.interrupt_main) also wakes a main thread blocked in a call
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(grace)
        os._exit(143)

    thread = threading.Thread(target=run, name="noisyrnn-lifeline", daemon=True)
    thread.start()
    return thread
