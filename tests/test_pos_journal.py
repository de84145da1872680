"""The register's JET (issue 17): events signed in the event chain, in-process.

A register's data folder is made by writing the settings a join writes (the joins against a real
office are in tests/test_pos_journal_processes.py). Tampering is done with SQL on the file.
"""

from __future__ import annotations

from typing import Any

import pytest

from webapp.pos import journal, protocol, register_config, trail_keys, trail_verify
from webapp.services import Services
from webapp.store import Store, rows

PASSPHRASE = "journal-tests-passphrase"
REGISTER = 3


def make_register(services: Services) -> Services:
    services.vault.create(PASSPHRASE)
    with services.store.write() as db:
        register_config.write_settings(
            db,
            {
                protocol.ROLE_SETTING: "register",
                register_config.SERVER_URL: "http://127.0.0.1:9",
                register_config.REGISTER_NUMBER: REGISTER,
            },
        )
    return services


@pytest.fixture
def till(services: Services) -> Services:
    return make_register(services)


def events(store: Store) -> list[dict[str, Any]]:
    with store.read() as db:
        return list(reversed(journal.list_events(db, limit=1000)))


def codes(store: Store) -> list[int]:
    return [event["code"] for event in events(store)]


def breaks(services: Services) -> list[str]:
    signer = trail_keys.load_signer(services.vault)
    with services.store.read() as db:
        found = trail_verify.verify_register(db, REGISTER, {signer.key_id: signer.public_key})
    return [item.as_dict()["problem"] for item in found]


def test_events_are_signed_rows_of_the_event_chain(till: Services) -> None:
    store, vault = till.store, till.vault
    assert journal.record_event_now(store, vault, journal.START, details={"unclean_stop": False})
    assert journal.record_event_now(store, vault, journal.ERROR, "MARIE", {"message": "x"})
    found = events(store)
    assert [(e["seq"], e["kind"], e["code"]) for e in found] == [(1, "900", 900), (2, "950", 950)]
    assert found[0]["label"] == "Register started"
    assert found[1]["user"] == "MARIE" and found[1]["details"] == {"message": "x"}
    assert found[0]["at"] and found[0]["ref"] != found[1]["ref"]
    assert breaks(till) == []


def test_a_deleted_or_edited_event_is_found(till: Services) -> None:
    for _ in range(3):
        journal.record_event_now(till.store, till.vault, journal.ONLINE)
    with till.store.write() as db:
        db.execute("DELETE FROM pos_trail WHERE chain = 'event' AND seq = 2")
    assert breaks(till) == ["event record 2 is missing."]

    with till.store.write() as db:
        db.execute("DELETE FROM pos_trail")
    for _ in range(2):
        journal.record_event_now(till.store, till.vault, journal.ONLINE)
    with till.store.write() as db:
        db.execute(
            "UPDATE pos_trail SET fields = replace(fields, '\"code\":120', '\"code\":40')"
            " WHERE seq = 1"
        )
    assert breaks(till) == ["event record 1 was altered: its signature does not match."]


def test_an_office_records_no_event(services: Services) -> None:
    services.vault.create(PASSPHRASE)
    assert journal.record_event_now(services.store, services.vault, journal.START) is False
    assert codes(services.store) == []


def test_a_locked_vault_notes_the_event_and_signs_it_once_unlocked(till: Services) -> None:
    store, vault = till.store, till.vault
    vault.lock()
    journal.record_event_now(store, vault, journal.OFFLINE, details={"reason": "unreachable"})
    assert codes(store) == []
    with store.read() as db:
        noted = journal.last_event(db, (journal.OFFLINE,))
    assert noted is not None and noted["details"] == {"reason": "unreachable"}

    vault.unlock(PASSPHRASE)
    journal.record_event_now(store, vault, journal.ONLINE)
    found = events(store)
    assert [e["code"] for e in found] == [70, 120]
    assert found[0]["at"] <= found[0]["recorded_at"]  # signed later, its own time kept
    assert breaks(till) == []
    with store.read() as db:
        assert rows(db, "SELECT value FROM settings WHERE key = ?", [journal.PENDING]) == [
            {"value": "[]"}
        ]


