"""What the last run was and where its results are.

* :func:`record` (the workflow's ``onstart``): the config files the run read, so ``make report``
  describes the run it reports instead of whatever ``config/config.yaml`` says now.
* :func:`summary` (the workflow's ``onsuccess``): the figures, each study's claims table with a
  one-line count of its verdicts, and the commands for the report and the audit.

``python -m noisyrnn.core.lastrun configfiles`` prints the recorded files (the Makefile's
``report`` target reads them); it exits 2 with a message when no run was recorded.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .io import write_text_atomic

RECORD = Path(".snakemake") / "noisyrnn" / "last-run.json"


class NoRunError(RuntimeError):
    """No run was recorded in this working directory."""


def record(configfiles: Sequence[str], targets: Sequence[str], path: Path = RECORD) -> None:
    write_text_atomic(path, json.dumps({"configfiles": list(configfiles),
                                        "targets": list(targets),
                                        "argv": sys.argv}, indent=1) + "\n")


def recorded(path: Path = RECORD) -> dict[str, Any]:
    if not path.is_file():
        raise NoRunError(f"no run recorded in {path}: run `make figures` (or `make smoke`) "
                         "first, or name the config: make report CONFIG=config/smoke.yaml")
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
        files = [str(f) for f in value["configfiles"]]
    except (ValueError, KeyError, TypeError) as err:
        raise NoRunError(f"{path}: unreadable run record ({err}); rerun the workflow, or name "
                         "the config: make report CONFIG=config/smoke.yaml") from None
    gone = [f for f in files if not Path(f).is_file()]
    if gone:
        raise NoRunError(f"{path}: the last run read {', '.join(gone)}, which no longer "
                         "exists; name the config: make report CONFIG=...")
    return {**value, "configfiles": files}


def _verdict_line(csv: Path) -> str:
    import pandas as pd

    from .claims import verdict_counts

    try:
        return verdict_counts(pd.read_csv(csv))
    except Exception as err:  # a summary must never fail a finished run
        return f"(cannot read: {type(err).__name__}: {err})"


def summary(figures: Mapping[str, Sequence[str]], tables: Mapping[str, Sequence[str]],
            configfiles: Sequence[str]) -> str:
    """The end-of-run message: ``figures`` and ``tables`` map each study to its paths."""
    lines = ["", "Results"]
    for study, paths in figures.items():
        shown = [p for p in paths if p.endswith(".png") and os.path.exists(p)]
        if shown:
            lines.append(f"  {study} figures ({len(shown)}, PNG; PDF beside each):")
            lines.extend(f"    {p}" for p in shown)
    for study, paths in tables.items():
        for p in paths:
            if os.path.exists(p):
                lines.append(f"  {study} claims: {p}")
                if p.endswith(".csv"):
                    lines.append(f"    {_verdict_line(Path(p))}")
    config = " ".join(configfiles)
    lines += ["  report:  make report        (snakemake --report results/report.html "
              f"--configfile {config})",
              "  audit:   make audit FILE=<any figure, table or .nc above>", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv != ["configfiles"]:
        print("usage: python -m noisyrnn.core.lastrun configfiles", file=sys.stderr)
        return 2
    try:
        print(" ".join(recorded()["configfiles"]))
    except NoRunError as err:
        print(err, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
