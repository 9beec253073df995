"""The stm schema fragment: its claims section matches the claims dataclass both ways, every
family in the scale configs validates, and bad values are refused naming the key."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from noisyrnn.core import settings
from noisyrnn.studies.stm.claims import ClaimsConfig

from support import ROOT

SCHEMA = yaml.safe_load((ROOT / "config/schema/stm.yaml").read_text())


def test_claims_schema_matches_the_dataclass():
    props = SCHEMA["properties"]["claims"]["properties"]
    fields = {f.name: f.default for f in dataclasses.fields(ClaimsConfig)}
    assert set(props) == set(fields)
    assert {k: v["default"] for k, v in props.items()} == fields


@pytest.mark.parametrize("patch,key", [
    ({"copies_per_class": 0}, "stm.copies_per_class"),
    ({"family": {"nopost": {"seeds": 0}}}, "stm.family.nopost.seeds"),
    ({"family": {"nopost": {"lr_logspace": [-1, -2]}}}, "stm.family.nopost.lr_logspace"),
    ({"analysis": {"index_threshold": 1.5}}, "stm.analysis.index_threshold"),
    ({"families": ["nopost", "rank2"]}, "stm.families"),
    ({"model": {"bias_init": "xavier"}}, "stm.model.bias_init"),
])
def test_bad_stm_values_are_refused_naming_the_key(patch, key, tmp_path):
    cfg = settings.load_config([ROOT / "config/config.yaml", ROOT / "config/smoke.yaml"],
                               ROOT / "config/schema")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"stm": patch}))
    with pytest.raises(settings.ConfigError, match=key.replace(".", r"\.")):
        settings.load_config([ROOT / "config/config.yaml", ROOT / "config/smoke.yaml", bad],
                             ROOT / "config/schema")
    assert cfg["stm"]["family"]["nopost"]["seeds"] == 2  # the good config still loads
