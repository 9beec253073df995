"""Export the provenance of a results tree as a Workflow Run RO-Crate.

``python -m noisyrnn.core.crate results [-o DIR]`` writes ``ro-crate-metadata.json`` (Process Run
Crate 0.5, Workflow Run Crate 0.5, Workflow RO-Crate 1.0 on RO-Crate 1.1) and copies nothing:

* The crate root is ``results_dir``, or ``out_dir`` when given. Every file is a ``File`` entity
  whose ``@id`` is its path relative to the crate root (so the Snakefile and config files of the
  checkout are ``../Snakefile``, ``../config/...``); ``alternateName`` is the path as the rules
  used it, relative to ``workflow_dir``. ``sha256`` is read from disk, else from the records.
* Every job (the records stored with the files and their lineage, deduplicated by outputs as
  :func:`provenance.merge_lineage` does) is a ``CreateAction``: instrument its rule (a
  ``SoftwareApplication`` that is part of the workflow), object its input and config files and
  one ``PropertyValue`` per param (seed, settings, code...), result its outputs, and the job's
  rule, wildcards, git state, package hash, versions, device, host and SLURM job id as
  ``additionalProperty``. One more action, instrument the Snakefile (the main entity), stands for
  the workflow run: object the config files and the inputs no job made, result everything else.
* No time but the records' ``created`` (else the newest file's mtime) and sorted entities: two
  exports of the same results are byte-identical.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import warnings
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from . import provenance
from .io import write_text_atomic

METADATA = "ro-crate-metadata.json"
SUFFIXES = (".nc", ".pt", ".png", ".pdf", ".csv", ".md")
FORMATS = {
    ".nc": "application/x-netcdf", ".png": "image/png", ".pdf": "application/pdf",
    ".csv": "text/csv", ".md": "text/markdown", ".json": "application/json",
    ".yaml": "application/yaml", ".yml": "application/yaml", ".tsv": "text/tab-separated-values",
    ".txt": "text/plain", ".log": "text/plain", "": "text/plain",
}
CONTEXT = ["https://w3id.org/ro/crate/1.1/context",
           "https://w3id.org/ro/terms/workflow-run/context"]
WORKFLOW_RO_CRATE = "https://w3id.org/workflowhub/workflow-ro-crate/1.0"
PROFILES = {
    "https://w3id.org/ro/wfrun/process/0.5": ("Process Run Crate", "0.5"),
    "https://w3id.org/ro/wfrun/workflow/0.5": ("Workflow Run Crate", "0.5"),
    WORKFLOW_RO_CRATE: ("Workflow RO-Crate", "1.0"),
}
SNAKEMAKE = {
    "@id": "https://w3id.org/workflowhub/workflow-ro-crate#snakemake", "@type": "ComputerLanguage",
    "name": "Snakemake", "identifier": {"@id": "https://doi.org/10.1093/bioinformatics/bts480"},
    "url": {"@id": "https://snakemake.readthedocs.io"},
}
RUN_ID = "#workflow-run"
ENVIRONMENT = ("package_hash", "versions", "device", "host", "slurm_job_id")


def _refs(ids) -> list[dict[str, str]]:
    return [{"@id": i} for i in ids]


def _ids(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value] if value else []
    return [item["@id"] if isinstance(item, Mapping) else str(item) for item in items]


def _types(entity: Mapping[str, Any]) -> list[str]:
    return _ids(entity.get("@type"))


def _value(value: Any) -> str | int | float | bool:
    ok = isinstance(value, (str, int, bool)) or isinstance(value, float) and math.isfinite(value)
    return value if ok else json.dumps(value, sort_keys=True, default=str)


class _Graph:
    """Entities by ``@id``; file paths are relative to ``base`` (the workflow directory)."""

    def __init__(self, root: Path, base: Path):
        self.root, self.base, self.entities = root, base, {}
        self.files: set[str] = set()

    def file(self, path: str | os.PathLike, sha256: Any = None) -> str:
        full = Path(os.path.normpath(self.base / path))
        fid = quote(Path(os.path.relpath(full, self.root)).as_posix())
        entity = self.entities.get(fid)
        if entity is None:
            entity = self.entities[fid] = {
                "@id": fid, "@type": "File", "name": full.name,
                "alternateName": Path(os.path.relpath(full, self.base)).as_posix(),
                "encodingFormat": FORMATS.get(full.suffix, "application/octet-stream"),
            }
            if full.is_file():
                entity["sha256"] = provenance.file_sha256(full)
                entity["contentSize"] = str(full.stat().st_size)
            self.files.add(fid)
        if isinstance(sha256, str) and "sha256" not in entity:
            entity["sha256"] = sha256
        return fid

    def configs(self, config: Any) -> list[str]:
        if not isinstance(config, Mapping):
            return []
        schema = [config["schema"]] if config.get("schema") else []
        return [self.file(p) for p in [*(config.get("files") or ()), *schema]]

    def values(self, owner: str, kind: str, values: Mapping[str, Any]) -> list[str]:
        ids = []
        for name, value in sorted(values.items()):
            vid = f"{owner}/{kind}/{quote(str(name))}"
            self.entities[vid] = {"@id": vid, "@type": "PropertyValue", "name": str(name),
                                  "value": _value(value)}
            ids.append(vid)
        return ids


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _job(graph: _Graph, job: Mapping[str, Any], created: Mapping[str, str]) -> dict[str, Any]:
    """The CreateAction of one job record (its entities added to ``graph``)."""
    rule, wildcards = str(job.get("rule") or "unknown"), _mapping(job.get("wildcards"))
    outputs = sorted({graph.file(p) for p in job.get("outputs") or ()})
    inputs = sorted({graph.file(p, sha) for p, sha in _mapping(job.get("inputs")).items()})
    configs = graph.configs(job.get("config"))
    aid = f"#job-{quote(rule)}-{hashlib.sha256(json.dumps(outputs).encode()).hexdigest()[:12]}"
    git = _mapping(job.get("git"))
    env = {"rule": rule, "wildcards": wildcards, "git_commit": git.get("commit"),
           "git_dirty": git.get("dirty"), **{k: job.get(k) for k in ENVIRONMENT}}
    params = graph.values(aid, "param", _mapping(job.get("params")))
    label = ", ".join(f"{k}={v}" for k, v in sorted(wildcards.items()))
    action = graph.entities[aid] = {
        "@id": aid, "@type": "CreateAction", "name": f"{rule} ({label})" if label else rule,
        "description": f"Snakemake job of rule {rule}",
        "instrument": {"@id": f"#rule-{quote(rule)}"},
        "object": _refs([*inputs, *configs, *params]), "result": _refs(outputs),
        "additionalProperty": _refs(
            graph.values(aid, "env", {k: v for k, v in env.items() if v is not None})),
    }
    if ends := sorted(created[o] for o in map(str, job.get("outputs") or ()) if o in created):
        action["endTime"] = ends[-1]
    return action


def _read(path: Path) -> dict[str, Any] | None:
    """The record stored with ``path``; None (with a warning when one exists but is unusable)."""
    try:
        rec = provenance.read_provenance(path)
    except Exception as err:  # a corrupt file or a reader error: include the file, say why
        rec, why = None, f"{type(err).__name__}: {err}"
    else:
        sidecars = [path.with_name(path.name + provenance.SIDECAR_SUFFIX)]
        if path.suffix in (".png", ".pdf", ".svg"):
            sidecars.append(path.with_name(path.stem + provenance.SIDECAR_SUFFIX))
        why = None
        if rec is None and any(s.is_file() for s in sidecars):
            why = "its sidecar is not valid JSON"
        elif rec is not None and not (
            isinstance(rec, dict) and isinstance(rec.get("lineage") or [], list)
            and all(isinstance(n, dict) for n in rec.get("lineage") or ())
        ):
            rec, why = None, "not a provenance record"
    if why:
        warnings.warn(f"{path}: provenance record unreadable ({why}); included without lineage",
                      stacklevel=3)
    return rec


def build_crate(
    results_dir: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    *,
    workflow_dir: str | os.PathLike = ".",
    snakefile: str | os.PathLike = "Snakefile",
) -> Path:
    """Write ``ro-crate-metadata.json`` for ``results_dir`` into ``out_dir`` (default: into
    ``results_dir``, the crate root) and return its path. Paths in records are relative to
    ``workflow_dir``, ``snakefile`` too."""
    results = Path(results_dir)
    if not results.is_dir():
        raise FileNotFoundError(f"{results}: no such results directory")
    base = Path(os.path.abspath(workflow_dir))
    root = Path(os.path.abspath(out_dir if out_dir is not None else results))
    graph = _Graph(root, base)
    found = sorted(p for p in results.rglob("*")
                   if p.suffix in SUFFIXES and not p.name.startswith(".") and p.is_file())
    scanned, records = [], []
    for path in found:
        rel = os.path.relpath(os.path.abspath(path), base)
        scanned.append(graph.file(rel))
        if (rec := _read(path)) is not None:
            records.append((rel, rec))
    created = {str(out): rec["created"] for _, rec in records
               if isinstance(rec.get("created"), str) for out in rec.get("outputs") or ()}

    workflow = graph.file(snakefile)
    nodes = provenance.merge_lineage(records)
    jobs = [_job(graph, node, created) for node in nodes]
    rules = sorted({str(node.get("rule") or "unknown") for node in nodes})
    for rule in rules:
        graph.entities[f"#rule-{quote(rule)}"] = {
            "@id": f"#rule-{quote(rule)}", "@type": "SoftwareApplication", "name": rule,
            "description": f"Snakemake rule {rule}", "isPartOf": {"@id": workflow}}
    git = [_mapping(node.get("git")) for node in nodes]
    commits = " ".join(sorted({str(g.get("commit", "unknown")) for g in git})) or "unknown"
    dirty = " ".join(sorted({str(g.get("dirty", "unknown")) for g in git})) or "unknown"
    graph.entities[workflow].update({
        "@type": ["File", "SoftwareSourceCode", "ComputationalWorkflow"],
        "name": f"Snakemake workflow {Path(snakefile).as_posix()}",
        "programmingLanguage": {"@id": SNAKEMAKE["@id"]}, "version": commits,
        "hasPart": _refs(f"#rule-{quote(r)}" for r in rules),
        "additionalProperty": _refs(graph.values("#workflow", "git", {"dirty": dirty})),
    })
    times = sorted(created.values())
    mtimes = [p.stat().st_mtime for p in found] or [results.stat().st_mtime]
    date = times[-1] if times else datetime.fromtimestamp(max(mtimes), timezone.utc).isoformat(
        timespec="seconds")
    made = {i for a in jobs for i in _ids(a["result"])}
    used = {i for a in jobs for i in _ids(a["object"]) if i in graph.files}
    configs = {i for node in nodes for i in graph.configs(node.get("config"))}
    external = sorted((used - made - set(scanned)) | configs)
    graph.entities[RUN_ID] = {
        "@id": RUN_ID, "@type": "CreateAction",
        "name": f"Snakemake run of {Path(snakefile).as_posix()}",
        "instrument": {"@id": workflow}, "object": _refs(external),
        "result": _refs(sorted((made | set(scanned)) - set(external))),
        **({"endTime": times[-1]} if times else {}),
    }
    actions = sorted(k for k, e in graph.entities.items() if "CreateAction" in _types(e))
    head = [
        {"@id": METADATA, "@type": "CreativeWork", "about": {"@id": "./"},
         "conformsTo": _refs(["https://w3id.org/ro/crate/1.1", WORKFLOW_RO_CRATE])},
        {"@id": "./", "@type": "Dataset", "name": f"Workflow run crate of {results.name}",
         "description": f"Provenance of {len(scanned)} result files made by {len(actions) - 1} "
                        "Snakemake jobs, exported from their provenance records",
         "datePublished": date, "conformsTo": _refs(PROFILES), "mainEntity": {"@id": workflow},
         "hasPart": _refs(sorted(graph.files)), "mentions": _refs(actions)},
    ]
    extra = [SNAKEMAKE, *({"@id": k, "@type": "CreativeWork", "name": n, "version": v}
                          for k, (n, v) in PROFILES.items())]
    body = sorted([*graph.entities.values(), *extra], key=lambda e: e["@id"])
    text = json.dumps({"@context": CONTEXT, "@graph": head + body}, indent=2, sort_keys=True,
                      ensure_ascii=False)
    root.mkdir(parents=True, exist_ok=True)
    write_text_atomic(root / METADATA, text + "\n")
    return root / METADATA


def lineage(crate_metadata: Mapping[str, Any], path: str) -> list[dict[str, Any]]:
    """The job actions upstream of file ``path`` (an ``@id``): the one whose result it is, then,
    breadth first, those that made its objects (each once)."""
    graph = {e["@id"]: e for e in crate_metadata["@graph"]}
    root = graph[graph[METADATA]["about"]["@id"]]
    main = _ids(root.get("mainEntity"))
    producer: dict[str, dict[str, Any]] = {}
    for entity in crate_metadata["@graph"]:
        if "CreateAction" in _types(entity) and _ids(entity.get("instrument")) != main:
            for result in _ids(entity.get("result")):
                producer.setdefault(result, entity)
    out, seen, todo = [], set(), [path]
    while todo:
        action = producer.get(todo.pop(0))
        if action is not None and action["@id"] not in seen:
            seen.add(action["@id"])
            out.append(action)
            todo.extend(_ids(action.get("object")))
    return out


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("results_dir", help="results directory (the crate root by default)")
    parser.add_argument("-o", "--out-dir", default=None,
                        help="write ro-crate-metadata.json here instead (the crate root)")
    parser.add_argument("--workflow-dir", default=".",
                        help="directory the records' paths are relative to (default: .)")
    parser.add_argument("--snakefile", default="Snakefile",
                        help="the workflow's Snakefile, relative to --workflow-dir")
    return parser


def run(args: argparse.Namespace) -> int:
    try:
        path = build_crate(args.results_dir, args.out_dir, workflow_dir=args.workflow_dir,
                           snakefile=args.snakefile)
    except FileNotFoundError as err:
        print(f"crate: {err}", file=sys.stderr)
        return 2
    entities = json.loads(path.read_text(encoding="utf-8"))["@graph"]
    files = sum("File" in _types(e) for e in entities)
    actions = sum("CreateAction" in _types(e) for e in entities)
    print(f"wrote {path}: {files} files, {actions} actions "
          f"({actions - 1} jobs and the workflow run)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m noisyrnn.core.crate",
                                     description=__doc__.splitlines()[0])
    return run(add_arguments(parser).parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
