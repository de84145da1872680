"""One IMAP connection (stdlib imaplib) with the few commands the mailbox source needs, and every
failure turned into a MailboxError a user can act on: the server unreachable, its certificate not
trusted, the credentials refused, the folder missing.

Every socket has a timeout (imaplib keeps the one given to `create_connection` for the whole
session, also after STARTTLS); TLS uses the system's trust store unless a caller (a test with its
own CA) passes its own context, and the host name is always checked.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from webapp.i18n import N_
from webapp.scrada.mail_settings import (
    DONE_KEYWORD,
    MailboxError,
    MailboxSettings,
    imap_folder,
)

_DETAIL_CHARS = 200
_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)


class MailboxUnreachable(MailboxError):
    """No answer from the server, or the connection dropped."""


class MailboxCertificateRefused(MailboxError):
    """The server's TLS certificate is not trusted for its name."""


class MailboxCredentialsRefused(MailboxError):
    """The server said no to the user name and password."""


class MailboxFolderMissing(MailboxError):
    """The folder to read does not exist."""


def _detail(exc: BaseException | bytes | str) -> str:
    text = exc.decode("utf-8", "replace") if isinstance(exc, bytes) else str(exc)
    return text[:_DETAIL_CHARS]


@contextmanager
def open_session(
    settings: MailboxSettings,
    password: str,
    *,
    ssl_context: ssl.SSLContext | None,
    timeout: float,
) -> Iterator[Session]:
    session = Session(connect(settings, ssl_context, timeout), settings)
    try:
        session.login(settings.user, password)
        yield session
    finally:
        session.close()


def connect(
    settings: MailboxSettings, ssl_context: ssl.SSLContext | None, timeout: float
) -> imaplib.IMAP4:
    context = ssl_context or ssl.create_default_context()
    try:
        if settings.security == "ssl":
            return imaplib.IMAP4_SSL(
                settings.host, settings.port, ssl_context=context, timeout=timeout
            )
        imap = imaplib.IMAP4(settings.host, settings.port, timeout=timeout)
        if settings.security == "starttls":
            _starttls(imap, context)
        return imap
    except ssl.SSLCertVerificationError as exc:
        raise MailboxCertificateRefused(
            N_("The certificate of {host} is not trusted: {detail}"),
            host=settings.host,
            detail=_detail(exc.verify_message or exc),
        ) from exc
    except (OSError, imaplib.IMAP4.error, EOFError) as exc:
        raise MailboxUnreachable(
            N_("The mail server {host}:{port} cannot be reached: {detail}"),
            host=settings.host,
            port=settings.port,
            detail=_detail(exc) or type(exc).__name__,
        ) from exc


def _starttls(imap: imaplib.IMAP4, context: ssl.SSLContext) -> None:
    try:
        if "STARTTLS" not in imap.capabilities:
            raise MailboxError(N_("The mail server does not offer STARTTLS: choose ssl."))
        imap.starttls(ssl_context=context)
    except BaseException:
        with suppress(OSError):  # the failed handshake may have closed the socket already
            imap.shutdown()
        raise


