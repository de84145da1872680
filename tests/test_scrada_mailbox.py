"""The mailbox source (IMAP) against a real dovecot on 127.0.0.1 (tests/imap_server.py).

Every message is put in with IMAP APPEND and read back through `webapp.scrada.mailbox`, the way a
pull reads the mails Scrada sends; flags and folders are checked on the server itself.
"""

from __future__ import annotations

import io
import socket
import time
import zipfile
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests import imap_server as imap_server_module
from tests.imap_server import ImapAccount, ImapServer, start_dovecot
from webapp import i18n
from webapp.scrada import formats
from webapp.scrada.mail_attachments import MAX_ZIP_ENTRIES
from webapp.scrada.mailbox import (
    MailAttachment,
    Mailbox,
    MailboxCertificateRefused,
    MailboxCredentialsRefused,
    MailboxFolderMissing,
    MailboxSettings,
    MailboxUnreachable,
    MailMessage,
    document_id,
    validate_mailbox_settings,
    verify,
)
from webapp.scrada.sniff import document_kind

CORPUS = Path(__file__).resolve().parent / "data" / "corpus"
DONE = "$RelaisDone"


def corpus(name: str) -> bytes:
    path = CORPUS / name
    assert path.is_file(), f"corpus file missing: {path}"
    return path.read_bytes()


UBL = corpus("ubl/deinte-scrada-postman__Get_sales_invoice_UBL.xml")
CREDIT_NOTE = corpus("ubl/peppol-bis3__base-creditnote-correction.xml")
CODA = corpus("coda/pycoda__Coda_v2_3_single_statement.txt")
CODA_MULTI = corpus("coda/pycoda__Coda_v2_3_multi_statements.txt")


@pytest.fixture(scope="module")
def imap_server() -> Iterator[ImapServer]:
    with start_dovecot() as server:
        yield server


@pytest.fixture
def imap(imap_server: ImapServer) -> ImapAccount:
    return imap_server.account()


def mail(*files: tuple[str, bytes], message_id: str | None = "<default@scrada.test>") -> bytes:
    message = EmailMessage()
    message["From"] = "noreply@scrada.test"
    message["To"] = "shop@example.test"
    message["Subject"] = "Scrada documents"
    if message_id is not None:
        message["Message-ID"] = message_id
    message.set_content("Please find your documents attached.\n")
    for name, data in files:
        subtype = {"xml": "xml", "zip": "zip", "pdf": "pdf"}.get(name.rsplit(".", 1)[-1], "")
        message.add_attachment(data, "application", subtype or "octet-stream", filename=name)
    return message.as_bytes()


