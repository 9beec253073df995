"""Atomic writers and checked readers for every artefact, provenance attached.

* :func:`write_netcdf` / :func:`read_netcdf`: netCDF-4 through xarray. CF global attributes
  (``title``, ``source``, ``history``, ``Conventions``), the provenance record as a JSON string
  attribute ``provenance``, attributes made netCDF-safe (bool -> 0/1, None -> "none", dict and
  nested lists -> JSON). No wall-clock time anywhere, so identical inputs give identical bytes.
  The attribute ``data_sha256`` (:func:`data_digest`) is a digest of the data variables and
  coordinates as written; :func:`read_netcdf` recomputes it, so an edit made after the write
  (a value changed, a variable dropped) is caught by whoever reads the file next.
* :func:`save_model` / :func:`load_model_blob`: ``torch.save`` blob plus the sidecar
  ``{path}.prov.json`` (provenance and a ``created`` time).
* :func:`save_figure`: PDF and PNG with the provenance summary in their metadata, and one
  sidecar ``{dir}/{png stem}.prov.json`` holding the full record with the merged lineage.

Every writer writes to a temporary file in the target directory and ``os.replace``\\ s it, so a
killed job never leaves a half-written file under the final name.
"""

from __future__ import annotations

import contextlib
import hashlib
import io as _stdio
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

SIDECAR_SUFFIX = ".prov.json"
CONVENTIONS = "CF-1.8"
NC_ENGINE = "netcdf4"
NC_FORMAT = "NETCDF4"
DIGEST_ATTR = "data_sha256"


class ArtefactError(OSError):
    """An input file is missing, truncated, corrupt, or lacks required contents."""


# --------------------------------------------------------------------------- helpers
def _json(obj: Any, indent: int | None = None) -> str:
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(obj, sort_keys=True, indent=indent, separators=separators, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    if hasattr(value, "tolist") and callable(value.tolist):
        return value.tolist()
    return str(value)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically,
    on error it is removed. ``suffix`` defaults to the target's (format inference).

    The file gets the mode a plain ``open`` would give (0666 less the umask): mkstemp makes
    it 0600, which would hide results from the user's group on a shared cluster."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=suffix if suffix is not None else path.suffix + ".tmp",
        dir=path.parent,
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def sidecar_path(path: str | os.PathLike) -> Path:
    """Sidecar of a model file: ``{path}.prov.json``."""
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def figure_sidecar_path(png: str | os.PathLike) -> Path:
    """Sidecar of a figure (shared by its PDF and PNG): ``{dir}/{png stem}.prov.json``."""
    png = Path(png)
    return png.with_name(png.stem + SIDECAR_SUFFIX)


def sidecar_extra() -> dict[str, str]:
    """Fields that go into ``.prov.json`` sidecars only (never into netCDF attributes, so
    identical inputs give byte-identical files): the creation time."""
    return {"created": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def _write_sidecar(path: Path, prov: Mapping[str, Any]) -> None:
    write_text_atomic(path, _json({**prov, **sidecar_extra()}, indent=1) + "\n")


# --------------------------------------------------------------------------- netCDF
def netcdf_safe(value: Any) -> Any:
    """An attribute value netCDF can store: str, number, or a flat list of either."""
    if value is None:
        return "none"
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (str, bytes, int, float, np.integer, np.floating)):
        return value
    if isinstance(value, Mapping):
        return _json(value)
    if isinstance(value, np.ndarray):
        if value.dtype == bool:
            return value.astype(np.int8)
        if value.dtype.kind in "iuf" and value.ndim <= 1:
            return value
        return _json(value.tolist())
    if isinstance(value, (list, tuple)):
        items = list(value)
        if not items:
            return ""
        if all(isinstance(v, (bool, np.bool_)) for v in items):
            return [int(v) for v in items]
        if all(isinstance(v, str) for v in items):
            return items if len(items) > 1 else items[0]
        if all(
            isinstance(v, (int, float, np.integer, np.floating))
            and not isinstance(v, (bool, np.bool_))
            for v in items
        ):
            return np.asarray(items)
        return _json(items)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def _safe_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): netcdf_safe(v) for k, v in attrs.items()}