def test_the_connection_lost_and_back_only_on_the_change(till: Services) -> None:
    store, vault = till.store, till.vault
    lost = OSError("no answer")
    journal.after_sync(store, vault, None, "")
    journal.after_sync(store, vault, lost, "unreachable")
    journal.after_sync(store, vault, lost, "unreachable")
    journal.after_sync(store, vault, lost, "certificate")
    journal.after_sync(store, vault, None, "")
    journal.after_sync(store, vault, None, "")
    assert codes(store) == [70, 120]


def test_an_error_that_is_not_the_connection_once_per_problem(till: Services) -> None:
    store, vault = till.store, till.vault
    refused = RuntimeError("token")
    for _ in range(3):
        journal.after_sync(store, vault, refused, "refused")
    journal.after_sync(store, vault, ValueError("bad"), "answer")
    found = events(store)
    assert [e["code"] for e in found] == [950, 950]
    assert found[0]["details"] == {"reason": "refused", "message": "RuntimeError"}


def test_the_clock_moved_backwards_is_recorded_with_both_times(
    till: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, vault = till.store, till.vault
    journal.record_event_now(store, vault, journal.START)
    last = events(store)[-1]["recorded_at"]
    earlier = "2020-01-01T08:00:00Z"
    monkeypatch.setattr("webapp.pos.journal.now_iso", lambda: earlier)
    monkeypatch.setattr("webapp.pos.trail.now_iso", lambda: earlier)
    journal.after_sync(store, vault, None, "")
    journal.after_sync(store, vault, None, "")  # the clock now follows the last record: once
    found = events(store)
    assert [e["code"] for e in found] == [900, 930]
    assert found[1]["details"] == {"now": earlier, "last_recorded_at": last}
    assert breaks(till) == []


def test_start_says_when_the_last_run_did_not_stop(till: Services) -> None:
    journal.watch_process(till)
    assert codes(till.store) == [900]
    assert len(till.stoppers) == 1
    till.stoppers.pop()()  # what services.close() does at shutdown
    journal.watch_process(till)
    till.stoppers.clear()  # killed: no stop recorded
    journal.watch_process(till)
    found = events(till.store)
    assert [e["code"] for e in found] == [900, 40, 900, 900]
    assert [e["details"].get("unclean_stop") for e in found] == [False, None, False, True]


def test_seller_changes_are_logins_and_logouts(till: Services) -> None:
    signer = trail_keys.ensure_signer(till.vault)
    for user in ("MARIE", "MARIE", "PAUL", None, None, "PAUL"):
        with till.store.write() as db:
            journal.record_seller(db, signer, REGISTER, user)
    found = [(e["code"], e["user"]) for e in events(till.store)]
    assert found == [
        (910, "MARIE"),
        (911, "MARIE"),
        (910, "PAUL"),
        (911, "PAUL"),
        (910, "PAUL"),
    ]


def test_updates_and_purges_are_noted_then_signed(till: Services) -> None:
    with till.store.write() as db:
        journal.note_update(db, 4, "applied", None)
        journal.note_update(db, 5, "refused", "bad signature")
    journal.note_purge(till.store, "history", 0)
    journal.note_purge(till.store, "history", 12)
    assert journal.sign_pending_now(till.store, till.vault) == 3
    found = [(e["code"], e["details"]) for e in events(till.store)]
    assert found == [
        (920, {"number": 4}),
        (921, {"number": 5, "reason": "bad signature"}),
        (940, {"what": "history", "deleted": 12}),
    ]


def test_an_unknown_code_is_refused_before_anything_is_written(till: Services) -> None:
    with pytest.raises(ValueError):
        journal.record_event_now(till.store, till.vault, 12345)
    assert codes(till.store) == []
    with till.store.read() as db:
        assert rows(db, "SELECT count(*) AS n FROM pos_trail") == [{"n": 0}]


def test_a_clock_set_back_is_seen_at_start(till: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    journal.record_event_now(till.store, till.vault, journal.ONLINE)
    earlier = "2020-01-01T08:00:00Z"
    monkeypatch.setattr("webapp.pos.journal.now_iso", lambda: earlier)
    monkeypatch.setattr("webapp.pos.trail.now_iso", lambda: earlier)
    journal.watch_process(till)
    till.stoppers.clear()
    found = events(till.store)
    assert [e["code"] for e in found] == [120, 930, 900]
    assert found[1]["details"]["now"] == earlier
    assert breaks(till) == []
