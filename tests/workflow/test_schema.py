"""The composed config: every config file validates, bad values stop the run naming the key,
the scale configs set every key, and each study's schema matches its config dataclasses."""

from __future__ import annotations

import copy
import dataclasses
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from noisyrnn.core import settings, study
from noisyrnn.core.cell import ModelConfig
from noisyrnn.studies.replay import nets
from noisyrnn.studies.replay.replay import ReplayConfig
from noisyrnn.studies.replay.selection import ClaimsConfig
from noisyrnn.studies.replay.stats import StatsConfig
from noisyrnn.studies.replay.tasks import DecodeConfig, TaskConfig
from noisyrnn.studies.replay.training import TrainConfig
from support import (
    CONFIG_SETS,
    ROOT,
    SCHEMA_DIR,
    configfile_args,
    load_yaml_config,
    merge,
    output,
    replay_schema,
    snakemake,
)


def validated(cfg: dict) -> dict:
    return settings.validate_config(copy.deepcopy(cfg), SCHEMA_DIR)


@pytest.mark.parametrize("name", study.available())
def test_study_schema_fragments_are_valid(name):
    schema = yaml.safe_load((SCHEMA_DIR / f"{name}.yaml").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("files", CONFIG_SETS, ids=lambda f: "+".join(Path(x).stem for x in f))
def test_configs_validate(files):
    cfg = validated(load_yaml_config(files))
    assert set(cfg["studies"]) <= {"replay", "stm", "hmm"} and cfg["studies"]
    assert cfg["replay"]["stats"]["kde_bandwidth"] == 0.05  # defaults filled in
    # the stm section validates in every scale config, selected or not
    assert cfg["stm"]["analysis"]["psd_radius"] == 3 and cfg["stm"]["scaling"]["level"] == 0.95
    assert cfg["hmm"]["training"]["sinkhorn_blur"] == 0.2 and cfg["hmm"]["analysis"]["kick_k"] == 3


def leaf_paths(d: dict, prefix=()):
    for key, value in d.items():
        if isinstance(value, dict) and value:
            yield from leaf_paths(value, (*prefix, key))
        else:
            yield (*prefix, key)


@pytest.mark.parametrize("name", ["smoke.yaml", "paper.yaml"])
def test_scale_configs_set_every_default_key(name):
    """smoke/paper are merged over config.yaml: a key only config.yaml sets would leak."""
    base = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    other = yaml.safe_load((ROOT / "config" / name).read_text())
    missing = [".".join(p) for p in leaf_paths(base) if p not in set(leaf_paths(other))]
    assert not missing, f"config/{name} must set {missing} (else config.yaml's values leak in)"


SCHEMA = replay_schema()
SECTIONS = {  # dataclass -> (schema node, fields not in that node, extra schema keys)
    TaskConfig: (SCHEMA["$defs"]["task"], {"name"}, set()),
    ModelConfig: (SCHEMA["properties"]["model"], set(), set()),
    TrainConfig: (SCHEMA["properties"]["training"], {"alpha", "mask_k", "modifiers_in_training"},
                  {*nets.SWEEP_KEYS, *nets.PACKING_KEYS}),
    ReplayConfig: (SCHEMA["properties"]["replay"], set(), set()),
    DecodeConfig: (SCHEMA["properties"]["decode"], set(), set()),
    StatsConfig: (SCHEMA["properties"]["stats"], set(), set()),
    ClaimsConfig: (SCHEMA["properties"]["claims"], set(), set()),
}


def test_sweep_and_packing_defaults_match_the_schema():
    props = SCHEMA["properties"]["training"]["properties"]
    for key, default in {**nets.SWEEP_DEFAULTS, **nets.PACKING_DEFAULTS}.items():
        assert props[key]["default"] == default, key


def plain(value):
    return [plain(v) for v in value] if isinstance(value, (list, tuple)) else value


@pytest.mark.parametrize("cls", list(SECTIONS), ids=lambda c: c.__name__)
def test_schema_matches_config_dataclasses(cls):
    node, skipped, extra = SECTIONS[cls]
    props = node["properties"]
    assert node.get("additionalProperties") is False
    fields = {f.name: f for f in dataclasses.fields(cls)}
    missing = sorted(set(fields) - skipped - set(props))
    unknown = sorted(set(props) - set(fields) - extra)
    assert not missing, f"{cls.__name__} fields missing from config/schema/replay.yaml: {missing}"
    assert not unknown, f"config/schema/replay.yaml keys that {cls.__name__} does not have: {unknown}"
    for name, f in fields.items():
        if name in skipped:
            continue
        spec = props[name]
        assert "type" in spec or "enum" in spec, f"{cls.__name__}.{name}: no type/enum in schema"
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        assert "default" in spec, f"{cls.__name__}.{name}: no default in schema"
        got, want = plain(spec["default"]), plain(default)
        assert got == want, f"{cls.__name__}.{name}: schema default {got!r} != {want!r}"
        assert jsonschema.Draft202012Validator(spec).is_valid(want), (name, want)


def replay_patch(**section) -> dict:
    return {"replay": section}


BAD_CONFIGS = [
    ({"frobnicate": 1}, "frobnicate: not a study section"),
    ({"studies": ["replay", "nope"]}, "unknown study 'nope'"),
    ({"studies": []}, "studies: must be a non-empty list"),
    (replay_patch(frobnicate=1), "frobnicate"),
    (replay_patch(task={"tmaze": {"n_trian": 5}}), "n_trian"),
    (replay_patch(task={"maze": {}}), "maze"),
    (replay_patch(model={"n_hidden": 0}), "replay.model.n_hidden"),
    (replay_patch(model={"activation": "sigmoid"}), "replay.model.activation"),
    (replay_patch(training={"mask_mode": "random"}), "replay.training.mask_mode"),
    (replay_patch(training={"alphas": [1.5]}), "replay.training.alphas.0"),
    (replay_patch(replay={"lambda_v": [1.0, 0.0]}), "replay.replay.lambda_v.1"),
    (replay_patch(claims={"alpha": 0.7}), "replay.claims.alpha"),
    (replay_patch(claims={"min_seeds": 1}), "replay.claims.min_seeds"),
    (replay_patch(stats={"wasserstein": "fast"}), "replay.stats.wasserstein"),
    (replay_patch(tasks=["tmaze", "maze"]), "replay.tasks.1"),
    (replay_patch(seeds=[]), "replay.seeds"),
    (replay_patch(seeds=[0, 0]), "replay.seeds"),
    (replay_patch(overrides={"box": {"model": {"n_hiden": 3}}}), "n_hiden"),
    (replay_patch(overrides={"box": {"training": {"alphas": [1.0]}}}), "replay.overrides.box.training"),
    (replay_patch(decode={"method": "argmax"}), "replay.decode.method"),
]


@pytest.mark.parametrize("patch,key", BAD_CONFIGS, ids=[k for _, k in BAD_CONFIGS])
def test_schema_rejects_bad_config(patch, key):
    cfg = merge(load_yaml_config(["config/smoke.yaml"]), patch)
    with pytest.raises(settings.ConfigError) as err:
        validated(cfg)
    assert key in str(err.value), str(err.value)


@pytest.mark.parametrize("patch,key", [BAD_CONFIGS[1], BAD_CONFIGS[4], BAD_CONFIGS[6], BAD_CONFIGS[7]],
                         ids=["unknown-study", "unknown-key", "out-of-range", "bad-enum"])
def test_workflow_stops_on_bad_config_naming_the_key(patch, key, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(patch))
    res = snakemake("-n", *configfile_args(["config/smoke.yaml"]), str(bad), workdir=tmp_path)
    out = output(res)
    assert res.returncode != 0
    assert "invalid config" in out and key in out, out[-3000:]
    assert "Job stats" not in out


def test_overrides_stay_partial():
    cfg = validated(load_yaml_config(["config/smoke.yaml"]))
    assert cfg["replay"]["overrides"]["box"]["training"] == {"iterations": 30}


# Keys whose values must be among another key's: valid for the schema, wrong for the study.
CROSS_KEY_CONFIGS = [
    (replay_patch(claims={"masked_k": 8}), "replay.claims.masked_k", "[1, 4]"),
    (replay_patch(training={"replay_alphas": [0.5]}), "replay.training.replay_alphas", "[0.5]"),
    (replay_patch(claims={"leaky_alpha": 0.5}), "replay.claims.leaky_alpha", "0.5"),
    (replay_patch(claims={"adapt_b_a": 0.7}), "replay.replay.b_a", "claims.adapt_b_a = 0.7"),
    (replay_patch(claims={"momentum_lambda_v": 0.2}), "replay.replay.lambda_v",
     "claims.momentum_lambda_v = 0.2"),
    (replay_patch(replay={"b_a": [0.3, 1.0]}), "replay.replay.b_a", "the baseline 0"),
    (replay_patch(overrides={"box": {"replay": {"lambda_v": [0.5]}}}),
     "replay.overrides.box.replay.lambda_v", "the baseline 1"),
]


@pytest.mark.parametrize("patch,key,shown", CROSS_KEY_CONFIGS, ids=[c[1] for c in CROSS_KEY_CONFIGS])
def test_cross_key_references_are_checked(patch, key, shown):
    cfg = merge(load_yaml_config(["config/smoke.yaml"]), patch)
    with pytest.raises(settings.ConfigError) as err:
        validated(cfg)
    line = next((ln for ln in str(err.value).splitlines() if ln.strip().startswith(f"- {key}:")), None)
    assert line is not None and shown in line, str(err.value)


def test_cross_key_error_names_the_file_that_set_the_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(replay_patch(claims={"masked_k": 8})))
    files = [str(ROOT / "config/config.yaml"), str(ROOT / "config/smoke.yaml"), str(bad)]
    with pytest.raises(settings.ConfigError) as err:
        settings.load_config(files, SCHEMA_DIR)
    line = next(ln for ln in str(err.value).splitlines() if "replay.claims.masked_k" in ln)
    assert line.endswith(f"[{bad}]"), line
    # a key no file sets comes from the schema's default, and says so
    assert settings.key_source("replay.claims.leaky_alpha", files) == "schema default"
    assert settings.key_source("replay.training.mask_k", files) == settings._shown(files[1])


