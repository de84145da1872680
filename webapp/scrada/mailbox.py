"""The mailbox source (IMAP): Scrada e-mails the generated daily-receipt UBL and CODA files, and a
shop PC behind a router that cannot receive webhooks can still read a mailbox.

Interface (the pull and the settings use only these):

    settings = validate_mailbox_settings(host=..., port=..., security="ssl", user=..., folder=...,
                                         done_action="keyword", done_folder="")
    verify(settings, password) -> VerifyResult               # the "Verify" button, `scrada verify`
    with Mailbox(settings, password) as box:                 # MailboxError subclasses on failure
        box.waiting() -> int                                 # messages not yet marked done
        for message in box.new_messages():                   # MailMessage, at most max_messages
            for attachment in message.attachments:           # MailAttachment, kind 'ubl' | 'coda'
                deliver it with document_id=document_id(attachment)
            for skipped in message.skipped:                  # Skipped: msgid + params
                record a 'skipped' history item
            box.mark_done(message.uid)                       # only after all are recorded

Exactly once: a message is marked done (the `$RelaisDone` keyword, or a move to the done folder)
only after its documents are recorded, and a document's id is derived from the Message-ID and the
attachment's sha256, so a message read again after kill -9 between the file write and the flag
gives the same ids, and delivery recognises them as already delivered. Messages are only peeked at
(`BODY.PEEK[]`): reading does not mark them \\Seen for the person who also reads the mailbox.
"""

from __future__ import annotations

import hashlib
import re
import ssl
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from types import TracebackType

from webapp.i18n import N_, ngettext
from webapp.scrada.mail_attachments import (
    MailAttachment,
    MailMessage,
    Skipped,
    read_message,
    too_large,
)
from webapp.scrada.mail_session import (
    MailboxCertificateRefused,
    MailboxCredentialsRefused,
    MailboxFolderMissing,
    MailboxUnreachable,
    Session,
    open_session,
)
from webapp.scrada.mail_settings import (
    DEFAULT_PORTS,
    DONE_KEYWORD,
    MailboxError,
    MailboxSettings,
    MailboxSettingsError,
    imap_folder,
    validate_mailbox_settings,
)

__all__ = [
    "BOOK_KINDS",
    "DEFAULT_PORTS",
    "MailAttachment",
    "MailMessage",
    "Mailbox",
    "MailboxCertificateRefused",
    "MailboxCredentialsRefused",
    "MailboxError",
    "MailboxFolderMissing",
    "MailboxSettings",
    "MailboxSettingsError",
    "MailboxUnreachable",
    "Skipped",
    "VerifyResult",
    "document_id",
    "validate_mailbox_settings",
    "verify",
]

DEFAULT_TIMEOUT = 30.0
VERIFY_TIMEOUT = 10.0
MAX_MESSAGES_PER_RUN = 50
MAX_MESSAGE_BYTES = 40 * 1024 * 1024  # 20 MB documents, base64 in the mail adds a third
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")


# The book each kind of attachment belongs to: Scrada mails the daily-receipt invoices it generates
# (UBL, issued by the client) and the cash-book statements (CODA).
BOOK_KINDS = {"ubl": "daily-receipts", "coda": "cash-book"}


def document_id(attachment: MailAttachment) -> str:
    """Stable across reads: the same attachment of the same message always gets the same id."""
    source = f"{attachment.message_id}\n{attachment.sha256}".encode()
    return "mail-" + hashlib.sha256(source).hexdigest()[:24]


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    refused: bool  # the server refused the user name or password
    message: str  # translated, for the page or the terminal
    waiting: int = 0
    # What went wrong, for a caller that branches on it (MailboxUnreachable,
    # MailboxCertificateRefused, MailboxCredentialsRefused, MailboxFolderMissing, ...).
    problem: MailboxError | None = None


