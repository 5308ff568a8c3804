"""Every command and option of the CLI is documented in the README (as sqlite-utils'
test_docs.py checks its own), and the architecture picture names every module."""

from __future__ import annotations

import click
import pytest

from indexer.cli import main

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> dict[str, click.Command]:
    ctx = click.Context(main)
    return {name: main.get_command(ctx, name) for name in main.list_commands(ctx)}


def test_the_cli_has_the_commands_the_readme_lists():
    assert set(_commands()) == {"index", "search", "show", "stats", "forget", "serve"}


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_command_is_in_the_readme(name):
    assert f"vnsearch {name}" in README, f"`vnsearch {name}` is not in README.md"


@pytest.mark.parametrize("name,option", sorted(
    (name, opt) for name, command in _commands().items() for param in command.params
    if isinstance(param, click.Option) for opt in param.opts if opt.startswith("--")))
def test_every_option_is_in_the_readme(name, option):
    assert option in README, f"{option} of `vnsearch {name}` is not in README.md"


def test_the_architecture_picture_is_current():
    """docs/architecture.dot (what docs/architecture.py draws) lists every module of the package."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("architecture", ROOT / "docs" / "architecture.py")
    architecture = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(architecture)
    assert architecture.dot_source() + "\n" == (ROOT / "docs" / "architecture.dot").read_text(encoding="utf-8")


def test_no_module_is_over_450_lines():
    """Issue 20's rule: one job per module, none over 450 lines."""
    long = {str(p.relative_to(ROOT)): n for folder in ("indexer", "search_web") for p in (ROOT / folder).rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450}
    assert long == {}
