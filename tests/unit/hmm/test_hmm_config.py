"""The hmm schema fragment: its claims section matches the claims dataclass, every scale
config validates, bad values are refused naming the key, and the cross-key checks hold."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from noisyrnn.core import settings
from noisyrnn.studies.hmm import grid
from noisyrnn.studies.hmm.claims import ClaimsConfig

from support import ROOT

SCHEMA = yaml.safe_load((ROOT / "config/schema/hmm.yaml").read_text())
SMOKE = [ROOT / "config/config.yaml", ROOT / "config/smoke.yaml"]


def test_claims_schema_matches_the_dataclass():
    props = SCHEMA["properties"]["claims"]["properties"]
    fields = {f.name: f.default for f in dataclasses.fields(ClaimsConfig)}
    assert set(props) == set(fields)
    assert {k: v["default"] for k, v in props.items()} == fields


@pytest.mark.parametrize("files", [["config/config.yaml"], ["config/config.yaml", "config/smoke.yaml"],
                                   ["config/config.yaml", "config/paper.yaml"]])
def test_every_scale_validates_with_the_brief_defaults(files):
    cfg = settings.load_config([ROOT / f for f in files], ROOT / "config/schema")["hmm"]
    assert cfg["training"]["sinkhorn_blur"] == 0.2 and cfg["training"]["betas"] == [0.9, 0.9]
    assert cfg["analysis"]["rt_transition"] == 2 and cfg["analysis"]["rt_cluster"] == 8
    assert cfg["analysis"]["ablation"]["critical_im"] == 0.06
    assert cfg["analysis"]["dynamics"]["critical_im"] == 0.05
    for name in cfg["hmms"]:
        assert grid.models(cfg, name)


def test_paper_holds_the_144_model_chain_grid():
    cfg = settings.load_config([ROOT / "config/config.yaml", ROOT / "config/paper.yaml"],
                               ROOT / "config/schema")["hmm"]
    chains = [n for n in cfg["hmms"] if n.startswith("chain")]
    models = sum(len(grid.models(cfg, n)) for n in chains) * cfg["training"]["seeds"]
    assert models == 144
    assert {n: cfg["family"][n]["seq_len"] for n in cfg["hmms"]} == {
        "chain2": 100, "chain3": 30, "chain4": 30, "chain5": 40, "fully": 30, "cyclic": 40}
    assert cfg["family"]["fully"]["epochs"] == 1000 and cfg["family"]["cyclic"]["grad_clip"] == 0.3


@pytest.mark.parametrize("patch,key", [
    ({"hmms": ["chain2", "ring"]}, "hmm.hmms"),
    ({"family": {"chain2": {"seq_len": 1}}}, "hmm.family.chain2.seq_len"),
    ({"training": {"batch_order": "sorted"}}, "hmm.training.batch_order"),
    ({"model": {"first_symbol": "h1"}}, "hmm.model.first_symbol"),
    ({"analysis": {"noise_param": "sd"}}, "hmm.analysis.noise_param"),
    ({"analysis": {"cluster_softmax": 1.5}}, "hmm.analysis.cluster_softmax"),
    ({"hmms": ["chain2", "chain5"]}, "hmm.hmms"),                 # chain5 has no family section
])
def test_bad_hmm_values_are_refused_naming_the_key(patch, key, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"hmm": patch}))
    with pytest.raises(settings.ConfigError, match=key.replace(".", r"\.")):
        settings.load_config([*SMOKE, bad], ROOT / "config/schema")
    assert settings.load_config(SMOKE, ROOT / "config/schema")["hmm"]["training"]["seeds"] == 1


def test_model_ids_round_trip_and_the_reference_falls_back():
    assert grid.parse_model(grid.model_id(150, 100)) == (150, 100)
    with pytest.raises(ValueError, match="h<hidden>"):
        grid.parse_model("150x100")
    cfg = {"family": {"chain2": {"hidden": [50], "input_dim": [10, 1]}},
           "analysis": {"reference": {"hidden": 150, "input_dim": 100}}}
    assert grid.reference_model(cfg, "chain2") == "h50_d10"
    assert grid.models(cfg, "chain2") == ["h50_d10", "h50_d1"]
