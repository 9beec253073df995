"""One function builds the provenance record inside every job.

``record(snakemake)`` returns a plain, JSON-serialisable dict:

=================  =====================================================================
key                value
=================  =====================================================================
``git``            ``{"commit": sha | "unknown", "dirty": bool | "unknown"}`` of the
                   workflow checkout
``rule``           Snakemake rule name (or whatever the caller passes)
``wildcards``      ``{name: value}``
``params``         ``{name: value}``: the seed, the config sections the step reads and
                   the code hash of the modules it uses
``outputs``        output paths of the job (the key lineage nodes are deduplicated by)
``inputs``         ``{path: sha256}`` of every input file
``package_hash``   sha256 over every ``.py`` file of the package (sorted, path-relative)
``versions``       python, torch, numpy, xarray, snakemake
``device``         ``{"type": "cpu" | "cuda" | ..., "name": ...}``
``host``           host name
``slurm_job_id``   ``$SLURM_JOB_ID`` or None
``lineage``        records of every job upstream of the inputs, one node per job, no
                   nesting, deduplicated by output path, sorted
=================  =====================================================================

There is deliberately no wall-clock time in the record: it goes into netCDF attributes, and
identical inputs must give byte-identical files. :func:`sidecar_extra` adds a ``created``
time for the ``.prov.json`` sidecars only.

Where an input's own record is found (:func:`read_provenance`): the ``provenance`` global
attribute of a netCDF file, else the sidecar ``{path}.prov.json`` (models), else
``{dir}/{stem}.prov.json`` (figures: one sidecar for the PDF and the PNG).
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import json
import logging
import os
import platform
import socket
import subprocess
import sys
import traceback
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .io import SIDECAR_SUFFIX, sidecar_extra  # noqa: F401  (sidecar_extra: part of the record API)

# The package root (src/noisyrnn): code hashes and module names are relative to it.
PACKAGE_DIR = Path(__file__).resolve().parent.parent
PACKAGE = PACKAGE_DIR.name
VERSIONED = ("torch", "numpy", "xarray", "snakemake")
SIDECAR_ONLY = ("created",)  # fields of sidecar_extra(), never copied into other records
CONFIGFILES_ENV = "NOISYRNN_CONFIG"  # set by rules/common.smk: config files and schema
_CHUNK = 1 << 20
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


# --------------------------------------------------------------------------- hashing
def file_sha256(path: str | os.PathLike) -> str:
    """sha256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _module_file(name: str, root: Path) -> Path | None:
    """File of package module ``name`` (``"stats"``, ``"sub.mod"``), or None."""
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _package_imports(path: Path, root: Path) -> set[str]:
    """Package modules that ``path`` imports anywhere (top level or inside functions)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError:
        return set()
    module_parts = [p for p in _module_name(path, root).split(".") if p]
    # the package a relative import starts from: the module's parent, or itself for __init__
    package_parts = module_parts if path.name == "__init__.py" else module_parts[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == PACKAGE and len(parts) > 1:
                    found.add(".".join(parts[1:]))
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x / from .x import y
                anchor = package_parts[: len(package_parts) - (node.level - 1)]
                prefix = anchor + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == PACKAGE:
                prefix = node.module.split(".")[1:]
            else:
                continue
            if prefix:
                found.add(".".join(prefix))
            for alias in node.names:  # "from . import tasks" names modules too
                found.add(".".join([*prefix, alias.name]))
    return {name for name in found if _module_file(name, root) is not None}


def module_closure(
    modules: Iterable[str], root: str | os.PathLike | None = None
) -> list[Path]:
    """Files of ``modules`` plus every package module they import, transitively.

    The ``__init__.py`` of every package on the way to a module is included too (Python
    runs them on import).
    """
    root = Path(root) if root is not None else PACKAGE_DIR
    todo = list(modules)
    seen: set[str] = set()
    files: set[Path] = set()
    init = root / "__init__.py"
    if init.is_file():
        files.add(init)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _module_file(name, root)
        if path is None:
            continue
        files.add(path)
        for parent in path.parents:
            if parent == root or root not in parent.parents:
                break
            if (parent / "__init__.py").is_file():
                files.add(parent / "__init__.py")
        todo.extend(_package_imports(path, root) - seen)
    return sorted(files)


def package_hash(
    modules: Iterable[str] | None = None,
    *,
    exact: Iterable[str] = (),
    root: str | os.PathLike | None = None,
) -> str:
    """Content hash (sha256) of package source.

    ``modules=None`` (and no ``exact``): every ``.py`` file under the package, sorted by
    relative path; each file contributes its relative path and its bytes, so a rename counts
    and a bare ``touch`` does not.

    ``modules=[...]``: only those modules and, transitively, the package modules they import
    (:func:`module_closure`). ``exact=[...]``: modules hashed without following their imports
    (the workflow passes ``pipeline`` this way: it is glue that imports every science
    module, so following it would make each step depend on all of them).
    A module that does not exist contributes its name only.
    """
    root = Path(root) if root is not None else PACKAGE_DIR
    exact = list(exact)
    if modules is None and not exact:
        files = sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)
        missing: list[str] = []
    else:
        files = set(module_closure(modules or [], root))
        missing = [m for m in [*(modules or []), *exact] if _module_file(m, root) is None]
        files.update(p for m in exact if (p := _module_file(m, root)) is not None)
        files = sorted(files)
    digest = hashlib.sha256()
    for path in files:
        rel = path.relative_to(root).as_posix()
        digest.update(rel.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for name in sorted(missing):
        digest.update(f"missing:{name}\0".encode())
    return digest.hexdigest()


# --------------------------------------------------------------------------- environment
# Untracked files count as a change only here: what the workflow runs and reads. A stray file
# elsewhere (a .venv symlink, notes) must not mark every record dirty and change its bytes.
CODE_PATHS = ("src", "rules", "workflow", "Snakefile", "config")
_MAX_LISTED = 20


def git_state(path: str | os.PathLike | None = None) -> dict[str, Any]:
    """``{"commit", "dirty", "changes"}`` of the git checkout holding ``path``; "unknown"
    without git. ``changes`` lists (up to 20 of) the tracked files with uncommitted changes and
    the untracked files under :data:`CODE_PATHS`; ``dirty`` is whether there are any."""
    where = Path(path) if path is not None else PACKAGE_DIR
    if where.is_file():
        where = where.parent
    unknown = {"commit": "unknown", "dirty": "unknown", "changes": []}
    if not where.exists():
        return unknown
    try:
        commit = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if commit.returncode != 0:
            return unknown
        top = subprocess.run(["git", "-C", str(where), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, timeout=30).stdout.strip()
        tracked = subprocess.run(
            ["git", "-C", top, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=60)
        untracked = subprocess.run(
            ["git", "-C", top, "ls-files", "--others", "--exclude-standard", "--", *CODE_PATHS],
            capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return unknown
    if tracked.returncode != 0 or untracked.returncode != 0:
        return {**unknown, "commit": commit.stdout.strip()}
    changes = [line[3:] for line in tracked.stdout.splitlines() if line.strip()]
    changes += [f"{line} (untracked)" for line in untracked.stdout.splitlines() if line.strip()]
    return {"commit": commit.stdout.strip(), "dirty": bool(changes),
            "changes": sorted(changes)[:_MAX_LISTED]}


def versions() -> dict[str, str]:
    """Versions of Python and the key packages (from metadata: nothing is imported)."""
    out = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def device_info() -> dict[str, str]:
    """The device this job computes on (see :func:`noisyrnn.core.device.pick_device`)."""
    try:
        from .device import describe_device, pick_device

        return describe_device(pick_device())
    except Exception as err:  # torch missing or a bad NOISYRNN_DEVICE: record, don't fail
        return {"type": "unknown", "name": f"{type(err).__name__}: {err}"}


# --------------------------------------------------------------------------- lineage
def sidecar_candidates(path: str | os.PathLike) -> list[Path]:
    """Where the sidecar of ``path`` may be: ``{path}.prov.json``, and for a figure also
    ``{dir}/{stem}.prov.json`` (shared by its PDF and PNG)."""
    path = Path(path)
    out = [path.with_name(path.name + SIDECAR_SUFFIX)]
    if path.suffix in (".png", ".pdf", ".svg"):
        out.append(path.with_name(path.stem + SIDECAR_SUFFIX))
    return out


def read_provenance(path: str | os.PathLike) -> dict[str, Any] | None:
    """The provenance record stored with ``path``, or None when it has none."""
    path = Path(path)
    candidates = sidecar_candidates(path)
    if path.suffix == ".nc" and path.is_file():
        try:
            import netCDF4

            with netCDF4.Dataset(path) as nc:
                if "provenance" in nc.ncattrs():
                    return json.loads(nc.getncattr("provenance"))
        except (OSError, ValueError, RuntimeError):
            pass
    for candidate in candidates:
        if candidate.is_file():
            try:
                return json.loads(candidate.read_text(encoding="utf-8"))
            except ValueError:
                return None
    return None


def _node_key(node: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(str(p) for p in node.get("outputs") or ()))


def merge_lineage(records: Iterable[tuple[str, Mapping[str, Any] | None]]) -> list[dict]:
    """Flatten the records of some inputs (and their own lineage) into one node list.

    ``records`` yields ``(input path, record or None)``. Each node is a record without its
    ``lineage``; a node whose outputs were already seen is dropped, so a dataset used by
    forty models appears once. Sorted by (first output, rule) for byte-stable output.
    """
    nodes: dict[tuple[str, ...], dict] = {}
    seen_paths: set[str] = set()

    def add(node: Mapping[str, Any], fallback: str | None) -> None:
        # a sidecar's wall-clock fields stay in the sidecar: lineage goes into netCDF attributes
        node = {k: v for k, v in node.items() if k != "lineage" and k not in SIDECAR_ONLY}
        if not node.get("outputs") and fallback is not None:
            node["outputs"] = [fallback]
        key = _node_key(node)
        if not key or key in nodes or any(p in seen_paths for p in key):
            return
        nodes[key] = node
        seen_paths.update(key)

    for path, rec in records:
        if rec is None:
            continue
        add(rec, str(path))
        for upstream in rec.get("lineage") or ():
            add(upstream, None)
    return [nodes[k] for k in sorted(nodes, key=lambda k: (k, nodes[k].get("rule") or ""))]


# --------------------------------------------------------------------------- record
def _jsonable(value: Any) -> Any:
    """Plain JSON types only (Snakemake Namedlists, tuples, paths, numpy scalars...)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        try:
            return _jsonable(value.item())
        except (TypeError, ValueError):
            pass
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def _named(items: Any) -> dict[str, Any]:
    """``{name: value}`` of a Snakemake Namedlist, a mapping, or None."""
    if items is None:
        return {}
    if isinstance(items, Mapping):
        return dict(items)
    if hasattr(items, "items"):
        return dict(items.items())
    return {str(i): v for i, v in enumerate(items)}


