"""The atomic writers: file modes follow the umask, and every netCDF carries a digest of its
data that survives a round trip and catches an edit."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from noisyrnn.core import io, provenance


def _mixed() -> xr.Dataset:
    """Every kind the workflow writes: floats with NaN, ints, bools, strings, a coordinate."""
    return xr.Dataset(
        {"x": (("net", "t"), np.array([[0.5, np.nan, -0.0], [1e-300, 2.0, np.inf]])),
         "n": ("net", np.array([3, 4], dtype=np.int64)),
         "ok": ("net", np.array([True, False])),
         "f32": ("t", np.array([1, 2, 3], dtype=np.float32))},
        coords={"net": ["a1_k1_m0", "a0.2_k1_m1"], "t": [0, 1, 2]},
        attrs={"note": "x"})


def _writers(tmp_path: Path) -> dict[str, list[Path]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rec = {"rule": "r", "outputs": []}
    io.write_netcdf(_mixed(), tmp_path / "a.nc", rec, title="a", source="test")
    io.save_model({"w": [1, 2]}, tmp_path / "m.pt", rec)
    fig, _ = plt.subplots()
    io.save_figure(fig, tmp_path / "f.pdf", tmp_path / "f.png", rec)
    plt.close(fig)
    io.write_text_atomic(tmp_path / "t.csv", "a,b\n")
    return {"netcdf": [tmp_path / "a.nc"], "model": [tmp_path / "m.pt", tmp_path / "m.pt.prov.json"],
            "figure": [tmp_path / "f.pdf", tmp_path / "f.png", tmp_path / "f.prov.json"],
            "text": [tmp_path / "t.csv"]}


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_every_writer_gives_the_mode_of_a_plain_open(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        written = _writers(tmp_path)
        plain = tmp_path / "plain"
        plain.write_text("x")  # what the shell or open() would give under this umask
    finally:
        os.umask(old)
    assert stat.S_IMODE(plain.stat().st_mode) == mode
    for kind, paths in written.items():
        for path in paths:
            assert stat.S_IMODE(path.stat().st_mode) == mode, (kind, path, oct(path.stat().st_mode))


def test_data_digest_survives_a_round_trip(tmp_path):
    ds = _mixed()
    path = io.write_netcdf(ds, tmp_path / "d.nc", {"rule": "r"}, title="d", source="test")
    back = io.read_netcdf(path)  # verifies the digest: no error
    assert back.attrs[io.DIGEST_ATTR] == io.data_digest(ds) == io.data_digest(back)
    # a second write of the read-back data gives the same digest and the same bytes
    again = io.write_netcdf(back, tmp_path / "e.nc", {"rule": "r"}, title="d", source="test")
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(path.read_bytes()).digest()


def test_data_digest_sees_values_names_dims_and_kinds():
    ds = _mixed()
    base = io.data_digest(ds)
    changed = [
        ds.assign(x=ds["x"].fillna(0.0)),                   # a NaN filled in
        ds.assign(n=ds["n"] + 1),                             # an int changed
        ds.assign(ok=~ds["ok"]),                              # a flag flipped
        ds.assign_coords(net=["a1_k1_m0", "a0.2_k1_m0"]),     # a label renamed
        ds.rename({"x": "y"}),                                # a variable renamed
        ds.drop_vars("f32"),                                  # a variable dropped
        ds.assign(n=ds["n"].astype(np.int32)),                # the same numbers, another kind
        ds.assign(x=(("t2", "net2"), ds["x"].values.T.copy().T)),  # other dims
    ]
    digests = [io.data_digest(d) for d in changed]
    assert base not in digests and len(set(digests)) == len(digests)
    # attributes are not data: the provenance record is one of them
    assert io.data_digest(ds.assign_attrs(note="y")) == base


def test_an_edited_netcdf_fails_to_read_naming_the_file(tmp_path):
    path = io.write_netcdf(_mixed(), tmp_path / "d.nc", {"rule": "r"}, title="d", source="test")
    ds = xr.load_dataset(path)
    ds["x"][0, 0] = 0.25
    ds.to_netcdf(tmp_path / "edited.nc")  # attributes, the digest among them, copied as is
    with pytest.raises(io.ArtefactError, match=r"edited\.nc: data changed after it was written"):
        io.read_netcdf(tmp_path / "edited.nc")
    # a file written by other tools, with no digest, is read as before
    xr.Dataset({"x": ("i", [1.0])}).to_netcdf(tmp_path / "foreign.nc")
    assert float(io.read_netcdf(tmp_path / "foreign.nc")["x"][0]) == 1.0


def test_read_provenance_of_a_digested_file_is_unchanged(tmp_path):
    rec = {"rule": "r", "outputs": ["d.nc"]}
    path = io.write_netcdf(_mixed(), tmp_path / "d.nc", rec, title="d", source="test")
    assert provenance.read_provenance(path) == rec
