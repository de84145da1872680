"""The mailbox source's settings and their checks, shared by `relais scrada set`, the Scrada page
and the pull. The password is not here: it lives in the vault and is passed in separately."""

from __future__ import annotations

import base64
import ipaddress
import re
from dataclasses import asdict, dataclass
from typing import Any

from webapp.i18n import N_, UserError
from webapp.security import is_loopback

SECURITIES = ("ssl", "starttls", "none")
DONE_ACTIONS = ("keyword", "move")
DEFAULT_PORTS = {"ssl": 993, "starttls": 143, "none": 143}
DONE_KEYWORD = "$RelaisDone"
MAX_FOLDER_CHARS = 200
MAX_USER_CHARS = 320
# A host name (labels of letters, digits, hyphens) or an IPv4/IPv6 address, nothing else: the value
# goes into a socket call, and a space, slash or "@" means a URL or an address was pasted.
_HOST = re.compile(r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9-]+)*\.?")


class MailboxError(UserError):
    """Anything the mailbox source reports to a user: an English msgid and its params."""


class MailboxSettingsError(MailboxError):
    """Settings refused before any connection."""


@dataclass(frozen=True)
class MailboxSettings:
    host: str
    port: int
    security: str  # 'ssl' (implicit TLS), 'starttls' or 'none' (loopback only)
    user: str
    folder: str = "INBOX"
    done_action: str = "keyword"  # 'keyword' ($RelaisDone) or 'move' (to done_folder)
    done_folder: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> MailboxSettings:
        """Settings saved by `as_dict`, checked again (a hand-edited value is refused)."""
        known = {name: values[name] for name in cls.__dataclass_fields__ if name in values}
        return validate_mailbox_settings(**known)


def validate_mailbox_settings(
    *,
    host: str,
    port: int | str | None = None,
    security: str = "ssl",
    user: str,
    folder: str = "INBOX",
    done_action: str = "keyword",
    done_folder: str = "",
) -> MailboxSettings:
    """Normalised settings, or MailboxSettingsError naming the first bad value."""
    security = security.strip().lower()
    if security not in SECURITIES:
        raise MailboxSettingsError(
            N_("The connection security must be ssl, starttls or none, not {value}."),
            value=security,
        )
    host = _check_host(host, security)
    number = _check_port(port, security)
    user = user.strip()
    if not user or len(user) > MAX_USER_CHARS or _has_control(user):
        raise MailboxSettingsError(N_("Enter the mailbox user name (one line)."))
    folder = check_folder(folder)
    done_action = done_action.strip().lower()
    if done_action not in DONE_ACTIONS:
        raise MailboxSettingsError(
            N_("Done messages are marked with a keyword or moved, not {value}."), value=done_action
        )
    done_folder = done_folder.strip()
    if done_action == "move":
        done_folder = check_folder(done_folder)
        if done_folder == folder:
            raise MailboxSettingsError(
                N_("The folder for done messages must differ from the folder read.")
            )
    return MailboxSettings(host, number, security, user, folder, done_action, done_folder)


def _check_host(host: str, security: str) -> str:
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]  # "[::1]" as in a URL; the socket wants the bare address
    if not (_HOST.fullmatch(host) or _is_ip(host)):
        raise MailboxSettingsError(
            N_("The mail server {host} is not a host name or an IP address."), host=host[:100]
        )
    if security == "none" and not is_loopback(host):
        # A password in clear over a network: only the machine itself (a local bridge or
        # tunnel such as stunnel or ProtonMail Bridge) may be reached without TLS.
        raise MailboxSettingsError(
            N_(
                "Without TLS the password would cross the network in clear: 'none' is only "
                "allowed for this computer (127.0.0.1, localhost)."
            )
        )
    return host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _check_port(port: int | str | None, security: str) -> int:
    if port is None or (isinstance(port, str) and not port.strip()):
        return DEFAULT_PORTS[security]
    try:
        number = int(port)
    except ValueError:
        number = 0
    if not 1 <= number <= 65535:
        raise MailboxSettingsError(
            N_("The port must be a number from 1 to 65535, not {value}."), value=str(port)[:20]
        )
    return number


def check_folder(folder: str) -> str:
    folder = folder.strip()
    if not folder:
        raise MailboxSettingsError(N_("Enter a folder name."))
    if len(folder) > MAX_FOLDER_CHARS or _has_control(folder) or any(c in folder for c in "*%"):
        raise MailboxSettingsError(
            N_(
                "The folder name {folder} is not usable: at most {limit} characters, no control "
                "characters, no * or %."
            ),
            folder=folder[:MAX_FOLDER_CHARS],
            limit=MAX_FOLDER_CHARS,
        )
    return folder


def _has_control(text: str) -> bool:
    return any(ord(char) < 32 or ord(char) == 127 for char in text)


def imap_folder(name: str) -> str:
    """The folder name as an IMAP quoted string, in IMAP's modified UTF-7 (RFC 3501 5.1.3): the
    protocol has no other way to say "Reçus" before the UTF8=ACCEPT extension."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + raw.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    encoded = "".join(out)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'
