"""Provenance records, code hashes, lineage, and the atomic / deterministic writers."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from noisyrnn.core import device, io, provenance

ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def fake_package(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "noisyrnn"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text('"""fake"""\n')
    for name, text in files.items():
        (pkg / name).write_text(text)
    return pkg


def small_dataset(seed: int = 0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    return xr.Dataset(
        {
            "position": (("trial", "time", "space"), rng.normal(size=(4, 5, 2)).astype("f4"),
                         {"units": "m", "long_name": "position", "flag": True}),
            "diverged": (("trial",), np.array([True, False, False, True])),
        },
        coords={"trial": np.arange(4), "space": ["x", "y"],
                "split": ("trial", np.array(["train", "train", "test", "test"]))},
        attrs={"task": "tmaze", "seed": seed, "ok": True, "nothing": None, "d": {"a": 1},
               "lst": [1.0, 2.0], "mixed": [1, "a"]},
    )


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --------------------------------------------------------------------------- hashing
def test_file_sha256(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(b"abc")
    assert provenance.file_sha256(p) == hashlib.sha256(b"abc").hexdigest()


def test_package_hash_content_not_mtime(tmp_path):
    pkg = fake_package(tmp_path, {"a.py": "x = 1\n", "b.py": "y = 2\n"})
    h0 = provenance.package_hash(root=pkg)
    assert h0 == provenance.package_hash(root=pkg)
    assert re.fullmatch(r"[0-9a-f]{64}", h0)
    os.utime(pkg / "a.py", (1, 1))  # a bare touch changes nothing
    assert provenance.package_hash(root=pkg) == h0
    (pkg / "a.py").write_text("x = 2\n")
    h1 = provenance.package_hash(root=pkg)
    assert h1 != h0
    (pkg / "a.py").rename(pkg / "c.py")  # same bytes, other path: counts
    assert provenance.package_hash(root=pkg) != h1
    (pkg / "__pycache__").mkdir()
    (pkg / "__pycache__" / "junk.py").write_text("z")
    assert provenance.package_hash(root=pkg) == provenance.package_hash(root=pkg)


def test_package_hash_follows_imports(tmp_path):
    pkg = fake_package(tmp_path, {
        "base.py": "K = 1\n",
        "mid.py": "from .base import K\n",
        "top.py": "def f():\n    from noisyrnn import mid\n    return mid\n",
        "glue.py": "from . import top, other\n",
        "other.py": "V = 3\n",
        "unrelated.py": "U = 0\n",
    })
    names = {p.name for p in provenance.module_closure(["top"], root=pkg)}
    assert names == {"__init__.py", "top.py", "mid.py", "base.py"}
    glue = {p.name for p in provenance.module_closure(["glue"], root=pkg)}
    assert {"top.py", "other.py", "base.py"} <= glue and "unrelated.py" not in glue

    h_top = provenance.package_hash(["top"], root=pkg)
    (pkg / "unrelated.py").write_text("U = 1\n")
    assert provenance.package_hash(["top"], root=pkg) == h_top
    (pkg / "base.py").write_text("K = 2\n")  # transitive dependency edited
    assert provenance.package_hash(["top"], root=pkg) != h_top

    # exact: the glue module itself, not what it imports
    h_exact = provenance.package_hash([], exact=["glue"], root=pkg)
    (pkg / "other.py").write_text("V = 4\n")
    assert provenance.package_hash([], exact=["glue"], root=pkg) == h_exact
    assert provenance.package_hash(["nope"], root=pkg) != provenance.package_hash(["top"], root=pkg)


def step_hashes(root: Path) -> dict[str, str]:
    """Code hash of every replay step, for the package copy at ``root``."""
    from noisyrnn.core import study

    steps = study.load("replay").steps
    return {name: provenance.package_hash([s.module], root=root) for name, s in steps.items()}


def test_real_package_hash_scopes():
    full = provenance.package_hash()
    assert full == provenance.package_hash()
    closure = {p.relative_to(provenance.PACKAGE_DIR).as_posix()
               for p in provenance.module_closure(["studies.replay.figures"])}
    assert "studies/replay/figures.py" in closure and "core/plotting.py" in closure
    assert "core/training.py" not in closure and "studies/replay/stats.py" not in closure
    assert "studies/__init__.py" in closure  # packages on the way run on import


@pytest.mark.parametrize("edit,changed", [
    # a statistics function and the statistics assembly: never retrains or replays
    (("studies/replay/stats.py", "def mean_step_length(", "def mean_step_length( "),
     {"stats", "gauss_markov"}),
    (("studies/replay/steps/stats.py", "def _stats_dataset(", "def _stats_dataset( "),
     {"stats"}),
    (("studies/replay/figures.py", "def draw(", "def draw( "), {"figure"}),
    (("core/training.py", "def train(", "def train( "), {"train"}),
    (("studies/replay/tasks.py", "def generate(", "def generate( "),
     {"dataset", "train", "replay", "stats"}),
])
def test_an_edit_changes_the_code_hash_of_exactly_the_steps_that_run_it(tmp_path, edit, changed):
    import shutil

    root = tmp_path / "noisyrnn"
    shutil.copytree(provenance.PACKAGE_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    before = step_hashes(root)
    path, old, new = edit
    text = (root / path).read_text()
    assert old in text
    (root / path).write_text(text.replace(old, new, 1))
    after = step_hashes(root)
    assert {s for s in before if before[s] != after[s]} == changed


# --------------------------------------------------------------------------- git
def test_git_state_without_repo(tmp_path):
    assert provenance.git_state(tmp_path) == {"commit": "unknown", "dirty": "unknown",
                                              "changes": []}


def test_git_state_without_git_binary(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on PATH
    assert provenance.git_state(Path(__file__).parent)["commit"] == "unknown"


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_git_state_commit_and_dirty(tmp_path):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    run = lambda *a: subprocess.run(["git", "-C", str(tmp_path), *a], check=True,  # noqa: E731
                                    capture_output=True, env=env)
    run("init", "-q")
    (tmp_path / "f.txt").write_text("1")
    run("add", "f.txt")
    run("commit", "-q", "-m", "c")
    state = provenance.git_state(tmp_path)
    assert re.fullmatch(r"[0-9a-f]{40}", state["commit"]) and state["dirty"] is False
    # stray untracked files outside the code (a .venv symlink, notes) do not count
    (tmp_path / ".venv").symlink_to(tmp_path / "nowhere")
    (tmp_path / "notes.txt").write_text("x")
    assert provenance.git_state(tmp_path)["dirty"] is False
    # an untracked file the workflow would run does, and is named
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "new.py").write_text("x = 1\n")
    state = provenance.git_state(tmp_path)
    assert state["dirty"] is True and state["changes"] == ["src/new.py (untracked)"]
    (tmp_path / "src" / "new.py").unlink()
    (tmp_path / "f.txt").write_text("2")
    state = provenance.git_state(tmp_path / "f.txt")
    assert state["dirty"] is True and state["changes"] == ["f.txt"]


# --------------------------------------------------------------------------- record
def test_record_fields_and_no_wall_clock(tmp_path, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.setenv("NOISYRNN_DEVICE", "cpu")
    inp = tmp_path / "in.txt"
    inp.write_text("data")
    rec = provenance.record(rule="train", wildcards={"task": "tmaze", "seed": "3"},
                            params={"seed": 3, "settings": {"b": [1, 2], "a": (1,)}},
                            inputs=[str(inp)], outputs=[str(tmp_path / "out.nc")])
    assert rec["rule"] == "train"
    assert rec["wildcards"] == {"task": "tmaze", "seed": "3"}
    assert rec["params"]["seed"] == 3 and rec["params"]["settings"]["a"] == [1]
    assert rec["inputs"] == {str(inp): sha(inp)}
    assert rec["outputs"] == [str(tmp_path / "out.nc")]
    assert rec["package_hash"] == provenance.package_hash()
    assert set(rec["versions"]) == {"python", "torch", "numpy", "xarray", "snakemake"}
    assert rec["device"]["type"] == "cpu"
    assert rec["slurm_job_id"] == "4242"
    assert set(rec["git"]) == {"commit", "dirty", "changes"}
    assert rec["host"]
    assert rec["lineage"] == []
    text = provenance.to_json(rec)
    assert "created" not in rec and not ISO_TIME.search(text)
    json.loads(text)
    monkeypatch.delenv("SLURM_JOB_ID")
    assert provenance.record(rule="x")["slurm_job_id"] is None


def test_record_from_snakemake_object(tmp_path):
    from types import SimpleNamespace

    from snakemake.iocontainers import InputFiles, OutputFiles, Params, Wildcards

    a, b = tmp_path / "a.nc", tmp_path / "b.nc"
    a.write_text("A")
    b.write_text("B")
    sm = SimpleNamespace(
        rule="stats",
        input=InputFiles(fromdict={"dataset": str(a), "replays": [str(a), str(b)]}),
        output=OutputFiles(fromdict={"nc": str(tmp_path / "s.nc")}),
        params=Params(fromdict={"seed": 1, "code": {"sha256": "x"}}),
        wildcards=Wildcards(fromdict={"task": "box"}),
        scriptdir=str(Path(__file__).parent),
    )
    rec = provenance.record(sm)
    assert rec["rule"] == "stats" and rec["wildcards"] == {"task": "box"}
    assert rec["params"] == {"seed": 1, "code": {"sha256": "x"}}
    assert rec["inputs"] == {str(a): sha(a), str(b): sha(b)}
    assert rec["outputs"] == [str(tmp_path / "s.nc")]


def test_lineage_merges_and_dedupes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # dataset -> two models (one .pt with sidecar, one history .nc) -> stats -> figure
    ds_prov = provenance.record(rule="dataset", outputs=["d.nc"])
    io.write_netcdf(small_dataset(), "d.nc", ds_prov, title="d", source="test")
    m_prov = provenance.record(rule="train", inputs=["d.nc"],
                               outputs=["m.pt", "m.pt.prov.json", "m.history.nc"])
    io.save_model({"w": [1, 2]}, "m.pt", m_prov)
    io.write_netcdf(small_dataset(1), "m.history.nc", m_prov, title="h", source="test")
    s_prov = provenance.record(rule="stats", inputs=["d.nc", "m.pt", "m.history.nc"],
                               outputs=["s.nc"])
    nodes = {tuple(n["outputs"]): n["rule"] for n in s_prov["lineage"]}
    assert nodes == {("d.nc",): "dataset", ("m.pt", "m.pt.prov.json", "m.history.nc"): "train"}
    assert all("lineage" not in n for n in s_prov["lineage"])  # flat, no nesting
    io.write_netcdf(small_dataset(2), "s.nc", s_prov, title="s", source="test")
    f_prov = provenance.record(rule="figure", inputs=["s.nc"], outputs=["f.pdf", "f.png"])
    rules = sorted(n["rule"] for n in f_prov["lineage"])
    assert rules == ["dataset", "stats", "train"]  # reaches back to the dataset, once each
    # the train node recorded the dataset's checksum
    train = next(n for n in f_prov["lineage"] if n["rule"] == "train")
    assert train["inputs"] == {"d.nc": sha("d.nc")}


def test_read_provenance_sources(tmp_path):
    rec = {"rule": "figure", "outputs": ["f.png"]}
    (tmp_path / "f.prov.json").write_text(json.dumps(rec))
    (tmp_path / "f.png").write_bytes(b"png")
    assert provenance.read_provenance(tmp_path / "f.png") == rec
    (tmp_path / "plain.txt").write_text("x")
    assert provenance.read_provenance(tmp_path / "plain.txt") is None


def test_sidecar_extra_has_time():
    assert ISO_TIME.match(provenance.sidecar_extra()["created"])


# --------------------------------------------------------------------------- netCDF
def test_write_netcdf_attrs_and_roundtrip(tmp_path):
    prov = {"rule": "dataset", "params": {"seed": 0}, "flag": True, "none": None}
    path = io.write_netcdf(small_dataset(), tmp_path / "sub" / "d.nc", prov,
                           title="T", source="S")
    ds = io.read_netcdf(path, required_dims=["trial", "time", "space"],
                        required_vars=["position", "diverged"])
    assert ds.attrs["title"] == "T" and ds.attrs["source"] == "S"
    assert ds.attrs["Conventions"] == "CF-1.8"
    assert not ISO_TIME.search(ds.attrs["history"])
    assert json.loads(ds.attrs["provenance"]) == prov
    assert io.provenance_of(ds) == prov
    assert ds.attrs["ok"] == 1 and ds.attrs["nothing"] == "none"
    assert json.loads(ds.attrs["d"]) == {"a": 1}
    assert ds["diverged"].dtype == bool
    assert ds["position"].attrs["units"] == "m"
    assert list(ds["split"].values) == ["train", "train", "test", "test"]


def test_write_netcdf_byte_identical(tmp_path):
    prov = provenance.record(rule="dataset", params={"seed": 0}, outputs=["x"])
    io.write_netcdf(small_dataset(), tmp_path / "a.nc", prov, title="T", source="S")
    time.sleep(1.1)  # HDF5 must not embed a modification time
    io.write_netcdf(small_dataset(), tmp_path / "b.nc", prov, title="T", source="S")
    assert sha(tmp_path / "a.nc") == sha(tmp_path / "b.nc")


def test_write_netcdf_atomic(tmp_path):
    path = tmp_path / "d.nc"
    io.write_netcdf(small_dataset(), path, {"rule": "x"}, title="T", source="S")
    before = sha(path)
    bad = small_dataset().assign(bad=("trial", np.array([object(), 1, "a", None], dtype=object)))
    with pytest.raises(Exception):
        io.write_netcdf(bad, path, {"rule": "y"}, title="T", source="S")
    assert sha(path) == before  # the old file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.nc"]  # no temp file left


def test_read_netcdf_errors_name_the_file(tmp_path):
    path = tmp_path / "d.nc"
    io.write_netcdf(small_dataset(), path, {}, title="T", source="S")
    with pytest.raises(io.ArtefactError, match=r"d\.nc.*missing dims \['seed'\]"):
        io.read_netcdf(path, required_dims=["seed"])
    with pytest.raises(io.ArtefactError, match=r"variables \['nope'\]"):
        io.read_netcdf(path, required_vars=["nope"])
    trunc = tmp_path / "t.nc"
    trunc.write_bytes(path.read_bytes()[:200])
    with pytest.raises(io.ArtefactError, match=r"t\.nc.*truncated or corrupt"):
        io.read_netcdf(trunc)
    with pytest.raises(io.ArtefactError, match=r"gone\.nc.*no such file"):
        io.read_netcdf(tmp_path / "gone.nc")


# --------------------------------------------------------------------------- models, figures
def test_save_model_with_sidecar(tmp_path):
    import torch

    path = tmp_path / "m" / "seed0.pt"
    blob = {"state_dict": {"w": torch.ones(2)}, "model_config": {"n_hidden": 4}, "task": "box"}
    io.save_model(blob, path, {"rule": "train", "outputs": [str(path)]})
    side = json.loads((tmp_path / "m" / "seed0.pt.prov.json").read_text())
    assert side["rule"] == "train" and ISO_TIME.match(side["created"])
    back = io.load_model_blob(path)
    assert back["task"] == "box" and torch.equal(back["state_dict"]["w"], torch.ones(2))
    path.write_bytes(b"not a zip")
    with pytest.raises(io.ArtefactError, match=r"(?s)seed0\.pt.*corrupt"):
        io.load_model_blob(path)


def test_save_figure_metadata_and_sidecar(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    prov = {"rule": "figure", "git": {"commit": "abc"},
            "lineage": [{"rule": "stats", "outputs": ["results/stats/tmaze.nc"]}]}
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    side = io.save_figure(fig, tmp_path / "f.pdf", tmp_path / "f.png", prov)
    first_pdf = (tmp_path / "f.pdf").read_bytes()
    io.save_figure(fig, tmp_path / "f.pdf", tmp_path / "f.png", prov)
    plt.close(fig)
    assert side == tmp_path / "f.prov.json"
    meta = json.loads(Image.open(tmp_path / "f.png").text["provenance"])
    assert meta["rule"] == "figure" and meta["lineage_outputs"] == ["results/stats/tmaze.nc"]
    pdf = (tmp_path / "f.pdf").read_bytes()
    assert b"Keywords" in pdf and b"f.prov.json" in pdf
    assert pdf == first_pdf  # no creation date: same figure, same bytes
    full = json.loads(side.read_text())
    assert full["lineage"] == prov["lineage"] and "created" in full
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.pdf", "f.png", "f.prov.json"]


# --------------------------------------------------------------------------- device
def test_pick_device(monkeypatch):
    import torch

    monkeypatch.delenv("NOISYRNN_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert device.pick_device().type == expected
    monkeypatch.setenv("NOISYRNN_DEVICE", "cpu")
    assert device.pick_device().type == "cpu"
    assert device.pick_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            device.pick_device("cuda")
    assert device.describe_device("cpu")["type"] == "cpu"


def test_cli_audit_exit_code_names_the_changed_input(tmp_path, monkeypatch, capsys):
    from noisyrnn.core import cli

    monkeypatch.chdir(tmp_path)
    Path("in.txt").write_text("1")
    rec = provenance.record(rule="stats", inputs=["in.txt"], outputs=["o.nc"], params={"seed": 3})
    io.write_netcdf(small_dataset(), "o.nc", rec, title="o", source="test")
    assert cli.main(["audit", "o.nc"]) == 0
    assert "current" in capsys.readouterr().out
    Path("in.txt").write_text("2")
    assert cli.main(["audit", "o.nc"]) == 1
    assert "in.txt: changed" in capsys.readouterr().out


def test_save_model_bytes_do_not_depend_on_the_file_name(tmp_path):
    import torch

    blob = {"state_dict": {"w": torch.arange(6.0).reshape(2, 3)}, "task": "tmaze"}
    a = io.save_model(blob, tmp_path / "a" / "seed0.pt", {"rule": "train"})
    b = io.save_model(blob, tmp_path / "b" / "other.pt", {"rule": "train"})
    assert a.read_bytes() == b.read_bytes()  # downstream records hash these bytes
    assert torch.equal(io.load_model_blob(b)["state_dict"]["w"], blob["state_dict"]["w"])


def test_lineage_leaves_sidecar_timestamps_out(tmp_path, monkeypatch):
    """A model's sidecar carries its creation time; records downstream (netCDF attributes)
    must not, or identical runs would not give byte-identical files."""
    import torch

    monkeypatch.chdir(tmp_path)
    prov = provenance.record(rule="train", outputs=["m.pt"])
    io.save_model({"w": torch.ones(1)}, "m.pt", prov)
    assert "created" in json.loads(Path("m.pt.prov.json").read_text())
    down = provenance.record(rule="replay", inputs=["m.pt"], outputs=["r.nc"])
    (node,) = down["lineage"]
    assert node["rule"] == "train" and "created" not in node
