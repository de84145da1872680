"""The shape of webapp/pos/: modules of one concern, under 400 lines, and no import cycle on the
register side (each checked in a fresh interpreter, so that nothing imported earlier hides one)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

POS = REPO / "webapp" / "pos"

# What each register-side module may not pull in, directly or through another module.
MUST_NOT_IMPORT = {
    "webapp.pos.register_config": {"webapp.pos.register", "webapp.pos.synchroniser"},
    "webapp.pos.mirror": {"webapp.pos.register", "webapp.pos.synchroniser"},
    "webapp.pos.package_import": {"webapp.pos.register", "webapp.pos.synchroniser"},
    "webapp.pos.outbox": {"webapp.pos.register", "webapp.pos.synchroniser"},
    "webapp.pos.updates_register": {"webapp.pos.register", "webapp.pos.synchroniser"},
    "webapp.pos.selling": {"webapp.pos.register", "webapp.pos.synchroniser"},
    "webapp.pos.synchroniser": {"webapp.pos.register"},
    "webapp.http_retry": {"webapp.pos.register_client", "webapp.scrada.client"},
}


def imported_by(module: str) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        "print(json.dumps(sorted(name for name in sys.modules if name.startswith('webapp'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


@pytest.mark.parametrize("module", sorted(MUST_NOT_IMPORT))
def test_register_side_modules_import_no_cycle(module: str) -> None:
    assert not imported_by(module) & MUST_NOT_IMPORT[module]


@pytest.mark.parametrize("path", sorted(POS.glob("*.py")), ids=lambda path: Path(path).name)
def test_pos_modules_stay_under_400_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 400
