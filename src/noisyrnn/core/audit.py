"""Is a result still what the workflow would make now? The answer behind ``noisyrnn audit``.

A figure, netCDF or model file carries its provenance record and the flattened lineage of
every job upstream of it (:mod:`noisyrnn.core.provenance`). Each node of that lineage is checked
against the files and code on disk and the config as it is now:

- inputs: every recorded input still exists with the recorded sha256 (catches an edited,
  replaced or deleted statistics file, model or dataset);
- code: the hash of the package modules the step runs matches the package now;
- config: the step's ``settings`` param, recomputed from the config files the run read
  (:func:`noisyrnn.core.settings.step_settings`, from the study's declaration), equals the
  recorded one; a changed key is named by its path in the config files;
- outputs: every file the step wrote is still there (Snakemake does not remake a missing
  intermediate while the files made from it are up to date, so only the audit sees the gap),
  and a netCDF output still holds the data it was written with (its ``data_sha256``).

A node that fails any check is *stale*, and everything downstream of it is too; the first
failing node is the one to look at. The report ends with the one Snakemake command that
remakes exactly the stale jobs and what depends on them (``--fix`` runs it). Paths in records
are relative to the workflow directory, so audit from there.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import io, settings, study
from .provenance import (file_sha256, git_state, package_hash, read_provenance,
                         sidecar_candidates, to_json)

DEFAULT_PROFILE = "profiles/local"
# problems that forcing the job cannot fix: no rule of the config makes it any more
_GONE = "not in the config any more"


def _depth(rule: str) -> int:
    """Print order, from the result down to the datasets (the step's declared depth)."""
    found = study.step_of(rule)
    return found[0].steps[found[1]].depth if found else 99


@dataclass
class Node:
    """One job of the lineage and what is wrong with it now (nothing: current)."""

    record: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    @property
    def rule(self) -> str:
        return str(self.record.get("rule"))

    @property
    def outputs(self) -> list[str]:
        return [str(p) for p in self.record.get("outputs") or ()]

    @property
    def label(self) -> str:
        wildcards = self.record.get("wildcards") or {}
        wc = " ".join(f"{k}={v}" for k, v in wildcards.items())
        return f"{self.rule} {wc}".strip()


@dataclass
class Audit:
    """The audit of one artefact: its own node first, then its lineage, datasets last."""

    path: str
    nodes: list[Node]
    config_files: list[str] = field(default_factory=list)
    config_note: str = ""
    snakefile: str = ""  # the Snakefile the run used, as recorded
    # why there are no nodes: not found, not a netCDF, sidecar unreadable, no record
    unreadable: str = ""

    @property
    def problems(self) -> list[str]:
        out = [p for node in self.nodes for p in node.problems]
        if not self.nodes:
            out.append(self.unreadable or diagnose(self.path))
        return out

    @property
    def current(self) -> bool:
        return not self.problems


def _load_config(
    files: Sequence[str], schema: str | os.PathLike | None
) -> tuple[dict | None, str]:
    schema = Path(schema) if schema is not None else settings.DEFAULT_SCHEMA_DIR
    if not files:
        return None, ("config not checked: the record names no config files "
                      "(pass --configfile)")
    if not schema.is_dir():
        return None, (f"config not checked: schema folder {schema} not found "
                      "(audit from the workflow directory)")
    return settings.load_config(files, schema), ""


def audit(
    path: str | os.PathLike,
    configfiles: Sequence[str | os.PathLike] | None = None,
    schema: str | os.PathLike | None = None,
) -> Audit:
    """Check ``path`` and every node of its lineage (see the module docstring).

    ``configfiles`` default to those the run recorded (the Snakefile's configfile, then each
    ``--configfile``). Values given with ``snakemake --config`` are not recorded: pass a file.
    """
    rec = read_provenance(path) if Path(path).is_file() else None
    if rec is None:
        return Audit(str(path), [], unreadable=diagnose(path))
    top = {k: v for k, v in rec.items() if k != "lineage"}
    if not top.get("outputs"):
        top["outputs"] = [str(path)]
    lineage = sorted(rec.get("lineage") or (),
                     key=lambda n: (_depth(str(n.get("rule"))), n.get("outputs") or []))
    nodes = [Node(top), *(Node(dict(n)) for n in lineage)]

    source = rec.get("config") or {}
    files = [str(f) for f in (configfiles or source.get("files") or ())]
    if schema is None and source.get("schema"):
        schema = source["schema"]
    result = Audit(str(path), nodes, config_files=files,
                   snakefile=str(source.get("snakefile") or ""))
    try:
        config, result.config_note = _load_config(files, schema)
    except settings.ConfigError as err:
        config = None
        nodes[0].problems.append(f"config {files} cannot be read now: {err}")

    sums: dict[str, str | None] = {}
    code_now: dict[str, str] = {}
    for node in nodes:
        _check_outputs(node)
        _check_inputs(node, sums)
        _check_code(node, code_now)
        if config is not None:
            _check_config(node, config)
    return result


def diagnose(path: str | os.PathLike) -> str:
    """Why ``path`` yields no provenance record: not found, not a netCDF or truncated,
    sidecar unreadable, or simply no record."""
    path = Path(path)
    if not path.exists():
        return f"{path}: not found (check the path; records use paths relative to the workflow directory)"
    if path.is_dir():
        return f"{path}: a directory; audit one result file (a figure, netCDF, model or claims table)"
    for sidecar in sidecar_candidates(path):
        if sidecar.is_file():
            try:
                json.loads(sidecar.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as err:
                return (f"{path}: sidecar {sidecar} unreadable ({type(err).__name__}: {err}); "
                        "delete both and rerun the rule that makes them")
    if path.suffix == ".nc":
        try:
            import netCDF4

            with netCDF4.Dataset(path):
                pass
        except (OSError, ValueError, RuntimeError) as err:
            return (f"{path}: not a netCDF file, or truncated ({type(err).__name__}: {err}); "
                    "delete it and rerun the rule that makes it")
        return f"{path}: a netCDF file without a `provenance` attribute (not written by this workflow)"
    return (f"{path}: no provenance record (no `provenance` attribute and no sidecar "
            f"{' or '.join(str(s) for s in sidecar_candidates(path))})")


def _check_outputs(node: Node) -> None:
    for out in node.outputs:
        if not os.path.exists(out):
            node.problems.append(
                f"{out}: missing; rule {node.label} wrote it (Snakemake does not remake a "
                "missing intermediate while what was made from it is up to date)")
        elif out.endswith(".nc"):
            try:
                ds = io.read_netcdf(out)
            except io.ArtefactError as err:
                node.problems.append(str(err))
            else:
                ds.close()


def _check_inputs(node: Node, sums: dict[str, str | None]) -> None:
    for inp, recorded in sorted((node.record.get("inputs") or {}).items()):
        if inp not in sums:
            sums[inp] = file_sha256(inp) if os.path.isfile(inp) else None
        if sums[inp] is None:
            node.problems.append(f"{inp}: missing; rule {node.label} read it")
        elif sums[inp] != recorded:
            node.problems.append(f"{inp}: changed since rule {node.label} read it "
                                 f"(sha256 {recorded[:12]} then, {sums[inp][:12]} now)")


def _check_code(node: Node, cache: dict[str, str]) -> None:
    code = (node.record.get("params") or {}).get("code")
    if not (isinstance(code, Mapping) and "sha256" in code):
        return
    modules, exact = list(code.get("modules") or []), list(code.get("exact") or [])
    key = to_json([modules, exact])
    if key not in cache:
        cache[key] = package_hash(modules, exact=exact)
    if cache[key] != code["sha256"]:
        node.problems.append(f"rule {node.label}: package code changed since it ran "
                             f"(modules {[*modules, *exact]})")


def _check_config(node: Node, config: Mapping) -> None:
    params = node.record.get("params") or {}
    recorded = params.get("settings")
    found = study.step_of(node.rule)
    if found is None or recorded is None:
        return
    name, step = found[0].name, found[1]
    wildcards = node.record.get("wildcards") or {}
    try:
        now = settings.step_settings(name, step, config, wildcards)
        seed = settings.step_seed(name, step, config, wildcards)
    except (KeyError, TypeError, ValueError) as err:
        node.problems.append(f"rule {node.label}: {_GONE} ({err})")
        return
    # compare as the record stores them (JSON), so tuples/lists and key order never matter
    now = json.loads(to_json(now))
    if now != recorded:
        # each key by its path in the config files (task.tmaze.arm_length, overrides.box....)
        where = found[0].steps[step].config_key
        changes = settings.diff(recorded, now, rename=lambda key: f"{name}." + (
            where(key, config[name], wildcards) if where else key))
        shown = "; ".join(changes[:4]) + (f"; ... {len(changes) - 4} more" if len(changes) > 4 else "")
        node.problems.append(f"rule {node.label}: config changed since it ran ({shown})")
    if seed is not None and params.get("seed") != seed:
        node.problems.append(f"rule {node.label}: seed {params.get('seed')} then, {seed} now")


# ----------------------------------------------------------------------------- report
def _short(value: Any, n: int = 12) -> str:
    return str(value)[:n] if value is not None else "None"


def _params_line(params: Mapping[str, Any], verbose: bool) -> str:
    if verbose:
        return to_json(params)
    parts = []
    for key, value in params.items():
        if value is None:
            continue
        if key == "code" and isinstance(value, Mapping):
            mods = [*(value.get("modules") or []), *(value.get("exact") or [])]
            parts.append(f"code={_short(value.get('sha256'))} ({', '.join(mods)})")
        elif isinstance(value, (Mapping, list)):
            digest = hashlib.sha256(to_json(value).encode()).hexdigest()
            parts.append(f"{key}=<{len(to_json(value))} chars, sha256 {digest[:12]}>")
        else:
            parts.append(f"{key}={value}")
    return ", ".join(parts)


def _node_lines(node: Node, versions: Mapping | None, verbose: bool) -> list[str]:
    r = node.record
    git = r.get("git") or {}
    device = r.get("device") or {}
    status = "current" if not node.problems else f"STALE ({len(node.problems)})"
    lines = [
        f"[{node.label}] {status}",
        f"    outputs   {', '.join(node.outputs)}",
        f"    git       {_short(git.get('commit'))} dirty={git.get('dirty')}"
        f"{' (' + ', '.join(git['changes']) + ')' if git.get('changes') else ''} | "
        f"package {_short(r.get('package_hash'))}",
        f"    params    {_params_line(r.get('params') or {}, verbose)}",
        f"    device    {device.get('type')} ({device.get('name')}) | host {r.get('host')} | "
        f"SLURM job {r.get('slurm_job_id')}",
    ]
    own = r.get("versions") or {}
    if versions is None or verbose:
        lines.append("    versions  " + ", ".join(f"{k} {v}" for k, v in own.items()))
    else:
        changed = {k: v for k, v in own.items() if versions.get(k) != v}
        lines.append("    versions  " + (", ".join(f"{k} {v}" for k, v in changed.items())
                                        if changed else "as above"))
    lines.extend(f"    ! {p}" for p in node.problems)
    return lines


def repair_command(result: Audit, profile: str = DEFAULT_PROFILE) -> list[str] | None:
    """The Snakemake command that remakes the stale jobs of ``result`` and everything made from
    them: the audited file as the target, ``--forcerun`` one output of each stale job (a
    missing intermediate included, which a plain rerun would prune), then the config files
    (last: ``--configfile`` takes every word after it). None when nothing is stale or no
    rule of the config makes the stale files any more."""
    forced = [n.outputs[0] for n in result.nodes
              if n.problems and n.outputs and not any(_GONE in p for p in n.problems)]
    if not forced:
        return None
    cmd = ["snakemake", "--profile", profile]
    if not Path("Snakefile").is_file() and result.snakefile and Path(result.snakefile).is_file():
        # audited from a working directory the run chose with --directory: name the workflow
        workflow_dir = Path(result.snakefile).parent
        if not Path(profile).is_dir() and (workflow_dir / profile).is_dir():
            cmd[2] = str(workflow_dir / profile)
        cmd += ["--snakefile", result.snakefile, "--directory", "."]
    cmd += [result.path, "--forcerun", *dict.fromkeys(forced)]
    if result.config_files:
        cmd += ["--configfile", *result.config_files]
    return cmd


def report(result: Audit, verbose: bool = False, profile: str = DEFAULT_PROFILE) -> str:
    """Human-readable lineage, one block per job, the verdict and the repair command."""
    if not result.nodes:
        return "\n".join([result.path, *(f"  ! {p}" for p in result.problems)])
    top = result.nodes[0]
    head = git_state().get("commit")
    lines = [f"{result.path}", f"  checkout now at {_short(head)}; config now: "
             + (" + ".join(result.config_files) or "(none)")]
    if result.config_note:
        lines.append(f"  {result.config_note}")
    if "created" in top.record:
        lines.append(f"  created {top.record['created']}")
    lines.extend("  " + line for line in _node_lines(top, None, verbose))
    rest = result.nodes[1:]
    lines.append(f"  lineage: {len(rest)} upstream jobs, down to the datasets")
    versions = top.record.get("versions") or {}
    for node in rest:
        lines.extend("  " + line for line in _node_lines(node, versions, verbose))
    stale = [n for n in result.nodes if n.problems]
    if stale:
        lines.append(f"NOT CURRENT: {len(stale)} of {len(result.nodes)} jobs stale, "
                     f"{len(result.problems)} problem(s):")
        lines.extend(f"  - {p}" for p in result.problems)
        cmd = repair_command(result, profile)
        if cmd:
            lines.append("To remake exactly the stale jobs and what depends on them, run "
                         "(or audit again with --fix):")
            lines.append("  " + shlex.join(cmd))
    else:
        lines.append(f"CURRENT: all {len(result.nodes)} jobs match their inputs, code"
                     + (" and config" if not result.config_note else "") + " on disk")
    return "\n".join(lines)
