"""A real IMAP server for the tests: Debian's dovecot, started from a temporary folder.

`start_dovecot()` writes a dovecot 2.3 configuration with nothing in system paths (base_dir,
state_dir, log, passwd-file, maildirs all in the folder), a self-signed CA and a certificate for
127.0.0.1 made with `cryptography`, and listens on 127.0.0.1 on two free ports: plain IMAP (which
also offers STARTTLS) and implicit TLS. Each test gets its own account (`ImapServer.account()`),
so one server serves a whole module.

Without dovecot the fixture fails (it does not skip): `make dovecot` installs it.
"""

from __future__ import annotations

import datetime
import grp
import imaplib
import ipaddress
import itertools
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from webapp.scrada.mail_settings import imap_folder

DOVECOT = "/usr/sbin/dovecot"
HOST = "127.0.0.1"
START_SECONDS = 15.0
# Dovecot re-reads passwd-file at most once a second: accounts added during a run would be refused
# for up to a second, so every account is written before the server starts.
ACCOUNTS = 60
PASSWORD = "s3cret pass"
ACCENTED_PASSWORD = "pässwörd-été"


@dataclass(frozen=True)
class ImapAccount:
    """One user's mailbox on the test server, with the helpers tests use to fill and inspect it."""

    server: ImapServer
    user: str
    password: str

    @contextmanager
    def connect(self) -> Iterator[imaplib.IMAP4]:
        imap = imaplib.IMAP4(HOST, self.server.port, timeout=10)
        try:
            imap.login(self.user, self.password)
            yield imap
        finally:
            imap.logout()

    def create(self, folder: str) -> None:
        with self.connect() as imap:
            status, data = imap.create(imap_folder(folder))
            assert status == "OK", data

    def append(self, message: bytes, folder: str = "INBOX", flags: str = "") -> int:
        """Put `message` in `folder`; its UID (from APPENDUID)."""
        with self.connect() as imap:
            status, data = imap.append(imap_folder(folder), flags or None, None, message)
        assert status == "OK", data
        # "[APPENDUID <uidvalidity> <uid>] Append completed."
        return int(data[0].split(b"]")[0].split()[-1])

    def flags(self, uid: int, folder: str = "INBOX") -> set[str]:
        with self.connect() as imap:
            imap.select(imap_folder(folder), readonly=True)
            status, data = imap.uid("FETCH", str(uid), "(FLAGS)")
        assert status == "OK" and data and data[0], f"no message {uid} in {folder}"
        inside = data[0].split(b"FLAGS (", 1)[1].split(b")", 1)[0]
        return set(inside.decode().split())

    def uids(self, folder: str = "INBOX") -> list[int]:
        with self.connect() as imap:
            status, _data = imap.select(imap_folder(folder), readonly=True)
            assert status == "OK", f"no folder {folder}"
            status, data = imap.uid("SEARCH", "ALL")
        return [int(word) for word in data[0].split()]


@dataclass
class ImapServer:
    folder: Path
    port: int
    tls_port: int
    ca_file: Path
    process: subprocess.Popen[bytes]
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def ssl_context(self) -> ssl.SSLContext:
        """A verifying context that trusts the test CA (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def account(self) -> ImapAccount:
        """The next unused account (made when the server started)."""
        number = next(self._numbers)
        assert number <= ACCOUNTS, f"only {ACCOUNTS} accounts per server"
        return ImapAccount(self, f"shop{number}", PASSWORD)

    def accented_account(self) -> ImapAccount:
        """An account whose password is not ASCII (IMAP LOGIN could not carry it)."""
        return ImapAccount(self, "accent", ACCENTED_PASSWORD)

    def log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _write_certificates(folder: Path) -> Path:
    """A CA and a certificate for 127.0.0.1 signed by it; the CA's file for the client."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Relais test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.IPAddress(ipaddress.ip_address(HOST)), x509.DNSName("localhost")]
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (folder / "cert.pem").write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    (folder / "key.pem").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    return folder / "ca.pem"


def _mail_owner(folder: Path) -> tuple[str, str]:
    """The uid/gid mail is stored as. Dovecot refuses mail access as root, so a root test run
    stores it as `nobody`, and the folder must let that user (and dovenull, the login process)
    through."""
    if os.getuid() != 0:
        user = pwd.getpwuid(os.getuid()).pw_name
        return user, str(os.getgid())
    nobody = pwd.getpwnam("nobody")
    folder.chmod(0o755)
    shutil.chown(folder / "home", nobody.pw_uid, nobody.pw_gid)
    return "nobody", str(nobody.pw_gid)


