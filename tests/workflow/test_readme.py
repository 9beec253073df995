"""The README's command lines work as written.

Every `snakemake ...` and `make ...` command of the README (fenced bash blocks and inline code)
is parsed the way its program would parse it: Snakemake's own argument parser (so a
``--configfile`` that swallows the target is caught: the target would be read as a config file),
and the Makefile's targets and variables. Config files, profiles and targets must exist.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from support import REPLAY_FIGURES, ROOT

README = ROOT / "README.md"
PREFIXES = ("/usr/bin/time -v ", "time ")
RULES = {"all", *REPLAY_FIGURES}
# Placeholders the README uses in prose; a command holding one is a template, not a command.
PLACEHOLDERS = ("PATH", "<", "...")


def _commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    found: list[str] = []
    for block in re.findall(r"```(?:bash|sh)\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            found.append(line.split("  #")[0].split(" # ")[0].strip())
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    found += [" ".join(span.split()) for span in re.findall(r"(?<!`)`([^`]+)`(?!`)", prose)]
    commands = []
    for cmd in found:
        for prefix in PREFIXES:
            cmd = cmd.removeprefix(prefix)
        if cmd.startswith(("snakemake ", "make ")) and not any(p in cmd for p in PLACEHOLDERS):
            commands.append(cmd)
    return sorted(set(commands))


COMMANDS = _commands()
SNAKEMAKE_COMMANDS = [c for c in COMMANDS if c.startswith("snakemake ")]
MAKE_COMMANDS = [c for c in COMMANDS if c.startswith("make ")]


def test_the_readme_has_commands_to_check():
    # the extraction itself: the quick-start commands are among them
    assert "make figures CONFIG=config/smoke.yaml" in MAKE_COMMANDS
    assert any("--configfile=config/paper.yaml" in c for c in SNAKEMAKE_COMMANDS)
    assert len(SNAKEMAKE_COMMANDS) >= 5 and len(MAKE_COMMANDS) >= 8


def _is_target(arg: str) -> bool:
    return arg in RULES or arg.startswith("results/")


@pytest.mark.parametrize("cmd", SNAKEMAKE_COMMANDS)
def test_snakemake_command_parses_as_meant(cmd):
    from snakemake.cli import get_argument_parser

    argv = shlex.split(cmd)[1:]
    if argv == ["--config"]:  # the option named in prose, not a command
        return
    args = get_argument_parser().parse_args(argv)
    for f in args.configfile or ():
        assert str(f).endswith((".yaml", ".yml")) and (ROOT / f).is_file(), (
            f"{cmd!r}: --configfile takes {f!r} (a target swallowed by --configfile? "
            "write --configfile=FILE or put the target first)")
    for profile in args.profile or ():
        assert (ROOT / profile / "config.yaml").is_file(), f"{cmd!r}: no profile {profile}"
    for target in args.targets or ():
        assert _is_target(target), f"{cmd!r}: {target!r} is not a rule or a results path"
        if target.startswith("results/"):
            assert any(target.endswith(s) for s in (".png", ".pdf", ".csv", ".md", ".nc", ".html")), target


def _makefile() -> tuple[set[str], set[str]]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    phony = set(re.search(r"^\.PHONY:(.*)$", text, flags=re.M).group(1).split())
    variables = set(re.findall(r"^([A-Z_]+) \?=", text, flags=re.M)) | set(re.findall(r"\$\(([A-Z_]+)\)", text))
    return phony, variables


@pytest.mark.parametrize("cmd", MAKE_COMMANDS)
def test_make_command_names_a_target_and_known_variables(cmd):
    phony, variables = _makefile()
    words = shlex.split(cmd)[1:]
    targets = [w for w in words if "=" not in w]
    assert targets and all(t in phony for t in targets), f"{cmd!r}: targets {targets}, Makefile has {sorted(phony)}"
    for assignment in (w for w in words if "=" in w):
        name, value = assignment.split("=", 1)
        assert name in variables, f"{cmd!r}: the Makefile reads no variable {name}"
        if name == "CONFIG":
            assert (ROOT / value).is_file(), f"{cmd!r}: no config {value}"
        if name == "PROFILE":
            assert (ROOT / value / "config.yaml").is_file(), f"{cmd!r}: no profile {value}"
        if name == "TARGET":
            assert _is_target(value), f"{cmd!r}: {value!r} is not a rule or a results path"
