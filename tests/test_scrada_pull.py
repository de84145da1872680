"""The Scrada pull against the simulator, a real HTTP server on 127.0.0.1 (SCR-3 to SCR-7):
delivery, re-pull, new documents, faults (401, 429, 500, timeouts), malformed documents,
scope, Peppol confirmation, rate-limit pacing, and kill -9 in the middle of a pull."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, relais, relais_env
from webapp import history_queries
from webapp.config import resolve_data_dir
from webapp.scrada import config as scrada_config
from webapp.scrada import pull as scrada_pull
from webapp.scrada import records
from webapp.scrada.client import RetryPolicy, ScradaClient
from webapp.scrada.delivery import JOB_NAME
from webapp.services import Services, open_services
from webapp.simulators.scrada import ScradaSimulator

PASSPHRASE = "scrada test passphrase"


class FakeTime:
    """One clock for the simulator's bucket and the client's waits: no test sleeps for real."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept = 0.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += seconds


@pytest.fixture
def simulator() -> Iterator[ScradaSimulator]:
    sim = ScradaSimulator(rate_limit=None)
    sim.start()
    yield sim
    sim.stop()


def configure(services: Services, sim: ScradaSimulator, root: Path, **change: Any) -> None:
    if not services.vault.is_initialized:
        services.vault.create(PASSPHRASE)
    scrada_config.apply(
        services.store,
        services.vault,
        scrada_config.ConfigChange(
            api_url=f"{sim.url}/v1/",
            root=str(root),
            api_key=change.pop("api_key", sim.api_key),
            password=change.pop("password", sim.password),
            **change,
        ),
    )


def run_pull(services: Services) -> dict[str, Any]:
    run_id = services.runner.run(JOB_NAME, origin="command")
    run = history_queries.get_run(services.store, run_id)
    assert run is not None
    return run


def files(root: Path) -> dict[str, bytes]:
    """Every file under root; one renamed away meanwhile (a pull is running beside) is skipped."""
    found = {}
    for path in sorted(root.rglob("*")):
        try:
            if path.is_file():
                found[path.relative_to(root).as_posix()] = path.read_bytes()
        except FileNotFoundError:
            continue
    return found


def delivered_files(root: Path) -> dict[str, bytes]:
    return {name: data for name, data in files(root).items() if not name.startswith(("_", "."))}