def verify(
    settings: MailboxSettings,
    password: str,
    *,
    ssl_context: ssl.SSLContext | None = None,
    timeout: float = VERIFY_TIMEOUT,
) -> VerifyResult:
    """Log in, open the folder read-only and count the messages waiting; never raises a
    MailboxError (its message is the result's)."""
    try:
        with open_session(settings, password, ssl_context=ssl_context, timeout=timeout) as session:
            session.select(settings.folder, readonly=True)
            count = len(session.search_new())
    except MailboxError as exc:
        refused = isinstance(exc, MailboxCredentialsRefused)
        return VerifyResult(False, refused, exc.translated(), problem=exc)
    message = ngettext(
        "Connected: {n} message waiting in {folder}.",
        "Connected: {n} messages waiting in {folder}.",
        count,
        folder=settings.folder,
    )
    return VerifyResult(True, False, message, count)


class Mailbox:
    """One connection for one pull: read the new messages, mark each done once delivered."""

    def __init__(
        self,
        settings: MailboxSettings,
        password: str,
        *,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_messages: int = MAX_MESSAGES_PER_RUN,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        self.settings = settings
        self._password = password
        self._ssl_context = ssl_context
        self._timeout = timeout
        self.max_messages = max_messages
        self.max_message_bytes = max_message_bytes
        self._session: Session | None = None
        self._stack = ExitStack()
        self._keywords = False

    def __enter__(self) -> Mailbox:
        with ExitStack() as stack:
            session = stack.enter_context(
                open_session(
                    self.settings,
                    self._password,
                    ssl_context=self._ssl_context,
                    timeout=self._timeout,
                )
            )
            self._session = session
            try:
                self._prepare(session)
            except BaseException:
                self._session = None
                raise
            self._stack = stack.pop_all()  # kept open until __exit__
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._session = None
        self._stack.close()

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the mailbox is not open (use it in a with block)")
        return self._session

    def _prepare(self, session: Session) -> None:
        """Open the folder; in move mode make the done folder and finish interrupted moves."""
        self._keywords = session.select(self.settings.folder, readonly=False)
        if self.settings.done_action == "keyword" and not self._keywords:
            raise MailboxError(
                N_("The folder {folder} does not keep keywords: choose to move the done messages."),
                folder=self.settings.folder,
            )
        if self.settings.done_action == "move":
            session.ensure_folder(self.settings.done_folder)
            # A message flagged done but not moved (a crash between the two) is moved now.
            for uid in session.search_flagged_done()[: self.max_messages]:
                self._move(uid)

    def waiting(self) -> int:
        return len(self.session.search_new())

    def new_messages(self) -> Iterator[MailMessage]:
        """The messages not marked done, oldest first, at most `max_messages`; each is fetched
        when it is reached (a message over `max_message_bytes` is reported, not fetched)."""
        uids = self.session.search_new()[: self.max_messages]
        if not uids:
            return
        sizes = self._sizes(uids)
        for uid in uids:
            size = sizes.get(uid)
            if size is None:
                continue  # deleted by someone else meanwhile
            if size > self.max_message_bytes:
                header = self.session.message_id(uid)
                identity = header or f"uid:{self.session.uidvalidity}:{uid}"
                yield too_large(uid, identity, size, self.max_message_bytes)
                continue
            raw = self.session.fetch_message(uid)
            if raw is not None:
                yield read_message(uid, raw)

    def _sizes(self, uids: list[int]) -> dict[int, int]:
        sizes: dict[int, int] = {}
        for line in self.session.fetch_lines(uids, "(RFC822.SIZE)"):
            uid, size = _UID.search(line), _SIZE.search(line)
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
        return sizes

    def mark_done(self, uid: int) -> None:
        """Never read `uid` again: the keyword, then in move mode the move to the done folder."""
        if self._keywords:
            self.session.store(uid, "+FLAGS.SILENT", f"({DONE_KEYWORD})")
        if self.settings.done_action == "move":
            self._move(uid)

    def _move(self, uid: int) -> None:
        session = self.session
        target = imap_folder(self.settings.done_folder)
        if session.has("MOVE"):
            session.uid_command("MOVE", str(uid), target)
            return
        session.uid_command("COPY", str(uid), target)
        session.store(uid, "+FLAGS.SILENT", r"(\Deleted)")
        if session.has("UIDPLUS"):
            session.uid_command("EXPUNGE", str(uid))
        # Without UIDPLUS a plain EXPUNGE would also remove messages someone else marked
        # \Deleted: the message stays, deleted-flagged, and is never read again (UNDELETED).