def _digest_bytes(values: np.ndarray) -> bytes:
    """Bytes of an array as it reads back: netCDF decoding gives strings as objects, bools as
    bools and every NaN as the one quiet NaN, so hash those forms, not the in-memory dtype."""
    values = np.asarray(values)
    if values.dtype.kind in "OUS":
        return _json([str(v) for v in values.ravel().tolist()]).encode()
    if values.dtype.kind == "b":
        return np.ascontiguousarray(values, dtype=np.uint8).tobytes()
    if values.dtype.kind in "fc":
        values = np.where(np.isnan(values), np.nan, values)
    return np.ascontiguousarray(values).tobytes()


def data_digest(ds) -> str:
    """sha256 over every data variable and coordinate: its name, dims, shape, kind and values.

    Attributes are left out (the provenance record is one, and it is written after this);
    the digest of a file read back equals the digest of the dataset that was written."""
    h = hashlib.sha256()
    for name in sorted(map(str, ds.variables)):
        var = ds.variables[name]
        kind = "s" if var.dtype.kind in "OUS" else var.dtype.str.lstrip("<>=|")
        h.update(_json([name, list(map(str, var.dims)), list(var.shape), kind]).encode())
        h.update(_digest_bytes(var.values))
    return h.hexdigest()


def write_netcdf(
    ds,
    path: str | os.PathLike,
    prov: Mapping[str, Any],
    *,
    title: str,
    source: str,
    compress: bool = True,
) -> Path:
    """Write ``ds`` to ``path`` atomically with CF attributes and the provenance record.

    The record must hold no wall-clock time (``provenance.record`` holds none): identical
    data and record give byte-identical files. Numeric variables are zlib-compressed
    (level 4, deterministic) unless ``compress=False``.
    """
    path = Path(path)
    ds = ds.copy(deep=False)
    rule = prov.get("rule") if isinstance(prov, Mapping) else None
    ds.attrs = _safe_attrs(
        {
            **ds.attrs,
            "title": title,
            "source": source,
            "history": f"written by noisyrnn.core.io.write_netcdf in Snakemake rule {rule or 'none'}"
            f" from {source}; provenance attribute holds the full record",
            "Conventions": CONVENTIONS,
            "provenance": _json(prov),
            DIGEST_ATTR: data_digest(ds),
        }
    )
    encoding: dict[str, dict[str, Any]] = {}
    for name, var in ds.variables.items():
        var.attrs = _safe_attrs(var.attrs)
        if var.dtype == bool:  # xarray's bool encoding: int8 plus a dtype attribute
            continue
        if compress and var.dtype.kind in "iuf" and var.ndim > 0 and name in ds.data_vars:
            if not any(k in var.encoding for k in ("zlib", "compression")):
                encoding[str(name)] = {"zlib": True, "complevel": 4}
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine=NC_ENGINE, format=NC_FORMAT, encoding=encoding)
    return path


def read_netcdf(
    path: str | os.PathLike,
    required_dims: Iterable[str] | None = None,
    required_vars: Iterable[str] | None = None,
):
    """Load a netCDF file fully into memory (the file is closed on return).

    Raises :class:`ArtefactError` naming the file when it is missing, truncated or corrupt,
    was edited after it was written (its ``data_sha256`` no longer matches its data), or lacks
    one of ``required_dims`` / ``required_vars``.
    """
    import xarray as xr

    path = Path(path)
    if not path.is_file():
        raise ArtefactError(f"{path}: no such file (run the rule that makes it)")
    try:
        with xr.open_dataset(path, engine=NC_ENGINE) as handle:
            ds = handle.load()
    except Exception as err:  # netCDF4/HDF5 raise OSError, RuntimeError, ValueError, KeyError
        raise ArtefactError(
            f"{path}: cannot read as netCDF ({type(err).__name__}: {err}); the file is truncated"
            " or corrupt. Delete it and rerun the rule that makes it."
        ) from err
    problem = digest_problem(ds)
    if problem:
        raise ArtefactError(f"{path}: {problem}. Delete it and rerun the rule that makes it.")
    missing_dims = [d for d in required_dims or () if d not in ds.dims]
    missing_vars = [v for v in required_vars or () if v not in ds.variables]
    if missing_dims or missing_vars:
        raise ArtefactError(
            f"{path}: missing dims {missing_dims} / variables {missing_vars}; it has dims "
            f"{sorted(map(str, ds.dims))} and variables {sorted(map(str, ds.data_vars))}"
        )
    return ds


