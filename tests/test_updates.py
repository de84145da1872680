"""Automatic updates (PLT-10) against a local feed served by a real HTTP server: good, unsigned,
tampered and downgrade packages; install at the next start; roll back when the new one does not start.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.bundle_helpers import (
    EXE,
    Program,
    build_all,
    copy_onedir,
    frozen_env,
    run,
)
from tests.conftest import REPO, Client, relais
from webapp import __version__, buildinfo, updates
from webapp.updates import swap

ARCH = buildinfo.platform_id().rsplit("-", 1)[0]  # e.g. linux-x86_64


@dataclass
class Feed:
    folder: Path
    url: str  # the manifest's address
    key: Ed25519PrivateKey

    @property
    def key_env(self) -> str:
        return updates.public_key_text(self.key)

    def publish(
        self,
        version: str,
        packages: dict[str, Path],
        *,
        key: Ed25519PrivateKey | None = None,
        signed: bool = True,
        tamper_package: bool = False,
    ) -> None:
        entries = {}
        for platform, package in packages.items():
            target = self.folder / f"relais-{version}-{platform}.zip"
            if package != target:
                shutil.copyfile(package, target)
            data = target.read_bytes()
            entries[platform] = {
                "url": target.name,
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
            }
            if tamper_package:  # changed after the manifest was signed, same size
                middle = len(data) // 2
                target.write_bytes(
                    data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]
                )
        manifest = updates.manifest_bytes(version, entries, notes=f"Version {version}")
        (self.folder / "manifest.json").write_bytes(manifest)
        signature = self.folder / "manifest.json.sig"
        signature.unlink(missing_ok=True)
        if signed:
            signature.write_bytes(updates.sign(key or self.key, manifest))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def feed(tmp_path: Path) -> Iterator[Feed]:
    folder = tmp_path / "feed"
    folder.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/stable/manifest.json"
        (folder / "stable").mkdir()
        yield Feed(folder / "stable", url, Ed25519PrivateKey.generate())
    finally:
        httpd.shutdown()
        httpd.server_close()


def zip_of(folder: Path, tmp_path: Path, name: str) -> Path:
    """A package holding a program laid out as ``folder``."""
    target = tmp_path / f"{name}.zip"
    kind = "onedir" if (folder / "_internal").is_dir() else "onefile"
    updates.make_package(kind, folder if kind == "onedir" else folder / EXE, target)
    return target


# -- the feed, verified in process -----------------------------------------------------------


def test_check_accepts_only_a_newer_version_signed_by_a_trusted_key(
    feed: Feed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "package.zip"
    package.write_bytes(b"PK not really")
    platform = f"{ARCH}-onedir"
    monkeypatch.setenv(updates.KEYS_ENV, feed.key_env)

    def check() -> updates.Offer | None:
        return updates.check(feed.url, current="1.2.0", platform=platform)

    feed.publish("1.3.0", {platform: package})
    offer = check()
    assert offer is not None and offer.version == "1.3.0"
    assert offer.package.url == feed.url.rsplit("/", 1)[0] + f"/relais-1.3.0-{platform}.zip"

    feed.publish("1.2.0", {platform: package})
    assert check() is None  # up to date

    feed.publish("1.1.9", {platform: package})
    with pytest.raises(updates.UpdateRefused, match="older"):
        check()

    feed.publish("1.3.0", {platform: package}, signed=False)
    with pytest.raises(updates.UpdateRefused, match="not signed"):
        check()

    feed.publish("1.3.0", {platform: package}, key=Ed25519PrivateKey.generate())
    with pytest.raises(updates.UpdateRefused, match="signature is not valid"):
        check()

    feed.publish("1.3.0", {platform: package})
    manifest = feed.folder / "manifest.json"
    manifest.write_bytes(manifest.read_bytes().replace(b'"1.3.0"', b'"9.9.9"'))
    with pytest.raises(updates.UpdateRefused, match="signature is not valid"):
        check()

    feed.publish("1.3.0", {"plan9-mips-onedir": package})
    with pytest.raises(updates.UpdateError, match="no package for this computer"):
        check()

    monkeypatch.delenv(updates.KEYS_ENV)  # only the release key: the test key is not trusted
    feed.publish("1.3.0", {platform: package})
    with pytest.raises(updates.UpdateRefused, match="signature is not valid"):
        check()


def test_a_tampered_package_is_refused_and_nothing_is_staged(
    feed: Feed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(updates.KEYS_ENV, feed.key_env)
    package = tmp_path / "package.zip"
    package.write_bytes(bytes(range(256)) * 100)
    platform = f"{ARCH}-onedir"
    feed.publish("1.3.0", {platform: package}, tamper_package=True)
    offer = updates.check(feed.url, current="1.2.0", platform=platform)
    assert offer is not None
    with pytest.raises(updates.UpdateRefused, match="does not match the signed manifest"):
        updates.download(offer, tmp_path / "program")
    assert not (tmp_path / "program" / updates.UPDATE_DIR_NAME / "staged").exists()

    feed.publish("1.3.0", {platform: package})
    offer = updates.check(feed.url, current="1.2.0", platform=platform)
    assert offer is not None
    staged = updates.download(offer, tmp_path / "program")
    assert json.loads((staged / "staged.json").read_text())["version"] == "1.3.0"
    assert (staged / "package.zip").read_bytes() == package.read_bytes()


def test_settings_and_source_runs(tmp_path: Path, feed: Feed) -> None:
    data = tmp_path / "data"
    listed = json.loads(relais("settings", "list", "--json", data_dir=data).stdout)
    assert listed["auto_update"] is True  # on by default
    assert listed["update_feed_url"] == ""
    refused = relais("settings", "set", "update_feed_url", "ftp://example", data_dir=data)
    assert refused.returncode == 2
    assert relais("settings", "set", "update_feed_url", feed.url, data_dir=data).returncode == 0
    assert relais("settings", "set", "auto_update", "off", data_dir=data).returncode == 0
    assert (
        json.loads(relais("settings", "list", "--json", data_dir=data).stdout)["auto_update"]
        is False
    )
    job = relais("jobs", "run", "update_check", "--json", data_dir=data)
    assert json.loads(job.stdout)["message"] == "Les mises à jour automatiques sont désactivées."
    # From source there is nothing to replace: said plainly, exit 2.
    applied = relais("update", "apply", data_dir=data)
    assert applied.returncode == 2
    assert "depuis les sources" in applied.stderr


# -- the built program, updated for real -------------------------------------------------------


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_all(tmp_path_factory.mktemp("built"))


def variant(built: dict[str, Path], tmp_path: Path, name: str, version: str) -> Path:
    """A copy of the onedir build announcing ``version`` (its build_info.json says so)."""
    folder = tmp_path / name
    copy_onedir(built, folder)
    info_path = folder / "_internal" / "build_info.json"
    info = json.loads(info_path.read_text())
    info_path.write_text(json.dumps({**info, "version": version}))
    return folder


def broken(tmp_path: Path, name: str, kind: str) -> Path:
    """A program that does not start (its executable exits with an error)."""
    folder = tmp_path / name
    folder.mkdir(parents=True)
    exe = folder / EXE
    exe.write_text("#!/bin/sh\necho 'cannot start' >&2\nexit 3\n")
    exe.chmod(0o755)
    if kind == "onedir":
        (folder / "_internal").mkdir()
        (folder / "_internal" / "placeholder").write_text("")
    return folder


def cli(exe: Path, data: Path, feed: Feed, *args: str) -> subprocess.CompletedProcess[str]:
    return run(exe, "--data-dir", str(data), *args, env=frozen_env(RELAIS_UPDATE_KEYS=feed.key_env))


def version_of(exe: Path) -> str:
    return run(exe, "--version").stdout.strip().rsplit(" ", 1)[-1]


def test_onedir_update_refusals_install_and_rollback(
    built: dict[str, Path], feed: Feed, tmp_path: Path
) -> None:
    app = tmp_path / "app"
    exe = copy_onedir(built, app)
    data = tmp_path / "data"
    platform = f"{ARCH}-onedir"
    assert cli(exe, data, feed, "settings", "set", "update_feed_url", feed.url).returncode == 0
    good = zip_of(variant(built, tmp_path, "v2", "0.2.0"), tmp_path, "v2")

    # Unsigned, tampered, downgraded: refused, reported, nothing changed.
    feed.publish("0.2.0", {platform: good}, signed=False)
    result = cli(exe, data, feed, "update", "apply")
    assert result.returncode == 1 and "pas signé" in result.stderr
    feed.publish("0.2.0", {platform: good}, tamper_package=True)
    result = cli(exe, data, feed, "update", "apply")
    assert result.returncode == 1 and "ne correspond pas au manifeste signé" in result.stderr
    feed.publish("0.0.9", {platform: good})
    result = cli(exe, data, feed, "update", "check")
    assert result.returncode == 1 and "plus ancienne" in result.stderr
    result = cli(exe, data, feed, "update", "apply")
    assert result.returncode == 1
    assert version_of(exe) == __version__
    assert not (app / updates.UPDATE_DIR_NAME / "staged").exists()

    # The real thing: check, then apply now (no server runs for this data folder).
    feed.publish("0.2.0", {platform: good})
    checked = json.loads(cli(exe, data, feed, "update", "check", "--json").stdout)
    assert checked == {
        "ok": True,
        "current": __version__,
        "available": "0.2.0",
        "notes": "Version 0.2.0",
    }
    applied = cli(exe, data, feed, "update", "apply", "--json")
    assert applied.returncode == 0, applied.stderr
    assert json.loads(applied.stdout)["installed"] == "0.2.0"
    assert version_of(exe) == "0.2.0"
    previous = app / updates.UPDATE_DIR_NAME / "previous"
    assert (previous / EXE).is_file() and (previous / "_internal").is_dir()
    assert (previous / "version.txt").read_text() == __version__

    # A version that does not start: put back, remembered, reported.
    feed.publish("0.3.0", {platform: zip_of(broken(tmp_path, "v3", "onedir"), tmp_path, "v3")})
    failed = cli(exe, data, feed, "update", "apply")
    assert failed.returncode == 1
    assert (
        "La version 0.3.0 n'a pas démarré ; la version 0.2.0 a été remise en place."
        in failed.stderr
    )
    assert version_of(exe) == "0.2.0"
    status = json.loads(cli(exe, data, feed, "update", "status", "--json").stdout)
    assert status["failed_versions"] == ["0.3.0"]
    assert "0.3.0" in status["last_error"]
    assert (previous / "version.txt").read_text() == __version__  # still the one before 0.2.0

    # The automatic process does not try a version that failed here again.
    job = cli(exe, data, feed, "jobs", "run", "update_check", "--json")
    assert "0.3.0" in json.loads(job.stdout)["message"]
    assert not (app / updates.UPDATE_DIR_NAME / "staged").exists()

    # And the user can go back to the version before.
    back = cli(exe, data, feed, "update", "rollback")
    assert back.returncode == 0, back.stderr
    assert version_of(exe) == __version__


def test_update_downloaded_while_running_is_installed_at_next_start(
    built: dict[str, Path], feed: Feed, tmp_path: Path
) -> None:
    app = tmp_path / "app"
    exe = copy_onedir(built, app)
    data = tmp_path / "data"
    platform = f"{ARCH}-onedir"
    env = frozen_env(RELAIS_UPDATE_KEYS=feed.key_env)
    assert cli(exe, data, feed, "settings", "set", "update_feed_url", feed.url).returncode == 0
    feed.publish(
        "0.4.0", {platform: zip_of(variant(built, tmp_path, "v4", "0.4.0"), tmp_path, "v4")}
    )

    command = [str(exe), "--data-dir", str(data), "serve", "--no-browser", "--port", "0"]
    running = Program(command, tmp_path / "first.out", env, tmp_path)
    try:
        first_url = running.wait_for_url()
        # The update_check process, as the scheduler runs it (the server holds the data folder).
        job = json.loads(cli(exe, data, feed, "jobs", "run", "update_check", "--json").stdout)
        assert job["status"] == "success", job
        assert "prochain démarrage" in job["message"]
        assert (app / updates.UPDATE_DIR_NAME / "staged" / "staged.json").is_file()
        assert version_of(exe) == __version__  # nothing replaced under a running program
        footer = httpx.get(first_url + "/", timeout=10).text
        assert "La version 0.4.0 est prête : elle sera installée au prochain démarrage." in footer
    finally:
        assert running.stop() == 0, running.output

    restarted = Program(command, tmp_path / "second.out", env, tmp_path)
    try:
        url = restarted.wait_for_url()
        assert "Relais 0.4.0" in httpx.get(url + "/", timeout=10).text
    finally:
        assert restarted.stop() == 0, restarted.output
    assert version_of(exe) == "0.4.0"
    assert not (app / updates.UPDATE_DIR_NAME / "staged").exists()
    log = (data / "logs" / "relais.log").read_text()
    assert "update 0.4.0 installed" in log


@pytest.fixture(scope="session")
def onefile_v2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second onefile build announcing 0.2.0: a onefile program cannot be edited in place."""
    dist = REPO / "build" / "test-dist-0.2.0"
    copy = tmp_path_factory.mktemp("built-0.2.0")
    extra = ["--kind", "onefile", "--version", "0.2.0", "--dist", str(dist)]
    return build_all(copy, *extra)["onefile"]


