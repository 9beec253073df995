"""Command line: ``noisyrnn audit PATH`` prints a result's lineage and whether it is current;
``noisyrnn crate results/`` exports the run's provenance as a Workflow Run RO-Crate."""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys

from . import audit as _audit
from . import crate as _crate


def audit(path: str, configfiles: list[str] | None = None, verbose: bool = False,
          fix: bool = False, profile: str = _audit.DEFAULT_PROFILE) -> int:
    """Print the lineage; exit status 1 when any node is stale, missing or altered, 2 when
    the file cannot be audited at all. With ``fix``, run the repair command and return its
    status."""
    try:
        result = _audit.audit(path, configfiles)
    except Exception as err:  # an unreadable config or record: say so, exit non-zero
        print(f"{path}: audit failed: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    if not result.nodes:
        print(_audit.report(result, verbose=verbose, profile=profile), file=sys.stderr)
        return 2
    print(_audit.report(result, verbose=verbose, profile=profile))
    if result.current or not fix:
        return 0 if result.current else 1
    cmd = _audit.repair_command(result, profile)
    if cmd is None:
        print("--fix: no rule of the config makes the stale files; nothing to run",
              file=sys.stderr)
        return 1
    print(f"--fix: running {shlex.join(cmd)}", flush=True)
    # this interpreter's Snakemake, the one the workflow's environment installed
    return subprocess.call([sys.executable, "-m", "snakemake", *cmd[1:]])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="noisyrnn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "audit",
        help="lineage of a figure, netCDF or model file, and whether it is current",
        description=_audit.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("path")
    p.add_argument("--configfile", nargs="+", default=None, metavar="FILE",
                   help="config files to compare against, in Snakemake's order (default: "
                        "the ones the run recorded, e.g. config/config.yaml config/smoke.yaml)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="print every param and version in full")
    p.add_argument("--fix", action="store_true",
                   help="run the printed Snakemake command that remakes the stale jobs")
    p.add_argument("--profile", default=_audit.DEFAULT_PROFILE,
                   help=f"Snakemake profile of the repair command (default {_audit.DEFAULT_PROFILE})")
    _crate.add_arguments(sub.add_parser(
        "crate", help="export a results tree's provenance as a Workflow Run RO-Crate",
        description=_crate.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter))
    args = parser.parse_args(argv)
    if args.command == "audit":
        return audit(args.path, args.configfile, args.verbose, args.fix, args.profile)
    if args.command == "crate":
        return _crate.run(args)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