def kill_pull_after(data: Path, root: Path, files: int) -> None:
    """`relais scrada pull` in a child process, killed with -9 once `files` documents are there."""
    process = subprocess.Popen(
        [sys.executable, "-m", "webapp", "--data-dir", str(data), "scrada", "pull"],
        env=relais_env(RELAIS_VAULT_PASSPHRASE=PASSPHRASE),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(delivered_files(root) if root.exists() else {}) < files:
        assert process.poll() is None, "the pull ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


@pytest.fixture
def fast_waits(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """The pull's client with instant backoff and rate waits (the policy itself is unchanged)."""
    fake = FakeTime()
    original = scrada_pull.make_client

    def make_client(context: Any, config: Any) -> ScradaClient:
        client = original(context, config)
        client._sleep = fake.sleep
        return client

    monkeypatch.setattr(scrada_pull, "make_client", make_client)
    return fake


def test_pull_delivers_every_document_once(
    services: Services, simulator: ScradaSimulator, tmp_path: Path
) -> None:
    first = simulator.add_company("Boulangerie Dupont", documents=3)
    second = simulator.add_company("Café du Centre", documents=2)
    root = tmp_path / "compta"
    configure(services, simulator, root)
    run = run_pull(services)
    assert run["status"] == "success", run
    delivered = delivered_files(root)
    assert len(delivered) == 3 * 2 + 2 * 2
    number = first.tax_number
    ubl = [name for name in delivered if name.endswith(".xml")]
    coda = [name for name in delivered if name.endswith(".cod")]
    assert len(ubl) == len(coda) == 5
    assert all(name.split("/")[0] in (number, second.tax_number) for name in delivered)
    year = ubl[0].split("/")[1]
    assert year.isdigit() and len(year) == 4
    journal_name = first.journals[0].name
    assert any(f"{number}/{year}/{journal_name}/" in name for name in ubl) or any(
        f"/{journal_name}/" in name for name in ubl
    )
    for name, data in delivered.items():
        source = name.rsplit("_", 1)[1].rsplit(".", 1)[0]
        assert source, name
        assert data  # whole files only
    with services.store.read() as db:
        rows = db.execute("SELECT count(*), count(DISTINCT path) FROM scrada_deliveries").fetchone()
    assert tuple(rows) == (10, 10)
    assert {row["company_name"] for row in records.log_rows(services.store, run["id"])} == {
        "Boulangerie Dupont",
        "Café du Centre",
    }
    assert not list((root / ".relais-tmp").glob("*")), "no temporary file left"


def test_orphan_temporary_files_go_at_the_start_of_the_next_pull(
    services: Services, simulator: ScradaSimulator, tmp_path: Path
) -> None:
    simulator.add_company("Boulangerie Dupont", documents=1)
    root = tmp_path / "compta"
    configure(services, simulator, root)
    temporary = root / ".relais-tmp"
    temporary.mkdir(parents=True)
    # Left a minute ago by a pull killed in the middle of a write: no pull holds the claim now.
    orphan = temporary / ".2026-11-24_8c2d41e0.xml.k3j2x9.tmp"
    orphan.write_bytes(b"<Invoice>half of it")
    # A webhook (another process) may be writing right now: its fresh file stays.
    webhook_file = temporary / "webhook" / ".2026-11-24_wh-1.xml.a1b2c3.tmp"
    webhook_file.parent.mkdir()
    webhook_file.write_bytes(b"<Invoice>being written")
    old_webhook_file = webhook_file.with_name(".2026-11-20_wh-0.xml.z9y8x7.tmp")
    old_webhook_file.write_bytes(b"<Invoice>left by a kill")
    os.utime(old_webhook_file, (time.time() - 7200, time.time() - 7200))
    run = run_pull(services)
    assert run["status"] == "success", run
    assert not orphan.exists(), "an orphan of the pull goes at once"
    assert webhook_file.exists(), "a webhook's write under way is left alone"
    assert not old_webhook_file.exists(), "an old one of a webhook goes too"
    assert len(delivered_files(root)) == 2


def test_repull_writes_nothing_and_asks_little(
    services: Services, simulator: ScradaSimulator, tmp_path: Path
) -> None:
    simulator.add_company("Boulangerie Dupont", documents=3)
    root = tmp_path / "compta"
    configure(services, simulator, root)
    run_pull(services)
    before = {path: path.stat().st_mtime_ns for path in root.rglob("*") if path.is_file()}
    asked = len(simulator.requests)
    run = run_pull(services)
    assert run["status"] == "success"
    after = {path: path.stat().st_mtime_ns for path in root.rglob("*") if path.is_file()}
    assert after == before, "nothing is rewritten"
    second_pull = simulator.requests[asked:]
    assert [method for method, _path, _status in second_pull].count("GET") == len(second_pull)
    assert not any("/document/" in path or "/statement/" in path for _m, path, _s in second_pull)
    # partner list + one feed call per selected book (the books were refreshed on the first pull)
    assert len(second_pull) == 1 + 2


def test_books_are_read_again_after_a_day(
    services: Services, simulator: ScradaSimulator, tmp_path: Path
) -> None:
    company = simulator.add_company("Boulangerie Dupont", documents=1)
    configure(services, simulator, tmp_path / "compta")
    run_pull(services)
    with services.store.write() as db:
        db.execute("UPDATE scrada_companies SET refreshed_at = '2020-01-01T00:00:00Z'")
    asked = len(simulator.requests)
    run_pull(services)
    # The partner list names the company again on every pull: that must not count as reading
    # its books, or a partner company's new journal would never be seen.
    paths = [path for _method, path, _status in simulator.requests[asked:]]
    assert any(path.endswith(f"/company/{company.id}/journal") for path in paths), paths
    assert any(path.endswith(f"/company/{company.id}/cashBook") for path in paths), paths
    asked = len(simulator.requests)
    run_pull(services)
    assert not any(path.endswith("/journal") for _m, path, _s in simulator.requests[asked:])


def test_new_documents_come_on_the_next_pull(
    services: Services, simulator: ScradaSimulator, tmp_path: Path
) -> None:
    company = simulator.add_company("Boulangerie Dupont", documents=1)
    root = tmp_path / "compta"
    configure(services, simulator, root)
    run_pull(services)
    assert len(delivered_files(root)) == 2
    simulator.add_document(company.id, company.journals[0].id)
    simulator.add_document(company.id, company.cash_books[0].id)
    run_pull(services)
    assert len(delivered_files(root)) == 4


def test_bad_credentials_stop_the_run(
    services: Services, simulator: ScradaSimulator, tmp_path: Path
) -> None:
    simulator.add_company("Boulangerie Dupont", documents=1)
    configure(services, simulator, tmp_path / "compta", password="wrong")
    run = run_pull(services)
    assert run["status"] == "failed"
    assert run["message"].startswith("Scrada refused the API key")
    assert not delivered_files(tmp_path / "compta")
    assert len(simulator.requests) == 1, "a refused key is not retried"


def test_429_waits_for_the_reset_then_goes_on(
    services: Services, simulator: ScradaSimulator, tmp_path: Path, fast_waits: FakeTime
) -> None:
    simulator.add_company("Boulangerie Dupont", documents=2)
    configure(services, simulator, tmp_path / "compta")
    simulator.fail_next(2, status=429, path_contains="/document/")
    run = run_pull(services)
    assert run["status"] == "success", run
    assert len(delivered_files(tmp_path / "compta")) == 4
    assert sum(1 for _m, _p, status in simulator.requests if status == 429) == 2
    assert fast_waits.slept > 0


def test_500_is_retried_with_backoff(
    services: Services, simulator: ScradaSimulator, tmp_path: Path, fast_waits: FakeTime
) -> None:
    simulator.add_company("Boulangerie Dupont", documents=2)
    configure(services, simulator, tmp_path / "compta")
    simulator.fail_next(3, status=500, path_contains="/statement")
    run = run_pull(services)
    assert run["status"] == "success", run
    assert len(delivered_files(tmp_path / "compta")) == 4


def test_scrada_down_ends_the_run_and_keeps_the_progress(
    services: Services, simulator: ScradaSimulator, tmp_path: Path, fast_waits: FakeTime
) -> None:
    company = simulator.add_company("Boulangerie Dupont", documents=3)
    root = tmp_path / "compta"
    configure(services, simulator, root)
    journal = company.journals[0].id  # books go cash book first, then journal
    simulator.fail_next(50, status=503, path_contains=f"/journal/{journal}/document")
    run = run_pull(services)
    assert run["status"] == "failed"
    assert (
        "after 5 tries" in run["message"]
        or "tries" in (history_queries.get_run(services.store, run["id"]) or {})["message"]
    )
    kept = delivered_files(root)
    assert len(kept) == 3 and all(name.endswith(".cod") for name in kept), "cash book kept"
    simulator.clear_injected()
    run = run_pull(services)
    assert run["status"] == "success"
    assert len(delivered_files(root)) == 6


def test_malformed_documents_go_to_quarantine(
    services: Services, simulator: ScradaSimulator, tmp_path: Path
) -> None:
    company = simulator.add_company("Boulangerie Dupont", documents=1)
    simulator.add_document(company.id, company.journals[0].id, data=b"<Invoice><unclosed>")
    simulator.add_document(company.id, company.cash_books[0].id, data=b"0" * 127 + b"\r\n")
    root = tmp_path / "compta"
    configure(services, simulator, root)
    run = run_pull(services)
    assert run["status"] == "warning"
    quarantine = sorted((root / "_quarantine").iterdir())
    assert len([path for path in quarantine if not path.name.endswith(".reason.txt")]) == 2
    reasons = [path.read_text() for path in quarantine if path.name.endswith(".reason.txt")]
    assert len(reasons) == 2 and all(reason.strip() for reason in reasons)
    assert len(delivered_files(root)) == 2
    items = history_queries.run_items(services.store, run["id"])
    assert sum(1 for item in items if item["status"] == "error") == 2
    again = run_pull(services)
    assert again["status"] == "success", "a quarantined document is not fetched again"


def test_every_path_stays_under_240_characters_under_a_long_root(
    services: Services, simulator: ScradaSimulator, tmp_path: Path
) -> None:
    company = simulator.add_company("Boulangerie " + "pâtisserie " * 12, documents=2)
    simulator.add_document(company.id, company.journals[0].id, data=b"<Invoice><unclosed>")
    root = tmp_path / ("r" * (165 - len(str(tmp_path))))
    configure(services, simulator, root, template="{company_name}/{book}")
    run = run_pull(services)
    assert run["status"] == "warning", run
    written = [path for path in root.rglob("*") if path.is_file()]
    assert len(written) == 2 * 2 + 2, "four documents, one quarantined with its reason"
    assert all(len(str(path)) < 240 for path in written), max(map(str, written), key=len)
    assert len({path.parent for path in written if "_quarantine" not in path.parts}) == 2
    assert run_pull(services)["status"] == "success", "the shortened paths are found again"
    assert sorted(path for path in root.rglob("*") if path.is_file()) == sorted(written)


def test_selected_scope_and_new_companies_off(
    services: Services, simulator: ScradaSimulator, tmp_path: Path
) -> None:
    kept = simulator.add_company("Kept", documents=1)
    simulator.add_company("Other", documents=1)
    root = tmp_path / "compta"
    configure(services, simulator, root, scope="selected", new_companies=False)
    run_pull(services)
    assert not delivered_files(root), "new companies are not selected"
    assert {company.name for company in records.companies(services.store)} == {"Kept", "Other"}
    records.set_selected(services.store, kept.id, True, None)
    run_pull(services)
    assert {name.split("/")[0] for name in delivered_files(root)} == {kept.tax_number}


def test_unticked_book_is_not_pulled(
    services: Services, simulator: ScradaSimulator, tmp_path: Path
) -> None:
    company = simulator.add_company("Boulangerie Dupont", documents=2)
    root = tmp_path / "compta"
    configure(services, simulator, root)
    run_pull(services)
    simulator.add_document(company.id, company.journals[0].id)
    simulator.add_document(company.id, company.cash_books[0].id)
    records.set_selected(services.store, company.id, False, ("cash-book", company.cash_books[0].id))
    run_pull(services)
    names = delivered_files(root)
    assert sum(1 for name in names if name.endswith(".xml")) == 3
    assert sum(1 for name in names if name.endswith(".cod")) == 2


def test_peppol_inbox_is_confirmed_only_after_the_write(
    services: Services, simulator: ScradaSimulator, tmp_path: Path
) -> None:
    company = simulator.add_company("Boulangerie Dupont", documents=0, peppol=2)
    root = tmp_path / "compta"
    configure(services, simulator, root)
    run_pull(services)
    assert not simulator.confirmed, "the Peppol inbox is opt-in"
    assert records.set_selected(services.store, company.id, True, ("peppol-inbound", "peppol"))
    blocker = root / company.tax_number
    blocker.write_text("a file where the folder should be")
    run = run_pull(services)
    assert run["status"] == "failed"
    assert not simulator.confirmed, "nothing confirmed when the file could not be written"
    blocker.unlink()
    run_pull(services)
    assert len(simulator.confirmed) == 2
    assert (
        len(
            [
                name
                for name in delivered_files(root)
                if "peppol-inbound" in name or name.endswith(".xml")
            ]
        )
        == 2
    )


def test_the_client_paces_itself_and_never_meets_a_429(tmp_path: Path) -> None:
    fake = FakeTime()
    sim = ScradaSimulator(rate_limit=12, clock=fake.time)
    company = sim.add_company("Boulangerie Dupont", documents=0)
    url = sim.start()
    try:
        creds = scrada_config.Credentials(sim.api_key, sim.password)
        with ScradaClient(f"{url}/v1", creds, sleep=fake.sleep, clock=fake.time) as client:
            for _ in range(40):
                client.journals(company.id)
        statuses = [status for _method, _path, status in sim.requests]
        assert statuses.count(429) == 0
        assert statuses.count(200) == 40
        assert fake.slept > 0, "it waited for the refills"
    finally:
        sim.stop()


def test_timeouts_are_retried(tmp_path: Path) -> None:
    sim = ScradaSimulator(rate_limit=None)
    company = sim.add_company("Lent", documents=0)
    url = sim.start()
    try:
        sim.delay_next(1, 2.0)
        creds = scrada_config.Credentials(sim.api_key, sim.password)
        retry = RetryPolicy(attempts=3, base_seconds=0.01)
        with ScradaClient(f"{url}/v1", creds, timeout=0.5, retry=retry) as client:
            assert client.journals(company.id)
    finally:
        sim.stop()


# -- the real command line ---------------------------------------------------------------------


def _prepared(tmp_path: Path, sim: ScradaSimulator, **change: Any) -> Path:
    data = tmp_path / "data"
    services = open_services(resolve_data_dir(data), vault_backend="file")
    try:
        configure(services, sim, tmp_path / "compta", **change)
    finally:
        services.close()
    return data


def test_cli_pull_status_and_exit_codes(simulator: ScradaSimulator, tmp_path: Path) -> None:
    company = simulator.add_company("Boulangerie Dupont", documents=1)
    data = _prepared(tmp_path, simulator)
    env = {"RELAIS_VAULT_PASSPHRASE": PASSPHRASE}
    done = relais("scrada", "pull", "--json", data_dir=data, **env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["delivered"] == 2
    status = relais("scrada", "status", "--json", data_dir=data, **env)
    rows = json.loads(status.stdout)["books"]
    assert {row["kind"] for row in rows} == {"daily-receipts", "cash-book", "peppol-inbound"}
    assert sum(row["delivered"] for row in rows) == 2
    simulator.add_document(company.id, company.journals[0].id, data=b"not xml")
    partial = relais("scrada", "pull", data_dir=data, **env)
    assert partial.returncode == 1, partial.stdout + partial.stderr
    verify = relais("scrada", "verify", data_dir=data, **env)
    assert verify.returncode == 0, verify.stderr
    wrong = relais("scrada", "set", "--password", "nope", data_dir=data, **env)
    assert wrong.returncode == 0
    assert relais("scrada", "verify", data_dir=data, **env).returncode == 3
    assert relais("scrada", "pull", data_dir=data, **env).returncode == 3
    bad = relais("scrada", "set", "--template", "../x", data_dir=data, **env)
    assert bad.returncode == 2


def test_kill_9_in_the_middle_then_pull_again(simulator: ScradaSimulator, tmp_path: Path) -> None:
    companies = [simulator.add_company(f"Société {n}", documents=6) for n in range(3)]
    data = _prepared(tmp_path, simulator)
    root = tmp_path / "compta"
    simulator.delay_next(1000, 0.05, path_contains="/document/")
    kill_pull_after(data, root, 4)
    simulator.clear_injected()
    services = open_services(resolve_data_dir(data), vault_backend="file")
    try:
        services.vault.unlock(PASSPHRASE)
        run = run_pull(services)
        assert run["status"] == "success", run
        with services.store.read() as db:
            rows = db.execute("SELECT path, sha256 FROM scrada_deliveries").fetchall()
    finally:
        services.close()
    delivered = delivered_files(root)
    expected = sum(len(company.journals) + len(company.cash_books) for company in companies) * 6
    assert len(delivered) == expected, "nothing missing, nothing doubled"
    assert len(rows) == expected
    for path, digest in rows:
        assert hashlib.sha256((root / path).read_bytes()).hexdigest() == digest
    assert not [
        p
        for p in root.rglob("*")
        if p.is_file() and p.name.endswith(".tmp") and ".relais-tmp" not in p.parts
    ]


# -- webhooks ----------------------------------------------------------------------------------

WEBHOOK_SECRET = "webhook secret for tests"


def test_webhooks_through_the_real_listener(
    simulator: ScradaSimulator, tmp_path: Path, relais_server: Any
) -> None:
    company = simulator.add_company("Boulangerie Dupont", documents=0)
    data = _prepared(tmp_path, simulator, webhook_secret=WEBHOOK_SECRET)
    server = relais_server(
        "--webhook-listen", "127.0.0.1:0", data_dir=data, RELAIS_VAULT_PASSPHRASE=PASSPHRASE
    )
    hook_url = json.loads((data / "webhook.json").read_text())["url"]
    assert hook_url.endswith("/hooks/scrada") and hook_url != server.url + "/hooks/scrada"
    root = tmp_path / "compta"
    journal = company.journals[0].id
    ubl = simulator.document_bytes(company.id, journal, simulator.add_document(company.id, journal))

    forged = simulator.send_webhook(
        hook_url,
        topic="journal/newInvoiceUbl",
        company_id=company.id,
        body=ubl,
        secret="not the secret",
        attempts=1,
    )
    assert forged == 401
    assert not root.exists() or not delivered_files(root), "a bad signature writes nothing"

    status = simulator.send_webhook(
        hook_url,
        topic="journal/newInvoiceUbl",
        company_id=company.id,
        body=ubl,
        secret=WEBHOOK_SECRET,
        event_id="evt-1",
        attempts=1,
    )
    assert status == 200
    written = delivered_files(root)
    assert list(written.values()) == [ubl]
    again = simulator.send_webhook(
        hook_url,
        topic="journal/newInvoiceUbl",
        company_id=company.id,
        body=ubl,
        secret=WEBHOOK_SECRET,
        event_id="evt-1",
        attempts=1,
    )
    assert again == 200 and delivered_files(root) == written, "a repeated event id is ignored"
    resent = simulator.send_webhook(
        hook_url,
        topic="journal/newInvoiceUbl",
        company_id=company.id,
        body=ubl,
        secret=WEBHOOK_SECRET,
        event_id="evt-2",
        attempts=1,
    )
    assert resent == 200 and delivered_files(root) == written, "the same document is written once"

    stranger = simulator.add_company("Hors du flux partenaire", partner=False).id
    status = simulator.send_webhook(
        hook_url,
        topic="cashBook/newStatementCoda",
        company_id=stranger,
        body=(REPO / "tests/data/corpus/coda/pycoda__Coda_v2_3_single_statement.txt").read_bytes(),
        secret=WEBHOOK_SECRET,
        event_id="evt-3",
        attempts=1,
    )
    assert status == 200
    assert any(name.endswith(".cod") for name in delivered_files(root))
    ui = httpx_get(server.url.replace("http://", "http://") + "/healthz")
    assert ui == 200
    assert httpx_get(hook_url.replace("/hooks/scrada", "/")) == 404, "no UI on the webhook port"
    assert httpx_get(hook_url.replace("/hooks/scrada", "/healthz")) == 404

    # Pull afterwards: the feed lists the same document under its own id, in the real journal
    # (not the webhook's book). It is downloaded, recognised by its bytes, and not written again.
    env = {"RELAIS_VAULT_PASSPHRASE": PASSPHRASE}
    server.stop()
    (webhook_file,) = [root / name for name in written]
    stamp = webhook_file.stat().st_mtime_ns
    asked = len(simulator.requests)
    pulled = relais("scrada", "pull", "--json", data_dir=data, **env)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    downloads = [
        path
        for method, path, status in simulator.requests[asked:]
        if method == "GET" and f"/journal/{journal}/document/" in path and status == 200
    ]
    assert len(downloads) == 1, "the pull downloaded the document through the feed"
    xml = [name for name in delivered_files(root) if name.endswith(".xml")]
    assert xml == list(written), "the same bytes are not written a second time"
    assert webhook_file.stat().st_mtime_ns == stamp and webhook_file.read_bytes() == ubl
    assert json.loads(pulled.stdout)["skipped"] == 1
    with open_services_at(data) as services:
        companies = {company.id: company for company in records.companies(services.store)}
        with services.store.read() as db:
            rows = db.execute(
                "SELECT source, book_id FROM scrada_deliveries WHERE company_id = ?"
                " AND book_kind = 'daily-receipts'",
                # The webhook came before Relais knew the company: filed under its number.
                [f"doc-{company.tax_number}"],
            ).fetchall()
        (book,) = [item for item in records.books(services.store, company.id) if item.id == journal]
    assert [tuple(row) for row in rows] == [("webhook", records.WEBHOOK_BOOK)], "recorded once"
    assert book.cursor > 0, "the feed's cursor moved past the document"
    # Never a company from a header: the statement's holder (0417331909) is adopted instead.
    assert stranger not in companies and companies["doc-0417331909"].selected


def httpx_get(url: str) -> int:
    import httpx

    return httpx.get(url, timeout=5).status_code


class open_services_at:
    def __init__(self, data: Path) -> None:
        self.services = open_services(resolve_data_dir(data), vault_backend="file")

    def __enter__(self) -> Services:
        return self.services

    def __exit__(self, *exc: object) -> None:
        self.services.close()