def zipped(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def settings_for(account: ImapAccount, **changes: str | int) -> MailboxSettings:
    values: dict[str, str | int] = {
        "host": "127.0.0.1",
        "port": account.server.port,
        "security": "none",
        "user": account.user,
    }
    values.update(changes)
    return validate_mailbox_settings(**values)  # type: ignore[arg-type]


def read_all(account: ImapAccount, **changes: str | int) -> list[MailMessage]:
    with Mailbox(settings_for(account, **changes), account.password) as box:
        return list(box.new_messages())


def names(message: MailMessage) -> list[tuple[str, str]]:
    return [(item.filename, item.kind) for item in message.attachments]


# --- what is taken from a message ------------------------------------------------------------------


def test_ubl_and_coda_attachments_are_taken_by_their_content(imap: ImapAccount) -> None:
    uid = imap.append(
        mail(
            ("invoice.xml", UBL),
            ("credit.xml", CREDIT_NOTE),
            ("statement.cod", CODA),
            ("extract.txt", CODA_MULTI),
            ("notes.txt", b"Thanks for your order.\n"),
            ("invoice.pdf", b"%PDF-1.4 not a document we take"),
            ("order.xml", b"<?xml version='1.0'?><Order><id>1</id></Order>"),
        )
    )
    [message] = read_all(imap)
    assert message.uid == uid
    assert message.message_id == "<default@scrada.test>"
    assert names(message) == [
        ("invoice.xml", "ubl"),
        ("credit.xml", "ubl"),
        ("statement.cod", "coda"),
        ("extract.txt", "coda"),
    ]
    assert [item.data for item in message.attachments] == [UBL, CREDIT_NOTE, CODA, CODA_MULTI]
    for item in message.attachments:
        assert item.uid == uid and item.message_id == "<default@scrada.test>"
        assert len(item.sha256) == 64
    skipped = {item.filename: item.message for item in message.skipped}
    assert set(skipped) == {"notes.txt", "invoice.pdf", "order.xml"}
    assert "neither a UBL" in skipped["notes.txt"]
    assert "only UBL (.xml), CODA" in skipped["invoice.pdf"]
    assert "neither a UBL" in skipped["order.xml"]


def test_a_broken_document_that_looks_like_one_is_taken_for_delivery_to_quarantine() -> None:
    # A DOCTYPE in an invoice is an attack, and a CODA with a wrong record is a bank's error:
    # both must reach delivery, which refuses them with a reason, rather than vanish here.
    doctype = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>' + UBL.split(b"?>", 1)[1]
    assert document_kind(doctype) == "ubl"
    with pytest.raises(formats.InvalidDocument):
        formats.check_ubl(doctype)
    broken_coda = CODA.replace(b"\n2", b"\n7", 1)
    assert document_kind(broken_coda) == "coda"
    with pytest.raises(formats.InvalidDocument):
        formats.check_coda(broken_coda)
    assert document_kind(b"") is None
    assert document_kind(b"<not xml") is None
    assert document_kind(b"0" * 127 + b"\n") is None


def test_a_message_without_attachment_is_read_and_can_be_marked_done(imap: ImapAccount) -> None:
    uid = imap.append(mail())
    with Mailbox(settings_for(imap), imap.password) as box:
        [message] = list(box.new_messages())
        assert message.attachments == () and message.skipped == ()
        box.mark_done(uid)
    assert read_all(imap) == []


def test_zip_members_are_taken_like_attachments(imap: ImapAccount) -> None:
    archive = zipped(
        ("2024/invoice.xml", UBL),
        ("2024/statement.coda", CODA),
        ("2024/", b""),
        ("readme.pdf", b"%PDF"),
        ("inner.zip", zipped(("deep.xml", UBL))),
        ("../escape.xml", UBL),
        ("/etc/absolute.xml", UBL),
        ("C:evil.xml", UBL),
        ("notes.txt", b"not coda"),
    )
    imap.append(mail(("documents.zip", archive), ("loose.cod", CODA)))
    [message] = read_all(imap)
    assert names(message) == [
        ("documents.zip/2024/invoice.xml", "ubl"),
        ("documents.zip/2024/statement.coda", "coda"),
        ("loose.cod", "coda"),
    ]
    skipped = {item.filename: item.message for item in message.skipped}
    assert "zip inside a zip" in skipped["documents.zip/inner.zip"]
    assert "only UBL" in skipped["documents.zip/readme.pdf"]
    assert "neither a UBL" in skipped["documents.zip/notes.txt"]
    for unsafe in ("../escape.xml", "/etc/absolute.xml", "C:evil.xml"):
        assert "plain relative path" in skipped[f"documents.zip/{unsafe}"]
    assert len(skipped) == 6


def test_huge_and_odd_zips_are_refused_cleanly(imap: ImapAccount) -> None:
    bomb = zipped(("big.xml", b"<" + b"0" * (formats.MAX_DOCUMENT_BYTES + 10)))
    assert len(bomb) < 200_000  # a small mail that would inflate past the limit
    crowded = zipped(*[(f"{number}.txt", b"x") for number in range(MAX_ZIP_ENTRIES + 1)])
    # The same bomb with its central directory claiming 100 bytes: never inflated past that.
    liar = bytearray(bomb)
    central = liar.rfind(b"PK\x01\x02")
    liar[central + 24 : central + 28] = (100).to_bytes(4, "little")
    corrupt = zipped(("invoice.xml", UBL))
    corrupt = corrupt[:40] + b"\x00" * 60 + corrupt[100:]
    imap.append(
        mail(
            ("bomb.zip", bomb),
            ("liar.zip", bytes(liar)),
            ("crowded.zip", crowded),
            ("corrupt.zip", corrupt),
            ("truncated.zip", zipped(("invoice.xml", UBL))[:50]),
            ("fine.xml", UBL),
        )
    )
    [message] = read_all(imap)
    assert names(message) == [("fine.xml", "ubl")]
    with i18n.language("en"):
        skipped = {item.filename: item.translated() for item in message.skipped}
    assert "larger than 20 MB" in skipped["bomb.zip/big.xml"]
    assert "entry cannot be read" in skipped["liar.zip/big.xml"]
    assert f"more than {MAX_ZIP_ENTRIES}" in skipped["crowded.zip"]
    assert "entry cannot be read" in skipped["corrupt.zip/invoice.xml"]
    assert "cannot be read" in skipped["truncated.zip"]


def test_an_encrypted_zip_entry_is_skipped(imap: ImapAccount) -> None:
    archive = bytearray(zipped(("invoice.xml", UBL)))
    # Set the "encrypted" bit in both headers, as a password-protected zip has it.
    archive[6] |= 1
    central = archive.rfind(b"PK\x01\x02")
    archive[central + 8] |= 1
    imap.append(mail(("locked.zip", bytes(archive))))
    [message] = read_all(imap)
    assert message.attachments == ()
    assert [item.message for item in message.skipped] == ["Not taken: the zip entry is encrypted."]


def test_a_message_over_the_size_limit_is_reported_not_fetched(imap: ImapAccount) -> None:
    uid = imap.append(mail(("invoice.xml", UBL), message_id="<big@scrada.test>"))
    with Mailbox(settings_for(imap), imap.password, max_message_bytes=1000) as box:
        [message] = list(box.new_messages())
    assert message.uid == uid and message.message_id == "<big@scrada.test>"
    assert message.attachments == ()
    assert "larger than" in message.skipped[0].message


# --- exactly once ----------------------------------------------------------------------------------


def test_document_ids_are_the_same_when_a_message_is_read_again(imap: ImapAccount) -> None:
    # kill -9 after the file write and before the flag: the next pull reads the message again.
    imap.append(mail(("invoice.xml", UBL), ("statement.cod", CODA)))
    imap.append(mail(("invoice.xml", UBL), message_id=None))
    first = [document_id(item) for message in read_all(imap) for item in message.attachments]
    second = [document_id(item) for message in read_all(imap) for item in message.attachments]
    assert first == second
    assert len(set(first)) == 3  # the same invoice in another message is another document id
    assert all(identifier.startswith("mail-") for identifier in first)


def test_without_message_id_the_identity_comes_from_the_message_bytes(imap: ImapAccount) -> None:
    raw = mail(("invoice.xml", UBL), message_id=None)
    imap.append(raw)
    [message] = read_all(imap)
    assert message.message_id.startswith("sha256:")
    attachment = message.attachments[0]
    again = MailAttachment(9, attachment.message_id, "x", "ubl", UBL, attachment.sha256)
    assert document_id(again) == document_id(attachment)


def test_reading_does_not_mark_messages_seen(imap: ImapAccount) -> None:
    uid = imap.append(mail(("invoice.xml", UBL)))
    read_all(imap)
    assert "\\Seen" not in imap.flags(uid)


def test_marked_done_with_the_keyword_is_never_read_again(imap: ImapAccount) -> None:
    first = imap.append(mail(("invoice.xml", UBL), message_id="<one@scrada.test>"))
    second = imap.append(mail(("statement.cod", CODA), message_id="<two@scrada.test>"))
    with Mailbox(settings_for(imap), imap.password) as box:
        assert box.waiting() == 2
        box.mark_done(first)
        assert box.waiting() == 1
    assert DONE in imap.flags(first)
    assert DONE not in imap.flags(second)
    assert [message.uid for message in read_all(imap)] == [second]
    assert imap.uids() == [first, second]  # keyword mode leaves the messages where they are


def test_move_mode_moves_done_messages_to_a_folder_it_creates(imap: ImapAccount) -> None:
    folder = 'Reçus "Scrada" & co'
    uid = imap.append(mail(("invoice.xml", UBL)))
    kept = imap.append(mail(("statement.cod", CODA), message_id="<kept@scrada.test>"))
    changes: dict[str, str | int] = {"done_action": "move", "done_folder": folder}
    with Mailbox(settings_for(imap, **changes), imap.password) as box:
        assert [message.uid for message in box.new_messages()] == [uid, kept]
        box.mark_done(uid)
    assert imap.uids() == [kept]
    [moved] = imap.uids(folder)
    assert DONE in imap.flags(moved, folder)
    assert [message.uid for message in read_all(imap, **changes)] == [kept]


def test_a_message_flagged_but_not_moved_is_moved_at_the_next_open(imap: ImapAccount) -> None:
    # A crash between the keyword and the move leaves a flagged message in the inbox.
    imap.append(mail(("invoice.xml", UBL)), flags=DONE)
    changes: dict[str, str | int] = {"done_action": "move", "done_folder": "Done"}
    assert read_all(imap, **changes) == []
    assert imap.uids() == []
    assert len(imap.uids("Done")) == 1


def test_move_without_the_move_extension_copies_and_expunges_that_message_only() -> None:
    # A server without MOVE: COPY, \Deleted, then UID EXPUNGE of that one UID, so a message
    # someone else marked \Deleted in the same folder is left alone.
    capability = "IMAP4rev1 SASL-IR LITERAL+ UIDPLUS IDLE NAMESPACE"
    with start_dovecot(capability=capability) as server:
        account = server.account()
        other = account.append(mail(message_id="<other@x.test>"), flags="\\Deleted")
        uid = account.append(mail(("invoice.xml", UBL)))
        changes: dict[str, str | int] = {"done_action": "move", "done_folder": "Done"}
        with Mailbox(settings_for(account, **changes), account.password) as box:
            assert not box.session.has("MOVE") and box.session.has("UIDPLUS")
            assert [message.uid for message in box.new_messages()] == [uid]
            box.mark_done(uid)
        assert account.uids() == [other]
        assert len(account.uids("Done")) == 1


def test_work_per_run_is_bounded(imap: ImapAccount) -> None:
    uids = [imap.append(mail(message_id=f"<{n}@scrada.test>")) for n in range(3)]
    with Mailbox(settings_for(imap), imap.password, max_messages=2) as box:
        assert box.waiting() == 3
        assert [message.uid for message in box.new_messages()] == uids[:2]


# --- verify, security, errors ----------------------------------------------------------------------


def test_verify_counts_the_waiting_messages(imap: ImapAccount) -> None:
    imap.append(mail(("invoice.xml", UBL)))
    result = verify(settings_for(imap), imap.password)
    assert result.ok and not result.refused and result.waiting == 1
    assert "1 message en attente dans INBOX" in result.message


def test_verify_says_when_the_password_is_refused(imap: ImapAccount) -> None:
    result = verify(settings_for(imap), "wrong password")
    assert not result.ok and result.refused
    assert "a refusé le nom d'utilisateur ou le mot de passe" in result.message
    assert isinstance(result.problem, MailboxCredentialsRefused)
    with pytest.raises(MailboxCredentialsRefused), Mailbox(settings_for(imap), "wrong"):
        pass


def test_verify_says_when_the_server_cannot_be_reached(imap: ImapAccount) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    result = verify(settings_for(imap, port=closed_port), imap.password)
    assert not result.ok and not result.refused
    assert "est injoignable" in result.message
    assert isinstance(result.problem, MailboxUnreachable)
    with (
        pytest.raises(MailboxUnreachable),
        Mailbox(settings_for(imap, port=closed_port), imap.password),
    ):
        pass


def test_a_missing_folder_is_named(imap: ImapAccount) -> None:
    result = verify(settings_for(imap, folder="Nowhere"), imap.password)
    assert not result.ok and not result.refused and "Nowhere" in result.message
    assert isinstance(result.problem, MailboxFolderMissing)
    with (
        pytest.raises(MailboxFolderMissing),
        Mailbox(settings_for(imap, folder="Nowhere"), imap.password),
    ):
        pass


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepted by the kernel, never greeted
        settings = validate_mailbox_settings(
            host="127.0.0.1", port=silent.getsockname()[1], security="none", user="u"
        )
        started = time.monotonic()
        result = verify(settings, "p", timeout=0.5)
    assert not result.ok and "est injoignable" in result.message
    assert time.monotonic() - started < 5


def test_implicit_tls_with_the_tests_own_ca(imap: ImapAccount) -> None:
    imap.append(mail(("invoice.xml", UBL)))
    tls = settings_for(imap, security="ssl", port=imap.server.tls_port)
    context = imap.server.ssl_context()
    assert verify(tls, imap.password, ssl_context=context).ok
    with Mailbox(tls, imap.password, ssl_context=context) as box:
        [message] = list(box.new_messages())
        box.mark_done(message.uid)
    assert read_all(imap) == []


def test_starttls_with_the_tests_own_ca(imap: ImapAccount) -> None:
    starttls = settings_for(imap, security="starttls")
    result = verify(starttls, imap.password, ssl_context=imap.server.ssl_context())
    assert result.ok, result.message


def test_an_untrusted_certificate_is_refused(imap: ImapAccount) -> None:
    # The system's trust store does not know the test CA.
    tls = settings_for(imap, security="ssl", port=imap.server.tls_port)
    result = verify(tls, imap.password)
    assert not result.ok and not result.refused
    assert "n'est pas reconnu comme fiable" in result.message
    assert isinstance(result.problem, MailboxCertificateRefused)
    with pytest.raises(MailboxCertificateRefused), Mailbox(tls, imap.password):
        pass
    with (
        pytest.raises(MailboxCertificateRefused),
        Mailbox(settings_for(imap, security="starttls"), imap.password),
    ):
        pass


def test_without_dovecot_the_fixture_fails_instead_of_skipping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(imap_server_module, "DOVECOT", "/nonexistent/dovecot")
    with pytest.raises(pytest.fail.Exception, match="make dovecot"), start_dovecot():
        pass


def test_a_password_with_accents_logs_in(imap_server: ImapServer) -> None:
    account = imap_server.accented_account()
    assert verify(settings_for(account), account.password).ok


def test_the_mailbox_must_be_opened_before_use(imap: ImapAccount) -> None:
    box = Mailbox(settings_for(imap), imap.password)
    with pytest.raises(RuntimeError):
        box.waiting()
    with box:
        assert box.waiting() == 0
    with pytest.raises(RuntimeError):
        box.waiting()
