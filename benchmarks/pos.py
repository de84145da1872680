"""Cash registers: packages of a 100,000-article catalogue with 1 % changed.

    .venv/bin/python benchmarks/pos.py [--articles N] [--changed-percent P] [--tickets N]

Office half (``catalogue_benchmark``): a fresh data folder with N articles (each with a price) and
a register; builds the first, full package; acknowledges it; changes P % of the articles (half by
label, half by price); builds the differential package. Prints the build time and the size
(uncompressed JSON and stored zlib) of both, and their ratio. Asserts nothing.

Register half (``drain_benchmark``, ``--tickets N``): N tickets sold while the office was away,
then the outbox drained through the real office API, beside the baseline of the same run: a bare
replay of the same batches (the office answers ``already_applied``). Prints wall and CPU seconds,
the ratio to the replay and the longest time the office held its write lock ("lock ms": how long
a UI save could wait behind the push). CPU seconds are split between the office and the register
(which run in this one process, so the wall time counts both). ``--only drain`` skips the catalogue half.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _fill(store: Any, count: int) -> None:
    rng = random.Random(1)
    with store.write() as db:
        unit = db.execute("SELECT id FROM units WHERE code = 'BT'").fetchone()[0]
        rate = db.execute("SELECT id FROM vat_rates WHERE code = 'FR20'").fetchone()[0]
        db.conn.executemany(
            "INSERT INTO articles (code, label, unit_id, vat_rate_id, barcode, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, 'now', 'now')",
            (
                (f"ART{n:07d}", f"Article {n} {rng.choice(['rouge', 'blanc'])}", unit, rate, None)
                for n in range(count)
            ),
        )
        db.execute(
            "INSERT INTO article_prices (article_id, price_category_id, price_excl_vat)"
            " SELECT id, 1, (id % 9000) / 100.0 + 1 FROM articles"
        )


def _change(store: Any, count: int, percent: float) -> int:
    rng = random.Random(2)
    chosen = rng.sample(range(count), max(1, int(count * percent / 100)))
    half = len(chosen) // 2
    with store.write() as db:
        db.conn.executemany(
            "UPDATE articles SET label = label || ' (new)' WHERE code = ?",
            ((f"ART{n:07d}",) for n in chosen[:half]),
        )
        db.conn.executemany(
            "UPDATE article_prices SET price_excl_vat = price_excl_vat + 1 WHERE article_id ="
            " (SELECT id FROM articles WHERE code = ?)",
            ((f"ART{n:07d}",) for n in chosen[half:]),
        )
    return len(chosen)


def _stored_size(store: Any, register_id: int, number: int) -> int:
    with store.read() as db:
        return int(
            db.execute(
                "SELECT length(body) FROM pos_packages WHERE register_id = ? AND number = ?",
                [register_id, number],
            ).fetchone()[0]
        )


def catalogue_benchmark(articles: int = 100_000, changed_percent: float = 1.0) -> None:
    from webapp.pos import office, office_packages, packages
    from webapp.store import Store

    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "relais.sqlite3")
        _fill(store, articles)
        register, _token = office.add_register(store, 1)
        started = time.perf_counter()
        full = packages.build_package(store, register.id)
        full_s = time.perf_counter() - started
        assert full is not None
        office_packages.acknowledge(store, register, full.number)
        changed = _change(store, articles, changed_percent)
        started = time.perf_counter()
        diff = packages.build_package(store, register.id)
        diff_s = time.perf_counter() - started
        assert diff is not None
        full_z = _stored_size(store, register.id, full.number)
        diff_z = _stored_size(store, register.id, diff.number)
        store.close()
    print(f"catalogue: {articles:,} articles, {changed:,} changed ({changed_percent:g} %)")
    print(f"{'package':<14}{'rows':>10}{'JSON bytes':>14}{'stored (zlib)':>16}{'build s':>10}")
    print(f"{'full':<14}{full.upserts:>10,}{full.size:>14,}{full_z:>16,}{full_s:>10.3f}")
    print(f"{'differential':<14}{diff.upserts:>10,}{diff.size:>14,}{diff_z:>16,}{diff_s:>10.3f}")
    print(
        f"ratio differential/full: size {diff.size / full.size:.4f},"
        f" stored {diff_z / full_z:.4f}, time {diff_s / full_s:.4f}"
    )


def _serve_office(services: Any) -> tuple[Any, Any, str]:
    """The office's real POS app on a 127.0.0.1 socket, in a thread."""
    import uvicorn

    from webapp.pos.api import PosApp
    from webapp.sockets import bind_socket

    sock = bind_socket("127.0.0.1", 0, fallback=False)
    config = uvicorn.Config(PosApp(services), log_config=None, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return server, thread, f"http://127.0.0.1:{sock.getsockname()[1]}"


class LockTimes:
    """How long each write transaction of a store held the one writer (wraps ``store.write``)."""

    def __init__(self, store: Any) -> None:
        self.held: list[float] = []
        self._write = store.write
        store.write = self.write

    @contextlib.contextmanager
    def write(self) -> Iterator[Any]:
        with self._write() as db:
            started = time.perf_counter()
            yield db
        self.held.append(time.perf_counter() - started)  # the commit included

    def longest_ms(self) -> float:
        return max(self.held, default=0.0) * 1000

    def summary(self) -> str:
        held = sorted(self.held) or [0.0]
        p95 = held[min(len(held) - 1, int(len(held) * 0.95))] * 1000
        over = sum(1 for seconds in held if seconds > 0.25)
        return f"{len(self.held)} transactions, p95 {p95:.0f} ms, {over} over 250 ms"


class UiSaves:
    """A UI save (one settings row) every 50 ms in a thread: how long each waited and wrote."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.took: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            started = time.perf_counter()
            with self.store.write() as db:
                db.execute(
                    "INSERT INTO settings (key, value) VALUES ('benchmark.ui', '0')"
                    " ON CONFLICT (key) DO UPDATE SET value = value + 1"
                )
            self.took.append(time.perf_counter() - started)

    def stop(self) -> str:
        self._stop.set()
        self._thread.join()
        took = sorted(ms * 1000 for ms in self.took) or [0.0]
        p95 = took[min(len(took) - 1, int(len(took) * 0.95))]
        return (
            f"{len(self.took)} saves, p50 {took[len(took) // 2]:.0f} ms, p95 {p95:.0f} ms,"
            f" longest {took[-1]:.0f} ms"
        )


@dataclass(frozen=True)
class Timed:
    """A step's wall seconds, and its CPU seconds: the process's, and the office's (its threads:
    the server's, its workers', the UI saves'); the register's is the rest (this thread, which
    pushes, and the one writing the answers, gone when the push returns)."""

    wall: float
    cpu: float
    office_cpu: float

    @property
    def register_cpu(self) -> float:
        return self.cpu - self.office_cpu


def _other_threads_cpu() -> dict[int, float]:
    """CPU seconds of each thread but this one, by thread id."""
    found: dict[int, float] = {}
    for thread in threading.enumerate():
        if thread is threading.current_thread() or thread.ident is None:
            continue
        with contextlib.suppress(OSError, ProcessLookupError):  # a thread just gone
            found[thread.ident] = time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
    return found


def _timed(step: Any) -> tuple[Any, Timed]:
    before = _other_threads_cpu()
    started, cpu = time.perf_counter(), time.process_time()
    result = step()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    after = _other_threads_cpu()  # the office's threads live on; the register's writer is gone
    office = sum(seconds - before.get(ident, 0.0) for ident, seconds in after.items())
    return result, Timed(wall, cpu, office)


def drain_benchmark(tickets: int = 5_000, batch: int = 500) -> None:
    """Register half: N tickets sold while the office was away, then the outbox drained.

    Measured: tickets recorded per second on the register (ticket row + outbox row, one
    transaction each, synchronous=FULL); the drain (records/s, batches) through the real office
    API, which turns each ticket into a back-office document; and, as the baseline, the same
    batches sent again straight with httpx (the office answers ``already_applied``: transport, JSON
    and the id lookup only). CPU seconds are the whole process's, then split: the office's (its
    server's, workers' and UI saves' threads) and the register's (the rest: the pushing thread and
    the one writing the answers).
    """
    import httpx

    from webapp.config import resolve_data_dir
    from webapp.pos import office, outbox, protocol, register_config, selling, synchroniser
    from webapp.pos.register_client import OfficeClient
    from webapp.services import open_services

    with tempfile.TemporaryDirectory() as folder:
        office_services = open_services(
            resolve_data_dir(Path(folder) / "office"), vault_backend="file"
        )
        office_services.vault.create("benchmark passphrase")
        _fill(office_services.store, 10)
        _reg, token = office.add_register(office_services.store, 1)
        server, thread, url = _serve_office(office_services)
        till = open_services(resolve_data_dir(Path(folder) / "register"), vault_backend="file")
        till.vault.create("benchmark passphrase")
        register_config.join(till.store, till.vault, url, 1, token)
        synchroniser.sync_once(till.store, till.vault, with_updates=False)
        signer = selling.signer_for(till.store, till.vault)
        started, record_cpu = time.perf_counter(), time.process_time()
        for n in range(tickets):
            lines = [{"article": f"ART{n % 10:07d}", "quantity": str(1 + n % 3)}]
            selling.record_ticket(till.store, {"lines": lines}, signer)
        record_s = time.perf_counter() - started
        record_cpu = time.process_time() - record_cpu
        sign_ms = _signing_ms(till.store, signer, min(tickets, 2_000))
        # Every queued record, as the register pushes them: its tickets and their signed rows.
        batches: list[list[dict[str, Any]]] = []
        while queued := outbox.queued(till.store, batch, batches[-1][-1]["seq"] if batches else 0):
            batches.append([outbox.wire_record(row, 1) for row in queued])
        locks = LockTimes(office_services.store)
        saves = UiSaves(office_services.store)
        with OfficeClient(url, token, timeout=120) as client:
            pushed, drain = _timed(lambda: outbox.push_outbox(till.store, client, 1, batch))
        ui_saves = saves.stop()
        drain_lock = locks.longest_ms()
        drain_locks = locks.summary()
        locks.held.clear()
        headers = {"Authorization": f"Bearer {token}"}

        def replay() -> None:
            with httpx.Client(base_url=url + protocol.API, headers=headers, timeout=120) as http:
                for records in batches:
                    http.post("/outbox", json={"records": records}).raise_for_status()

        _none, replayed = _timed(replay)
        replay_lock = locks.longest_ms()
        with office_services.store.read() as db:
            documents = db.execute(
                "SELECT count(*) FROM documents WHERE kind = 'ticket'"
            ).fetchone()[0]
        server.should_exit = True
        thread.join(10)
        till.close()
        office_services.close()
    print(f"outbox drain: {tickets:,} tickets sold offline, batches of {batch}")
    print(
        f"{'step':<34}{'seconds':>9}{'cpu s':>8}{'office':>8}{'register':>10}{'records/s':>11}"
        f"{'× replay':>10}{'lock ms':>9}"
    )
    print(f"{'record tickets (register)':<34}{record_s:>9.2f}{'':>26}{tickets / record_s:>11,.0f}")
    drained = f"drain, {pushed.batches} batches"
    print(
        f"{drained:<34}{_figures(drain)}{pushed.sent / drain.wall:>11,.0f}"
        f"{drain.wall / replayed.wall:>10.2f}{drain_lock:>9.0f}"
    )
    print(
        f"{'baseline: replay (already_applied)':<34}{_figures(replayed)}"
        f"{pushed.sent / replayed.wall:>11,.0f}{1:>10.2f}{replay_lock:>9.0f}"
    )
    print(
        f"CPU ratio to the replay: drain {drain.cpu / replayed.cpu:.2f},"
        f" office {drain.office_cpu / max(replayed.office_cpu, 1e-9):.2f},"
        f" register {drain.register_cpu / max(replayed.register_cpu, 1e-9):.2f}"
    )
    print(
        f"signing per ticket (trail.sign_ticket alone): {sign_ms:.3f} ms CPU (goal < 2 ms);"
        f" recording a signed ticket: {record_cpu / tickets * 1000:.3f} ms CPU,"
        f" so {(record_cpu / tickets * 1000 - sign_ms):.3f} ms without its signature"
    )
    print(f"UI saves on the office during the drain: {ui_saves}")
    print(f"office write lock during the drain: {drain_locks}")
    print(f"office documents: {documents:,} (each ticket exactly once: {documents == tickets})")


class _Undo(Exception):
    """Leaves the measuring transaction unwritten."""


def _signing_ms(store: Any, signer: Any, count: int) -> float:
    """CPU milliseconds per ticket row signed (its grand totals, signature and INSERT), measured
    on the register's own tickets in a transaction that is then rolled back."""
    from webapp.pos import trail

    with store.read() as db:
        payloads = [
            json.loads(row[0])
            for row in db.execute(
                "SELECT payload FROM pos_tickets ORDER BY number LIMIT ?", [count]
            )
        ]
    cpu = 0.0
    try:
        with store.write() as db:
            started = time.process_time()
            for payload in payloads:
                trail.sign_ticket(db, signer, 1, {**payload, "number": "B" + payload["number"]})
            cpu = time.process_time() - started
            raise _Undo
    except _Undo:
        pass
    return cpu / max(len(payloads), 1) * 1000


def _figures(timed: Timed) -> str:
    return f"{timed.wall:>9.2f}{timed.cpu:>8.2f}{timed.office_cpu:>8.2f}{timed.register_cpu:>10.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--changed-percent", type=float, default=1.0)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--only", choices=["catalogue", "drain"])
    args = parser.parse_args()
    if args.only != "drain":
        catalogue_benchmark(args.articles, args.changed_percent)
    if args.only is None:
        print()
    if args.only != "catalogue":
        drain_benchmark(args.tickets)


if __name__ == "__main__":
    main()