def _paths(items: Any) -> list[str]:
    """Flat list of paths from a Namedlist / mapping / list (nested lists flattened)."""
    if items is None:
        return []
    values = items.values() if isinstance(items, Mapping) else items
    out: list[str] = []
    for value in values:
        if isinstance(value, (list, tuple)):
            out.extend(_paths(value))
        else:
            out.append(os.fspath(value))
    # unique, keep order (a Namedlist lists named items in its flat list already)
    return list(dict.fromkeys(out))


def _config_source() -> dict[str, Any] | None:
    """``{"files": [...], "schema": path}``: the config files the workflow read, in order,
    and its schema (set by rules/common.smk; None outside the workflow)."""
    raw = os.environ.get(CONFIGFILES_ENV)
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def record(
    snakemake: Any = None,
    *,
    rule: str | None = None,
    wildcards: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    inputs: Iterable[str | os.PathLike] | Mapping[str, Any] | None = None,
    outputs: Iterable[str | os.PathLike] | None = None,
    repo: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Build the provenance record of the running job.

    Pass the ``snakemake`` object of a script job, or the pieces by keyword (keywords win
    over what the object holds). ``repo`` is any path inside the workflow checkout; it
    defaults to the script's directory, else the package source.
    """
    if snakemake is not None:
        rule = rule if rule is not None else getattr(snakemake, "rule", None)
        wildcards = wildcards if wildcards is not None else _named(snakemake.wildcards)
        params = params if params is not None else _named(snakemake.params)
        inputs = inputs if inputs is not None else snakemake.input
        outputs = outputs if outputs is not None else snakemake.output
        if repo is None:
            repo = getattr(snakemake, "scriptdir", None)
    input_paths = _paths(inputs)
    input_sums = {p: file_sha256(p) for p in input_paths if os.path.isfile(p)}
    prov: dict[str, Any] = {
        "git": git_state(repo),
        "rule": rule,
        "wildcards": _jsonable(_named(wildcards)),
        "params": _jsonable(_named(params)),
        "outputs": _paths(outputs),
        "inputs": input_sums,
        "package_hash": package_hash(),
        "versions": versions(),
        "device": device_info(),
        "host": socket.gethostname(),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        # which config files the workflow read, for the audit to reread
        "config": _config_source(),
        "lineage": merge_lineage((p, read_provenance(p)) for p in input_paths),
    }
    return prov


def to_json(prov: Mapping[str, Any], *, indent: int | None = None) -> str:
    """Canonical JSON of a record: sorted keys, so identical records give identical bytes."""
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(
        _jsonable(prov), sort_keys=True, indent=indent, separators=separators, allow_nan=True
    )



def log_to(path: str | os.PathLike | None, level: int = logging.INFO) -> None:
    """Send logging, warnings, stdout and stderr of this job to its Snakemake log file; an
    uncaught exception is written there and to the original stderr."""
    if not path:
        logging.basicConfig(level=level, format=LOG_FORMAT, force=True)
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    stream = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 (lives as long as the job)
    logging.basicConfig(stream=stream, level=level, format=LOG_FORMAT, force=True)
    logging.captureWarnings(True)
    console = sys.__stderr__
    sys.stdout = sys.stderr = stream

    def excepthook(kind, value, tb):
        text = "".join(traceback.format_exception(kind, value, tb))
        stream.write(text)
        stream.flush()
        if console is not None:
            console.write(f"{text}(log: {path})\n")

    sys.excepthook = excepthook
