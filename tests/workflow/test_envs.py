"""The conda envs (envs/*.yaml, for --sdm conda) pin exactly what pyproject.toml pins."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from support import ROOT
ENV_FILES = sorted((ROOT / "envs").glob("*.yaml"))
PIN = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(==|=)\s*([^\s;#]+)\s*$")


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for spec in project["dependencies"]:
        m = PIN.match(spec)
        assert m and m.group(2) == "==", f"pyproject dependency {spec!r} is not an exact pin"
        pins[norm(m.group(1))] = m.group(3)
    return pins


def env_pins(path: Path) -> dict[str, str]:
    """{package: version} from the conda and pip sections (python itself excluded)."""
    env = yaml.safe_load(path.read_text())
    pins: dict[str, str] = {}
    for dep in env.get("dependencies", []):
        specs = dep.get("pip", []) if isinstance(dep, dict) else [dep]
        for spec in specs:
            m = PIN.match(str(spec))
            if m and norm(m.group(1)) != "python":
                pins[norm(m.group(1))] = m.group(3)
    return pins


def test_env_files_exist():
    assert ENV_FILES, "no envs/*.yaml"


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda p: p.name)
def test_every_env_pin_matches_pyproject(path):
    expected = pyproject_pins()
    pins = env_pins(path)
    assert pins, f"{path.name} pins nothing"
    unknown = sorted(set(pins) - set(expected))
    assert not unknown, f"{path.name} pins packages pyproject does not: {unknown}"
    wrong = {k: (v, expected[k]) for k, v in pins.items() if v != expected[k]}
    assert not wrong, f"{path.name} pins differ from pyproject (env, pyproject): {wrong}"


def test_main_env_covers_every_dependency():
    pins = env_pins(ROOT / "envs" / "noisyrnn.yaml")
    missing = sorted(set(pyproject_pins()) - set(pins))
    assert not missing, f"envs/noisyrnn.yaml lacks pyproject dependencies {missing}"


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda p: p.name)
def test_env_python_satisfies_requires_python(path):
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minimum = tuple(int(x) for x in re.search(r">=\s*([\d.]+)", requires).group(1).split("."))
    env = yaml.safe_load(path.read_text())
    pythons = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert pythons, f"{path.name} does not pin python"
    version = tuple(int(x) for x in re.search(r"=+\s*([\d.]+)", pythons[0]).group(1).split("."))
    assert version[: len(minimum)] >= minimum, f"{path.name}: python {version} < {requires}"