def test_workflow_stops_on_a_dangling_reference_before_planning(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(replay_patch(claims={"masked_k": 8},
                                               training={"replay_alphas": [0.5]})))
    res = snakemake("-n", *configfile_args(["config/smoke.yaml"]), str(bad), workdir=tmp_path)
    out = output(res)
    assert res.returncode != 0 and "Job stats" not in out
    assert "replay.claims.masked_k" in out and "replay.training.replay_alphas" in out, out[-3000:]
    # named as the run sees it: relative to the working directory (--directory tmp_path)
    assert "[bad.yaml]" in out, out[-3000:]


def test_yaml_syntax_error_names_the_file_and_line(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("replay:\n  seeds: [0, 1\n  tasks: [tmaze]\n")
    with pytest.raises(settings.ConfigError) as err:
        settings.read_config_file(bad)
    assert str(err.value).startswith(f"{bad}:3:"), str(err.value)
    # the checker the Makefile runs before Snakemake (whose own message names no file)
    res = subprocess.run([sys.executable, "-m", "noisyrnn.core.settings", "config/config.yaml",
                          str(bad)], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 2 and f"{bad}:3:" in res.stderr, res.stderr
    ok = subprocess.run([sys.executable, "-m", "noisyrnn.core.settings", "config/config.yaml",
                         "config/smoke.yaml"], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr


def test_settings_param_prints_as_a_digest_and_pickles_as_a_dict():
    import pickle

    a = settings.Settings({"model": {"n_hidden": 16}, "seeds": [0, 1]})
    b = settings.Settings({"seeds": [0, 1], "model": {"n_hidden": 16}})
    c = settings.Settings({"model": {"n_hidden": 17}, "seeds": [0, 1]})
    assert repr(a) == repr(b) != repr(c)
    assert len(repr(a)) < 40 and "n_hidden" not in repr(a)
    back = pickle.loads(pickle.dumps(a))
    assert type(back) is dict and back == a
