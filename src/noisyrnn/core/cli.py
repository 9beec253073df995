"""Command line: ``noisyrnn audit PATH`` prints a result's lineage and whether it is current;
``noisyrnn crate results/`` exports the run's provenance as a Workflow Run RO-Crate."""

from __future__ import annotations

import argparse
import sys

from . import audit as _audit
from . import crate as _crate


def audit(path: str, configfiles: list[str] | None = None, verbose: bool = False) -> int:
    """Print the lineage; exit status 1 when any node is stale, missing or altered."""
    try:
        result = _audit.audit(path, configfiles)
    except Exception as err:  # an unreadable config or record: say so, exit non-zero
        print(f"{path}: audit failed: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    print(_audit.report(result, verbose=verbose))
    return 0 if result.current else 1


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
    _crate.add_arguments(sub.add_parser(
        "crate", help="export a results tree's provenance as a Workflow Run RO-Crate",
        description=_crate.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter))
    args = parser.parse_args(argv)
    if args.command == "audit":
        return audit(args.path, args.configfile, args.verbose)
    if args.command == "crate":
        return _crate.run(args)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
