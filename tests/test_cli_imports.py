"""The command line package has no import cycle: every area module imports on its own, in a fresh
interpreter, without the root group and the other areas; common.py imports no area at all."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest

from tests.conftest import REPO
from webapp.cli import main

AREA_MODULES = [
    "admin",
    "backoffice",
    "econnector",
    "econnector_shop",
    "pos",
    "pos_archive",
    "pos_closures",
    "pos_journal",
    "pos_register",
    "pos_trail",
    "scrada",
    "scrada_redeliver",
    "scrada_sources",
    "serve",
    "update",
    "vault",
]
# The sibling modules an area may use: the options of `scrada set` live beside it, and the
# connector group takes its web shop commands from econnector_shop.
SIBLINGS = {
    "scrada": {"webapp.cli.scrada_sources"},
    "econnector": {"webapp.cli.econnector_shop"},
    # The pos group takes the register's legal-trail commands from their own modules.
    "pos": {
        "webapp.cli.pos_archive",
        "webapp.cli.pos_closures",
        "webapp.cli.pos_journal",
        "webapp.cli.pos_trail",
    },
}


def loaded_cli_modules(module: str) -> set[str]:
    """The webapp.cli modules that importing `module` in a new interpreter loads."""
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('webapp.cli'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout))


@pytest.mark.parametrize("name", AREA_MODULES)
def test_an_area_module_imports_alone(name: str) -> None:
    module = f"webapp.cli.{name}"
    loaded = loaded_cli_modules(module)
    assert module in loaded
    assert loaded - {"webapp.cli", "webapp.cli.common", module} == SIBLINGS.get(name, set())


def test_common_imports_no_area() -> None:
    assert loaded_cli_modules("webapp.cli.common") == {"webapp.cli", "webapp.cli.common"}


def test_every_area_module_is_in_the_assembled_tree() -> None:
    """The modules listed above are the ones that define commands of `relais`."""
    defined = {
        command.callback.__module__
        for group in main.commands.values()
        for command in [group, *getattr(group, "commands", {}).values()]
        if command.callback is not None
    }
    assert {f"webapp.cli.{name}" for name in AREA_MODULES} - defined == {
        "webapp.cli.scrada_sources"
    }


def test_the_register_and_redeliver_commands_are_added_explicitly() -> None:
    pos = main.commands["pos"]
    scrada = main.commands["scrada"]
    assert isinstance(pos, click.Group) and isinstance(scrada, click.Group)
    assert {"join", "sync", "sell", "tickets", "users", "outbox", "register", "update"} <= set(
        pos.commands
    )
    update = pos.commands["update"]
    assert isinstance(update, click.Group)
    assert set(update.commands) == {"publish", "confirm", "mode", "received"}
    assert "redeliver" in scrada.commands


def test_the_commands_start_without_the_web_server() -> None:
    """`relais connector receive` and the like start in a fraction of a second: assembling the
    commands loads neither the web framework (~0.2 s) nor the server's templates."""
    code = (
        "import json, sys\n"
        "import webapp.cli.root\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout))
    assert not {"litestar", "uvicorn", "jinja2"} & loaded
    # httpx's own command-line client is not loaded with httpx, nor rich and pygments with it
    # (webapp/__init__.py): a tenth of a second of every start.
    assert "httpx" in loaded
    assert not {"rich", "pygments"} & loaded
