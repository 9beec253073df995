"""Command line: ``rnnreplay audit PATH`` prints a result's lineage and whether it is current."""

from __future__ import annotations

import argparse
import sys

from . import provenance


def audit(path: str) -> int:
    """Print the lineage; exit status 1 when any node is stale, missing or altered."""
    print(provenance.explain(path))
    return 1 if provenance.check(path) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rnnreplay", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("audit", help="lineage of a figure, netCDF or model file, and whether it is current")
    p.add_argument("path")
    args = parser.parse_args(argv)
    if args.command == "audit":
        return audit(args.path)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