def _configuration(folder: Path, port: int, tls_port: int, capability: str | None) -> str:
    (folder / "home").mkdir()
    users = [f"shop{number}:{{PLAIN}}{PASSWORD}::::::" for number in range(1, ACCOUNTS + 1)]
    users.append(f"accent:{{PLAIN}}{ACCENTED_PASSWORD}::::::")
    (folder / "passwd").write_text("\n".join(users) + "\n", encoding="utf-8")
    mail_user, mail_group = _mail_owner(folder)
    lines = [
        f"base_dir = {folder}/run",
        f"state_dir = {folder}/state",
        f"log_path = {folder}/dovecot.log",
        "protocols = imap",
        f"listen = {HOST}",
        "ssl = yes",
        f"ssl_cert = <{folder}/cert.pem",
        f"ssl_key = <{folder}/key.pem",
        "disable_plaintext_auth = no",
        "auth_mechanisms = plain login",
        "auth_failure_delay = 0",
        "first_valid_uid = 1",
        "passdb {",
        "  driver = passwd-file",
        f"  args = scheme=PLAIN username_format=%u {folder}/passwd",
        "}",
        "userdb {",
        "  driver = static",
        f"  args = uid={mail_user} gid={mail_group} home={folder}/home/%u",
        "}",
        "mail_location = maildir:~/Maildir",
        "service imap-login {",
        "  chroot =",
        f"  inet_listener imap {{\n    address = {HOST}\n    port = {port}\n  }}",
        f"  inet_listener imaps {{\n    address = {HOST}\n    port = {tls_port}\n    ssl = yes\n  }}",
        "}",
        "service anvil {\n  chroot =\n}",
    ]
    if os.getuid() != 0:
        # Not root: every internal process runs as the current user, nothing is chrooted.
        group = grp.getgrgid(os.getgid()).gr_name
        lines += [
            f"default_internal_user = {mail_user}",
            f"default_internal_group = {group}",
            f"default_login_user = {mail_user}",
        ]
    if capability is not None:
        lines.append(f"imap_capability = {capability}")
    return "\n".join(lines) + "\n"


def _wait_ready(process: subprocess.Popen[bytes], folder: Path, port: int) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection((HOST, port), timeout=1) as probe:
                probe.settimeout(2)
                if probe.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.1)
    output = "\n".join(
        (folder / name).read_text(errors="replace")
        for name in ("stdout.txt", "dovecot.log")
        if (folder / name).exists()
    )
    pytest.fail(f"dovecot did not start on {HOST}:{port}\n{output}")


@contextmanager
def start_dovecot(capability: str | None = None) -> Iterator[ImapServer]:
    """A running dovecot in a fresh temporary folder, stopped and removed afterwards.
    `capability` replaces the capabilities announced after login (to test a server without MOVE)."""
    if not os.access(DOVECOT, os.X_OK):
        pytest.fail(f"{DOVECOT} is missing: run `make dovecot` (Debian's dovecot-imapd)")
    # Not pytest's tmp_path: its parents are private to the test user, and dovecot's unprivileged
    # processes must get through to their sockets and the maildirs.
    folder = Path(tempfile.mkdtemp(prefix="relais-dovecot-"))
    try:
        ca_file = _write_certificates(folder)
        port, tls_port = _free_port(), _free_port()
        config = folder / "dovecot.conf"
        config.write_text(_configuration(folder, port, tls_port, capability), encoding="utf-8")
        check = subprocess.run(
            [DOVECOT, "-n", "-c", str(config)], capture_output=True, timeout=30, check=False
        )
        assert check.returncode == 0, check.stderr.decode(errors="replace")
        with (folder / "stdout.txt").open("wb") as output:
            process = subprocess.Popen(
                [DOVECOT, "-F", "-c", str(config)], stdout=output, stderr=subprocess.STDOUT
            )
        try:
            _wait_ready(process, folder, port)
            yield ImapServer(folder, port, tls_port, ca_file, process)
        finally:
            _stop(process)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def imap_server() -> Iterator[ImapServer]:
    with start_dovecot() as server:
        yield server


@pytest.fixture
def imap(imap_server: ImapServer) -> ImapAccount:
    """A fresh, empty mailbox on the module's dovecot."""
    return imap_server.account()