def digest_problem(ds) -> str | None:
    """Why ``ds`` (read from a file) is not what was written, or None: no recorded digest
    (files written before digests were recorded) counts as nothing to check."""
    recorded = ds.attrs.get(DIGEST_ATTR)
    if not recorded:
        return None
    now = data_digest(ds)
    if now == recorded:
        return None
    return (f"data changed after it was written ({DIGEST_ATTR} {str(recorded)[:12]} recorded, "
            f"{now[:12]} now: a value was edited or a variable added or dropped)")


def provenance_of(ds_or_path) -> dict[str, Any] | None:
    """The provenance record of an open dataset or a netCDF path."""
    if isinstance(ds_or_path, (str, os.PathLike)):
        ds_or_path = read_netcdf(ds_or_path)
    text = ds_or_path.attrs.get("provenance")
    return json.loads(text) if text else None


# --------------------------------------------------------------------------- models
def save_model(obj: Any, path: str | os.PathLike, prov: Mapping[str, Any]) -> Path:
    """``torch.save(obj)`` atomically, then the sidecar ``{path}.prov.json``."""
    import torch

    path = Path(path)
    # torch.save names the zip archive's root after the file it writes to; saving into a buffer
    # gives a fixed name, so a model's bytes (and the sha256 downstream records) do not depend
    # on the random temporary file name.
    buffer = _stdio.BytesIO()
    torch.save(obj, buffer)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())
    _write_sidecar(sidecar_path(path), prov)
    return path


def load_model_blob(path: str | os.PathLike, map_location: Any = "cpu", weights_only: bool = True):
    """``torch.load`` a model blob; :class:`ArtefactError` naming the file if unreadable."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise ArtefactError(f"{path}: no such file (run the rule that makes it)")
    try:
        return torch.load(path, map_location=map_location, weights_only=weights_only)
    except Exception as err:
        raise ArtefactError(
            f"{path}: cannot load model ({type(err).__name__}: {err}); the file is truncated"
            " or corrupt. Delete it and rerun the rule that makes it."
        ) from err


# --------------------------------------------------------------------------- figures
def _summary(prov: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in prov.items() if k != "lineage"}
    out["lineage_outputs"] = sorted(
        p for node in prov.get("lineage") or () for p in node.get("outputs") or ()
    )
    return out


def save_figure(
    fig,
    pdf: str | os.PathLike,
    png: str | os.PathLike,
    prov: Mapping[str, Any],
    *,
    dpi: int = 200,
    **savefig_kw: Any,
) -> Path:
    """Save ``fig`` as PDF and PNG (atomically) with provenance; return the sidecar path.

    The PNG gets a text chunk ``provenance`` and the PDF its ``Keywords`` with the record
    minus its lineage (``lineage_outputs`` lists the upstream files instead); the PDF
    ``Subject`` names the sidecar. The sidecar ``{dir}/{png stem}.prov.json`` holds the full
    record, lineage included, plus a ``created`` time. No creation date goes into the PDF,
    so a redraw from the same statistics gives the same bytes.
    """
    pdf, png = Path(pdf), Path(png)
    sidecar = figure_sidecar_path(png)
    short = _json(_summary(prov))
    commit = (prov.get("git") or {}).get("commit", "unknown")
    pdf_meta = {
        "Title": pdf.stem,
        "Subject": f"noisyrnn figure; git {commit}; full provenance in {sidecar.name}",
        "Keywords": short,
        "Creator": "noisyrnn",
        "CreationDate": None,
    }
    with atomic_path(pdf) as tmp:
        fig.savefig(tmp, format="pdf", metadata=pdf_meta, **savefig_kw)
    with atomic_path(png) as tmp:
        fig.savefig(
            tmp,
            format="png",
            dpi=dpi,
            metadata={"Title": png.stem, "Software": "noisyrnn", "provenance": short},
            **savefig_kw,
        )
    _write_sidecar(sidecar, prov)
    return sidecar
