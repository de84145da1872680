"""The cash registers' test fixtures and helpers, for every test module (tests/conftest.py
imports the fixtures): the real office (its POS app on a 127.0.0.1 socket), a register joined to
it, the register's UI client, and the office's seed data."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.conftest import TEST_PORT, Client
from webapp.app import create_app
from webapp.config import resolve_data_dir
from webapp.http_retry import RetryPolicy
from webapp.pos import (
    office,
    register_config,
    synchroniser,
    updates_office,
)
from webapp.pos.api import PosApp
from webapp.pos.register_client import OfficeClient
from webapp.services import Services, open_services
from webapp.sockets import bind_socket
from webapp.store import Store

PASSPHRASE = "register-tests-passphrase"
NOW = "2026-11-25T10:00:00Z"


# -- the office ----------------------------------------------------------------------------------


def seed_office(store: Store) -> None:
    """Articles, a customer and users on the office (registers 3 and 4 must exist)."""
    with store.write() as db:
        unit = {row[0]: row[1] for row in db.execute("SELECT code, id FROM units")}
        vat = {row[0]: row[1] for row in db.execute("SELECT code, id FROM vat_rates")}
        for code, label, barcode, unit_code, vat_code, price in (
            ("VR1", "Vin rouge Cuvée", "3700000000011", "BT", "FR20", 12.0833),
            ("VB1", "Vin blanc sec", "3700000000028", "BT", "FR20", 10.0),
            ("FRO", "Fromage de chèvre", None, "KG", "FR5.5", 20.0),
        ):
            cursor = db.execute(
                "INSERT INTO articles (code, label, unit_id, vat_rate_id, barcode, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [code, label, unit[unit_code], vat[vat_code], barcode, NOW, NOW],
            )
            db.execute(
                "INSERT INTO article_prices (article_id, price_category_id, price_excl_vat)"
                " VALUES (?, (SELECT id FROM price_categories WHERE is_default = 1), ?)",
                [cursor.lastrowid, price],
            )
        db.execute(
            "INSERT INTO parties (kind, code, last_name, first_name, city, country, created_at,"
            " updated_at) VALUES ('customer', 'C001', 'Durand', 'Anne', 'Lyon', 'FR', ?, ?)",
            [NOW, NOW],
        )
        for code, name, numbers in (
            ("MARIE", "Marie", [3]),
            ("PAUL", "Paul", [4]),
            ("JEAN", "Jean", [3, 4]),
        ):
            cursor = db.execute("INSERT INTO pos_users (code, name) VALUES (?, ?)", [code, name])
            for number in numbers:
                db.execute(
                    "INSERT INTO pos_user_registers (user_id, register_id)"
                    " SELECT ?, id FROM pos_registers WHERE number = ?",
                    [cursor.lastrowid, number],
                )


class Listener:
    """An ASGI app on a real 127.0.0.1 socket in this process (lifespan off: the services stay
    open). stop() and start() again on the same port play a server that goes down and comes back.
    """

    def __init__(self, make_app: Callable[[int], Any]) -> None:
        self.make_app = make_app
        self.port = 0
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        sock = bind_socket("127.0.0.1", self.port, fallback=False)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.make_app(self.port), log_config=None, access_log=False, lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)

    def stop(self) -> None:
        assert self.server and self.thread
        self.server.should_exit = True
        self.thread.join(10)


def OfficeListener(services: Services) -> Listener:
    """The office's real POS app (webapp.pos.api.PosApp)."""
    return Listener(lambda _port: PosApp(services))


@pytest.fixture
def office_services(tmp_path: Path) -> Iterator[Services]:
    services = open_services(resolve_data_dir(tmp_path / "office"))
    services.vault.create(PASSPHRASE)
    yield services
    services.close()


@pytest.fixture
def office_listener(office_services: Services) -> Iterator[Listener]:
    listener = OfficeListener(office_services)
    yield listener
    if listener.server and not listener.server.should_exit:
        listener.stop()


@pytest.fixture
def tokens(office_services: Services) -> dict[int, str]:
    store = office_services.store
    made = {number: office.add_register(store, number)[1] for number in (3, 4)}
    updates_office.signing_key(store, office_services.vault)
    seed_office(store)
    return made


@pytest.fixture
def register_services(tmp_path: Path) -> Iterator[Services]:
    services = open_services(resolve_data_dir(tmp_path / "register"))
    services.vault.create(PASSPHRASE)
    yield services
    services.close()


def fast_client(url: str, secret: str) -> OfficeClient:
    return OfficeClient(url, secret, timeout=5, retry=RetryPolicy(attempts=1))


@pytest.fixture
def joined(
    register_services: Services, office_listener: Listener, tokens: dict[int, str]
) -> Services:
    register_config.join(
        register_services.store,
        register_services.vault,
        office_listener.url,
        3,
        tokens[3],
        fast_client,
    )
    return register_services


def sync(services: Services) -> synchroniser.SyncResult:
    return synchroniser.sync_once(services.store, services.vault, fast_client)


def rows(store: Store, sql: str, args: list[Any] | None = None) -> list[dict[str, Any]]:
    with store.read() as db:
        return [dict(row) for row in db.execute(sql, args or [])]


DUMPED = (
    "articles",
    "article_prices",
    "parties",
    "pos_users",
    "pos_user_registers",
    "payment_methods",
    "vat_rates",
    "units",
    "pos_registers",
    "article_families",
)


def dump(store: Store) -> dict[str, list[dict[str, Any]]]:
    return {table: rows(store, f"SELECT * FROM {table} ORDER BY 1, 2") for table in DUMPED}


def office_tickets(store: Store) -> list[dict[str, Any]]:
    return rows(
        store,
        "SELECT number, external_ref, total_incl_vat FROM documents WHERE kind = 'ticket'"
        " ORDER BY number",
    )


@pytest.fixture
def office_ui(office_services: Services) -> Iterator[Client]:
    """The office's own UI (its back office, its registers page), through the test client."""
    app = create_app(office_services, host="127.0.0.1", port=TEST_PORT)
    with Client(app, base_url=f"http://127.0.0.1:{TEST_PORT}") as test_client:
        yield test_client


@pytest.fixture
def ui(joined: Services) -> Iterator[Client]:
    sync(joined)
    app = create_app(joined, host="127.0.0.1", port=TEST_PORT)
    with Client(app, base_url=f"http://127.0.0.1:{TEST_PORT}") as test_client:
        yield test_client


def post_pairs(ui: Client, url: str, pairs: list[tuple[str, str]]) -> Any:
    """A form with repeated fields (the cart's lines), as htmx sends it."""
    from urllib.parse import urlencode

    headers = {
        "x-csrftoken": ui.token(),
        "HX-Request": "true",
        "content-type": "application/x-www-form-urlencoded",
    }
    return ui.post(url, content=urlencode(pairs), headers=headers)


def wait_for_articles(database: Path) -> None:
    """The register server's synchroniser imports the catalogue in its first round."""
    import sqlite3

    deadline = time.monotonic() + 30
    while True:
        connection = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)
        try:
            if connection.execute("SELECT count(*) FROM articles").fetchone()[0]:
                return
        finally:
            connection.close()
        assert time.monotonic() < deadline, "the synchroniser imported nothing"
        time.sleep(0.1)
