"""A push the office does not answer keeps every record queued: an office that never replies
(timeout), a connection dropped after the request, an answer that names only some records (the
office failing mid-batch). Each record is then sent once the office is back, exactly once.

The silent and dropping offices are real TCP servers on 127.0.0.1; the office failing mid-batch is
the real POS app with a fault planted in its database.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.pos_fixtures import office_tickets, rows, sync
from webapp.http_retry import RetryPolicy
from webapp.pos import register_lists, selling
from webapp.pos.outbox import push_outbox
from webapp.pos.register_client import OfficeClient, OfficeUnreachable
from webapp.services import Services
from webapp.store import Store

NO_ANSWER = "no answer from the office for this record"


class FaultyOffice(socketserver.ThreadingTCPServer):
    """Reads each request whole, then either never answers (`mute`) or closes the connection."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mute: bool) -> None:
        self.mute = mute
        self.released = threading.Event()
        self.requests = 0
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        self.released.set()
        self.shutdown()
        self.server_close()


class _Handler(socketserver.StreamRequestHandler):
    server: FaultyOffice

    def handle(self) -> None:
        length = 0
        while (line := self.rfile.readline()) not in (b"\r\n", b""):
            name, _sep, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        self.rfile.read(length)
        self.server.requests += 1
        if self.server.mute:
            self.server.released.wait(30)
        self.connection.shutdown(socket.SHUT_RDWR)


@pytest.fixture(
    params=[pytest.param(True, marks=pytest.mark.slow), False],  # a mute office: the full timeout
    ids=["never-answers", "drops-the-connection"],
)
def faulty_office(request: pytest.FixtureRequest) -> Iterator[FaultyOffice]:
    server = FaultyOffice(mute=request.param)
    yield server
    server.close()


def sell(services: Services, count: int) -> list[str]:
    return [
        selling.record_ticket(
            services.store,
            {"lines": [{"article": "VR1", "quantity": str(n)}]},
            selling.signer_for(services.store, services.vault),
        ).id
        for n in range(1, count + 1)
    ]


def outbox(store: Store) -> dict[str, dict[str, Any]]:
    """The tickets' records (each carries its signed chain row, the first comes behind the
    register's key: docs/pos-trail.md)."""
    found = rows(
        store,
        "SELECT id, state, attempts, last_error FROM MICPTRACK WHERE kind = 'ticket' ORDER BY seq",
    )
    return {row.pop("id"): row for row in found}


def test_a_push_without_an_answer_keeps_the_records_queued(
    joined: Services,
    office_services: Services,
    faulty_office: FaultyOffice,
) -> None:
    sync(joined)
    ids = sell(joined, 3)
    retry = RetryPolicy(attempts=2, base_seconds=0.01, cap_seconds=0.01)
    client = OfficeClient(faulty_office.url, "token", timeout=1, retry=retry)
    with client, pytest.raises(OfficeUnreachable):
        push_outbox(joined.store, client, 3)
    assert faulty_office.requests == 2, "the push was tried, and tried again"
    assert [row["state"] for row in outbox(joined.store).values()] == ["queued"] * 3
    assert {ticket["state"] for ticket in register_lists.list_tickets(joined.store)} == {"queued"}

    result = sync(joined)  # the real office, reachable again
    assert result.pushed.sent == 3 + 1  # the tickets (each with its signed row), the key
    assert [row["external_ref"] for row in office_tickets(office_services.store)] == ids
    assert [row["state"] for row in outbox(joined.store).values()] == ["sent"] * 3


def test_records_the_answer_does_not_name_stay_queued(
    joined: Services,
    office_services: Services,
) -> None:
    """The office applies the first record, then fails on the second: its answer names the first
    only. The other two stay queued (marked as unanswered) and go again at the next round."""
    sync(joined)
    ids = sell(joined, 3)
    office_store = office_services.store

    def disk_full(_number: str) -> None:
        raise RuntimeError("disk full")

    with office_store.write() as db:
        db.conn.create_function("office_fault", 1, disk_full)
        db.execute(
            "CREATE TEMP TRIGGER fault BEFORE INSERT ON documents WHEN NEW.number = 'C3-000002'"
            " BEGIN SELECT office_fault(NEW.number); END"
        )
    first = sync(joined)
    # The key and ticket 1 (with its signed row): then the office failed on ticket 2.
    assert (first.pushed.sent, first.pushed.rejected) == (2, [])
    assert outbox(joined.store) == {
        ids[0]: {"state": "sent", "attempts": 1, "last_error": None},
        ids[1]: {"state": "queued", "attempts": 1, "last_error": NO_ANSWER},
        ids[2]: {"state": "queued", "attempts": 1, "last_error": NO_ANSWER},
    }
    with office_store.write() as db:
        db.execute("DROP TRIGGER temp.fault")
    assert sync(joined).pushed.sent == 2  # tickets 2 and 3
    assert [row["external_ref"] for row in office_tickets(office_store)] == ids
    assert {row["state"] for row in outbox(joined.store).values()} == {"sent"}


def test_an_answer_with_an_unknown_status_keeps_the_record_queued(
    joined: Services,
) -> None:
    """An office of another version answering a status this register does not know."""
    sync(joined)
    ids = sell(joined, 2)

    class Unsure:
        def push(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{"id": records[0]["id"], "status": "maybe"}]

    pushed = push_outbox(joined.store, Unsure(), 3)  # type: ignore[arg-type]
    assert (pushed.sent, pushed.rejected) == (0, [])
    assert [row["state"] for row in outbox(joined.store).values()] == ["queued", "queued"]
    assert outbox(joined.store)[ids[0]]["last_error"] == NO_ANSWER
