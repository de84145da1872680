"""`relais pos archive make|verify` on a real register data folder, and kill -9 while archiving.

The command line runs in child processes; so does the writer killed with SIGKILL at the two
moments that matter: while the ZIP is written (nothing under the final name) and once the file is
in place but before its chain row (a whole file, no row: the next run writes it again).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, relais
from tests.test_pos_archives import NOVEMBER, REGISTER, rewrite, stock
from webapp.pos import archive_check, archives, trail_keys, trail_verify
from webapp.services import Services

PASSPHRASE = "archive-tests-passphrase"
NAME = f"relais-register-{REGISTER}-{NOVEMBER}.zip"


@pytest.fixture
def register_folder(services: Services) -> Path:
    """A register's data folder: its key in the vault, two months of signed records."""
    services.vault.create(PASSPHRASE)
    signer = trail_keys.ensure_signer(services.vault)
    stock(services.store, signer)
    return services.data_dir.path


def test_make_then_verify_on_the_command_line(register_folder: Path, tmp_path: Path) -> None:
    made = relais(
        "pos", "archive", "make", "month", "--period", NOVEMBER, "--json",
        data_dir=register_folder, RELAIS_VAULT_PASSPHRASE=PASSPHRASE,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    written = json.loads(made.stdout)
    assert written["ok"] and written["counts"] == {"rows": 5, "tickets": 3}
    path = Path(written["file"])
    assert path == register_folder / "archives" / NAME
    # Checked on "another machine": no data folder there, none made.
    elsewhere = tmp_path / "no-data-here"
    checked = relais("pos", "archive", "verify", str(path), "--json", data_dir=elsewhere)
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["sha256"] == written["sha256"]
    assert not elsewhere.exists()
    text = relais("pos", "archive", "verify", str(path), data_dir=elsewhere, RELAIS_LANG="en")
    assert text.returncode == 0 and str(REGISTER) in text.stdout
    # Tampered: exit 1, the problem named, no traceback.
    rewrite(path, {"public_keys.json": b"{}"})
    broken = relais("pos", "archive", "verify", str(path), "--json", data_dir=elsewhere)
    assert broken.returncode == 1
    assert "public_keys.json" in json.loads(broken.stdout)["problem"]
    assert "Traceback" not in broken.stderr


def test_a_bad_file_or_period_is_refused_without_a_traceback(
    register_folder: Path, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    for args in ((str(junk),), (str(tmp_path / "absent.zip"),)):
        found = relais("pos", "archive", "verify", *args, data_dir=tmp_path / "none")
        assert found.returncode == 1
        assert "Traceback" not in found.stderr and found.stderr.strip()
    bad = relais(
        "pos", "archive", "make", "month", "--period", "2026-13", "--json",
        data_dir=register_folder, RELAIS_VAULT_PASSPHRASE=PASSPHRASE,
    )  # fmt: skip
    assert bad.returncode == 2 and json.loads(bad.stdout)["ok"] is False
    locked = relais("pos", "archive", "make", "month", "--json", data_dir=register_folder)
    assert locked.returncode == 3  # the key is in the vault: nothing written without it
    assert not (register_folder / "archives").exists()


# The writer in a child process, killed with SIGKILL at one moment (argv: folder, key, moment).
KILLED_WRITER = """
import os, signal, sys
from webapp.config import resolve_data_dir
from webapp.pos import archives, trail, trail_keys
from webapp.services import open_services

folder, key, moment = sys.argv[1:4]
services = open_services(resolve_data_dir(folder))
signer = trail_keys.signer_from_text(key)
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
if moment == "writing":
    archives.os.fsync = die  # the ZIP written to its temporary file, not yet synced nor renamed
else:
    archives.trail.append = die  # the file in place, its chain row not yet written
archives.write_archive(services.store, signer, 2, archives.period("month", "2026-11"))
"""


def kill_while_archiving(folder: Path, signer: trail_keys.Signer, moment: str) -> None:
    key = trail_keys.private_text(signer)
    child = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(folder), key, moment],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr


def archive_rows(services: Services) -> int:
    with services.store.read() as db:
        return int(
            db.execute("SELECT count(*) FROM pos_trail WHERE chain = 'archive'").fetchone()[0]
        )


@pytest.mark.parametrize("moment", ["writing", "placed"])
def test_kill_9_while_archiving_leaves_every_chain_valid(services: Services, moment: str) -> None:
    signer = trail_keys.new_signer()
    stock(services.store, signer)
    folder = services.data_dir.path
    kill_while_archiving(folder, signer, moment)
    final = folder / "archives" / NAME
    assert archive_rows(services) == 0
    if moment == "writing":
        assert not final.exists()  # a half file never carries the final name
    else:
        archive_check.verify_archive(final)  # whole, only its row is missing
    keys = {signer.key_id: signer.public_key}
    with services.store.read() as db:
        assert trail_verify.verify_register(db, REGISTER, keys) == []
    # The next run writes it again, and its row.
    written = archives.write_archive(
        services.store, signer, REGISTER, archives.period("month", NOVEMBER)
    )
    assert written.path == final and archive_rows(services) == 1
    assert sorted(path.name for path in final.parent.iterdir()) == [NAME]
    with zipfile.ZipFile(final) as opened:
        assert opened.testzip() is None
    archive_check.verify_archive(final, keys)