class Session:
    """A logged-in connection; each method raises a MailboxError instead of imaplib's errors."""

    def __init__(self, imap: imaplib.IMAP4, settings: MailboxSettings) -> None:
        self.imap = imap
        self.settings = settings
        self.capabilities: set[str] = {str(item).upper() for item in imap.capabilities}
        self.uidvalidity = ""
        self._open = True

    def has(self, capability: str) -> bool:
        return capability.upper() in self.capabilities

    def close(self) -> None:
        if not self._open:
            return
        self._open = False
        try:
            self.imap.logout()
        except (OSError, imaplib.IMAP4.error, EOFError):
            self.imap.shutdown()

    def login(self, user: str, password: str) -> None:
        if "LOGINDISABLED" in self.capabilities and "AUTH=PLAIN" not in self.capabilities:
            raise MailboxError(N_("The mail server refuses passwords on this connection."))
        try:
            if "AUTH=PLAIN" in self.capabilities:
                # AUTHENTICATE PLAIN carries UTF-8 (LOGIN is ASCII only: "é" would not pass).
                secret = b"\0" + user.encode() + b"\0" + password.encode()
                self.imap.authenticate("PLAIN", lambda _challenge: secret)
            else:
                self.imap.login(user, password)
        except imaplib.IMAP4.abort as exc:
            raise self._lost(exc) from exc
        except (imaplib.IMAP4.error, UnicodeEncodeError) as exc:
            raise MailboxCredentialsRefused(
                N_("The mail server refused the user name or the password ({detail})."),
                detail=_detail(exc),
            ) from exc
        except OSError as exc:
            raise self._lost(exc) from exc
        # The capabilities after login are the ones that count (MOVE, UIDPLUS).
        answer = self._checked("CAPABILITY", self.imap.capability)
        self.capabilities = {word.upper() for line in answer for word in _text(line).split()}

    def select(self, folder: str, *, readonly: bool) -> bool:
        """Open `folder`; True when the server keeps new keywords on its messages."""
        try:
            status, data = self.imap.select(imap_folder(folder), readonly=readonly)
        except imaplib.IMAP4.abort as exc:
            raise self._lost(exc) from exc
        except (imaplib.IMAP4.error, OSError) as exc:
            status, data = "NO", [str(exc).encode()]
        if status != "OK":
            raise MailboxFolderMissing(
                N_("The folder {folder} cannot be opened: {detail}"),
                folder=folder,
                detail=_detail(data[0] if data and data[0] else status),
            )
        validity = self.imap.response("UIDVALIDITY")[1]
        self.uidvalidity = _text(validity[0]) if validity and validity[0] else ""
        flags = self.imap.response("PERMANENTFLAGS")[1]
        permanent = _text(flags[0]) if flags and flags[0] else ""
        return "\\*" in permanent or DONE_KEYWORD.lower() in permanent.lower()

    def ensure_folder(self, folder: str) -> None:
        listed = self._checked("LIST", self.imap.list, '""', imap_folder(folder))
        if not any(item for item in listed):
            self._checked("CREATE", self.imap.create, imap_folder(folder))

    def search_new(self) -> list[int]:
        return self._search("UNKEYWORD", DONE_KEYWORD, "UNDELETED")

    def search_flagged_done(self) -> list[int]:
        return self._search("KEYWORD", DONE_KEYWORD, "UNDELETED")

    def _search(self, *criteria: str) -> list[int]:
        answer = self.uid_command("SEARCH", *criteria)
        return sorted({int(word) for line in answer for word in _text(line).split()})

    def fetch_lines(self, uids: list[int], items: str) -> list[bytes]:
        answer = self.uid_command("FETCH", ",".join(map(str, uids)), items)
        return [item[0] if isinstance(item, tuple) else item for item in answer if item]

    def fetch_message(self, uid: int) -> bytes | None:
        """The whole message, without setting \\Seen; None when it is gone."""
        for item in self.uid_command("FETCH", str(uid), "(BODY.PEEK[])"):
            if isinstance(item, tuple) and b"BODY[]" in item[0]:
                return bytes(item[1])
        return None

    def message_id(self, uid: int) -> str | None:
        fields = "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"
        for item in self.uid_command("FETCH", str(uid), fields):
            if isinstance(item, tuple):
                found = _MESSAGE_ID.search(bytes(item[1]))
                if found:
                    return _text(found.group(1))
        return None

    def store(self, uid: int, mode: str, flags: str) -> None:
        self.uid_command("STORE", str(uid), mode, flags)

    def uid_command(self, command: str, *args: str) -> list[Any]:
        return self._checked(command, self.imap.uid, command, *args)

    def _checked(self, name: str, call: Any, *args: Any) -> list[Any]:
        try:
            status, data = call(*args)
        except imaplib.IMAP4.abort as exc:
            raise self._lost(exc) from exc
        except imaplib.IMAP4.error as exc:
            status, data = "BAD", [str(exc).encode()]
        except (OSError, EOFError) as exc:
            raise self._lost(exc) from exc
        if status != "OK":
            raise MailboxError(
                N_("The mail server refused {command}: {detail}"),
                command=name,
                detail=_detail(data[0] if data and data[0] else status),
            )
        return list(data)

    def _lost(self, exc: BaseException) -> MailboxUnreachable:
        self._open = False
        with suppress(OSError):
            self.imap.shutdown()
        kind = "timeout" if isinstance(exc, TimeoutError) else _detail(exc)
        return MailboxUnreachable(
            N_("The connection to the mail server {host} was lost: {detail}"),
            host=self.settings.host,
            detail=kind or type(exc).__name__,
        )


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
