"""Workflow Run RO-Crate export: a fake results tree with real records, exported and read back."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402
from rocrate.rocrate import ROCrate  # noqa: E402

from noisyrnn.core import crate, io, provenance  # noqa: E402

DATASET = "results/datasets/toy.nc"
MODEL = "results/models/toy/seed2.pt"
STATS = "results/stats/toy.nc"
PDF, PNG = "results/figures/toy.pdf", "results/figures/toy.png"
CONFIG = {"files": ["config/config.yaml"], "schema": "config/schema.yaml"}


def tiny(seed: int) -> xr.Dataset:
    return xr.Dataset({"x": (("t",), np.random.default_rng(seed).normal(size=5))})


def job(tmp_path, rule, seed, inputs, outputs, wildcards):
    return provenance.record(rule=rule, wildcards=wildcards, inputs=inputs, outputs=outputs,
                             params={"seed": seed, "settings": {"n": seed}, "code": f"c{seed}"},
                             repo=tmp_path)


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(provenance.CONFIGFILES_ENV, json.dumps(CONFIG))
    Path("config").mkdir()
    Path("config/config.yaml").write_text("seed: 1\n")
    Path("config/schema.yaml").write_text("type: object\n")
    Path("Snakefile").write_text('include: "rules/train.smk"\n')
    io.write_netcdf(tiny(1), DATASET, job(tmp_path, "dataset", 1, [], [DATASET], {"task": "toy"}),
                    title="dataset", source="test")
    train = job(tmp_path, "train", 2, [DATASET], [MODEL, MODEL + ".prov.json"],
                {"task": "toy", "seed": 2})
    io.save_model({"w": [1, 2]}, MODEL, train)
    io.write_netcdf(tiny(3), STATS, job(tmp_path, "stats", 3, [MODEL], [STATS], {"task": "toy"}),
                    title="stats", source="test")
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    io.save_figure(fig, PDF, PNG, job(tmp_path, "figure", 4, [STATS], [PDF, PNG], {"task": "toy"}))
    plt.close(fig)
    Path("results/claims.md").write_text("| claim | holds |\n")
    return Path("results")


def by_id(meta):
    return {e["@id"]: e for e in meta["@graph"]}


def values(graph, action, key):
    """``{name: value}`` of the PropertyValues an action lists under ``key``."""
    return {graph[r["@id"]]["name"]: graph[r["@id"]]["value"] for r in action[key]
            if graph[r["@id"]]["@type"] == "PropertyValue"}


def files(graph, action, key):
    return [r["@id"] for r in action[key] if graph[r["@id"]]["@type"] != "PropertyValue"]


def test_crate_holds_lineage_hashes_and_profiles(results):
    path = crate.build_crate(results)
    assert path == results.resolve() / "ro-crate-metadata.json"
    meta = json.loads(path.read_text())
    graph = by_id(meta)
    root = graph["./"]

    png = graph["figures/toy.png"]
    assert png["sha256"] == provenance.file_sha256(PNG)
    assert png["encodingFormat"] == "image/png"
    assert png["contentSize"] == str(Path(PNG).stat().st_size)
    assert graph["claims.md"]["encodingFormat"] == "text/markdown"  # no record: a plain file
    parts = {r["@id"] for r in root["hasPart"]}
    assert {"figures/toy.png", "claims.md", "../config/config.yaml", "../Snakefile"} <= parts

    chain = crate.lineage(meta, "figures/toy.png")
    rules = [graph[a["instrument"]["@id"]]["name"] for a in chain]
    assert rules == ["figure", "stats", "train", "dataset"]
    assert [values(graph, a, "object")["seed"] for a in chain] == [4, 3, 2, 1]
    assert [values(graph, a, "additionalProperty")["rule"] for a in chain] == rules
    configs = ["../config/config.yaml", "../config/schema.yaml"]
    assert [files(graph, a, "object") for a in chain] == [
        ["stats/toy.nc", *configs], ["models/toy/seed2.pt", *configs],
        ["datasets/toy.nc", *configs], configs]
    assert files(graph, chain[2], "result") == ["models/toy/seed2.pt",
                                                "models/toy/seed2.pt.prov.json"]
    assert chain[0]["name"] == "figure (task=toy)"
    assert json.loads(values(graph, chain[0], "object")["settings"]) == {"n": 4}
    assert "endTime" in chain[0] and "endTime" not in chain[1]  # sidecars hold a time, netCDF not

    workflow = graph[root["mainEntity"]["@id"]]
    assert workflow["@id"] == "../Snakefile"
    assert workflow["@type"] == ["File", "SoftwareSourceCode", "ComputationalWorkflow"]
    assert graph[workflow["programmingLanguage"]["@id"]]["name"] == "Snakemake"
    assert workflow["version"] == provenance.git_state(results)["commit"]
    run = graph[crate.RUN_ID]
    assert run["instrument"]["@id"] == workflow["@id"] and files(graph, run, "object") == configs

    actions = [e for e in meta["@graph"] if e["@type"] == "CreateAction"]
    assert len(actions) == 5
    assert {r["@id"] for r in root["mentions"]} == {a["@id"] for a in actions}
    for action in actions:
        for ref in action["object"] + action["result"]:
            assert ref["@id"] in graph
            entity = graph[ref["@id"]]
            if "File" in entity["@type"]:
                assert len(entity["sha256"]) == 64
    profiles = {r["@id"] for r in root["conformsTo"]}
    assert {"https://w3id.org/ro/wfrun/workflow/0.5", "https://w3id.org/ro/wfrun/process/0.5",
            "https://w3id.org/workflowhub/workflow-ro-crate/1.0"} <= profiles
    assert all(p in graph for p in profiles)
    assert not any(p.name.endswith(".tmp") for p in results.rglob("*"))

    loaded = ROCrate(results)
    assert loaded.mainEntity.id == "../Snakefile"
    assert loaded.get("figures/toy.png")["sha256"] == png["sha256"]
    assert loaded.get(chain[0]["@id"]).type == "CreateAction"


def test_export_is_byte_identical_and_out_dir_moves_the_root(results, tmp_path):
    first = crate.build_crate(results).read_bytes()
    assert crate.build_crate(results).read_bytes() == first
    other = crate.build_crate(results, tmp_path / "crate")
    meta = json.loads(other.read_text())
    assert other.parent == tmp_path / "crate" and not (tmp_path / "crate" / "figures").exists()
    assert [a["result"][0]["@id"] for a in crate.lineage(meta, "../results/stats/toy.nc")] == [
        "../results/stats/toy.nc", "../results/models/toy/seed2.pt", "../results/datasets/toy.nc"]


def test_unreadable_record_warns_and_keeps_the_file(results):
    Path(MODEL + ".prov.json").write_text("{not json")
    with pytest.warns(UserWarning, match="seed2.pt: provenance record unreadable"):
        meta = json.loads(crate.build_crate(results).read_text())
    graph = by_id(meta)
    assert graph["models/toy/seed2.pt"]["sha256"] == provenance.file_sha256(MODEL)
    # the stats record still names the training job in its lineage
    assert [graph[a["instrument"]["@id"]]["name"] for a in crate.lineage(meta, "stats/toy.nc")] \
        == ["stats", "train", "dataset"]


def test_missing_results_dir_and_cli(results, tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        crate.build_crate(tmp_path / "nowhere")
    assert crate.main(["nowhere"]) == 2 and "nowhere" in capsys.readouterr().err
    assert crate.main([str(results), "-o", "out"]) == 0
    out = capsys.readouterr().out
    assert "out/ro-crate-metadata.json" in out and "5 actions" in out