def test_onefile_update_swaps_the_file_and_rolls_back(
    built: dict[str, Path], onefile_v2: Path, feed: Feed, tmp_path: Path
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    exe = app / EXE
    shutil.copy2(built["onefile"], exe)
    data = tmp_path / "data"
    platform = f"{ARCH}-onefile"
    assert cli(exe, data, feed, "settings", "set", "update_feed_url", feed.url).returncode == 0

    v2 = tmp_path / "v2"
    v2.mkdir()
    shutil.copy2(onefile_v2, v2 / EXE)
    feed.publish("0.2.0", {platform: zip_of(v2, tmp_path, "v2")})
    applied = cli(exe, data, feed, "update", "apply", "--json")
    assert applied.returncode == 0, applied.stderr
    assert version_of(exe) == "0.2.0"
    assert exe.read_bytes() == onefile_v2.read_bytes()
    previous = app / updates.UPDATE_DIR_NAME / "previous" / EXE
    assert previous.read_bytes() == built["onefile"].read_bytes()

    feed.publish("0.3.0", {platform: zip_of(broken(tmp_path, "v3", "onefile"), tmp_path, "v3")})
    failed = cli(exe, data, feed, "update", "apply")
    assert failed.returncode == 1, failed.stdout
    assert "0.3.0" in failed.stderr
    assert exe.read_bytes() == onefile_v2.read_bytes()
    assert version_of(exe) == "0.2.0"


def test_the_settings_page_turns_automatic_updates_off_and_on(client: Client) -> None:
    page = client.get("/settings").text
    assert 'name="auto_update" value="1" checked' in page
    assert 'name="update_feed_url"' in page
    # Unticked: the browser sends only the hidden "0" that follows the checkbox.
    saved = client.post_form(
        "/settings/general",
        {"auto_update": "0", "update_feed_url": "https://updates.example/m.json"},
    )
    assert saved.status_code == 200
    assert 'name="auto_update" value="1" checked' not in saved.text
    assert 'value="https://updates.example/m.json"' in saved.text
    refused = client.post_form("/settings/general", {"update_feed_url": "file:///etc/passwd"})
    assert refused.status_code == 422
    # Ticked again: "1" then "0"; the first value wins.
    token = client.token()
    again = client.post(
        "/settings/general",
        content="auto_update=1&auto_update=0",
        headers={
            "x-csrftoken": token,
            "HX-Request": "true",
            "content-type": "application/x-www-form-urlencoded",
        },
    )
    assert again.status_code == 200
    assert 'name="auto_update" value="1" checked' in again.text


def test_footer_shows_the_version(client: Client) -> None:
    assert f"Relais {__version__}" in client.get("/").text


def test_windows_way_helper_waits_installs_and_starts_the_program_again(
    built: dict[str, Path], feed: Feed, tmp_path: Path
) -> None:
    """Where files cannot move while the program runs, the program hands over to a helper and exits;
    the helper waits for it, installs, and starts the program again (run here on Linux)."""
    app = tmp_path / "app"
    exe = copy_onedir(built, app)
    data = tmp_path / "data"
    platform = f"{ARCH}-onedir"
    assert cli(exe, data, feed, "settings", "set", "update_feed_url", feed.url).returncode == 0
    feed.publish(
        "0.5.0", {platform: zip_of(variant(built, tmp_path, "v5", "0.5.0"), tmp_path, "v5")}
    )
    env = frozen_env(RELAIS_UPDATE_KEYS=feed.key_env)
    old = Program(
        [str(exe), "--data-dir", str(data), "serve", "--no-browser", "--port", "0"],
        tmp_path / "old.out",
        env,
        tmp_path,
    )
    serve_file = data / "serve.json"
    handover: subprocess.Popen[str] | None = None
    try:
        old.wait_for_url()
        job = json.loads(cli(exe, data, feed, "jobs", "run", "update_check", "--json").stdout)
        assert job["status"] == "success", job
        helper = tmp_path / "helper"
        shutil.copytree(app, helper, ignore=shutil.ignore_patterns(updates.UPDATE_DIR_NAME))
        relaunch = ["--data-dir", str(data), "serve", "--no-browser", "--port", "0"]
        handover = subprocess.Popen(
            [
                str(helper / EXE),
                "update",
                "_install",
                "--root",
                str(app),
                "--wait-pid",
                str(old.process.pid),
                "--relaunch",
                json.dumps(relaunch),
            ],
            stdout=subprocess.PIPE,
            text=True,
            env={**env, "PYINSTALLER_RESET_ENVIRONMENT": "1"},
        )
        assert old.stop() == 0, old.output  # the program leaves; the helper was waiting for that
        answer = json.loads(handover.communicate(timeout=240)[0].strip().splitlines()[-1])
        assert answer == {"ok": True, "installed": "0.5.0", "previous": __version__}
        check_restarted(serve_file)
    finally:  # never leave the restarted program behind, whatever failed
        old.stop()
        if handover is not None:
            handover.kill()
            handover.wait()
        with contextlib.suppress(OSError, ValueError, KeyError):
            os.kill(json.loads(serve_file.read_text())["pid"], signal.SIGKILL)


def check_restarted(serve_file: Path) -> None:
    deadline = time.monotonic() + 90
    url = None
    while url is None:
        assert time.monotonic() < deadline, "the program was not started again"
        try:
            url = json.loads(serve_file.read_text())["url"]
            if httpx.get(url + "/healthz", timeout=2).status_code != 200:
                url = None
        except (OSError, ValueError, KeyError, httpx.HTTPError):
            url = None
        time.sleep(0.2)
    pid = json.loads(serve_file.read_text())["pid"]
    try:
        assert "Relais 0.5.0" in httpx.get(url + "/", timeout=10).text
    finally:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while serve_file.exists():
        assert time.monotonic() < deadline, "the restarted program did not stop"
        time.sleep(0.2)


def test_unsafe_or_incomplete_packages_are_refused(tmp_path: Path) -> None:
    import zipfile

    def package(name: str, members: dict[str, bytes]) -> Path:
        path = tmp_path / f"{name}.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for member, data in members.items():
                archive.writestr(member, data)
        return path

    target = tmp_path / "new"
    with pytest.raises(updates.UpdateRefused, match="unsafe paths"):
        swap._extract(package("escape", {"../evil": b"x", EXE: b"x"}), target, "onefile")
    assert not (tmp_path / "evil").exists()
    with pytest.raises(updates.UpdateRefused, match="unsafe paths"):
        swap._extract(package("absolute", {"/tmp/evil": b"x"}), target, "onefile")
    with pytest.raises(updates.UpdateRefused, match="does not hold Relais"):
        swap._extract(package("no-internal", {EXE: b"x"}), target, "onedir")
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(updates.UpdateRefused, match="not a valid archive"):
        swap._extract(bad, target, "onefile")
    swap._extract(package("good", {EXE: b"#!/bin/sh\n", "_internal/x": b""}), target, "onedir")
    assert (target / EXE).stat().st_mode & 0o111


def test_a_stale_or_undated_manifest_is_refused(
    feed: Feed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replayed old manifest ("you are up to date") must not freeze a computer on a version."""
    monkeypatch.setenv(updates.KEYS_ENV, feed.key_env)
    package = tmp_path / "package.zip"
    package.write_bytes(b"PK not really")
    platform = f"{ARCH}-onedir"

    def publish(manifest: dict[str, object]) -> None:
        data = json.dumps(manifest).encode()
        (feed.folder / "manifest.json").write_bytes(data)
        (feed.folder / "manifest.json.sig").write_bytes(updates.sign(feed.key, data))

    feed.publish("1.2.0", {platform: package})
    fresh = json.loads((feed.folder / "manifest.json").read_text())
    assert updates.check(feed.url, current="1.2.0", platform=platform) is None

    publish({**fresh, "expires": "2020-01-01T00:00:00Z"})
    with pytest.raises(updates.UpdateRefused, match="expired on") as refused:
        updates.check(feed.url, current="1.2.0", platform=platform)
    assert refused.value.params == {"date": "2020-01-01"}
    publish({key: value for key, value in fresh.items() if key != "expires"})
    with pytest.raises(updates.UpdateRefused, match="no valid expiry"):
        updates.check(feed.url, current="1.2.0", platform=platform)
    publish({**fresh, "expires": "soon"})
    with pytest.raises(updates.UpdateRefused, match="no valid expiry"):
        updates.check(feed.url, current="1.2.0", platform=platform)


def test_the_staged_package_is_hashed_again_before_install(
    feed: Feed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Changed on disk between download and the next start: refused, discarded, nothing moved."""
    monkeypatch.setenv(updates.KEYS_ENV, feed.key_env)
    package = tmp_path / "package.zip"
    package.write_bytes(bytes(range(256)) * 100)
    platform = buildinfo.platform_id()
    feed.publish("99.0.0", {platform: package})
    offer = updates.check(feed.url, current=__version__, platform=platform)
    assert offer is not None
    root = tmp_path / "program"
    staged = updates.download(offer, root)
    data = bytearray((staged / "package.zip").read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte changed
    (staged / "package.zip").write_bytes(bytes(data))
    with pytest.raises(updates.UpdateRefused, match="does not match the signed manifest"):
        updates.install_here(root)
    assert not staged.exists()
    assert sorted(path.name for path in root.iterdir()) == [updates.UPDATE_DIR_NAME]
    assert "does not match" in updates.state(root)["last_error"]


def test_the_footer_version_follows_the_staged_file(tmp_path: Path) -> None:
    ready = updates.StagedVersion(tmp_path)
    assert ready() is None  # nothing staged
    staged = tmp_path / updates.UPDATE_DIR_NAME / "staged" / "staged.json"
    staged.parent.mkdir(parents=True)
    staged.write_text(json.dumps({"version": "1.3.0"}), encoding="utf-8")
    assert ready() == "1.3.0"
    staged.write_text(json.dumps({"version": "1.40.0"}), encoding="utf-8")  # another size
    assert ready() == "1.40.0"
    staged.write_text(json.dumps({"version": "1.50.0"}), encoding="utf-8")  # same size
    os.utime(staged, ns=(staged.stat().st_atime_ns, staged.stat().st_mtime_ns + 1_000_000))
    assert ready() == "1.50.0"
    staged.unlink()  # installed at a start, or rolled back
    assert ready() is None
