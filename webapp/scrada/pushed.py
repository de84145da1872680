"""Documents that arrive by themselves, taken by each pull: the mailbox (Scrada e-mails the generated
daily-receipt UBL and CODA files) and the drop folder (an (S)FTP push or a synced folder).

Nothing but the document says whose it is: each one is filed under the company it names
(identify.py: a known company by number or account; an unknown one is created from the document's
number and name, ticked or not by the new-companies setting). A document that names no company is
quarantined with the reason, under no company.

Exactly once: a document's id comes from what it is (mail: Message-ID + the attachment's sha256;
folder: the file's sha256), and the message is marked done, or the file moved to `processed/`, only
after its delivery row is committed. A kill -9 between the file write and the flag leaves the
message or file in place; the next pull offers the same id (or the same bytes), which delivery
recognises: written once, recorded once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from webapp.i18n import N_
from webapp.jobs import RunContext
from webapp.scrada import config as scrada_config
from webapp.scrada import dropfolder, formats, identify, mailbox, records, source_state
from webapp.scrada.batch import deliver
from webapp.scrada.delivery import Incoming, Outcome, quarantine
from webapp.scrada.source_state import SourceKey

log = logging.getLogger(__name__)

MAILBOX = "mailbox"
FOLDER = "folder"
BOOK_NAMES = {"daily-receipts": "Recettes", "cash-book": "Caisse"}
# Where a document of no known company is recorded: no such company row exists, and none is made.
UNIDENTIFIED = records.Company("unidentified", "", "", False)
# Rounds of a drop folder scan in one pull (each takes at most DropFolder.limit files).
FOLDER_ROUNDS = 10
# One DropFolder per folder for the life of the process: it compares a file's size with the
# previous scan (a file still growing waits) and reports a refused file once.
_FOLDERS: dict[Path, dropfolder.DropFolder] = {}

NOT_SELECTED = N_("{company} is not ticked: its document was not written.")
NO_PASSWORD = N_("The mailbox password is missing, or the secrets vault is locked.")
NO_FOLDER = N_("The drop folder {folder} does not exist.")


class PushedSources:
    """Takes the mailbox and the drop folder for one pull; `count` adds to the pull's totals."""

    def __init__(
        self,
        context: RunContext,
        config: scrada_config.ScradaConfig,
        root: Path,
        count: Callable[[str], None],
    ) -> None:
        self.context = context
        self.store = context.store
        self.config = config
        self.root = root
        self.count = count

    def take_all(self) -> None:
        self.take_mailbox()
        self.take_folder()

    # -- the mailbox ---------------------------------------------------------------------------

    def take_mailbox(self) -> None:
        if self.config.mailbox is None:
            return
        key = SourceKey("", "", "", MAILBOX)
        vault = self.context.vault
        password = scrada_config.mailbox_password(vault) if vault is not None else None
        if not password:
            self._failed(key, NO_PASSWORD, {})
            return
        try:
            settings = self.config.mailbox_settings()
            if settings is None:
                return
            with mailbox.Mailbox(settings, password) as box:
                for index, message in enumerate(box.new_messages()):
                    self.context.check_stop()
                    self.context.progress(index, None, N_("Reading the mailbox"))
                    self._take_message(message)
                    box.mark_done(message.uid)  # only once every document of it is recorded
        except mailbox.MailboxError as exc:
            self._failed(key, exc.message, exc.params)
            return
        self._mark(key, source_state.OFFERED)

    def _take_message(self, message: mailbox.MailMessage) -> None:
        for attachment in message.attachments:
            kind = mailbox.BOOK_KINDS[attachment.kind]
            self.file(kind, attachment.data, mailbox.document_id(attachment), MAILBOX)
        for skipped in message.skipped:
            self.context.item(
                "mail",
                "skipped",
                skipped.filename or message.message_id,
                skipped.message,
                **skipped.params,
            )

    # -- the drop folder -----------------------------------------------------------------------

    def take_folder(self) -> None:
        path = self.config.drop_folder_in(self.context.data_dir)
        if path is None:
            return
        key = SourceKey("", "", "", FOLDER)
        if not path.is_dir():
            self._failed(key, NO_FOLDER, {"folder": str(path)})
            return
        folder = _FOLDERS.setdefault(path, dropfolder.DropFolder(path))
        for _round in range(FOLDER_ROUNDS):
            result = folder.scan()
            for refused in result.refused:
                self.context.item(
                    "file", "skipped", refused.path.name, refused.message, **refused.params
                )
            for index, dropped in enumerate(result.files):
                self.context.check_stop()
                self.context.progress(index, len(result.files), N_("Taking the drop folder"))
                kind = dropfolder.BOOK_KINDS[dropped.kind]
                self.file(kind, dropped.data, dropfolder.document_id(dropped), FOLDER)
                dropfolder.mark_processed(dropped)  # only once it is recorded
            if not result.more:
                break
        self._mark(key, source_state.OFFERED)

    # -- filing one document -------------------------------------------------------------------

    def file(self, kind: str, data: bytes, document_id: str, source: str) -> Outcome | None:
        """Deliver (or quarantine) one document under the company it names."""
        company, problem, party = self._owner(kind, data)
        owner = company or UNIDENTIFIED
        if company is not None and problem is None and not self._in_scope(company):
            self.context.item(
                "company",
                "skipped",
                company.id,
                NOT_SELECTED,
                company=company.name or company.id,
            )
            return None
        book_id, book_name = self._book(company, kind, party)
        incoming = Incoming(owner, kind, book_id, book_name, document_id, data, source)
        if problem is None:
            outcome = deliver(
                self.store, self.root, self.config.template, incoming, self.context.run_id
            )
        else:
            outcome = self._quarantine_once(incoming, problem)
        self.count(outcome.state)
        return outcome

    def _owner(
        self, kind: str, data: bytes
    ) -> tuple[
        records.Company | None, formats.InvalidDocument | None, identify.DocumentParty | None
    ]:
        try:
            party = identify.document_party(kind, data)
            with self.store.write() as db:
                # 'webhook' is the companies' source for "arrived by itself" (migration 0008).
                company_id, created = identify.adopt_company(
                    db, party, source="webhook", selected=self.config.new_companies
                )
        except formats.InvalidDocument as problem:  # NoCompany included
            return None, problem, None
        if created:
            log.info("scrada: new company %s from a document", company_id)
        company = next(item for item in records.companies(self.store) if item.id == company_id)
        return company, None, party

    def _in_scope(self, company: records.Company) -> bool:
        return self.config.scope == "all" or company.selected

    def _book(
        self, company: records.Company | None, kind: str, party: identify.DocumentParty | None
    ) -> tuple[str, str]:
        """The cash book of the statement's account, else the company's only book of the kind,
        else a book for the documents that arrive by themselves."""
        if company is None:
            return records.WEBHOOK_BOOK, BOOK_NAMES[kind]
        accounts = party.accounts if party is not None else ()
        with self.store.read() as db:
            rows = db.execute(
                "SELECT id, name, iban FROM scrada_books WHERE company_id = ? AND kind = ?"
                " AND id != ?",
                [company.id, kind, records.WEBHOOK_BOOK],
            ).fetchall()
        matching = [row for row in rows if row[2] and row[2] in accounts]
        for candidates in (matching, rows):
            if len(candidates) == 1:
                return str(candidates[0][0]), str(candidates[0][1])
        with self.store.write() as db:
            records.upsert_book(
                db, company.id, kind, records.WEBHOOK_BOOK, BOOK_NAMES[kind], True, True
            )
        return records.WEBHOOK_BOOK, BOOK_NAMES[kind]

    def _quarantine_once(self, incoming: Incoming, problem: formats.InvalidDocument) -> Outcome:
        """The same refused document read again (a kill -9 before its message was flagged) is
        not quarantined twice."""
        with self.store.read() as db:
            known = records.delivery(db, incoming.key)
        if known is not None:
            return Outcome("skipped", known["path"], problem)
        return quarantine(self.store, self.root, incoming, self.context.run_id, problem)

    # -- the sources' states -------------------------------------------------------------------

    def _failed(self, key: SourceKey, message: str, params: dict[str, object]) -> None:
        self._mark(key, source_state.ERROR, message, dict(params))
        self.count("errors")
        self.context.item(key.source, "error", None, message, **params)

    def _mark(
        self,
        key: SourceKey,
        state: str,
        message: str | None = None,
        params: dict[str, object] | None = None,
    ) -> None:
        with self.store.write() as db:
            source_state.mark(db, key, state, message, params)
